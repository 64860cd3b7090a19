//! The meter: records each successful exchange before its answer leaves, at the cost of one
//! durable write the first time a person exchanges through a PGO in a calendar year, and of a
//! memory lookup every other time.

use crate::period::year_of;
use crate::rules::Exchange;
use aws_lc_rs::digest;
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::Mutex;
use store::{FirstExchange, Store, StoreError};

/// Records exchanges.
#[derive(Debug)]
pub struct Meter {
    store: Store,
    zone: Tz,
    known: Mutex<Known>,
}

/// What recording did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// The first exchange of this person through this PGO this year: written.
    Written,
    /// Already counted this year: nothing to write.
    AlreadyCounted,
}

/// The (PGO, year, person) known to be stored, as 128 bits of a SHA-256 of the three (no
/// collision in any realistic lifetime; a plain 64-bit hash could, in principle, miss a user),
/// with the stored first exchange's time: an exchange from before it (a request that overtook
/// another, a clock set back) is still written, so the earliest one is kept whatever the order.
/// Two generations bound the memory: when the current one is full it becomes the previous one
/// and the one before is forgotten (a forgotten key costs one no-op write on its next use).
#[derive(Debug)]
struct Known {
    current: HashMap<u128, i64>,
    previous: HashMap<u128, i64>,
    generation_capacity: usize,
}

impl Known {
    /// Whether an exchange at `at` adds nothing to what is stored under `key`.
    fn covers(&self, key: u128, at: i64) -> bool {
        self.current.get(&key).or_else(|| self.previous.get(&key)).is_some_and(|first| *first <= at)
    }

    fn insert(&mut self, key: u128, at: i64) {
        if self.current.len() >= self.generation_capacity && !self.current.contains_key(&key) {
            self.previous = std::mem::take(&mut self.current);
        }
        let first = self.current.entry(key).or_insert(at);
        *first = (*first).min(at);
    }
}

fn key(client_id: &str, year: i32, pseudonym: &str) -> u128 {
    let mut context = digest::Context::new(&digest::SHA256);
    for part in [client_id.as_bytes(), &year.to_be_bytes(), pseudonym.as_bytes()] {
        context.update(&(part.len() as u64).to_be_bytes());
        context.update(part);
    }
    let hash = context.finish();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    u128::from_be_bytes(bytes)
}

impl Meter {
    /// A meter over `store`, counting calendar years in `zone`, remembering about `capacity`
    /// counted (PGO, person, year).
    pub fn new(store: Store, zone: Tz, capacity: usize) -> Meter {
        let generation_capacity = (capacity / 2).max(1);
        Meter {
            store,
            zone,
            known: Mutex::new(Known { current: HashMap::new(), previous: HashMap::new(), generation_capacity }),
        }
    }

    /// Records `exchange`. When this returns `Ok`, the exchange is counted durably; on `Err` the
    /// caller must not answer as if it succeeded.
    pub async fn record(&self, exchange: &Exchange) -> Result<Recorded, StoreError> {
        let year = year_of(exchange.at, self.zone);
        let key = key(&exchange.client_id, year, &exchange.pseudonym);
        if self.known.lock().map(|known| known.covers(key, exchange.at)).unwrap_or(false) {
            return Ok(Recorded::AlreadyCounted);
        }
        let first = FirstExchange {
            client_id: exchange.client_id.clone(),
            year: i64::from(year),
            pseudonym: exchange.pseudonym.clone(),
            first_at: exchange.at,
            request_id: exchange.request_id.clone(),
            provider: exchange.provider.clone(),
            data_service: exchange.data_service.clone(),
            kind: exchange.kind.as_str().to_owned(),
        };
        self.store.usage().record_first_exchanges(std::slice::from_ref(&first)).await?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(key, exchange.at);
        }
        Ok(Recorded::Written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_generations_bound_what_is_remembered() {
        let mut known = Known { current: HashMap::new(), previous: HashMap::new(), generation_capacity: 2 };
        for value in 1..=5 {
            known.insert(value, 100);
        }
        assert!(known.covers(5, 100) && known.covers(4, 100) && known.covers(3, 100));
        assert!(!known.covers(1, 100), "the oldest generation is forgotten");
        assert!(known.current.len() + known.previous.len() <= 4);
    }

    #[test]
    fn an_earlier_exchange_is_not_covered_by_a_later_one() {
        let mut known = Known { current: HashMap::new(), previous: HashMap::new(), generation_capacity: 10 };
        known.insert(7, 100);
        assert!(known.covers(7, 100) && known.covers(7, 150));
        assert!(!known.covers(7, 99));
        known.insert(7, 50);
        assert!(known.covers(7, 50));
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key("ab", 2026, "c"), key("a", 2026, "bc"));
        assert_ne!(key("a", 2026, "c"), key("a", 2027, "c"));
    }
}
