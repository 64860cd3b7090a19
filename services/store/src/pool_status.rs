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

    fn and(self, other: PoolStatus) -> PoolStatus {
        PoolStatus { in_use: self.in_use + other.in_use, idle: self.idle + other.idle, max: self.max + other.max }
    }
}

impl Store {
    /// The pools' connections now: the store's and, on PostgreSQL, the grants' (which together
    /// make `database.max_connections`). On SQLite the PGO reads and the grants run on
    /// connections of their own (`reader.rs`, `grants/sqlite.rs`), which are not among these.
    pub fn pool_status(&self) -> PoolStatus {
        let status = PoolStatus::of(&self.pool);
        match self.grants.pool_status() {
            Some(grants) => status.and(grants),
            None => status,
        }
    }
}
