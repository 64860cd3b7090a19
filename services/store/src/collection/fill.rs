//! Reading a collection from the database: the person's visible records, a kind's index rows of
//! them, and the shared resources outside the compartment that the records refer to.

use super::{Collection, IndexRow, IndexRows, Key};
use crate::read::{SERVED_COLUMNS, StoredResource};
use crate::reader::Extra;
use crate::sql::Sql;
use crate::visibility::{
    PatientScope, Visibility, push_patients, push_profile_filter, push_shareable_type, push_shared,
};
use crate::{ProviderId, Store, StoreError};
use fhir_core::Release;
use fhir_search::kinds::{INDEX_TABLES, IndexTable, date, reference, token};
use std::sync::Arc;

/// The kinds nearly every collection's queries need (codes, `$lastn`'s dates, `_include`s), read
/// with its records; the others when a query first needs them.
const READ_WITH_RECORDS: [&IndexTable; 3] = [&token::TABLE, &date::TABLE, &reference::TABLE];

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
    fn push_compartment_rids(&self, sql: &mut Sql) {
        sql.push("SELECT c.rid FROM compartment c WHERE c.provider_id = ")
            .bind(self.provider.0)
            .push(" AND c.release = ")
            .bind(self.release.as_str().to_owned())
            .push(" AND c.patient_id IN ");
        push_patients(sql, self.provider, self.release, self.scope);
    }
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
        let mut sql = Sql::new(&format!("SELECT {SERVED_COLUMNS} FROM resources r WHERE +r.provider_id = "));
        sql.bind(owner.provider.0).push(" AND r.deleted = 0 AND r.rid IN (");
        owner.push_compartment_rids(&mut sql);
        sql.push(") AND ");
        push_profile_filter(&mut sql, owner.visibility, None);
        sql.push(" ORDER BY r.rid");
        // All at once: on PostgreSQL each read a later query made would be a round trip of its
        // own, waiting for a processor behind the others (BENCHMARKS.md, "Collection cache").
        let records = self.reader.resources(sql, Extra { total: false, part: false });
        let [tokens, dates, references] = READ_WITH_RECORDS.map(|table| self.index_rows_read(owner, table));
        let (records, tokens, dates, references, shared) =
            futures::try_join!(records, tokens, dates, references, self.shared_referenced(owner))?;
        let collection = Collection::new(generation, records.into_iter().map(|row| row.resource).collect(), shared);
        for (table, rows) in READ_WITH_RECORDS.iter().zip([tokens, dates, references]) {
            if let Some(position) = INDEX_TABLES.iter().position(|known| known.name == table.name) {
                let _ = collection.index[position].set(rows);
            }
        }
        let collection = Arc::new(collection);
        collections.keep(key, owner.provider, collection.clone());
        Ok(Some(collection))
    }

    /// A kind's index rows of the person's compartment.
    async fn index_rows_read(&self, owner: Owner<'_>, table: &IndexTable) -> Result<IndexRows, StoreError> {
        let alias = table.alias;
        let mut sql = Sql::new(&format!("SELECT {alias}.rid, {alias}.param"));
        for column in table.columns {
            sql.push(&format!(", {alias}.{column}"));
        }
        sql.push(&format!(" FROM {} {alias} WHERE {alias}.rid IN (", table.name));
        owner.push_compartment_rids(&mut sql);
        sql.push(")");
        let mut rows = IndexRows::new();
        for (rid, param, cells) in self.reader.index_rows(sql, table.columns.len()).await? {
            rows.entry(rid).or_default().push(IndexRow { param, cells });
        }
        Ok(rows)
    }

    /// The resources outside the compartment that the person's records refer to and the rule
    /// lets an `_include` serve, as one statement: every reference of theirs an `_include` can
    /// follow, so a target neither among the records nor among these is not to be served.
    async fn shared_referenced(&self, owner: Owner<'_>) -> Result<Vec<StoredResource>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {SERVED_COLUMNS} FROM search_reference x JOIN resources r ON r.resource_type = x.target_type \
             AND r.id = x.target_id AND r.provider_id = "
        ));
        sql.bind(owner.provider.0)
            .push(" AND r.release = ")
            .bind(owner.release.as_str().to_owned())
            .push(" AND r.deleted = 0 WHERE x.rid IN (");
        owner.push_compartment_rids(&mut sql);
        // Most references lead to the person's own Patient and records: only the rest are looked up.
        sql.push(") AND ");
        push_shareable_type(&mut sql, "x.target_type", owner.visibility);
        sql.push(" AND ");
        push_profile_filter(&mut sql, owner.visibility, None);
        sql.push(" AND ");
        push_shared(&mut sql, owner.visibility);
        let rows = self.reader.resources(sql, Extra { total: false, part: false }).await?;
        Ok(rows.into_iter().map(|row| row.resource).collect())
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
