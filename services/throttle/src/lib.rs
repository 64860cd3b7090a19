//! Throttling of guesses: failed attempts at a credential (a PGO's authorization code or refresh
//! token, an auditor's secret, a provider's ingest key) are counted per door and per key (the
//! client, auditor or provider the attempt was for, and the address it came from); once a key has
//! failed `max_failures` times within its window, every attempt with that key is refused until
//! the window ends, the right ones included, or guessing would go on at full speed.
//!
//! Only failures are counted. A success costs one lookup per key and is never delayed or written
//! down, so the token endpoint's throughput is untouched. A window opens with a key's first
//! failure and closes `window` later, taking the count with it (a fixed window: one counter and one
//! instant per key). The windows live in a bounded cache (`moka`): past `capacity` keys the least
//! useful are dropped, which at worst forgets some counts; memory stays bounded whatever the
//! number of addresses an attacker uses.
//!
//! A key names only what the service already knows (a listed client, a configured auditor, an
//! existing provider) or an address; an arbitrary name an attacker sends makes no key of its own.
//! Which address a request comes from is `client_auth::source_address`: behind a trusted proxy,
//! the address it forwards, from anyone else never a forwarded one.

use actix_web::HttpRequest;
use client_auth::TrustedProxies;
use moka::sync::Cache;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Where credentials are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Door {
    /// A PGO's codes and refresh tokens at the token endpoint, and its client authentication.
    Token,
    /// An auditor's secret, at the token endpoint (client credentials) or the dashboard's form.
    Auditor,
    /// A provider's ingest key.
    Ingest,
}

/// What failures are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// Attempts from an address at a door.
    Address(Door, IpAddr),
    /// Attempts for a known client, auditor or provider at a door.
    Name(Door, String),
}

/// How much guessing is let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures per key within a window before the key is refused.
    pub max_failures: u32,
    /// The window's length.
    pub window: Duration,
    /// How many keys are kept at most.
    pub capacity: u64,
}

/// A refusal: the key has failed too often; try again after `retry_after_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Seconds until the window that refused closes (at least 1), for `Retry-After`.
    pub retry_after_seconds: u64,
}

/// One key's window: when it opened, and the failures in it.
#[derive(Debug)]
struct Window {
    opened: Instant,
    failures: AtomicU32,
}

/// The failure counts of every door, and the proxies whose forwarded addresses are believed.
#[derive(Debug, Clone)]
pub struct Throttle {
    windows: Cache<Key, Arc<Window>>,
    config: ThrottleConfig,
    proxies: Option<TrustedProxies>,
}

impl Throttle {
    /// A throttle of `config`, believing forwarded addresses from `proxies` only.
    pub fn new(config: ThrottleConfig, proxies: Option<TrustedProxies>) -> Throttle {
        let windows = Cache::builder()
            .max_capacity(config.capacity)
            // A window ends this long after its first failure: the entry goes with it.
            .time_to_live(config.window)
            .build();
        Throttle { windows, config, proxies }
    }

    /// The address key of `request` at `door` (`None` only when the peer is unknown).
    pub fn address_key(&self, door: Door, request: &HttpRequest) -> Option<Key> {
        client_auth::source_address(request, self.proxies.as_ref()).map(|address| Key::Address(door, address))
    }

    /// Refuses when any of `keys` has used up its window's failures.
    pub fn check<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) -> Result<(), Throttled> {
        let mut refusal: Option<Throttled> = None;
        for key in keys {
            let Some(window) = self.windows.get(key) else { continue };
            if window.failures.load(Ordering::Relaxed) >= self.config.max_failures {
                let retry_after_seconds = self.remaining_seconds(&window);
                if refusal.is_none_or(|known| known.retry_after_seconds < retry_after_seconds) {
                    refusal = Some(Throttled { retry_after_seconds });
                }
            }
        }
        refusal.map_or(Ok(()), Err)
    }

    /// Counts a failed attempt against each of `keys`.
    pub fn failed<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) {
        for key in keys {
            let window = self
                .windows
                .get_with_by_ref(key, || Arc::new(Window { opened: Instant::now(), failures: AtomicU32::new(0) }));
            window.failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The keys with failures counted in an open window (approximately: the cache settles its
    /// count in the background), for the metrics.
    pub fn keys_counted(&self) -> u64 {
        self.windows.entry_count()
    }

    fn remaining_seconds(&self, window: &Window) -> u64 {
        let remaining = self.config.window.saturating_sub(window.opened.elapsed());
        // Rounded up: a client that waits as told finds the window closed.
        (remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max_failures: u32, window: Duration) -> Throttle {
        Throttle::new(ThrottleConfig { max_failures, window, capacity: 1000 }, None)
    }

    fn address(text: &str) -> Key {
        Key::Address(Door::Ingest, text.parse().unwrap())
    }

    #[test]
    fn a_key_is_refused_once_its_failures_are_used_up_and_others_are_not() {
        let throttle = throttle(3, Duration::from_secs(60));
        let (guesser, other, provider) =
            (address("192.0.2.1"), address("192.0.2.2"), Key::Name(Door::Ingest, "umcx".into()));
        for _ in 0..3 {
            assert_eq!(throttle.check([&guesser, &provider]), Ok(()));
            throttle.failed([&guesser]);
        }
        let refused = throttle.check([&guesser, &provider]).unwrap_err();
        assert!((59..=60).contains(&refused.retry_after_seconds), "{refused:?}");
        assert_eq!(throttle.check([&other, &provider]), Ok(()), "another address, the same provider");
        // The doors are counted apart.
        assert_eq!(throttle.check([&Key::Address(Door::Token, "192.0.2.1".parse().unwrap())]), Ok(()));
    }

    #[test]
    fn successes_are_not_counted() {
        let throttle = throttle(2, Duration::from_secs(60));
        let key = address("192.0.2.1");
        for _ in 0..100 {
            assert_eq!(throttle.check([&key]), Ok(()));
        }
        throttle.failed([&key]);
        assert_eq!(throttle.check([&key]), Ok(()));
    }

    #[test]
    fn the_window_closes() {
        let throttle = throttle(1, Duration::from_millis(300));
        let key = address("192.0.2.1");
        throttle.failed([&key]);
        assert_eq!(throttle.check([&key]).unwrap_err().retry_after_seconds, 1, "rounded up to a second");
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(throttle.check([&key]), Ok(()));
    }

    #[test]
    fn memory_stays_bounded() {
        let throttle =
            Throttle::new(ThrottleConfig { max_failures: 5, window: Duration::from_secs(60), capacity: 100 }, None);
        for n in 0..10_000_u32 {
            throttle.failed([&Key::Address(Door::Token, std::net::Ipv4Addr::from(n).into())]);
        }
        throttle.windows.run_pending_tasks();
        assert!(throttle.windows.entry_count() <= 100, "{}", throttle.windows.entry_count());
    }
}
