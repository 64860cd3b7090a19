//! Rebuilding the search index of stored resources from their bodies, for when the index changed
//! under them: a migration that adds a kind's table (0008: strings, quantities, numbers, URIs)
//! names the work `search-index` in `pending_work`, and so does a change of the definitions the
//! index is made from (`Catalog::index_definitions`, a parameter added to `profiles/fhir/*.toml`:
//! its SHA-256 is kept in `search_index_definitions`). The service does the work at its next
//! start, before it serves. Every current resource's kind rows are deleted and written again from
//! `fhir_search::index::entries` of its stored body (the body as the provider sent it, which is
//! what ingest indexed), a batch of rows per transaction. Whose record a resource is
//! (compartment) and a Patient's person keys are ingest's decisions, made with the provider's
//! other records; they are left as they are.

use crate::digest::sha256_hex;
use crate::{Backend, Filled, Store, StoreError, index_rows};
use chrono_tz::Tz;
use data_services::Catalog;
use fhir_core::Release;
use fhir_search::IndexEntry;
use sqlx::Row;

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
            sqlx::query_scalar("SELECT definitions FROM search_index_definitions").fetch_optional(&self.pool).await?;
        if indexed_under.as_deref() != Some(definitions.as_str()) {
            sqlx::query("INSERT INTO pending_work (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                .bind(REINDEX)
                .execute(&self.pool)
                .await?;
        }
        if !self.pending_work(REINDEX).await? {
            return Ok(0);
        }
        let (mut after, mut indexed) = (0_i64, 0_usize);
        loop {
            let _turn = self.resource_write_turn().await;
            let mut tx = self.pool.begin().await?;
            // The work's own row first: on SQLite this takes the write lock for the batch before
            // anything is read; on PostgreSQL, instances starting together take turns.
            let claimed = sqlx::query("UPDATE pending_work SET name = name WHERE name = $1")
                .bind(REINDEX)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if claimed == 0 {
                // Another instance finished it.
                return Ok(indexed);
            }
            // On PostgreSQL the batch's rows are locked, so that a write of one of them waits
            // for (and then replaces) the rows written here.
            let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT rid, release, resource_type, body FROM resources \
                 WHERE rid > $1 AND deleted = 0 ORDER BY rid LIMIT $2{lock}"
            )))
            .bind(after)
            .bind(BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("rid")?;
            let mut rids = Vec::with_capacity(rows.len());
            let mut entries: Vec<(i64, Vec<IndexEntry>)> = Vec::with_capacity(rows.len());
            for row in &rows {
                let rid: i64 = row.try_get("rid")?;
                let release: String = row.try_get("release")?;
                let resource_type: String = row.try_get("resource_type")?;
                let definition = release
                    .parse::<Release>()
                    .ok()
                    .and_then(|release| catalog.release(release))
                    .and_then(|definitions| definitions.type_definition(&resource_type));
                let Some(definition) = definition else { continue };
                let body: String = row.try_get("body")?;
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
            tx.commit().await?;
            indexed += rids.len();
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM pending_work WHERE name = $1").bind(REINDEX).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM search_index_definitions").execute(&mut *tx).await?;
        sqlx::query("INSERT INTO search_index_definitions (definitions) VALUES ($1)")
            .bind(definitions)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if indexed > 0 {
            self.analyze(Filled::Resources).await?;
        }
        Ok(indexed)
    }
}
