//! The rows of PGO reads, mapped once for both backends: resources with the columns a search adds
//! (`total`, `part`), `$lastn` candidates, index rows of any kind, and counts.

use super::{Db, Row};
use crate::StoreError;
use crate::read::StoredResource;
use crate::sql::Sql;
use fhir_search::Scalar;

/// One `$lastn` candidate row: an observation, one of its codes, its effective start.
pub(crate) type LastnRow = (StoredResource, Option<String>, String, Option<i64>);

/// An index row as read: its resource's row id, its parameter, its cells.
pub(crate) type IndexCells = (i64, Option<String>, Vec<Scalar>);

/// A resource row of a search statement: the resource (`rid, resource_type, id, version_id,
/// last_updated, body`), then the `total` of matches and the `part` (0: a match, 1: included) when
/// the statement selects them.
#[derive(Debug)]
pub(crate) struct ResourceRow {
    pub(crate) resource: StoredResource,
    pub(crate) total: i64,
    pub(crate) part: i64,
}

/// Which columns follow the resource's six.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra {
    pub(crate) total: bool,
    pub(crate) part: bool,
}

/// The resource in the first six columns of `row`.
pub(crate) fn stored_resource(row: &mut Row) -> Result<StoredResource, StoreError> {
    Ok(StoredResource {
        rid: row.take(0)?,
        resource_type: row.take(1)?,
        id: row.take(2)?,
        version_id: row.take(3)?,
        last_updated: row.take(4)?,
        body: row.take(5)?,
    })
}

impl Db {
    /// Resource rows, with the `extra` columns.
    pub(crate) async fn resources(&self, sql: Sql, extra: Extra) -> Result<Vec<ResourceRow>, StoreError> {
        let rows = self.fetch_all(sql).await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(ResourceRow {
                    resource: stored_resource(&mut row)?,
                    total: if extra.total { row.take(6)? } else { 0 },
                    part: if extra.part { row.take(7)? } else { 0 },
                })
            })
            .collect()
    }

    /// `$lastn` candidates: the resource's six columns, then `system, code, effective`.
    pub(crate) async fn lastn_candidates(&self, sql: Sql) -> Result<Vec<LastnRow>, StoreError> {
        let rows = self.fetch_all(sql).await?;
        rows.into_iter()
            .map(|mut row| Ok((stored_resource(&mut row)?, row.take(6)?, row.take(7)?, row.take(8)?)))
            .collect()
    }

    /// Index rows: `rid, param`, then `width` cells of whatever type each column holds.
    pub(crate) async fn index_rows(&self, sql: Sql, width: usize) -> Result<Vec<IndexCells>, StoreError> {
        let rows = self.fetch_all(sql).await?;
        rows.into_iter()
            .map(|mut row| {
                let cells = (2..2 + width).map(|column| row.take(column)).collect::<Result<_, _>>()?;
                Ok((row.take(0)?, row.take(1)?, cells))
            })
            .collect()
    }

    /// A single count (the first column of the first row; none: 0).
    pub(crate) async fn count(&self, sql: Sql) -> Result<i64, StoreError> {
        match self.fetch_optional(sql).await? {
            Some(mut row) => row.take(0),
            None => Ok(0),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use crate::Store;
    use crate::sql::Sql;
    use std::time::{Duration, Instant};
    use test_support::on_both_backends;

    /// A statement that would run for minutes: counting to a billion (SQLite), or sleeping
    /// (PostgreSQL), both as a PGO read would run them.
    fn endless(store: &Store) -> Sql {
        match store.backend() {
            crate::Backend::Sqlite => Sql::new(
                "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000000) \
                 SELECT COUNT(*) AS total FROM n",
            ),
            crate::Backend::Postgres => Sql::new("SELECT 1::BIGINT AS total FROM pg_sleep(120)"),
        }
    }

    on_both_backends!(a_read_past_the_statement_timeout_is_stopped_and_says_so, |database| {
        let store = Store::connect_with(&database.url, 2, Some(Duration::from_millis(200))).await.expect("connects");
        store.migrate().await.expect("migrates");
        let started = Instant::now();
        let error = store.db.count(endless(&store)).await.expect_err("stopped");
        assert!(error.is_timeout(), "{error}");
        // Generous: the point is that it stops at all, not how fast.
        assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
        // The connection serves the next read.
        let count = store.db.count(Sql::new("SELECT COUNT(*) AS total FROM providers")).await.expect("reads");
        assert_eq!(count, 0);
    });
}
