//! What the collection cache keeps (collections, and the shared resources they refer to): a map
//! in order of use, bounded by the entries' weight, the least recently used evicted first. One
//! mutex around it: a lookup holds it for a hash lookup and a move to the back of the order, far
//! shorter than anything done with the entry after.

use hashlink::LruCache;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What an entry weighs against the budget (about the bytes it holds).
pub(super) trait Weighed {
    fn weight(&self) -> u64;
}

pub(super) struct Kept<K, V> {
    inner: Mutex<Inner<K, V>>,
    budget: u64,
}

struct Inner<K, V> {
    entries: LruCache<K, V>,
    /// The kept entries' weights, summed.
    weight: u64,
}

impl<K: Eq + Hash, V: Weighed + Clone> Kept<K, V> {
    /// Entries weighing at most `budget` in all.
    pub(super) fn new(budget: u64) -> Kept<K, V> {
        Kept { inner: Mutex::new(Inner { entries: LruCache::new_unbounded(), weight: 0 }), budget }
    }

    fn inner(&self) -> MutexGuard<'_, Inner<K, V>> {
        // Every change below leaves the map and its weight whole before it could panic.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The entry kept under `key`, now the most recently used.
    pub(super) fn get(&self, key: &K) -> Option<V> {
        self.inner().entries.get(key).cloned()
    }

    /// Keeps `entry` under `key`, evicting the least recently used until the rest fits. One
    /// heavier than the whole budget is not kept.
    pub(super) fn insert(&self, key: K, entry: V) {
        let weight = entry.weight();
        if weight > self.budget {
            return;
        }
        // Freed after the lock is let go: the last reference to a collection frees its records and
        // index rows, some thousand allocations, which other lookups need not wait for.
        let mut dropped = Vec::new();
        let mut inner = self.inner();
        if let Some(replaced) = inner.entries.insert(key, entry) {
            inner.weight -= replaced.weight();
            dropped.push(replaced);
        }
        inner.weight += weight;
        while inner.weight > self.budget {
            let Some((_, evicted)) = inner.entries.remove_lru() else { break };
            inner.weight -= evicted.weight();
            dropped.push(evicted);
        }
        drop(inner);
        drop(dropped);
    }

    pub(super) fn remove(&self, key: &K) {
        let mut inner = self.inner();
        if let Some(removed) = inner.entries.remove(key) {
            inner.weight -= removed.weight();
        }
    }

    pub(super) fn len(&self) -> usize {
        self.inner().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::tests::{key, one_record};
    use crate::collection::{Collection, Key};
    use std::sync::Arc;

    fn collection(bytes: usize) -> Arc<Collection> {
        one_record(0, bytes)
    }

    fn weight(kept: &Kept<Key, Arc<Collection>>) -> u64 {
        kept.inner().weight
    }

    #[test]
    fn the_weight_follows_what_is_kept_replaced_and_removed() {
        let one = u64::from(collection(1_000).weight);
        let kept: Kept<Key, Arc<Collection>> = Kept::new(10 * one);
        kept.insert(key("a"), collection(1_000));
        kept.insert(key("b"), collection(1_000));
        assert_eq!(weight(&kept), 2 * one);
        // Kept again under the same key: counted once.
        kept.insert(key("a"), collection(1_000));
        assert_eq!((kept.len(), weight(&kept)), (2, 2 * one));
        kept.remove(&key("a"));
        kept.remove(&key("a"));
        assert_eq!((kept.len(), weight(&kept)), (1, one));
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_budget_holds() {
        let one = u64::from(collection(1_000).weight);
        let kept: Kept<Key, Arc<Collection>> = Kept::new(3 * one);
        for person in ["a", "b", "c"] {
            kept.insert(key(person), collection(1_000));
        }
        // "a" used last of the three: "b" is now the least recently used.
        assert!(kept.get(&key("a")).is_some());
        kept.insert(key("d"), collection(1_000));
        assert!(kept.get(&key("b")).is_none(), "the least recently used was kept");
        for person in ["a", "c", "d"] {
            assert!(kept.get(&key(person)).is_some(), "{person} was evicted");
        }
        assert!(weight(&kept) <= 3 * one);
        // One heavier than the whole budget displaces nothing.
        assert!(u64::from(collection(20_000).weight) > 3 * one);
        kept.insert(key("e"), collection(20_000));
        assert_eq!(kept.len(), 3);
        assert!(kept.get(&key("e")).is_none());
    }
}
