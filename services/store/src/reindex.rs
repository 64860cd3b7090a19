//! Rebuilding the search index of stored resources from their bodies, for when the index changed
//! under them: a migration that adds a kind's table (0008: strings, quantities, numbers, URIs)
//! names the work `search-index` in `pending_work`, and so does a change of the definitions the
//! index is made from (`Catalog::index_definitions`, a parameter added to `profiles/fhir/*.toml`:
//! its SHA-256 is kept in `search_index_definitions`). The service does the work at its next
//! start, before it serves. Every current resource's kind rows are deleted and written again from
//! `fhir_search::index::entries` of its stored body (the body as the provider sent it, which is
//! what ingest indexed), a batch of rows per transaction, together with the copy of its token,
//! date and reference rows in its own row (`collection_index.rs`; migration 0011 asks for a
//! rebuild to fill that column for resources stored before). Whose record a resource is
//! (compartment) and a Patient's person keys are ingest's decisions, made with the provider's
//! other records; they are left as they are.

use crate::digest::sha256_hex;
use crate::sql::Sql;
use crate::{Backend, Filled, Store, StoreError, collection_index, index_rows};
use chrono_tz::Tz;
use data_services::Catalog;
use fhir_core::Release;
use fhir_search::IndexEntry;

/// The name of the work in `pending_work`.
pub(crate) const REINDEX: &str = "search-index";
/// Resources per transaction.
const BATCH: i64 = 500;

impl Store {
    /// Rebuilds the search index of every current resource if a migration asked for it or the
    /// index definitions of `catalog` are not those the index was made under, with dates read in
    /// `zone` (as ingest does); returns how many resources were indexed again. A resource of a
    /// type the definitions no longer hold keeps its rows. Running it twice, or on two instances
    /// at once, writes the same rows.
    pub async fn reindex_if_needed(&self, catalog: &Catalog, zone: Tz) -> Result<usize, StoreError> {
        let definitions = sha256_hex(catalog.index_definitions().as_bytes());
        let indexed_under: Option<String> =
            match self.db.fetch_optional(Sql::new("SELECT definitions FROM search_index_definitions")).await? {
                Some(mut row) => row.take(0)?,
                None => None,
            };
        if indexed_under.as_deref() != Some(definitions.as_str()) {
            let sql = Sql::with(
                "INSERT INTO pending_work (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
                [REINDEX.into()],
            );
            self.db.execute(sql).await?;
        }
        if !self.pending_work(REINDEX).await? {
            return Ok(0);
        }
        let (mut after, mut indexed) = (0_i64, 0_usize);
        loop {
            let mut tx = self.db.begin().await?;
            // The work's own row first: on SQLite this takes the write lock for the batch before
            // anything is read; on PostgreSQL, instances starting together take turns.
            let claimed =
                tx.execute(Sql::with("UPDATE pending_work SET name = name WHERE name = $1", [REINDEX.into()])).await?;
            if claimed == 0 {
                // Another instance finished it.
                return Ok(indexed);
            }
            // On PostgreSQL the batch's rows are locked, so that a write of one of them waits
            // for (and then replaces) the rows written here.
            let lock = if self.db.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
            let rows = tx
                .fetch_all(Sql::with(
                    &format!(
                        "SELECT rid, release, resource_type, body FROM resources \
                         WHERE rid > $1 AND deleted = 0 ORDER BY rid LIMIT $2{lock}"
                    ),
                    [after.into(), BATCH.into()],
                ))
                .await?;
            if rows.is_empty() {
                break;
            }
            let mut rids = Vec::with_capacity(rows.len());
            let mut entries: Vec<(i64, Vec<IndexEntry>)> = Vec::with_capacity(rows.len());
            for mut row in rows {
                let rid: i64 = row.take(0)?;
                after = rid;
                let release: String = row.take(1)?;
                let resource_type: String = row.take(2)?;
                let definition = release
                    .parse::<Release>()
                    .ok()
                    .and_then(|release| catalog.release(release))
                    .and_then(|definitions| definitions.type_definition(&resource_type));
                let Some(definition) = definition else { continue };
                let body: String = row.take(3)?;
                let resource: serde_json::Value = serde_json::from_str(&body)?;
                rids.push(rid);
                entries.push((rid, fhir_search::index::entries(definition, &resource, zone)));
            }
            index_rows::clear(&mut tx, &rids).await?;
            index_rows::insert(
                &mut tx,
                entries.iter().flat_map(|(rid, entries)| entries.iter().map(|entry| (*rid, entry))).collect(),
            )
            .await?;
            let columns: Vec<(i64, String)> =
                entries.iter().map(|(rid, entries)| (*rid, collection_index::encode(entries))).collect();
            collection_index::update(&mut tx, &columns).await?;
            tx.commit().await?;
            indexed += rids.len();
        }
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::with("DELETE FROM pending_work WHERE name = $1", [REINDEX.into()])).await?;
        tx.execute(Sql::new("DELETE FROM search_index_definitions")).await?;
        tx.execute(Sql::with("INSERT INTO search_index_definitions (definitions) VALUES ($1)", [definitions.into()]))
            .await?;
        tx.commit().await?;
        if indexed > 0 {
            self.analyze(Filled::Resources).await?;
        }
        Ok(indexed)
    }
}
