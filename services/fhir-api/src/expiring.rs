//! A bounded cache whose entries lapse a fixed time after they were put in: what the lookups of
//! every PGO request (provider, verified token) keep, and a share's lookup of the person's
//! Patient ids.
//!
//! quick_cache rather than moka here: a moka hit records the read for its eviction policy in a
//! queue it drains on the caller's thread now and then, and these lookups (then three per
//! request) were 5% of the service's processor time under the BgZ benchmark; a quick_cache hit
//! is a hash lookup and one atomic. Lapsing is checked when an entry is read (quick_cache has no time to
//! live of its own).

use quick_cache::Equivalent;
use quick_cache::sync::Cache;
use std::hash::Hash;
use std::time::{Duration, Instant};

/// Entries of type `V` by `K`, at most about `capacity`, each for `lifetime`.
pub(crate) struct Expiring<K, V> {
    entries: Cache<K, (V, Instant)>,
    lifetime: Duration,
}

impl<K: Eq + Hash, V: Clone> std::fmt::Debug for Expiring<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expiring").field("entries", &self.entries.len()).field("lifetime", &self.lifetime).finish()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Expiring<K, V> {
    pub(crate) fn new(capacity: usize, lifetime: Duration) -> Expiring<K, V> {
        Expiring { entries: Cache::new(capacity.max(1)), lifetime }
    }

    /// The value put in for `key`, unless it has lapsed.
    pub(crate) fn get<Q: Hash + Equivalent<K> + ?Sized>(&self, key: &Q) -> Option<V> {
        let (value, put_at) = self.entries.get(key)?;
        if put_at.elapsed() < self.lifetime {
            Some(value)
        } else {
            self.entries.remove(key);
            None
        }
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        self.entries.insert(key, (value, Instant::now()));
    }

    /// Forgets every entry.
    pub(crate) fn clear(&self) {
        self.entries.clear();
    }

    /// Forgets the entries whose key `forget` picks.
    pub(crate) fn forget_if(&self, forget: impl Fn(&K) -> bool) {
        self.entries.retain(|key, _| !forget(key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_served_within_its_lifetime_and_not_after() {
        let kept: Expiring<String, u32> = Expiring::new(10, Duration::from_secs(3_600));
        kept.insert("a".to_owned(), 1);
        assert_eq!(kept.get("a"), Some(1));
        assert_eq!(kept.get("b"), None);
        let lapsed: Expiring<String, u32> = Expiring::new(10, Duration::ZERO);
        lapsed.insert("a".to_owned(), 1);
        assert_eq!(lapsed.get("a"), None, "a lapsed entry was served");
        assert_eq!(lapsed.entries.len(), 0, "a lapsed entry read was kept");
    }

    #[test]
    fn forgetting_drops_exactly_the_entries_picked() {
        let kept: Expiring<(i64, String), u32> = Expiring::new(10, Duration::from_secs(3_600));
        kept.insert((1, "a".to_owned()), 1);
        kept.insert((2, "a".to_owned()), 2);
        kept.forget_if(|key| key.0 == 1);
        assert_eq!(kept.get(&(1, "a".to_owned())), None);
        assert_eq!(kept.get(&(2, "a".to_owned())), Some(2));
        kept.clear();
        assert_eq!(kept.get(&(2, "a".to_owned())), None);
    }

    #[test]
    fn it_holds_no_more_than_about_its_capacity() {
        let kept: Expiring<u32, u32> = Expiring::new(100, Duration::from_secs(3_600));
        for key in 0..10_000 {
            kept.insert(key, key);
        }
        assert!(kept.entries.len() <= 110, "{} entries kept", kept.entries.len());
        assert_eq!(kept.get(&9_999), Some(9_999), "the newest entry was turned away");
    }
}
