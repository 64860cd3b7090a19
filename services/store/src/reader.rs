//! Running the read queries of PGO requests. On PostgreSQL they go through sqlx like everything
//! else. On SQLite they run synchronously on the calling thread through rusqlite, over a small
//! pool of read-only connections with cached prepared statements: sqlx's SQLite driver hands
//! every statement to a thread of its own and back, and those two thread switches per statement
//! were most of the cost of a search (see BENCHMARKS.md). The SQL text is the same for both.
//!
//! A read takes tens of microseconds from SQLite's page cache, short enough to run on an HTTP
//! worker thread without handing it elsewhere. Writes and migrations always go through sqlx.
//!
//! A read that runs longer than the store's statement timeout is interrupted (SQLite's progress
//! handler), as PostgreSQL's `statement_timeout` stops one there: no request holds a connection,
//! or a worker thread, beyond it.

use crate::read::StoredResource;
use crate::sql::{Arg, Sql};
use crate::{Backend, StoreError};
use fhir_search::Scalar;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Statement};
use sqlx::{AnyPool, Row};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Idle read connections kept open; more are opened when more threads read at once.
const IDLE_CONNECTIONS: usize = 8;
/// Prepared statements kept per connection: the search shapes of the data services fit.
const STATEMENTS_PER_CONNECTION: usize = 256;
/// SQLite virtual-machine steps between two looks at the clock: a look costs tens of
/// nanoseconds, a thousand steps some microseconds.
const STEPS_PER_DEADLINE_CHECK: i32 = 1_000;
/// A deadline that never comes (between reads).
const NO_DEADLINE: u64 = u64::MAX;

/// Where read queries run.
#[derive(Debug)]
pub(crate) enum Reader {
    /// Through the sqlx pool (PostgreSQL).
    Pool(AnyPool),
    /// Synchronously on read-only SQLite connections (shared with the grants).
    Sqlite(Arc<SqliteReader>),
}

/// A pool of read-only SQLite connections.
#[derive(Debug)]
pub(crate) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<ReadConnection>>,
    /// The longest one read may run.
    timeout: Option<Duration>,
    /// The clock the deadlines count from.
    started: Instant,
}

/// A read connection and the deadline its progress handler watches (nanoseconds after
/// `SqliteReader::started`).
#[derive(Debug)]
struct ReadConnection {
    connection: Connection,
    deadline: Arc<AtomicU64>,
}

impl SqliteReader {
    pub(crate) fn new(path: PathBuf, timeout: Option<Duration>) -> SqliteReader {
        SqliteReader { path, idle: Mutex::new(Vec::new()), timeout, started: Instant::now() }
    }

    fn open(&self) -> rusqlite::Result<ReadConnection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        // Pages come from a memory map of the file rather than being copied by read() into each
        // connection's own cache: searches got faster (BENCHMARKS.md, "Metering"). It does not
        // spare the re-reads after other connections' commits; fewer commits did that.
        connection.execute_batch(
            "PRAGMA cache_size = -8192; PRAGMA mmap_size = 1073741824; PRAGMA temp_store = MEMORY; \
             PRAGMA query_only = 1;",
        )?;
        connection.set_prepared_statement_cache_capacity(STATEMENTS_PER_CONNECTION);
        let deadline = Arc::new(AtomicU64::new(NO_DEADLINE));
        if self.timeout.is_some() {
            let (watched, started) = (deadline.clone(), self.started);
            connection.progress_handler(
                STEPS_PER_DEADLINE_CHECK,
                Some(move || nanos_since(started) > watched.load(Ordering::Relaxed)),
            )?;
        }
        Ok(ReadConnection { connection, deadline })
    }

    /// Runs `read` on an idle connection (or a new one), then keeps the connection for later.
    pub(crate) fn with<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let connection = match idle {
            Some(connection) => connection,
            None => self.open().map_err(StoreError::Sqlite)?,
        };
        if let Some(timeout) = self.timeout {
            let deadline =
                nanos_since(self.started).saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
            connection.deadline.store(deadline, Ordering::Relaxed);
        }
        let result = read(&connection.connection).map_err(StoreError::Sqlite);
        connection.deadline.store(NO_DEADLINE, Ordering::Relaxed);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < IDLE_CONNECTIONS
        {
            idle.push(connection);
        }
        result
    }
}

fn nanos_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn prepared<'c>(connection: &'c Connection, sql: &Sql) -> rusqlite::Result<rusqlite::CachedStatement<'c>> {
    let mut statement = connection.prepare_cached(&sql.text_for(crate::Backend::Sqlite))?;
    bind(&mut statement, sql.args())?;
    Ok(statement)
}

fn bind(statement: &mut Statement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (index, arg) in args.iter().enumerate() {
        match arg {
            Arg::Int(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Real(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Text(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Null => statement.raw_bind_parameter(index + 1, rusqlite::types::Null)?,
        }
    }
    Ok(())
}

/// One `$lastn` candidate row: an observation, one of its codes, its effective start.
pub(crate) type LastnRow = (StoredResource, Option<String>, String, Option<i64>);

/// A resource row of a search statement: the resource (`rid, resource_type, id, version_id,
/// last_updated, body`), then the `total` of matches and the `part` (0: a match, 1: included) when
/// the statement selects them.
#[derive(Debug)]
pub(crate) struct ResourceRow {
    pub(crate) resource: StoredResource,
    pub(crate) total: i64,
    pub(crate) part: i64,
}

/// PostgreSQL's rows, each mapped.
fn mapped<T>(
    rows: Vec<sqlx::any::AnyRow>,
    map: impl Fn(&sqlx::any::AnyRow) -> Result<T, sqlx::Error>,
) -> Result<Vec<T>, StoreError> {
    rows.iter().map(map).collect::<Result<_, sqlx::Error>>().map_err(StoreError::from)
}

/// Every row a SQLite statement gives, each mapped.
fn every_row<T>(
    statement: &mut Statement<'_>,
    map: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    let mut rows = statement.raw_query();
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        found.push(map(row)?);
    }
    Ok(found)
}

/// An index row as read: its resource's row id, its parameter, its cells.
pub(crate) type IndexCells = (i64, Option<String>, Vec<Scalar>);

/// A cell of a PostgreSQL row, of the type its column has.
fn any_cell(row: &sqlx::any::AnyRow, column: usize) -> Result<Scalar, sqlx::Error> {
    // A NULL decodes as any type; a value only as its column's.
    if let Ok(value) = row.try_get::<Option<i64>, _>(column) {
        return Ok(value.map_or(Scalar::Null, Scalar::Int));
    }
    if let Ok(value) = row.try_get::<Option<f64>, _>(column) {
        return Ok(value.map_or(Scalar::Null, Scalar::Real));
    }
    Ok(row.try_get::<Option<String>, _>(column)?.map_or(Scalar::Null, Scalar::Text))
}

/// A cell of a SQLite row, of the type its value has.
fn sqlite_cell(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Scalar> {
    Ok(match row.get_ref(column)? {
        ValueRef::Null => Scalar::Null,
        ValueRef::Integer(value) => Scalar::Int(value),
        ValueRef::Real(value) => Scalar::Real(value),
        ValueRef::Text(text) => Scalar::Text(String::from_utf8_lossy(text).into_owned()),
        ValueRef::Blob(_) => {
            return Err(rusqlite::Error::InvalidColumnType(column, "index cell".into(), rusqlite::types::Type::Blob));
        }
    })
}

/// Which columns follow the resource's six.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra {
    pub(crate) total: bool,
    pub(crate) part: bool,
}

fn sqlite_resource(row: &rusqlite::Row<'_>) -> rusqlite::Result<StoredResource> {
    Ok(StoredResource {
        rid: row.get(0)?,
        resource_type: row.get(1)?,
        id: row.get(2)?,
        version_id: row.get(3)?,
        last_updated: row.get(4)?,
        body: row.get(5)?,
    })
}

impl Reader {
    /// Resource rows, with the `extra` columns.
    pub(crate) async fn resources(&self, sql: Sql, extra: Extra) -> Result<Vec<ResourceRow>, StoreError> {
        match self {
            Reader::Pool(pool) => mapped(sql.build(Backend::Postgres).fetch_all(pool).await?, |row| {
                Ok(ResourceRow {
                    resource: crate::read::stored_from_row(row)?,
                    total: if extra.total { row.try_get("total")? } else { 0 },
                    part: if extra.part { row.try_get("part")? } else { 0 },
                })
            }),
            Reader::Sqlite(reader) => reader.with(|connection| {
                every_row(&mut *prepared(connection, &sql)?, |row| {
                    Ok(ResourceRow {
                        resource: sqlite_resource(row)?,
                        total: if extra.total { row.get(6)? } else { 0 },
                        part: if extra.part { row.get(7)? } else { 0 },
                    })
                })
            }),
        }
    }

    /// `$lastn` candidates: the resource's six columns, then `system, code, effective`.
    pub(crate) async fn lastn_candidates(&self, sql: Sql) -> Result<Vec<LastnRow>, StoreError> {
        match self {
            Reader::Pool(pool) => mapped(sql.build(Backend::Postgres).fetch_all(pool).await?, |row| {
                Ok((
                    crate::read::stored_from_row(row)?,
                    row.try_get("system")?,
                    row.try_get("code")?,
                    row.try_get("effective")?,
                ))
            }),
            Reader::Sqlite(reader) => reader.with(|connection| {
                every_row(&mut *prepared(connection, &sql)?, |row| {
                    Ok((sqlite_resource(row)?, row.get(6)?, row.get(7)?, row.get(8)?))
                })
            }),
        }
    }

    /// Index rows: `rid, param`, then `width` cells of whatever type each column holds.
    pub(crate) async fn index_rows(&self, sql: Sql, width: usize) -> Result<Vec<IndexCells>, StoreError> {
        match self {
            Reader::Pool(pool) => mapped(sql.build(Backend::Postgres).fetch_all(pool).await?, |row| {
                let cells = (2..2 + width).map(|column| any_cell(row, column)).collect::<Result<_, _>>()?;
                Ok((row.try_get(0)?, row.try_get(1)?, cells))
            }),
            Reader::Sqlite(reader) => reader.with(|connection| {
                every_row(&mut *prepared(connection, &sql)?, |row| {
                    let cells = (2..2 + width).map(|column| sqlite_cell(row, column)).collect::<Result<_, _>>()?;
                    Ok((row.get(0)?, row.get(1)?, cells))
                })
            }),
        }
    }

    /// A single count (`total`).
    pub(crate) async fn count(&self, sql: Sql) -> Result<i64, StoreError> {
        match self {
            Reader::Pool(pool) => Ok(sql.build(Backend::Postgres).fetch_one(pool).await?.try_get("total")?),
            Reader::Sqlite(reader) => reader
                .with(|connection| prepared(connection, &sql)?.raw_query().next()?.map_or(Ok(0), |row| row.get(0))),
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
        let error = store.reader.count(endless(&store)).await.expect_err("stopped");
        assert!(error.is_timeout(), "{error}");
        // Generous: the point is that it stops at all, not how fast.
        assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
        // The connection serves the next read.
        let count = store.reader.count(Sql::new("SELECT COUNT(*) AS total FROM providers")).await.expect("reads");
        assert_eq!(count, 0);
    });
}
