//! Work a migration leaves for the service to do in code at its next start, such as giving
//! every resource stored before the `served` column its served body: named rows of
//! `pending_work`, removed when done, and the bulk reads and writes that work needs.

use crate::sql::Sql;
use crate::{Store, StoreError};

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
        let sql = Sql::with("SELECT COUNT(*) AS n FROM pending_work WHERE name = $1", [name.into()]);
        Ok(self.db.count(sql).await? > 0)
    }

    /// Notes that the work called `name` is done.
    pub async fn work_done(&self, name: &str) -> Result<(), StoreError> {
        self.db.execute(Sql::with("DELETE FROM pending_work WHERE name = $1", [name.into()])).await?;
        Ok(())
    }

    /// Up to `limit` current resources after row `after` that have no served body, in row
    /// order, with their owner.
    pub async fn bodies_after(&self, after: i64, limit: i64) -> Result<Vec<StoredBody>, StoreError> {
        let rows = self
            .db
            .fetch_all(Sql::with(
                "SELECT r.rid, r.body, (SELECT MIN(c.patient_id) FROM compartment c WHERE c.rid = r.rid \
             HAVING COUNT(*) = 1) AS owner FROM resources r WHERE r.rid > $1 AND r.deleted = 0 AND r.served IS NULL \
             ORDER BY r.rid LIMIT $2",
                [after.into(), limit.into()],
            ))
            .await?;
        rows.into_iter()
            .map(|mut row| Ok(StoredBody { rid: row.take(0)?, body: row.take(1)?, owner: row.take(2)? }))
            .collect()
    }

    /// Sets what a PGO receives of the resource in row `rid`.
    pub async fn set_served(&self, rid: i64, served: &str) -> Result<(), StoreError> {
        self.db
            .execute(Sql::with("UPDATE resources SET served = $1 WHERE rid = $2", [served.into(), rid.into()]))
            .await?;
        Ok(())
    }
}
