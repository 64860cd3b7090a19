//! The store's statements on SQLite, on rusqlite alone: reads on the read-only connections of
//! `reader.rs`, writes on one write connection, taken in turn (a fair lock) by one transaction at
//! a time. Every statement runs synchronously on the calling thread: a statement takes
//! microseconds from SQLite's page cache, where handing it to another thread and back (as sqlx's
//! SQLite driver does) cost more than the statement (BENCHMARKS.md).
//!
//! Why one write connection queued on a lock: SQLite has one writer. Connections that meet at its
//! lock wait in their busy handlers, sleeping milliseconds at a time; queued here they follow each
//! other at once (the token endpoint stalled at some 1,400 rotations a second before,
//! docs/benchmarks/tokens.md). Another process on the file (`pgo-exchange load` beside a running service,
//! sqlx's migrator) still takes the lock now and then; the busy handler below then waits in steps
//! of 50 µs.
//!
//! A transaction holds the write connection across `await`s, and every statement in it runs at
//! once on the calling thread: it never waits for anything else while it holds SQLite's lock, so
//! a writer queued behind it on the same thread cannot stall it.

use super::reader::{SqliteReader, bind};
use super::row::{Cell, Row};
use crate::sql::Sql;
use crate::{Backend, StoreError};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Statement};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A wait for the write lock, in steps; 200,000 steps of 50 µs are 10 s.
const BUSY_STEP: Duration = Duration::from_micros(50);
const BUSY_STEPS: i32 = 200_000;
/// Prepared statements kept on the write connection.
const STATEMENTS_KEPT: usize = 128;

/// SQLite's busy handler for write connections: sleeps a step, up to 10 s in all.
fn wait_briefly(attempts: i32) -> bool {
    std::thread::sleep(BUSY_STEP);
    attempts < BUSY_STEPS
}

/// Opens a write connection to the file at `path`, creating the file with the store's settings
/// if it does not exist.
pub(crate) fn open_writer(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let connection = Connection::open_with_flags(path, flags)?;
    connection.busy_handler(Some(wait_briefly))?;
    // 8 KiB pages (taking effect when the file is created) hold a typical resource body inline
    // instead of spilling it into overflow pages. WAL lets readers run beside the writer; NORMAL
    // sync in WAL mode loses nothing when the process dies, only on power loss before a
    // checkpoint.
    connection.execute_batch("PRAGMA page_size = 8192;")?;
    let _mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")?;
    connection.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
    Ok(connection)
}

/// A SQLite file: its read-only connections and its one write connection.
#[derive(Debug)]
pub(crate) struct SqliteDb {
    path: PathBuf,
    pub(crate) reader: Arc<SqliteReader>,
    /// The write connection, `None` after a failed transaction or `close` (the next write opens
    /// one again).
    writer: Arc<Mutex<Option<Connection>>>,
}

impl SqliteDb {
    /// The file at `path`, created if missing; reads stopped after `timeout`.
    pub(crate) fn open(path: PathBuf, timeout: Option<Duration>) -> Result<SqliteDb, StoreError> {
        let writer = open_writer(&path).map_err(StoreError::Sqlite)?;
        let reader = Arc::new(SqliteReader::new(path.clone(), timeout));
        Ok(SqliteDb { path, reader, writer: Arc::new(Mutex::new(Some(writer))) })
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The write connection out of its slot, or a new one when the last was not kept; the
    /// caller puts it back when it is fit to use again.
    fn writer_from(&self, slot: &mut Option<Connection>) -> Result<Connection, StoreError> {
        match slot.take() {
            Some(connection) => Ok(connection),
            None => open_writer(&self.path).map_err(StoreError::Sqlite),
        }
    }

    pub(super) fn fetch_all(&self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        self.reader.with(|connection| all_rows(&mut *prepared(connection, sql)?))
    }

    pub(super) fn fetch_each(
        &self,
        sql: &Sql,
        mut each: impl FnMut(Row) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut failed = None;
        self.reader.with(|connection| {
            let mut statement = prepared(connection, sql)?;
            let width = statement.column_count();
            let mut rows = statement.raw_query();
            while let Some(row) = rows.next()? {
                if let Err(error) = each(row_cells(row, width)?) {
                    failed = Some(error);
                    break;
                }
            }
            Ok(())
        })?;
        failed.map_or(Ok(()), Err)
    }

    pub(super) async fn execute(&self, sql: &Sql) -> Result<u64, StoreError> {
        let mut slot = self.writer.lock().await;
        let connection = self.writer_from(&mut slot)?;
        let result = run(&connection, sql);
        *slot = Some(connection);
        result
    }

    /// Runs `write` in one IMMEDIATE transaction on the write connection (the write lock taken at
    /// its start, so that it never has to give up a read snapshot midway), committed when it
    /// returns `Ok`: the fixed statements of the grants.
    pub(crate) async fn write<T>(
        &self,
        write: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut slot = self.writer.lock().await;
        let mut connection = self.writer_from(&mut slot)?;
        let result = (|| {
            let transaction = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let value = write(&transaction)?;
            transaction.commit()?;
            Ok(value)
        })();
        // A connection whose write failed is not kept (its state is unknown): the next write
        // opens a new one.
        if result.is_ok() {
            *slot = Some(connection);
        }
        result.map_err(StoreError::Sqlite)
    }

    pub(super) async fn begin(&self) -> Result<SqliteTx, StoreError> {
        let mut slot = self.writer.clone().lock_owned().await;
        let connection = self.writer_from(&mut slot)?;
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            *slot = Some(connection);
            return Err(StoreError::Sqlite(error));
        }
        Ok(SqliteTx { slot, connection: Some(connection) })
    }

    pub(super) async fn close(&self) {
        self.writer.lock().await.take();
        self.reader.close();
    }

    /// How many of the write connection and the read connections are open and idle, and how
    /// many are in use.
    pub(crate) fn connections(&self) -> (u32, u32) {
        let (mut idle, mut in_use) = self.reader.connections();
        match self.writer.try_lock() {
            Ok(slot) if slot.is_some() => idle += 1,
            Ok(_) => {}
            Err(_) => in_use += 1,
        }
        (idle, in_use)
    }
}

/// A transaction on the write connection, which it holds until it ends.
pub(crate) struct SqliteTx {
    slot: OwnedMutexGuard<Option<Connection>>,
    /// `None` once committed.
    connection: Option<Connection>,
}

impl SqliteTx {
    fn connection(&self) -> Result<&Connection, StoreError> {
        self.connection.as_ref().ok_or_else(|| StoreError::Corrupt("a finished transaction was used".to_owned()))
    }

    pub(super) fn fetch_all(&mut self, sql: &Sql) -> Result<Vec<Row>, StoreError> {
        let connection = self.connection()?;
        all_rows(&mut *prepared(connection, sql).map_err(StoreError::Sqlite)?).map_err(StoreError::Sqlite)
    }

    pub(super) fn execute(&mut self, sql: &Sql) -> Result<u64, StoreError> {
        run(self.connection()?, sql)
    }

    pub(super) fn commit(mut self) -> Result<(), StoreError> {
        let Some(connection) = self.connection.take() else { return Ok(()) };
        match connection.execute_batch("COMMIT") {
            Ok(()) => {
                *self.slot = Some(connection);
                Ok(())
            }
            // The connection's state is unknown: it is not kept (dropping it rolls back).
            Err(error) => Err(StoreError::Sqlite(error)),
        }
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take()
            && connection.execute_batch("ROLLBACK").is_ok()
        {
            *self.slot = Some(connection);
        }
    }
}

impl std::fmt::Debug for SqliteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTx").field("open", &self.connection.is_some()).finish()
    }
}

/// The statement of `sql`, bound: from the connection's cache unless the statement's text
/// changes with its rows.
pub(crate) fn prepared<'c>(connection: &'c Connection, sql: &Sql) -> rusqlite::Result<PreparedStatement<'c>> {
    let text = sql.text_for(Backend::Sqlite);
    let mut statement = if sql.kept() {
        PreparedStatement::Cached(connection.prepare_cached(&text)?)
    } else {
        PreparedStatement::Once(connection.prepare(&text)?)
    };
    bind(&mut statement, sql.args())?;
    Ok(statement)
}

/// A statement prepared for one use, or one kept on its connection.
pub(crate) enum PreparedStatement<'c> {
    Cached(rusqlite::CachedStatement<'c>),
    Once(Statement<'c>),
}

impl<'c> std::ops::Deref for PreparedStatement<'c> {
    type Target = Statement<'c>;
    fn deref(&self) -> &Statement<'c> {
        match self {
            PreparedStatement::Cached(statement) => statement,
            PreparedStatement::Once(statement) => statement,
        }
    }
}

impl std::ops::DerefMut for PreparedStatement<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            PreparedStatement::Cached(statement) => statement,
            PreparedStatement::Once(statement) => statement,
        }
    }
}

/// Runs a writing statement to its end; the rows it changed.
fn run(connection: &Connection, sql: &Sql) -> Result<u64, StoreError> {
    let changed = (|| {
        let mut statement = prepared(connection, sql)?;
        let mut rows = statement.raw_query();
        while rows.next()?.is_some() {}
        Ok(connection.changes())
    })();
    changed.map_err(StoreError::Sqlite)
}

/// Every row of a statement, each cell as SQLite holds it.
pub(crate) fn all_rows(statement: &mut Statement<'_>) -> rusqlite::Result<Vec<Row>> {
    let width = statement.column_count();
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(row_cells(row, width)?);
    }
    Ok(found)
}

/// The `width` cells of a row, each as SQLite holds it.
fn row_cells(row: &rusqlite::Row<'_>, width: usize) -> rusqlite::Result<Row> {
    let mut cells = Vec::with_capacity(width);
    for column in 0..width {
        cells.push(match row.get_ref(column)? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(value) => Cell::Int(value),
            ValueRef::Real(value) => Cell::Real(value),
            ValueRef::Text(text) => Cell::Text(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Blob(bytes) => Cell::Blob(bytes.to_vec()),
        });
    }
    Ok(Row::new(cells))
}
