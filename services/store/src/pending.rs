//! Work a migration leaves for the service to do in code at its next start, such as giving
//! every resource stored before the `served` column its served body: named rows of
//! `pending_work`, removed when done, and the bulk reads and writes that work needs.

use crate::{Store, StoreError};
use sqlx::Row;

/// A stored resource's body, for work over every resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBody {
    /// Its row.
    pub rid: i64,
    /// The body as stored.
    pub body: String,
    /// The one Patient whose compartment it is in, if exactly one.
    pub owner: Option<String>,
}

impl Store {
    /// Whether the work called `name` is still to do.
    pub async fn pending_work(&self, name: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM pending_work WHERE name = $1")
            .bind(name.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Notes that the work called `name` is done.
    pub async fn work_done(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_work WHERE name = $1").bind(name.to_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// Up to `limit` current resources after row `after` that have no served body, in row
    /// order, with their owner.
    pub async fn bodies_after(&self, after: i64, limit: i64) -> Result<Vec<StoredBody>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.rid, r.body, (SELECT MIN(c.patient_id) FROM compartment c WHERE c.rid = r.rid \
             HAVING COUNT(*) = 1) AS owner FROM resources r WHERE r.rid > $1 AND r.deleted = 0 AND r.served IS NULL \
             ORDER BY r.rid LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredBody { rid: row.try_get("rid")?, body: row.try_get("body")?, owner: row.try_get("owner")? })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Sets what a PGO receives of the resource in row `rid`.
    pub async fn set_served(&self, rid: i64, served: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE resources SET served = $1 WHERE rid = $2")
            .bind(served.to_owned())
            .bind(rid)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
