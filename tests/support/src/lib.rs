//! Test harness shared by the storage and end-to-end tests: every test gets its own, fresh
//! database, on SQLite (always) and on PostgreSQL (when `PGO_EXCHANGE_TEST_POSTGRES` names a
//! server, e.g. `postgres://postgres@127.0.0.1:5432`).
//!
//! PostgreSQL tests are marked ignored, so `cargo test` reports them as left out rather than
//! passed; `-- --include-ignored` runs them, and then an unset variable or an unreachable server
//! fails them. CI does both, so CI never skips.
//!
//! With the `browser` feature, `browser::Browser` drives a headless Chromium the same way
//! (skipped unless installed, or required with `PGO_EXCHANGE_REQUIRE_BROWSER=1`).

#[cfg(feature = "browser")]
pub mod browser;

use sqlx::{Connection, Executor, PgConnection};

/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "PGO_EXCHANGE_TEST_POSTGRES";

/// A database backend under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `PGO_EXCHANGE_TEST_POSTGRES`.
    Postgres,
}

/// A database that exists for one test and is removed afterwards.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL to connect to.
    pub url: String,
    /// A temporary folder that lives as long as the database (for SQLite, it holds the file).
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates a fresh database. A PostgreSQL test that runs without `PGO_EXCHANGE_TEST_POSTGRES`
    /// fails: it was asked for (`--include-ignored`), and passing without running would lie.
    pub async fn create(backend: Backend) -> TestDatabase {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("cannot create a temporary folder: {error}"));
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                TestDatabase { url, dir, postgres: None }
            }
            Backend::Postgres => {
                let server = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
                    panic!("set {POSTGRES_ENV} (e.g. postgres://postgres@127.0.0.1:5432) to run PostgreSQL tests")
                });
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("pgx_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = PgConnection::connect(&format!("{server}/postgres"))
                    .await
                    .unwrap_or_else(|error| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}"));
                admin
                    .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
                let _ = admin.close().await;
                TestDatabase { url: format!("{server}/{name}"), dir, postgres: Some((server, name)) }
            }
        }
    }
}

impl TestDatabase {
    /// PostgreSQL only: refuses (or allows again) every connection to this database, and ends the
    /// open ones, as when the database server goes away; a test of what the service does then.
    /// Panics on SQLite, which cannot be away.
    pub async fn set_reachable(&self, reachable: bool) {
        let Some((server, name)) = &self.postgres else { panic!("only a PostgreSQL database can be made unreachable") };
        let mut admin = PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|error| panic!("PostgreSQL is unreachable: {error}"));
        let allow = if reachable { "true" } else { "false" };
        admin
            .execute(sqlx::AssertSqlSafe(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {allow}")))
            .await
            .unwrap_or_else(|error| panic!("cannot change {name}: {error}"));
        if !reachable {
            let end = format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'");
            admin
                .execute(sqlx::AssertSqlSafe(end))
                .await
                .unwrap_or_else(|error| panic!("cannot end sessions: {error}"));
        }
        let _ = admin.close().await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else { return };
        // Drop runs outside any runtime the test used; a small one of its own does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&format!("{server}/postgres")).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Declares a PostgreSQL test: ignored unless asked for with `-- --include-ignored`, so that a
/// run without PostgreSQL counts it as left out, not as passed (libtest prints the reason).
#[macro_export]
macro_rules! postgres_test {
    ($(#[$attribute:meta])* async fn $name:ident() $body:block) => {
        $(#[$attribute])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "PostgreSQL: set PGO_EXCHANGE_TEST_POSTGRES and add `-- --include-ignored` to run it"]
        async fn $name() $body
    };
}

/// Declares a test that runs once per backend, as `NAME::sqlite` and `NAME::postgres` (the latter
/// a [`postgres_test!`]). The body is an async block using `$database: TestDatabase`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$attribute:meta])* $name:ident, |$database:ident| $body:block) => {
        $(#[$attribute])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn test_body($database: $crate::TestDatabase) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                test_body($crate::TestDatabase::create($crate::Backend::Sqlite).await).await;
            }

            $crate::postgres_test! {
                async fn postgres() {
                    test_body($crate::TestDatabase::create($crate::Backend::Postgres).await).await;
                }
            }
        }
    };
}

/// A folder of the shared corpus of published material (`../shared/corpus/` beside the
/// checkout; `""` for the corpus itself), or `None`, after saying so, when it is not there. In CI
/// `PGO_EXCHANGE_REQUIRE_CORPUS` is set and a missing corpus fails the test instead.
pub fn corpus(folder: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus").join(folder);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(std::env::var_os("PGO_EXCHANGE_REQUIRE_CORPUS").is_none(), "{} is required but missing", dir.display());
    eprintln!("skipped: the corpus is not at {}", dir.display());
    None
}
