//! The benchmark's scratch PostgreSQL databases (made for a run, dropped after it) and counting
//! rows on a connection of its own.

use crate::driver::Backend;
use anyhow::Context as _;
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

/// Creates an empty database on the PostgreSQL server at `postgres_url`; returns its URL and name.
pub(crate) async fn create_scratch_database(postgres_url: &str) -> anyhow::Result<(String, String)> {
    let name = format!("pgx_bench_{}", uuid::Uuid::new_v4().simple());
    let mut admin =
        PgConnection::connect(&format!("{postgres_url}/postgres")).await.context("PostgreSQL for the benchmark")?;
    admin.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await?;
    Ok((format!("{postgres_url}/{name}"), name))
}

/// The count `sql` (one `count(*)`) gives in the database at `database_url`, on a connection of
/// its own.
pub(crate) async fn count_rows(backend: Backend, database_url: &str, sql: &'static str) -> anyhow::Result<i64> {
    Ok(match backend {
        Backend::Sqlite => {
            let mut connection = SqliteConnection::connect(database_url).await?;
            let rows = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut connection).await?;
            connection.close().await?;
            rows
        }
        Backend::Postgres => {
            let mut connection = PgConnection::connect(database_url).await?;
            let rows = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut connection).await?;
            connection.close().await?;
            rows
        }
    })
}

/// Drops the scratch database `name` (best effort).
pub(crate) async fn drop_scratch_database(postgres_url: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::connect(&format!("{postgres_url}/postgres")).await {
        let _ = admin.execute(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).await;
    }
}
