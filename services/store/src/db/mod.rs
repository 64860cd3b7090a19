//! Where the store's statements run, one complete implementation per backend: SQLite on rusqlite
//! alone (reads on the read-only connections of `reader.rs`, writes on one write connection, one
//! transaction at a time; `sqlite.rs`), PostgreSQL on sqlx's PostgreSQL driver (`postgres.rs`).
//! Both take the same [`Sql`] (placeholders written for the backend) and give the same [`Row`]s,
//! so that each area maps its rows once, by column position.
//!
//! Fixed statements whose shape matters most (the grants) are checked at compile time on
//! PostgreSQL (`grants/postgres.rs`); the statements here are built at run time (criteria,
//! multi-row INSERTs, the index tables of the kinds), which compile-time checks cannot see.

mod postgres;
pub(crate) mod reader;
mod reads;
mod row;
mod sqlite;

pub(crate) use postgres::pool as postgres_pool;
pub(crate) use reads::{Extra, LastnRow, stored_resource};
pub(crate) use row::Row;
pub(crate) use sqlite::SqliteDb;

use crate::sql::Sql;
use crate::{Backend, StoreError};
use sqlx::PgPool;
use std::sync::Arc;

/// The database the store runs on, with its connections.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    /// A SQLite file: its read-only connections and its write connection.
    Sqlite(Arc<SqliteDb>),
    /// A PostgreSQL database, through one pool.
    Postgres(PgPool),
}

/// One transaction, committed by [`Tx::commit`] and rolled back when dropped before it.
pub(crate) enum Tx {
    /// On the SQLite file's write connection, held until the transaction ends.
    Sqlite(sqlite::SqliteTx),
    /// On a connection of the PostgreSQL pool.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Db {
    /// Which backend this is.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Every row of a read. On SQLite it runs on a read-only connection, on the calling thread.
    pub(crate) async fn fetch_all(&self, sql: Sql) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(db) => db.fetch_all(&sql),
            Db::Postgres(pool) => postgres::fetch_all(pool, sql).await,
        }
    }

    /// The first row of a read, if any.
    pub(crate) async fn fetch_optional(&self, sql: Sql) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql).await?.into_iter().next())
    }

    /// Hands every row of a large read to `each` as it comes, in one snapshot, without holding
    /// them all: a report over a year of first exchanges. On PostgreSQL the statement is planned
    /// for its bounds (a month and a year want different plans, see `usage.rs`); on SQLite it
    /// runs on the calling thread, as every read does.
    pub(crate) async fn fetch_each(
        &self,
        sql: Sql,
        each: impl FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(db) => db.fetch_each(&sql, each),
            Db::Postgres(pool) => postgres::fetch_each(pool, sql, each).await,
        }
    }

    /// Runs one writing statement in a transaction of its own; the rows it changed.
    pub(crate) async fn execute(&self, sql: Sql) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(db) => db.execute(&sql).await,
            Db::Postgres(pool) => postgres::execute(pool, sql).await,
        }
    }

    /// Starts a transaction. On SQLite it waits for the write connection (first come, first
    /// served) and takes SQLite's write lock at once, so that it never has to give up a read
    /// snapshot midway.
    pub(crate) async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            Db::Sqlite(db) => Ok(Tx::Sqlite(db.begin().await?)),
            Db::Postgres(pool) => Ok(Tx::Postgres(pool.begin().await?)),
        }
    }

    /// Closes every connection; pending work finishes first.
    pub(crate) async fn close(&self) {
        match self {
            Db::Sqlite(db) => db.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    /// Every row a statement gives inside the transaction.
    pub(crate) async fn fetch_all(&mut self, sql: Sql) -> Result<Vec<Row>, StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.fetch_all(&sql),
            Tx::Postgres(tx) => postgres::fetch_all(&mut **tx, sql).await,
        }
    }

    /// The first row a statement gives inside the transaction, if any.
    pub(crate) async fn fetch_optional(&mut self, sql: Sql) -> Result<Option<Row>, StoreError> {
        Ok(self.fetch_all(sql).await?.into_iter().next())
    }

    /// The one row a statement gives inside the transaction.
    pub(crate) async fn fetch_one(&mut self, sql: Sql) -> Result<Row, StoreError> {
        self.fetch_optional(sql).await?.ok_or_else(|| StoreError::Corrupt("a statement gave no row".to_owned()))
    }

    /// Runs a statement inside the transaction; the rows it changed.
    pub(crate) async fn execute(&mut self, sql: Sql) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.execute(&sql),
            Tx::Postgres(tx) => postgres::execute(&mut **tx, sql).await,
        }
    }

    /// Makes the transaction's writes durable and visible.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit(),
            Tx::Postgres(tx) => Ok(tx.commit().await?),
        }
    }
}

#[cfg(test)]
mod tests;
