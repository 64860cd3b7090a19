//! Storage of providers (the tenants) and their FHIR resources, with the search index, on SQLite
//! (the embedded default) or PostgreSQL (production). Every statement runs through `db/`, which
//! has one implementation per backend (rusqlite; sqlx's PostgreSQL driver); a person's records are
//! kept in memory for the queries of a collection (`collection/`); grants and sessions have their
//! own handle with fixed statements per backend (`grants/`).
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
mod collection_index;
mod criterion;
mod db;
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

use crate::db::Db;
use crate::sql::Sql;
use sqlx::{Connection, Executor};
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

/// The store: the connections to one database (`db/`), and what is kept in memory of it.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    /// Consents, codes, refresh tokens and browser sessions, with fixed statements per backend.
    grants: Grants,
    /// `database.max_connections`, as the pool metrics report it.
    max_connections: u32,
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
    /// of every read (`db/reader.rs`); SQLite's writes are bounded by what is written. A
    /// statement stopped by it fails with [`StoreError::is_timeout`].
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        statement_timeout: Option<Duration>,
    ) -> Result<Store, StoreError> {
        let statement_timeout = statement_timeout.filter(|timeout| !timeout.is_zero());
        let timeout_ms = statement_timeout.map(|timeout| timeout.as_millis().max(1));
        let (db, grants) = if url.starts_with("sqlite:") {
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(url).map_err(|error| StoreError::connect(url, error))?;
            let path = options.get_filename().to_path_buf();
            owner_only::prepare_sqlite_file(&path).map_err(|error| StoreError::connect(url, sqlx::Error::Io(error)))?;
            let db = std::sync::Arc::new(db::SqliteDb::open(path, statement_timeout)?);
            let grants = Grants::on_sqlite(grants::SqliteGrants::new(db.clone()));
            (Db::Sqlite(db), grants)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = db::postgres_pool(url, max_connections, timeout_ms)
                .await
                .map_err(|error| StoreError::connect(url, error))?;
            let grants = Grants::on_postgres(grants::PostgresGrants::new(pool.clone()));
            (Db::Postgres(pool), grants)
        } else {
            return Err(StoreError::UnsupportedUrl(redact(url)));
        };
        let backend = db.backend();
        let collections = std::sync::Arc::new(std::sync::OnceLock::new());
        Ok(Store {
            db,
            grants,
            max_connections,
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

    /// Applies the migrations of this backend that have not run yet, on a connection of their
    /// own (sqlx's migrator; on SQLite its SQLite driver, used for nothing else).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(db) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(db.path()).foreign_keys(true);
                let mut connection = sqlx::SqliteConnection::connect_with(&options).await?;
                let migrated = SQLITE_MIGRATIONS.run(&mut connection).await.map_err(StoreError::Migration);
                connection.close().await?;
                migrated
            }
            Db::Postgres(pool) => {
                // A migration may rewrite a large table; it runs without the statement timeout.
                let mut connection = pool.acquire().await?.detach();
                connection.execute("SET statement_timeout = 0").await?;
                let migrated = POSTGRES_MIGRATIONS.run(&mut connection).await.map_err(StoreError::Migration);
                connection.close().await?;
                migrated
            }
        }
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
    ///
    /// On PostgreSQL it also vacuums them, which marks the loaded pages all-visible: until then
    /// every index-only scan (the compartment, each kind's index rows) also reads the table's
    /// page of each row it finds, some 400 extra page reads per collection read from a freshly
    /// loaded database (docs/benchmarks/vacuum-and-access-log.md). Autovacuum would do it later, or never where it is off.
    pub async fn analyze(&self, filled: Filled) -> Result<(), StoreError> {
        if let Db::Postgres(pool) = &self.db {
            // VACUUM runs outside a transaction, on a connection of its own, and takes longer
            // on a large table than any request may: no statement timeout there.
            let mut connection = pool.acquire().await?.detach();
            connection.execute("SET statement_timeout = 0").await?;
            let tables = filled.tables().join(", ");
            let vacuumed = connection.execute(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {tables}"))).await;
            connection.close().await?;
            vacuumed?;
        }
        Ok(())
    }

    /// The versions of this backend's migrations the database has not applied (a readiness
    /// check: an instance started on a database another version migrated is not ready).
    pub async fn pending_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let migrator = match self.db.backend() {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let rows = self.db.fetch_all(Sql::new("SELECT version FROM _sqlx_migrations WHERE success")).await?;
        let applied = rows.into_iter().map(|mut row| row.take(0)).collect::<Result<Vec<i64>, _>>()?;
        Ok(migrator.iter().map(|migration| migration.version).filter(|version| !applied.contains(version)).collect())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.fetch_all(Sql::new("SELECT 1")).await?;
        Ok(())
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Closes every connection; pending work finishes first.
    pub async fn close(&self) {
        self.db.close().await;
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
