//! How the store's connection pool is used at a moment: for the metrics a scrape reads, so the
//! numbers come from the pool's own counters, without a query.

use crate::Store;

/// The connections of the store's pool at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open and lent out to a statement or transaction.
    pub in_use: u32,
    /// Open and waiting in the pool.
    pub idle: u32,
    /// The most the pool opens (`database.max_connections`).
    pub max: u32,
}

impl PoolStatus {
    /// The status of a sqlx pool now.
    pub(crate) fn of<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> PoolStatus {
        let open = pool.size();
        // Read apart from the size, the idle count may be a moment ahead of it.
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
        PoolStatus { in_use: open - idle, idle, max: pool.options().get_max_connections() }
    }
}

impl Store {
    /// The connections now: PostgreSQL's pool (the grants' statements included); on SQLite the
    /// read-only connections and the write connection of the resources (`db/`), reported against
    /// `database.max_connections` although SQLite's readers are not bounded by it.
    pub fn pool_status(&self) -> PoolStatus {
        match &self.db {
            crate::db::Db::Postgres(pool) => PoolStatus::of(pool),
            crate::db::Db::Sqlite(db) => {
                let (idle, in_use) = db.connections();
                PoolStatus { in_use, idle, max: self.max_connections }
            }
        }
    }
}
