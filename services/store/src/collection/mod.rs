//! The collection cache: a person's records of one data service, read from the database by the
//! first query of a collection and kept in memory for the queries that follow it (a PGO collects a
//! whole data service within seconds, and each of its some thirty queries would otherwise read
//! again the rows the one before it read).
//!
//! What is kept is exactly what the visibility rule (`visibility.rs`) lets the person see of the
//! data service's types in their compartment, in the order stored, read together with the token,
//! date and reference index rows of those records (other kinds' rows when a query first needs
//! them), and the shared resources they refer to, which are kept apart, once for every collection
//! that refers to them (`shared.rs`). Queries are then answered in memory (`search.rs`) with the same
//! conditions the database would use (`matching.rs`); what memory cannot decide as the database
//! would runs in the database.
//!
//! Staleness is bounded, and nothing foreign is ever kept:
//! - every resource write announces its provider (`Change::Records`, delivered to every instance
//!   after commit, see `changes.rs`); hearing it moves the provider's generation on, and a kept
//!   collection of an older generation is not used again;
//! - a collection filled while a change was heard is used for the query that filled it, never
//!   kept;
//! - when the change listener loses its connection (changes may have been missed) every
//!   generation moves on;
//! - a collection lives at most [`LIFETIME`], which bounds what another process on a SQLite file
//!   (which has no change channel) may leave unseen;
//! - the collection's memory is bounded by weight (the bodies' bytes), least recently used first.
//!
//! The kept collections are an LRU map behind a mutex (`kept.rs`), not a cache crate: every query
//! looks its collection up, and moka's bookkeeping per lookup was 3.7% of the service's processor
//! time under the BgZ benchmark.

mod by_runs;
mod fill;
mod kept;
pub(crate) mod matching;
mod search;
mod shared;

pub(crate) use fill::Owner;

use crate::read::StoredResource;
use crate::{Change, ProviderId};
use fhir_core::Release;
use fhir_search::Scalar;
use fhir_search::kinds::INDEX_TABLES;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest a collection is kept after it was read.
pub const LIFETIME: Duration = Duration::from_secs(10);

/// What a kept record weighs besides its body: its index rows, ids and map entries. Measured in
/// the BgZ benchmark: with 512 here the service's memory grew by twice the budget.
const OVERHEAD_PER_RECORD: u32 = 4_096;

/// The share of the budget the shared resources may take (a sixteenth): the GP practices,
/// insurers, practitioners and medications persons' records refer to, each kept once.
const SHARED_PART: u64 = 16;

/// Whose collection, of which data service.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    provider: i64,
    release: Release,
    /// The person: by key, or by their Patient ids (sorted).
    person: String,
    /// The data service's visibility rule, by its fingerprint.
    visibility: u64,
}

/// The kept collections of this process and the generations that tell the current ones.
pub(crate) struct Collections {
    kept: kept::Kept<Key, Arc<Collection>>,
    /// The shared resources collections refer to (`shared.rs`), kept across collections.
    shared: kept::Kept<shared::SharedKey, Arc<shared::Shared>>,
    /// Per provider: how many of its changes were heard.
    generations: Mutex<HashMap<i64, u64>>,
    /// How many times changes may have been missed.
    epoch: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for Collections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collections").field("kept", &self.kept.len()).finish_non_exhaustive()
    }
}

/// How often kept collections served a query, and how often one had to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CollectionCounts {
    /// Queries answered from a kept collection.
    pub hits: u64,
    /// Collections read from the database.
    pub misses: u64,
}

impl Collections {
    /// Collections weighing at most `budget_bytes` in all.
    pub(crate) fn new(budget_bytes: u64) -> Collections {
        let kept = kept::Kept::new(budget_bytes);
        let shared = kept::Kept::new(budget_bytes / SHARED_PART);
        Collections {
            kept,
            shared,
            generations: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Takes note of a change: what it may have made stale is not used again.
    pub(crate) fn heard(&self, change: &Change) {
        match change {
            Change::Records(provider) | Change::Patients(provider) => {
                if let Ok(mut generations) = self.generations.lock() {
                    *generations.entry(provider.get()).or_default() += 1;
                }
            }
            Change::Unknown => {
                self.epoch.fetch_add(1, Ordering::SeqCst);
            }
            Change::Providers | Change::Lists | Change::SigningKeys | Change::Revocations => {}
        }
    }

    /// The provider's current generation: it grows with every change heard that concerns it.
    fn generation(&self, provider: ProviderId) -> u64 {
        let own = self
            .generations
            .lock()
            .map_or(u64::MAX, |generations| generations.get(&provider.get()).copied().unwrap_or_default());
        own.wrapping_add(self.epoch.load(Ordering::SeqCst))
    }

    fn current(&self, key: &Key, provider: ProviderId) -> Option<Arc<Collection>> {
        let kept = self.kept.get(key)?;
        if kept.generation == self.generation(provider) && kept.read_at.elapsed() < LIFETIME {
            self.hits.fetch_add(1, Ordering::Relaxed);
            Some(kept)
        } else {
            self.kept.remove(key);
            None
        }
    }

    /// Keeps `collection` unless a change concerning it was heard since it was read.
    fn keep(&self, key: Key, provider: ProviderId, collection: Arc<Collection>) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        if collection.generation == self.generation(provider) {
            self.kept.insert(key, collection);
        }
    }

    /// Whether nothing concerning `collection` was heard since it was read.
    fn still_current(&self, collection: &Collection, provider: ProviderId) -> bool {
        collection.generation == self.generation(provider)
    }

    pub(crate) fn counts(&self) -> CollectionCounts {
        CollectionCounts { hits: self.hits.load(Ordering::Relaxed), misses: self.misses.load(Ordering::Relaxed) }
    }
}

impl kept::Weighed for Arc<Collection> {
    fn weight(&self) -> u64 {
        u64::from(self.weight)
    }
}

/// A person's records of one data service (each claiming a profile the service serves for its
/// type, in the person's compartment, not deleted), in the order stored.
pub(crate) struct Collection {
    generation: u64,
    /// When it was read: it is not used [`LIFETIME`] after.
    read_at: Instant,
    weight: u32,
    records: Vec<StoredResource>,
    /// Positions in `records`, in the order of their type and id (a copy of each name per record
    /// would be two more allocations a kept collection holds per record, see [`ParamNames`]).
    by_name: Vec<usize>,
    /// The records' index rows, per kind (in the order of `INDEX_TABLES`), read when first needed.
    index: [tokio::sync::OnceCell<IndexRows>; INDEX_TABLES.len()],
    /// The resources outside the compartment that the records refer to and the visibility rule
    /// lets an `_include` serve, by type and id.
    outside: HashMap<(String, String), StoredResource>,
}

/// A kind's index rows of a collection's records, in the order of the records' `rid`s: two
/// vectors for all of them, not a vector per record in a map (see [`ParamNames`] for why a kept
/// collection holds few allocations).
#[derive(Debug, Default)]
pub(crate) struct IndexRows {
    rids: Vec<i64>,
    rows: Vec<IndexRow>,
}

impl IndexRows {
    /// `rows` as read (each its record's `rid`, its parameter and its cells; records in any
    /// order), their parameter names kept once ([`ParamNames`]); a record's rows keep the order
    /// they came in.
    pub(super) fn from_rows<C: IntoIterator<Item = Scalar>>(
        rows: impl IntoIterator<Item = (i64, Option<String>, C)>,
    ) -> IndexRows {
        let mut names = ParamNames::default();
        let mut pairs: Vec<(i64, IndexRow)> =
            rows.into_iter().map(|(rid, param, cells)| (rid, names.row(param, cells))).collect();
        pairs.sort_by_key(|(rid, _)| *rid);
        let (rids, rows) = pairs.into_iter().unzip();
        IndexRows { rids, rows }
    }

    /// The rows of the record `rid` (none: empty).
    pub(crate) fn of(&self, rid: i64) -> &[IndexRow] {
        let start = self.rids.partition_point(|known| *known < rid);
        let end = start + self.rids[start..].partition_point(|known| *known == rid);
        &self.rows[start..end]
    }

    /// Every row.
    pub(crate) fn all(&self) -> &[IndexRow] {
        &self.rows
    }
}

/// One index row: its parameter and its cells (in the order of the kind's columns). Neither is an
/// allocation of its own for the kinds read with the records (two cells each, the parameter
/// shared with the collection's other rows of that name, see [`ParamNames`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexRow {
    param: Option<Arc<str>>,
    cells: SmallVec<[Scalar; 2]>,
}

/// The parameter names of the index rows read for one collection, each kept once. A collection's
/// few hundred index rows share a dozen names, and whatever a kept collection holds lives as long
/// as it does: allocated when it is read and freed when it is displaced, seconds later and often
/// on another thread, so each such allocation is one the allocator finds cold. Allocations were
/// a fifth of the service's processor time under the BgZ load on PostgreSQL (BENCHMARKS.md).
#[derive(Debug, Default)]
struct ParamNames(Vec<Arc<str>>);

impl ParamNames {
    /// The row of `param` with `cells`, its name shared with the rows before it of that name.
    fn row(&mut self, param: Option<String>, cells: impl IntoIterator<Item = Scalar>) -> IndexRow {
        let param = param.map(|param| {
            // A dozen names: a scan beats hashing each.
            if let Some(known) = self.0.iter().find(|known| ***known == *param) {
                known.clone()
            } else {
                let name: Arc<str> = param.into();
                self.0.push(name.clone());
                name
            }
        });
        IndexRow { param, cells: cells.into_iter().collect() }
    }
}

impl Collection {
    fn new(generation: u64, records: Vec<StoredResource>, outside: Vec<StoredResource>) -> Collection {
        let mut by_name: Vec<usize> = (0..records.len()).collect();
        by_name.sort_unstable_by_key(|position| name_of(&records[*position]));
        let outside: HashMap<(String, String), StoredResource> = outside
            .into_iter()
            .map(|resource| ((resource.resource_type.clone(), resource.id.clone()), resource))
            .collect();
        let bytes: usize = records.iter().chain(outside.values()).map(|record| record.body.len()).sum();
        let overhead = records.len().saturating_mul(OVERHEAD_PER_RECORD as usize);
        let weight = u32::try_from(bytes.saturating_add(overhead)).unwrap_or(u32::MAX);
        Collection { generation, read_at: Instant::now(), weight, records, by_name, index: Default::default(), outside }
    }

    /// The record of this type and id, if the person may see it.
    pub(crate) fn record(&self, resource_type: &str, id: &str) -> Option<&StoredResource> {
        let found =
            self.by_name.binary_search_by_key(&(resource_type, id), |position| name_of(&self.records[*position]));
        found.ok().map(|at| &self.records[self.by_name[at]])
    }

    /// What an `_include` of this type and id serves: one of the records, or a shared resource
    /// they refer to.
    fn include_target(&self, resource_type: &str, id: &str) -> Option<&StoredResource> {
        self.record(resource_type, id).or_else(|| self.outside.get(&(resource_type.to_owned(), id.to_owned())))
    }
}

/// A record's type and id, what [`Collection::record`] finds it by.
fn name_of(record: &StoredResource) -> (&str, &str) {
    (&record.resource_type, &record.id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    pub(super) fn key(person: &str) -> Key {
        Key { provider: 1, release: Release::Stu3, person: person.to_owned(), visibility: 0 }
    }

    /// A collection of generation `generation` with one record, weighing `OVERHEAD_PER_RECORD`
    /// and a body of `bytes` bytes.
    pub(super) fn one_record(generation: u64, bytes: usize) -> Arc<Collection> {
        let record = StoredResource {
            rid: 1,
            resource_type: "Observation".into(),
            id: "o".into(),
            version_id: 1,
            last_updated: 0,
            body: "x".repeat(bytes),
        };
        Arc::new(Collection::new(generation, vec![record], Vec::new()))
    }

    fn collection(collections: &Collections, provider: ProviderId) -> Arc<Collection> {
        one_record(collections.generation(provider), 1_000)
    }

    #[test]
    fn a_collection_is_not_used_past_its_lifetime() {
        let provider = ProviderId(1);
        let collections = Collections::new(1 << 20);
        let mut old = Collection::new(collections.generation(provider), Vec::new(), Vec::new());
        old.read_at = Instant::now().checked_sub(LIFETIME + Duration::from_secs(1)).expect("an instant that long ago");
        collections.keep(key("a"), provider, Arc::new(old));
        assert!(collections.current(&key("a"), provider).is_none(), "a collection older than its lifetime was used");
        assert_eq!(collections.kept.len(), 0, "a lapsed collection was kept");
        collections.keep(key("a"), provider, collection(&collections, provider));
        assert!(collections.current(&key("a"), provider).is_some());
    }

    #[test]
    fn a_full_cache_keeps_the_newest_collection_however_often_the_others_were_used() {
        let provider = ProviderId(1);
        // Room for two collections.
        let collections = Collections::new(u64::from(2 * (OVERHEAD_PER_RECORD + 1_000)) + 100);
        for person in ["a", "b"] {
            collections.keep(key(person), provider, collection(&collections, provider));
            for _ in 0..30 {
                assert!(collections.current(&key(person), provider).is_some());
            }
        }
        collections.keep(key("c"), provider, collection(&collections, provider));
        assert!(collections.current(&key("c"), provider).is_some(), "the newest collection was turned away");
        assert!(collections.current(&key("a"), provider).is_none(), "the least recently used was not evicted");
        assert!(collections.current(&key("b"), provider).is_some());
    }

    #[test]
    fn each_record_is_found_by_its_type_and_id_whatever_the_order_stored() {
        let record = |rid: i64, resource_type: &str, id: &str| StoredResource {
            rid,
            resource_type: resource_type.into(),
            id: id.into(),
            version_id: 1,
            last_updated: 0,
            body: format!("{resource_type}/{id}"),
        };
        // Stored in an order that is neither by type nor by id; one id under two types.
        let names = [("Patient", "b"), ("Condition", "z"), ("Observation", "a"), ("Condition", "b"), ("Flag", "m")];
        let records = (1..).zip(names).map(|(rid, (resource_type, id))| record(rid, resource_type, id)).collect();
        let collection = Collection::new(0, records, Vec::new());
        for (resource_type, id) in names {
            let found = collection.record(resource_type, id).map(|record| record.body.as_str());
            assert_eq!(found, Some(format!("{resource_type}/{id}").as_str()));
        }
        for (resource_type, id) in [("Patient", "a"), ("Condition", "a"), ("Observation", "b"), ("Zzz", "z"), ("", "")]
        {
            assert!(collection.record(resource_type, id).is_none(), "{resource_type}/{id} found");
        }
    }

    #[test]
    fn index_rows_of_one_name_share_it_and_keep_their_cells() {
        let mut names = ParamNames::default();
        let code =
            names.row(Some("code".into()), [Scalar::Text("http://loinc.org".into()), Scalar::Text("8302-2".into())]);
        let again = names.row(Some("code".into()), [Scalar::Null, Scalar::Text("x".into())]);
        let other = names.row(Some("category".into()), []);
        let none = names.row(None, [Scalar::Int(3)]);
        let (Some(first), Some(second)) = (&code.param, &again.param) else { panic!("names lost") };
        assert!(Arc::ptr_eq(first, second), "one name kept twice");
        assert_eq!(other.param.as_deref(), Some("category"));
        assert_eq!(none.param, None);
        assert_eq!(code.cells.as_slice(), [Scalar::Text("http://loinc.org".into()), Scalar::Text("8302-2".into())]);
        assert_eq!(again.cells.as_slice(), [Scalar::Null, Scalar::Text("x".into())]);
        assert_eq!(none.cells.as_slice(), [Scalar::Int(3)]);
    }

    #[test]
    fn a_record_s_index_rows_are_found_by_its_rid_in_the_order_they_came() {
        let row = |rid: i64, code: &str| (rid, Some("code".to_owned()), [Scalar::Text(code.into())]);
        // Records in no order, a record's rows apart from each other.
        let rows =
            IndexRows::from_rows(vec![row(7, "a"), row(3, "b"), row(7, "c"), row(9, "d"), row(3, "e"), row(7, "f")]);
        let codes = |rid: i64| -> Vec<Scalar> { rows.of(rid).iter().map(|row| row.cells[0].clone()).collect() };
        let text = |codes: &[&str]| -> Vec<Scalar> { codes.iter().map(|code| Scalar::Text((*code).into())).collect() };
        assert_eq!(codes(3), text(&["b", "e"]));
        assert_eq!(codes(7), text(&["a", "c", "f"]));
        assert_eq!(codes(9), text(&["d"]));
        for absent in [i64::MIN, 1, 5, 8, 10, i64::MAX] {
            assert!(rows.of(absent).is_empty(), "rows found for {absent}");
        }
        assert_eq!(rows.all().len(), 6);
        assert!(IndexRows::default().of(3).is_empty());
    }
}
