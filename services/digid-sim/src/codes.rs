//! What the simulator remembers between requests, in memory and briefly: pending login requests
//! (from the authorization request to the submitted form), authorization codes (60 seconds, once
//! only) and access tokens. Every map is bounded, so a flood of authorization requests costs
//! memory only up to a limit.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the login page may stay open before its request is forgotten.
pub(crate) const PENDING_LIFETIME: Duration = Duration::from_secs(600);
/// How long an authorization code is valid (the project's rule: 60 seconds).
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// How long an access token (for the userinfo endpoint) is valid.
pub(crate) const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// The most entries one map holds.
const CAPACITY: usize = 10_000;

/// Something could not be remembered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The map is full of live entries.
    #[error("too many requests in progress")]
    Full,
    /// No randomness for a new identifier.
    #[error("the system random number generator failed")]
    Random,
}

/// A person who logged in at the simulator.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    /// The BSN typed in.
    pub(crate) bsn: String,
    /// The level of assurance picked (an eIDAS LoA URI).
    pub(crate) loa: &'static str,
    /// When, in seconds since the Unix epoch.
    pub(crate) auth_time: u64,
}

/// An authorization request waiting for the person to fill in the form.
#[derive(Debug, Clone)]
pub(crate) struct PendingLogin {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) code_challenge: String,
    /// The first known level in `acr_values`, preselected on the page.
    pub(crate) requested_loa: Option<&'static str>,
    /// The language of the page (from `ui_locales`).
    pub(crate) lang: crate::texts::Lang,
    /// Whom the person logs in for, as the relying party named it (`on_behalf_of`).
    pub(crate) on_behalf_of: Option<String>,
    /// The scopes asked for, each once, in the order asked.
    pub(crate) scopes: Vec<String>,
}

/// An authorization code and what it was issued for.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: String,
    pub(crate) nonce: String,
    pub(crate) code_challenge: String,
    pub(crate) login: Login,
    /// Set on the first exchange attempt, successful or not: a code is tried once.
    pub(crate) used: bool,
    /// The access token the code was exchanged for, revoked if the code comes back.
    pub(crate) access_token: Option<String>,
}

/// What an access token stands for.
#[derive(Debug, Clone)]
pub(crate) struct AccessGrant {
    pub(crate) login: Login,
}

/// The simulator's memory.
#[derive(Debug)]
pub(crate) struct Store {
    pub(crate) pending: Expiring<PendingLogin>,
    pub(crate) codes: Expiring<IssuedCode>,
    pub(crate) tokens: Expiring<AccessGrant>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            pending: Expiring::new(PENDING_LIFETIME),
            codes: Expiring::new(CODE_LIFETIME),
            tokens: Expiring::new(ACCESS_TOKEN_LIFETIME),
        }
    }
}

/// Values under random identifiers that vanish after a fixed lifetime.
#[derive(Debug)]
pub(crate) struct Expiring<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
    lifetime: Duration,
}

impl<V: Clone> Expiring<V> {
    fn new(lifetime: Duration) -> Expiring<V> {
        Expiring { entries: Mutex::new(HashMap::new()), lifetime }
    }

    /// Remembers `value` under a new random identifier, which it returns.
    pub(crate) fn insert(&self, value: V) -> Result<String, StoreError> {
        let id = random_id()?;
        self.insert_as(id.clone(), value)?;
        Ok(id)
    }

    /// Remembers `value` under `id` (a random identifier made by the caller).
    pub(crate) fn insert_as(&self, id: String, value: V) -> Result<(), StoreError> {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            let now = Instant::now();
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= CAPACITY {
                return Err(StoreError::Full);
            }
        }
        entries.insert(id, (Instant::now() + self.lifetime, value));
        Ok(())
    }

    /// The live value under `id`.
    pub(crate) fn get(&self, id: &str) -> Option<V> {
        self.update(id, |value| value.clone())
    }

    /// Removes and returns the live value under `id`.
    pub(crate) fn take(&self, id: &str) -> Option<V> {
        let (expires, value) = self.lock().remove(id)?;
        (expires > Instant::now()).then_some(value)
    }

    /// Runs `change` on the live value under `id`, holding the lock, so that two concurrent
    /// requests cannot both see the value unchanged.
    pub(crate) fn update<R>(&self, id: &str, change: impl FnOnce(&mut V) -> R) -> Option<R> {
        let mut entries = self.lock();
        match entries.get_mut(id) {
            Some((expires, value)) if *expires > Instant::now() => Some(change(value)),
            Some(_) => {
                entries.remove(id);
                None
            }
            None => None,
        }
    }

    /// Forgets the value under `id`.
    pub(crate) fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, V)>> {
        // A panic while holding the lock leaves the map consistent (every change is one call).
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// 256 random bits, base64url: unguessable identifiers for requests, codes and tokens.
pub(crate) fn random_id() -> Result<String, StoreError> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| StoreError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_taken_once() {
        let map = Expiring::new(Duration::from_secs(60));
        let id = map.insert("value".to_owned()).unwrap();
        assert_eq!(map.get(&id).as_deref(), Some("value"));
        assert_eq!(map.take(&id).as_deref(), Some("value"));
        assert_eq!(map.take(&id), None);
        assert_eq!(map.get("unknown"), None);
    }

    #[test]
    fn an_expired_value_is_gone() {
        let map = Expiring::new(Duration::ZERO);
        let id = map.insert(1).unwrap();
        assert_eq!(map.get(&id), None);
        assert_eq!(map.update(&id, |value| *value), None);
        assert_eq!(map.take(&id), None);
    }

    #[test]
    fn a_full_map_refuses_until_entries_expire() {
        let live = Expiring::new(Duration::from_secs(60));
        for n in 0..CAPACITY {
            live.insert_as(n.to_string(), n).unwrap();
        }
        assert!(matches!(live.insert(0), Err(StoreError::Full)));

        let dead = Expiring::new(Duration::ZERO);
        for n in 0..CAPACITY {
            dead.insert_as(n.to_string(), n).unwrap();
        }
        assert!(dead.insert(0).is_ok());
    }

    #[test]
    fn identifiers_differ() {
        let first = random_id().unwrap();
        assert_eq!(first.len(), 43);
        assert_ne!(first, random_id().unwrap());
    }
}
