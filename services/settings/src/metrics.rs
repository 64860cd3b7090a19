//! Settings of `GET /metrics`, the Prometheus metrics of the running service.

use serde::Deserialize;

/// Who may read the metrics.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// The addresses (IPs or CIDRs) whose direct requests `/metrics` answers; a request through a
    /// proxy (`Forwarded`, `X-Forwarded-For`) never. Empty: nobody.
    pub allowed_addresses: Vec<String>,
}

#[cfg(test)]
mod tests {
    use crate::{Overrides, Settings};

    #[test]
    fn metrics_are_for_loopback_unless_configured() {
        let defaults = Settings::load_with_environment(None, &Overrides::default(), Vec::new()).expect("loads");
        assert_eq!(defaults.metrics.allowed_addresses, ["127.0.0.1", "::1"]);
    }
}
