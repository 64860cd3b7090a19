//! Storage of providers (the tenants) and their FHIR resources, with the search index, on SQLite
//! (the embedded default) or PostgreSQL (production): resources through one code path on sqlx's
//! `Any` driver, with PGO reads on SQLite through rusqlite (`reader.rs`) and a person's records
//! kept in memory for the queries of a collection (`collection/`); grants and sessions behind
//! their own handle with an implementation per backend (`grants/`).
//!
//! Invariants kept here:
//! - every function that touches resources takes the provider first, and every query it runs is
//!   restricted to that provider: no query crosses providers;
//! - a write is all or nothing: a resource, its version row and its index change in one
//!   transaction;
//! - the stored body is the JSON as sent, with only `meta.versionId` and `meta.lastUpdated` set.

mod access_log;
mod changes;
mod collection;
mod criterion;
mod digest;
mod error;
mod grants;
mod index_rows;
mod lists;
mod owner_only;
mod pending;
mod pool_status;
mod providers;
mod read;
mod reader;
mod reindex;
mod search;
mod shares;
mod signing_keys;
mod sql;
mod usage;
mod visibility;
mod write;

pub use access_log::{AccessEntry, AccessOutcome, Interaction};
pub use changes::{Change, Changes};
pub use collection::{CollectionCounts, LIFETIME as COLLECTION_LIFETIME};
pub use digest::{content_hash, ingest_key_hash};
pub use error::StoreError;
pub use grants::{
    CodeExchange, CodeRedemption, Consent, Grants, NewCode, NewConsent, RedeemedCode, RevokedWhy, Rotation,
};
pub use lists::{HeldList, Lists};
pub use pending::StoredBody;
pub use pool_status::PoolStatus;
pub use providers::{NewProvider, Provider, ProviderId, RESERVED_NAMES, check_name};
pub use read::{StoredResource, Uncompartmented};
pub use search::SearchPage;
pub use shares::{SharedItem, Sharing};
pub use signing_keys::StoredKey;
pub use usage::{FirstExchange, Usage};
pub use visibility::{PatientScope, Visibility};
pub use write::{ResourceWrite, Write, WriteKind, WriteOutcome};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor};
use std::str::FromStr;
use std::time::Duration;

/// How long a pooled connection may sit idle before it is pinged on its way out of the pool.
pub(crate) const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// What a bulk load filled, for [`Store::analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filled {
    /// Providers' resources and their search index (an ingest, the demo's records).
    Resources,
    /// The first exchanges that usage reports count.
    Usage,
}

impl Filled {
    fn tables(self) -> Vec<&'static str> {
        match self {
            Filled::Resources => {
                let mut tables = vec!["providers", "resources", "resource_versions", "compartment", "patient_keys"];
                tables.extend(fhir_search::kinds::INDEX_TABLES.iter().map(|table| table.name));
                tables
            }
            Filled::Usage => vec!["exchange_firsts"],
        }
    }
}

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a file on this machine.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The store: a pool of connections to one database, and the reader of PGO queries.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    reader: std::sync::Arc<reader::Reader>,
    /// Consents, codes, refresh tokens and browser sessions, on this backend's own path.
    grants: Grants,
    /// On SQLite, taken by every resource write (ingest, shares) for its transaction: SQLite has
    /// one writer, and transactions of the pool that meet at its lock wait in its busy handler,
    /// sleeping milliseconds at a time; queued here (in order: a fair lock) they follow each other at once.
    resource_writes: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    backend: Backend,
    /// The longest a statement may run (PostgreSQL), or a PGO read (SQLite); `None`: no limit.
    statement_timeout: Option<Duration>,
    /// Where this process's subscribers hear of changes (`changes.rs`).
    changes: changes::ChangeFeed,
    /// On PostgreSQL, the URL the change listener connects to.
    url: Option<changes::ListenUrl>,
    /// The persons' collections kept in memory, once [`Store::keep_collections`] is called.
    collections: std::sync::Arc<std::sync::OnceLock<collection::Collections>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`) with at most
    /// `max_connections` pooled connections and no statement timeout. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Store::connect_with(url, max_connections, None).await
    }

    /// As `connect`, with the longest a statement may run: PostgreSQL's `statement_timeout` on
    /// every pooled connection (migrations and `ANALYZE` are exempt), and on SQLite an interrupt
    /// of the PGO reads (`reader.rs`); sqlx's SQLite writes are bounded by what is written. A
    /// statement stopped by it fails with [`StoreError::is_timeout`].
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        statement_timeout: Option<Duration>,
    ) -> Result<Store, StoreError> {
        let statement_timeout = statement_timeout.filter(|timeout| !timeout.is_zero());
        let timeout_ms = statement_timeout.map(|timeout| timeout.as_millis().max(1));
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        if backend == Backend::Sqlite {
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|error| StoreError::connect(url, error))?;
            owner_only::prepare_sqlite_file(options.get_filename())
                .map_err(|error| StoreError::connect(url, sqlx::Error::Io(error)))?;
        }
        // On PostgreSQL the grants have a pool of their own (half of the connections, at least
        // one), on sqlx's PostgreSQL driver; together the two stay within `max_connections`. With
        // a quarter, 32 token requests at once queued for the grants' connections and the token
        // endpoint lost a fifth of its rate (BENCHMARKS.md, "Token endpoint"); the resource
        // reads need few connections since the collection cache answers most of them.
        let grants_connections = (max_connections / 2).max(1);
        let pool_connections = match backend {
            Backend::Sqlite => max_connections,
            Backend::Postgres => max_connections.saturating_sub(grants_connections),
        };
        let options = AnyConnectOptions::from_str(url).map_err(|error| StoreError::connect(url, error))?;
        let pool = AnyPoolOptions::new()
            .max_connections(pool_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            // sqlx pings every connection it hands out by default: a round trip before each
            // statement, which on PostgreSQL doubled the backend's wake-ups under load. A
            // connection in steady use has just proved itself; one that sat idle (where a
            // restart or a dropped link may have ended it) is still pinged.
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; NORMAL sync in WAL mode loses
                        // nothing when the process dies, only on power loss before a checkpoint.
                        // 8 KiB pages (taking effect when the database is created) hold a typical
                        // resource body inline instead of spilling it into overflow pages.
                        connection
                            .execute(
                                "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA temp_store = MEMORY;",
                            )
                            .await?;
                    } else {
                        // Every PGO query is an index walk from one person's rows, whatever the
                        // values; a plan made once per prepared statement serves them all,
                        // instead of planning again for each of a statement's first executions.
                        connection.execute("SET plan_cache_mode = force_generic_plan").await?;
                        if let Some(ms) = timeout_ms {
                            connection.execute(sqlx::AssertSqlSafe(format!("SET statement_timeout = {ms}"))).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|error| StoreError::connect(url, error))?;
        let (reader, grants) = match backend {
            Backend::Sqlite => {
                let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                    .map_err(|error| StoreError::connect(url, error))?;
                let path = options.get_filename().to_path_buf();
                let reader = std::sync::Arc::new(reader::SqliteReader::new(path.clone(), statement_timeout));
                let grants = Grants::on_sqlite(grants::SqliteGrants::new(path, reader.clone()));
                (reader::Reader::Sqlite(reader), grants)
            }
            Backend::Postgres => {
                let grants = grants::PostgresGrants::connect(url, grants_connections, timeout_ms)
                    .await
                    .map_err(|error| StoreError::connect(url, error))?;
                (reader::Reader::Pool(pool.clone()), Grants::on_postgres(grants))
            }
        };
        let resource_writes = (backend == Backend::Sqlite).then(|| std::sync::Arc::new(tokio::sync::Mutex::new(())));
        let collections = std::sync::Arc::new(std::sync::OnceLock::new());
        Ok(Store {
            pool,
            reader: std::sync::Arc::new(reader),
            grants,
            resource_writes,
            backend,
            statement_timeout,
            changes: changes::ChangeFeed::new(collections.clone()),
            url: (backend == Backend::Postgres).then(|| changes::ListenUrl::new(url)),
            collections,
        })
    }

    /// Consents, authorization codes, refresh tokens and the authorization server's browser
    /// sessions.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// The first exchanges the fee is counted from, and the access log.
    pub fn usage(&self) -> Usage<'_> {
        Usage { store: self }
    }

    /// The MedMij lists the service holds.
    pub fn lists(&self) -> Lists<'_> {
        Lists { store: self }
    }

    /// From now on, answers a person's queries from their records kept in memory (read by the
    /// first query of a collection, see `collection/`), up to `budget_bytes` of them in all. Every
    /// clone of this store shares them. A second call changes nothing. On PostgreSQL the change
    /// listener ([`Store::follow_changes`]) must run, or other instances' writes stay unseen for
    /// up to [`COLLECTION_LIFETIME`].
    pub fn keep_collections(&self, budget_bytes: u64) {
        if budget_bytes > 0 {
            let _ = self.collections.set(collection::Collections::new(budget_bytes));
        }
    }

    /// How often kept collections answered a query, and how often one was read (zero when none
    /// are kept).
    pub fn collection_counts(&self) -> CollectionCounts {
        self.collections.get().map(collection::Collections::counts).unwrap_or_default()
    }

    /// The turn of a resource write on SQLite (none needed on PostgreSQL), held until dropped.
    pub(crate) async fn resource_write_turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.resource_writes {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }

    /// Applies the migrations of this backend that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        if self.backend == Backend::Postgres && self.statement_timeout.is_some() {
            // A migration may rewrite a large table; it runs on a connection of its own, taken
            // out of the pool, without the timeout.
            let mut connection = self.pool.acquire().await?.detach();
            connection.execute("SET statement_timeout = 0").await?;
            return migrator.run(&mut connection).await.map_err(StoreError::Migration);
        }
        migrator.run(&self.pool).await.map_err(StoreError::Migration)
    }

    /// Brings the query planner's statistics of the tables a bulk load `filled` up to date.
    /// PostgreSQL plans without statistics badly (a search over a freshly loaded table scanned
    /// every row of the type instead of seeking the patient's); autovacuum catches up only later.
    ///
    /// Only those tables: statistics taken of a table while it is empty (consents, codes and
    /// refresh tokens before the first login) make the planner scan it whole, and a connection
    /// keeps such a plan as the table grows. The foreign-key check of every new authorization
    /// code did exactly that, so granting consents slowed down with each consent held.
    /// Never-analysed tables are planned as if they held some pages, which favours their keys.
    ///
    /// On SQLite this does nothing, on purpose: the statements are shaped so that SQLite's
    /// planner has one sensible choice, and with statistics (the bundled SQLite has STAT4) a
    /// plan may depend on the bound values, which makes SQLite re-plan on every execution.
    pub async fn analyze(&self, filled: Filled) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            // Statistics of a large table take longer than any request may: no timeout here.
            let mut tx = self.pool.begin().await?;
            tx.execute("SET LOCAL statement_timeout = 0").await?;
            let sql = format!("ANALYZE {}", filled.tables().join(", "));
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The versions of this backend's migrations the database has not applied (a readiness
    /// check: an instance started on a database another version migrated is not ready).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await?;
        Ok(migrator.iter().map(|migration| migration.version).filter(|version| !applied.contains(version)).collect())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection; pending work finishes first.
    pub async fn close(&self) {
        self.pool.close().await;
        self.grants.close().await;
    }
}

/// The URL without a password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
