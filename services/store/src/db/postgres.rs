//! The store's statements on PostgreSQL, through sqlx's PostgreSQL driver: the pool and how its
//! connections are set up, arguments bound by position, and rows decoded by their columns' types.

use super::row::{Cell, Row};
use crate::sql::{Arg, Sql};
use crate::{Backend, StoreError};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Arguments, Column, Connection, Executor, PgPool, Postgres, Row as _, TypeInfo};
use std::str::FromStr;
use std::time::Duration;

/// The pool of at most `max_connections` to the database at `url`; connects once to check it.
pub(crate) async fn pool(url: &str, max_connections: u32, timeout_ms: Option<u128>) -> Result<PgPool, sqlx::Error> {
    // Every PGO query is an index walk from one person's rows, whatever the values: a plan made
    // once per prepared statement (`force_generic_plan`) serves them all, instead of planning again
    // for each of a statement's first executions. No JIT: PostgreSQL compiles a statement whose
    // estimated cost passes a threshold, and a generic plan's estimates for a person's ranges of
    // rows (`collection/by_runs.rs`) are the table's default guesses, far above what they read;
    // compiling then took a hundred times as long as running.
    let options = PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_generic_plan"), ("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings every connection it hands out by default: a round trip before each
        // statement, which doubled the backend's wake-ups under load. A connection in steady use
        // has just proved itself; one that sat idle (where a restart or a dropped link may have
        // ended it) is still pinged.
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for >= crate::IDLE_BEFORE_PING {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .after_connect(move |connection, _| {
            Box::pin(async move {
                if let Some(ms) = timeout_ms {
                    connection.execute(sqlx::AssertSqlSafe(format!("SET statement_timeout = {ms}"))).await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// The query for sqlx: kept prepared on its connection unless the statement says otherwise.
fn query(sql: Sql) -> sqlx::query::Query<'static, Postgres, PgArguments> {
    let keep = sql.kept();
    let (text, args) = sql.into_parts(Backend::Postgres);
    let mut arguments = PgArguments::default();
    for arg in args {
        // Encoding a plain value cannot fail.
        let _ = match arg {
            Arg::Int(value) => arguments.add(value),
            Arg::Real(value) => arguments.add(value),
            Arg::Text(value) => arguments.add(value),
            Arg::Blob(value) => arguments.add(value),
            Arg::Null => arguments.add(Option::<String>::None),
            Arg::Ints(values) => arguments.add(values),
            Arg::Texts(values) => arguments.add(values),
        };
    }
    sqlx::query_with(sqlx::AssertSqlSafe(text), arguments).persistent(keep)
}

pub(super) async fn fetch_all<'c, E>(executor: E, sql: Sql) -> Result<Vec<Row>, StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    let rows = query(sql).fetch_all(executor).await?;
    let Some(first) = rows.first() else { return Ok(Vec::new()) };
    let kinds = column_kinds(first)?;
    rows.iter().map(|row| decoded(row, &kinds)).collect()
}

pub(super) async fn execute<'c, E>(executor: E, sql: Sql) -> Result<u64, StoreError>
where
    E: Executor<'c, Database = Postgres>,
{
    Ok(query(sql).execute(executor).await?.rows_affected())
}

pub(super) async fn fetch_each(
    pool: &PgPool,
    sql: Sql,
    mut each: impl FnMut(Row) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut transaction = pool.begin().await?;
    // The pool's connections plan each statement once for all values (see `pool`), which suits
    // a person's few rows; a report reads a month or a whole year, and the one plan for both (an
    // index walk over the year) took twice as long for the year as the plan made for its bounds
    // (docs/benchmarks/metering.md, "Usage reports over a million users").
    transaction.execute("SET LOCAL plan_cache_mode = force_custom_plan").await?;
    {
        let mut rows = query(sql).fetch(&mut *transaction);
        let mut kinds = None;
        while let Some(row) = futures::TryStreamExt::try_next(&mut rows).await? {
            let kinds = match &mut kinds {
                Some(kinds) => kinds,
                None => kinds.insert(column_kinds(&row)?),
            };
            each(decoded(&row, kinds)?)?;
        }
    }
    transaction.commit().await?;
    Ok(())
}

/// What a column holds, as the store reads it: found once per statement from the columns'
/// types (by name, as sqlx gives them), not again for every row.
#[derive(Debug, Clone, Copy)]
enum ColumnKind {
    Int8,
    Int4,
    Int2,
    Bool,
    Float8,
    Float4,
    Bytes,
    Text,
    Void,
}

/// The kinds of `row`'s columns, in order.
fn column_kinds(row: &PgRow) -> Result<Vec<ColumnKind>, StoreError> {
    row.columns()
        .iter()
        .map(|column| {
            Ok(match column.type_info().name() {
                "INT8" => ColumnKind::Int8,
                "INT4" => ColumnKind::Int4,
                "INT2" => ColumnKind::Int2,
                "BOOL" => ColumnKind::Bool,
                "FLOAT8" => ColumnKind::Float8,
                "FLOAT4" => ColumnKind::Float4,
                "BYTEA" => ColumnKind::Bytes,
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => ColumnKind::Text,
                "VOID" => ColumnKind::Void,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "column {} is of type {other}, which the store does not read",
                        column.name()
                    )));
                }
            })
        })
        .collect()
}

/// A row's cells, each decoded as `kinds` says its column holds.
fn decoded(row: &PgRow, kinds: &[ColumnKind]) -> Result<Row, StoreError> {
    let mut cells = Vec::with_capacity(kinds.len());
    for (index, kind) in kinds.iter().enumerate() {
        let cell = match kind {
            ColumnKind::Int8 => row.try_get::<Option<i64>, _>(index)?.map(Cell::Int),
            ColumnKind::Int4 => row.try_get::<Option<i32>, _>(index)?.map(|value| Cell::Int(value.into())),
            ColumnKind::Int2 => row.try_get::<Option<i16>, _>(index)?.map(|value| Cell::Int(value.into())),
            ColumnKind::Bool => row.try_get::<Option<bool>, _>(index)?.map(|value| Cell::Int(value.into())),
            ColumnKind::Float8 => row.try_get::<Option<f64>, _>(index)?.map(Cell::Real),
            ColumnKind::Float4 => row.try_get::<Option<f32>, _>(index)?.map(|value| Cell::Real(value.into())),
            ColumnKind::Bytes => row.try_get::<Option<Vec<u8>>, _>(index)?.map(Cell::Blob),
            ColumnKind::Text => row.try_get::<Option<String>, _>(index)?.map(Cell::Text),
            ColumnKind::Void => None,
        };
        cells.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row::new(cells))
}
