//! The read-only SQLite connections every read runs on, synchronously on the calling thread, with
//! cached prepared statements: sqlx's SQLite driver hands every statement to a thread of its own
//! and back, and those two thread switches per statement were most of the cost of a search (see
//! BENCHMARKS.md).
//!
//! A read takes tens of microseconds from SQLite's page cache, short enough to run on an HTTP
//! worker thread without handing it elsewhere.
//!
//! A read that runs longer than the store's statement timeout is interrupted (SQLite's progress
//! handler), as PostgreSQL's `statement_timeout` stops one there: no request holds a connection,
//! or a worker thread, beyond it.

use crate::StoreError;
use crate::sql::Arg;
use rusqlite::{Connection, OpenFlags, Statement};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
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

/// A pool of read-only SQLite connections.
#[derive(Debug)]
pub(crate) struct SqliteReader {
    path: PathBuf,
    idle: Mutex<Vec<ReadConnection>>,
    /// Connections open now, idle or reading.
    open: AtomicU32,
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
        SqliteReader { path, idle: Mutex::new(Vec::new()), open: AtomicU32::new(0), timeout, started: Instant::now() }
    }

    fn open(&self) -> rusqlite::Result<ReadConnection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_timeout(std::time::Duration::from_secs(10))?;
        // Pages come from a memory map of the file rather than being copied by read() into each
        // connection's own cache: searches got faster (docs/benchmarks/metering.md). It does not
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
            None => {
                let connection = self.open().map_err(StoreError::Sqlite)?;
                self.open.fetch_add(1, Ordering::Relaxed);
                connection
            }
        };
        if let Some(timeout) = self.timeout {
            let deadline =
                nanos_since(self.started).saturating_add(u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX));
            connection.deadline.store(deadline, Ordering::Relaxed);
        }
        let result = read(&connection.connection).map_err(StoreError::Sqlite);
        connection.deadline.store(NO_DEADLINE, Ordering::Relaxed);
        match self.idle.lock() {
            Ok(mut idle) if idle.len() < IDLE_CONNECTIONS => idle.push(connection),
            _ => {
                self.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
        result
    }

    /// Closes the idle connections (a read after it opens one again).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            let closed = u32::try_from(idle.len()).unwrap_or(u32::MAX);
            idle.clear();
            self.open.fetch_sub(closed, Ordering::Relaxed);
        }
    }

    /// How many read connections are idle, and how many are reading now.
    pub(crate) fn connections(&self) -> (u32, u32) {
        let idle = self.idle.lock().map_or(0, |idle| idle.len());
        let open = self.open.load(Ordering::Relaxed);
        let idle = u32::try_from(idle).unwrap_or(u32::MAX);
        (idle, open.saturating_sub(idle))
    }
}

fn nanos_since(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) fn bind(statement: &mut Statement<'_>, args: &[Arg]) -> rusqlite::Result<()> {
    for (index, arg) in args.iter().enumerate() {
        match arg {
            Arg::Int(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Real(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Text(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Blob(value) => statement.raw_bind_parameter(index + 1, value)?,
            Arg::Null => statement.raw_bind_parameter(index + 1, rusqlite::types::Null)?,
            Arg::Ints(_) | Arg::Texts(_) => {
                let refused = format!("parameter {}: SQLite has no arrays", index + 1);
                return Err(rusqlite::Error::ToSqlConversionFailure(refused.into()));
            }
        }
    }
    Ok(())
}
