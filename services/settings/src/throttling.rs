//! Settings of the throttling of failed attempts (auditors' secrets, ingest keys, PGOs' codes
//! and refresh tokens).

use serde::Deserialize;

/// Throttling of failed attempts, per client and per source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottlingSettings {
    /// Failed attempts per key (client, auditor, provider; source address) within a window before
    /// the key is refused with 429.
    pub max_failures: u32,
    /// The window's length: it opens with a key's first failure.
    pub window_seconds: u64,
    /// How many keys are remembered at most (memory stays bounded).
    pub capacity: u64,
}

pub(crate) fn problems(throttling: &ThrottlingSettings) -> Vec<String> {
    let mut problems = Vec::new();
    if throttling.max_failures == 0 {
        problems.push("throttling.max_failures must be at least 1".to_owned());
    }
    if !(1..=86_400).contains(&throttling.window_seconds) {
        problems.push("throttling.window_seconds must be between 1 and 86400".to_owned());
    }
    if throttling.capacity < 100 {
        problems.push("throttling.capacity must be at least 100".to_owned());
    }
    problems
}

#[cfg(test)]
mod tests {
    use crate::{Overrides, Settings};

    #[test]
    fn the_throttling_defaults_load_and_can_be_changed() {
        let defaults = Settings::load_with_environment(None, &Overrides::default(), Vec::new()).expect("loads");
        assert_eq!((defaults.throttling.max_failures, defaults.throttling.window_seconds), (10, 60));
        let environment = vec![("PGO_EXCHANGE__THROTTLING__MAX_FAILURES".to_owned(), "3".to_owned())];
        let changed = Settings::load_with_environment(None, &Overrides::default(), environment).expect("loads");
        assert_eq!(changed.throttling.max_failures, 3);
        let environment = vec![("PGO_EXCHANGE__THROTTLING__WINDOW_SECONDS".to_owned(), "0".to_owned())];
        assert!(Settings::load_with_environment(None, &Overrides::default(), environment).is_err());
    }
}
