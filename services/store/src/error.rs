//! Storage errors. Their text is for logs and operators; the API layer never shows it to clients.

/// Something went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend the store does not support.
    #[error("unsupported database URL '{0}' (expected sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    /// The database could not be reached.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A provider with that name exists already.
    #[error("a provider named '{0}' exists already")]
    ProviderExists(String),
    /// A statement on a rusqlite connection (SQLite reads, the token endpoint's writes) failed.
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// A share met a resource that exists already; nothing of the share was written.
    #[error("a share would overwrite {0}; nothing was written")]
    NotNew(String),
    /// A stored value is not what the store writes.
    #[error("unexpected stored value: {0}")]
    Corrupt(String),
    /// A stored body could not be serialised.
    #[error("cannot serialise a resource: {0}")]
    Serialise(#[from] serde_json::Error),
}

impl StoreError {
    /// Whether the database could not be reached (as opposed to a query failing): worth a 503
    /// and a retry rather than a 500.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect { .. } => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => {
                matches!(
                    error.code,
                    rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::DatabaseBusy
                        | rusqlite::ErrorCode::DatabaseLocked
                )
            }
            StoreError::Database(error) => {
                matches!(
                    error,
                    sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::Io(_)
                        | sqlx::Error::WorkerCrashed
                )
            }
            _ => false,
        }
    }

    /// Whether the statement was stopped for running longer than the store allows
    /// (`Store::connect_with`): PostgreSQL's `query_canceled`, or SQLite's interrupt.
    pub fn is_timeout(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => {
                error.code == rusqlite::ErrorCode::OperationInterrupted
            }
            StoreError::Database(sqlx::Error::Database(error)) => error.code().as_deref() == Some("57014"),
            _ => false,
        }
    }

    pub(crate) fn connect(url: &str, source: sqlx::Error) -> Self {
        StoreError::Connect { url: crate::redact(url), source }
    }
}
