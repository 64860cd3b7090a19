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

impl Store {
    /// The pool's connections now. On SQLite the PGO reads run on read-only connections of their
    /// own (`reader.rs`), which are not among these.
    pub fn pool_status(&self) -> PoolStatus {
        let open = self.pool.size();
        // Read apart from the size, the idle count may be a moment ahead of it.
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX).min(open);
        PoolStatus { in_use: open - idle, idle, max: self.pool.options().get_max_connections() }
    }
}
