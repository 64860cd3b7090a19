//! Reading a collection from the database: the person's visible records, each with the copy of
//! its token, date and reference index rows it holds (`collection_index.rs`), in one statement;
//! other kinds' index rows when a query first needs them; the shared resources the records refer
//! to from their reference rows (`shared.rs`). On PostgreSQL the records are read by runs of
//! `rid`s (`by_runs.rs`), on SQLite by seeking each of the compartment's `rid`s (its reader runs
//! in this process: there is no round trip to save, and PostgreSQL's statement, tried on SQLite
//! when it still read every part at once, took twice as long there).

use super::{Collection, IndexRows, Key, by_runs};
use crate::collection_index::{self, KINDS};
use crate::db::{Row, stored_resource};
use crate::read::{SERVED_COLUMNS, StoredResource};
use crate::sql::Sql;
use crate::visibility::{PatientScope, Visibility, push_patients, push_profile_filter};
use crate::{Backend, ProviderId, Store, StoreError};
use fhir_core::Release;
use fhir_search::kinds::{INDEX_TABLES, IndexTable};
use std::sync::Arc;

/// Whose collection a query is of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub(crate) provider: ProviderId,
    pub(crate) release: Release,
    pub(crate) scope: &'a PatientScope,
    pub(crate) visibility: &'a Visibility,
}

impl Owner<'_> {
    fn key(&self) -> Key {
        Key {
            provider: self.provider.get(),
            release: self.release,
            person: match self.scope {
                PatientScope::Person(key) => format!("key {key}"),
                PatientScope::Patients(ids) => {
                    let mut ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    format!("ids {}", ids.join("\u{1f}"))
                }
            },
            visibility: self.visibility.fingerprint(),
        }
    }

    /// `c.rid` of the person's compartment rows: `SELECT c.rid FROM compartment c WHERE ...`.
    pub(super) fn push_compartment_rids(&self, sql: &mut Sql) {
        sql.push("SELECT c.rid FROM compartment c WHERE c.provider_id = ")
            .bind(self.provider.0)
            .push(" AND c.release = ")
            .bind(self.release.as_str().to_owned())
            .push(" AND c.patient_id IN ");
        push_patients(sql, self.provider, self.release, self.scope);
    }

    /// `column IN (the person's compartment rids)`: a [`RidCondition`] that seeks each row.
    pub(super) fn push_in_compartment(&self, sql: &mut Sql, column: &str) {
        sql.push(&format!("{column} IN ("));
        self.push_compartment_rids(sql);
        sql.push(")");
    }

    /// The person's records the visibility rule lets them see, as [`SERVED_COLUMNS`] and then
    /// their `collection_index`, of the resources whose `rid`s `rids` selects.
    pub(super) fn push_records(&self, sql: &mut Sql, rids: RidCondition<'_>) {
        sql.push(&format!("SELECT {SERVED_COLUMNS}, r.collection_index FROM resources r WHERE +r.provider_id = "))
            .bind(self.provider.0)
            .push(" AND r.deleted = 0 AND ");
        rids(sql, "r.rid");
        sql.push(" AND ");
        push_profile_filter(sql, self.visibility, None);
    }

    /// `table`'s rows (`rid, param`, then its columns) of the resources whose `rid`s `rids` selects.
    pub(super) fn push_index_rows(&self, sql: &mut Sql, table: &IndexTable, rids: RidCondition<'_>) {
        let alias = table.alias;
        sql.push(&format!("SELECT {alias}.rid, {alias}.param"));
        for column in table.columns {
            sql.push(&format!(", {alias}.{column}"));
        }
        sql.push(&format!(" FROM {} {alias} WHERE ", table.name));
        rids(sql, &format!("{alias}.rid"));
    }
}

/// Pushes a condition on a table's `rid` column (named by the second argument) that selects the
/// rows of the person's resources.
pub(super) type RidCondition<'a> = &'a dyn Fn(&mut Sql, &str);

/// What the first query of a collection reads.
pub(super) struct Read {
    pub(super) records: Vec<StoredResource>,
    /// The rows of [`KINDS`], in its order.
    pub(super) index: [IndexRows; 3],
}

/// A record as [`Owner::push_records`] reads it: the resource and its `collection_index`.
pub(super) type RecordRow = (StoredResource, Option<String>);

/// The records of rows read by [`Owner::push_records`].
pub(super) fn record_rows(rows: Vec<Row>) -> Result<Vec<RecordRow>, StoreError> {
    rows.into_iter().map(|mut row| Ok((stored_resource(&mut row)?, row.take(6)?))).collect()
}

impl Store {
    /// The person's collection for this data service: the kept one if it is current, else read
    /// now (and kept). `None` when this store keeps no collections.
    pub(crate) async fn collection(&self, owner: Owner<'_>) -> Result<Option<Arc<Collection>>, StoreError> {
        let Some(collections) = self.collections.get() else { return Ok(None) };
        let key = owner.key();
        if let Some(kept) = collections.current(&key, owner.provider) {
            return Ok(Some(kept));
        }
        // The generation before reading: a change heard while reading leaves it behind.
        let generation = collections.generation(owner.provider);
        let records = match self.db.backend() {
            Backend::Postgres => by_runs::records(&self.db, owner).await?,
            Backend::Sqlite => self.records_read(owner).await?,
        };
        let read = self.with_index(owner, records).await?;
        // The reference rows, third of `KINDS`, tell the shared resources referred to.
        let [_, _, references] = &read.index;
        let (shared, oldest) =
            self.shared_referenced(collections, owner, generation, &read.records, references).await?;
        let mut collection = Collection::new(generation, read.records, shared);
        if let Some(oldest) = oldest {
            collection.read_at = collection.read_at.min(oldest);
        }
        for (table, rows) in KINDS.iter().zip(read.index) {
            if let Some(position) = INDEX_TABLES.iter().position(|known| known.name == table.name) {
                let _ = collection.index[position].set(rows);
            }
        }
        let collection = Arc::new(collection);
        collections.keep(key, owner.provider, collection.clone());
        Ok(Some(collection))
    }

    /// The person's records, in the order stored, seeking each `rid` of their compartment.
    async fn records_read(&self, owner: Owner<'_>) -> Result<Vec<RecordRow>, StoreError> {
        let mut records = Sql::new("");
        owner.push_records(&mut records, &|sql, column| owner.push_in_compartment(sql, column));
        records.push(" ORDER BY r.rid");
        record_rows(self.db.fetch_all(records).await?)
    }

    /// The records with their rows of [`KINDS`]: from the copies the records hold, or from the
    /// tables when a record holds none (stored before migration 0011 and not yet reindexed, or of
    /// a type whose definition the index no longer has).
    async fn with_index(&self, owner: Owner<'_>, rows: Vec<RecordRow>) -> Result<Read, StoreError> {
        if rows.iter().any(|(_, column)| column.is_none()) {
            let [tokens, dates, references] = KINDS.map(|table| self.index_rows_read(owner, table));
            let (tokens, dates, references) = futures::try_join!(tokens, dates, references)?;
            let records = rows.into_iter().map(|(record, _)| record).collect();
            return Ok(Read { records, index: [tokens, dates, references] });
        }
        let mut index: [Vec<_>; KINDS.len()] = Default::default();
        let mut records = Vec::with_capacity(rows.len());
        for (record, column) in rows {
            let kinds = collection_index::decode(column.as_deref().unwrap_or_default())?;
            for (into, kind_rows) in index.iter_mut().zip(kinds) {
                into.extend(kind_rows.into_iter().map(|(param, cells)| (record.rid, param, cells)));
            }
            records.push(record);
        }
        Ok(Read { records, index: index.map(IndexRows::from_rows) })
    }

    /// A kind's index rows of the person's compartment.
    async fn index_rows_read(&self, owner: Owner<'_>, table: &IndexTable) -> Result<IndexRows, StoreError> {
        let mut sql = Sql::new("");
        owner.push_index_rows(&mut sql, table, &|sql, column| owner.push_in_compartment(sql, column));
        Ok(IndexRows::from_rows(self.db.index_rows(sql, table.columns.len()).await?))
    }

    /// The collection's index rows of `table`'s kind; `None` when a change was heard since the
    /// collection was read (the query then runs in the database).
    pub(crate) async fn collected_rows<'c>(
        &self,
        collection: &'c Collection,
        owner: Owner<'_>,
        table: &IndexTable,
    ) -> Result<Option<&'c IndexRows>, StoreError> {
        let Some(position) = INDEX_TABLES.iter().position(|known| known.name == table.name) else { return Ok(None) };
        let rows = collection.index[position].get_or_try_init(|| self.index_rows_read(owner, table)).await?;
        Ok(self.unchanged(collection, owner).then_some(rows))
    }

    fn unchanged(&self, collection: &Collection, owner: Owner<'_>) -> bool {
        self.collections.get().is_some_and(|collections| collections.still_current(collection, owner.provider))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use data_services::Catalog;

    /// SQLite's plan of each statement of a fill, as `EXPLAIN QUERY PLAN` words it.
    async fn sqlite_plans(store: &Store, owner: Owner<'_>) -> Vec<(String, String)> {
        let mut records = Sql::new("EXPLAIN QUERY PLAN ");
        owner.push_records(&mut records, &|sql, column| owner.push_in_compartment(sql, column));
        let mut shared = Sql::new("EXPLAIN QUERY PLAN ");
        owner.push_shared_resource(&mut shared, "Organization", "practice");
        let mut plans = Vec::new();
        for (name, sql) in [("records", records), ("shared", shared)] {
            let rows = store.db.fetch_all(sql).await.expect("explained");
            let steps: Vec<String> = rows.into_iter().map(|mut row| row.take::<String>(3).expect("detail")).collect();
            plans.push((name.to_owned(), steps.join("; ")));
        }
        plans
    }

    /// Each kind's rows as comparable text, in order.
    fn kind_rows(read: &Read) -> Vec<Vec<String>> {
        read.index
            .iter()
            .map(|rows| {
                let mut text: Vec<String> = rows
                    .rids
                    .iter()
                    .zip(&rows.rows)
                    .map(|(rid, row)| format!("{rid} {:?} {:?}", row.param, row.cells.to_vec()))
                    .collect();
                text.sort();
                text
            })
            .collect()
    }

    test_support::on_both_backends!(records_without_the_column_have_their_rows_read_from_the_tables, |database| {
        let store = Store::connect(&database.url, 2).await.expect("connects");
        store.migrate().await.expect("migrates");
        let new =
            crate::NewProvider { name: "umcx".into(), display_name: "UMCX".into(), data_services: vec!["48".into()] };
        let provider = store.create_provider(&new, None).await.expect("provider").id;
        let records = crate::collection_index::tests::records("8302-2", "2026-01-02");
        let writes = records.into_iter().map(crate::collection_index::tests::write_of).collect();
        store.write(provider, writes).await.expect("written");
        let catalog = Catalog::embedded().expect("definitions");
        let visibility =
            Visibility::of(catalog.data_service("48").expect("48"), catalog.release(Release::Stu3).expect("STU3"));
        let scope = PatientScope::Patients(vec!["p1".into()]);
        let owner = Owner { provider, release: Release::Stu3, scope: &scope, visibility: &visibility };
        let rows = match store.backend() {
            Backend::Postgres => by_runs::records(&store.db, owner).await.expect("read"),
            Backend::Sqlite => store.records_read(owner).await.expect("read"),
        };
        assert!(rows.iter().all(|(_, column)| column.is_some()), "a record without its column");
        let held = store.with_index(owner, rows.clone()).await.expect("from the column");
        let mut without = rows;
        without[0].1 = None;
        let tables = store.with_index(owner, without).await.expect("from the tables");
        assert_eq!(held.records.len(), 2);
        assert_eq!(tables.records.len(), 2);
        let kinds = kind_rows(&held);
        assert!(kinds.iter().all(|rows| !rows.is_empty()), "a kind without rows: {kinds:?}");
        assert_eq!(kinds, kind_rows(&tables));
    });

    #[tokio::test]
    async fn a_fill_on_sqlite_starts_from_the_person_and_never_walks_a_whole_table() {
        let database = test_support::TestDatabase::create(test_support::Backend::Sqlite).await;
        let store = Store::connect(&database.url, 2).await.expect("connects");
        store.migrate().await.expect("migrates");
        let catalog = Catalog::embedded().expect("definitions");
        let visibility =
            Visibility::of(catalog.data_service("48").expect("48"), catalog.release(Release::Stu3).expect("STU3"));
        let scope = PatientScope::Person("key".into());
        let owner = Owner { provider: ProviderId(1), release: Release::Stu3, scope: &scope, visibility: &visibility };
        for (name, plan) in sqlite_plans(&store, owner).await {
            // A SCAN of a table (rather than a SEARCH through an index, or of a subquery's few
            // rows) reads every row of it: with 480,000 resources a fill took seconds, and the
            // service answered 266 requests in 96 s.
            let scans: Vec<&str> =
                plan.split("; ").filter(|step| step.starts_with("SCAN ") && !step.starts_with("SCAN t")).collect();
            assert!(scans.is_empty(), "the {name} statement scans: {plan}");
            // A resource is found by its row or by its whole key; a search by a prefix of the key
            // (provider and release) walks every resource of the provider, as a scan would.
            for step in plan.split("; ").filter(|step| step.starts_with("SEARCH r ")) {
                assert!(step.contains("rowid=?") || step.contains(" AND id=?)"), "the {name} statement walks: {step}");
            }
        }
    }
}
