//! The meter: records each successful exchange before its answer leaves, at the cost of one
//! durable write the first time a person exchanges through a PGO in a calendar year, and of a
//! memory lookup every other time.

use crate::period::year_of;
use crate::rules::Exchange;
use aws_lc_rs::digest;
use chrono_tz::Tz;
use std::collections::HashSet;
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
/// collision in any realistic lifetime; a plain 64-bit hash could, in principle, miss a user).
/// Two generations bound the memory: when the current one is full it becomes the previous one
/// and the one before is forgotten (a forgotten key costs one no-op write on its next use).
#[derive(Debug)]
struct Known {
    current: HashSet<u128>,
    previous: HashSet<u128>,
    generation_capacity: usize,
}

impl Known {
    fn contains(&self, key: u128) -> bool {
        self.current.contains(&key) || self.previous.contains(&key)
    }

    fn insert(&mut self, key: u128) {
        if self.current.len() >= self.generation_capacity {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key);
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
            known: Mutex::new(Known { current: HashSet::new(), previous: HashSet::new(), generation_capacity }),
        }
    }

    /// Records `exchange`. When this returns `Ok`, the exchange is counted durably; on `Err` the
    /// caller must not answer as if it succeeded.
    pub async fn record(&self, exchange: &Exchange) -> Result<Recorded, StoreError> {
        let year = year_of(exchange.at, self.zone);
        let key = key(&exchange.client_id, year, &exchange.pseudonym);
        if self.known.lock().map(|known| known.contains(key)).unwrap_or(false) {
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
        self.store.record_first_exchanges(std::slice::from_ref(&first)).await?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(key);
        }
        Ok(Recorded::Written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_generations_bound_what_is_remembered() {
        let mut known = Known { current: HashSet::new(), previous: HashSet::new(), generation_capacity: 2 };
        for value in 1..=5 {
            known.insert(value);
        }
        assert!(known.contains(5) && known.contains(4) && known.contains(3));
        assert!(!known.contains(1), "the oldest generation is forgotten");
        assert!(known.current.len() + known.previous.len() <= 4);
    }

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key("ab", 2026, "c"), key("a", 2026, "bc"));
        assert_ne!(key("a", 2026, "c"), key("a", 2027, "c"));
    }
}
