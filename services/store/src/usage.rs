//! Metering: the first successful exchange of each person through each PGO in each calendar
//! year. Recording one that is already held changes nothing (the earlier one stays), so a
//! repeated or concurrent record is harmless; the reports read ranges of these rows.

use crate::sql::{Sql, rows_per_insert};
use crate::{Backend, Store, StoreError};
use futures::TryStreamExt;
use sqlx::Row;

/// The first exchange of a person through a PGO in a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstExchange {
    /// The PGO's client id.
    pub client_id: String,
    /// The calendar year of `first_at` (in the service's zone).
    pub year: i64,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// When (ms since the epoch).
    pub first_at: i64,
    /// Its `MedMij-Request-ID`.
    pub request_id: String,
    /// The provider's MedMij name.
    pub provider: String,
    /// The data service.
    pub data_service: String,
    /// `collect` or `share`.
    pub kind: String,
}

/// Bound columns of a row.
const BOUND_COLUMNS: usize = 8;

/// The usage area of a store: the first exchanges the fee is counted from, and the access log
/// (`access_log.rs`). From [`Store::usage`].
#[derive(Debug, Clone, Copy)]
pub struct Usage<'a> {
    pub(crate) store: &'a Store,
}

impl Usage<'_> {
    /// Records `firsts` (in one transaction): each becomes the held first exchange of its
    /// (client, year, person) unless an earlier one is held. Durable when this returns.
    pub async fn record_first_exchanges(&self, firsts: &[FirstExchange]) -> Result<(), StoreError> {
        if firsts.is_empty() {
            return Ok(());
        }
        let mut transaction = self.store.pool.begin().await?;
        for chunk in firsts.chunks(rows_per_insert(self.store.backend, BOUND_COLUMNS)) {
            let mut sql = Sql::new(
                "INSERT INTO exchange_firsts \
                 (client_id, year, pseudonym, first_at, request_id, provider, data_service, kind) VALUES ",
            );
            for (index, first) in chunk.iter().enumerate() {
                sql.push(if index == 0 { "(" } else { ", (" });
                sql.bind(first.client_id.clone()).push(", ").bind(first.year).push(", ");
                sql.bind(first.pseudonym.clone()).push(", ").bind(first.first_at).push(", ");
                sql.bind(first.request_id.clone()).push(", ").bind(first.provider.clone()).push(", ");
                sql.bind(first.data_service.clone()).push(", ").bind(first.kind.clone()).push(")");
            }
            // The earlier exchange wins, whichever request commits first.
            sql.push(
                " ON CONFLICT (client_id, year, pseudonym) DO UPDATE SET first_at = excluded.first_at, \
                 request_id = excluded.request_id, provider = excluded.provider, \
                 data_service = excluded.data_service, kind = excluded.kind \
                 WHERE excluded.first_at < exchange_firsts.first_at",
            );
            // The meter writes one row at a time: that text recurs and stays prepared.
            let query =
                if chunk.len() == 1 { sql.build(self.store.backend) } else { sql.build_unprepared(self.store.backend) };
            query.execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The first exchanges of `year` that fall in `[from, to)`, of one PGO or all, ordered by
    /// PGO, time and pseudonym.
    pub async fn first_exchanges(
        &self,
        year: i64,
        from: i64,
        to: i64,
        client_id: Option<&str>,
    ) -> Result<Vec<FirstExchange>, StoreError> {
        let mut sql = Sql::new(
            "SELECT client_id, pseudonym, first_at, request_id, provider, data_service, kind FROM exchange_firsts \
             WHERE year = ",
        );
        sql.bind(year).push(" AND first_at >= ").bind(from).push(" AND first_at < ").bind(to);
        if let Some(client_id) = client_id {
            sql.push(" AND client_id = ").bind(client_id.to_owned());
        }
        sql.push(" ORDER BY client_id, first_at, pseudonym");
        // A year's report reads millions of rows: taken one at a time from the stream and by
        // column position, each row is copied once. `fetch_all` held every row twice (the
        // driver's rows and their `Any` copies) and looked up every column by name, which made
        // it three times slower (BENCHMARKS.md, "Usage reports over a million users").
        // One snapshot for the whole report.
        let mut transaction = self.store.pool.begin().await?;
        if self.store.backend == Backend::Postgres {
            // The pool's connections plan each statement once for all values (see `connect`),
            // which suits a person's few rows; a report reads a month or a whole year, and the
            // one plan for both (an index walk over the year) took twice as long for the year
            // as the plan made for its bounds (BENCHMARKS.md, "Usage reports over a million users").
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut *transaction).await?;
        }
        let mut rows = sql.build(self.store.backend).fetch(&mut *transaction);
        let mut firsts = Vec::new();
        while let Some(row) = rows.try_next().await? {
            firsts.push(FirstExchange {
                client_id: row.try_get(0)?,
                year,
                pseudonym: row.try_get(1)?,
                first_at: row.try_get(2)?,
                request_id: row.try_get(3)?,
                provider: row.try_get(4)?,
                data_service: row.try_get(5)?,
                kind: row.try_get(6)?,
            });
        }
        drop(rows);
        transaction.commit().await?;
        Ok(firsts)
    }

    /// Per PGO, how many first exchanges of `year` fall in `[from, to)`.
    pub async fn first_exchange_counts(&self, year: i64, from: i64, to: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT client_id, COUNT(*) AS users FROM exchange_firsts \
             WHERE year = $1 AND first_at >= $2 AND first_at < $3 GROUP BY client_id ORDER BY client_id",
        )
        .bind(year)
        .bind(from)
        .bind(to)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("client_id")?, row.try_get("users")?))).collect()
    }

    /// Whether the first exchange of (`client_id`, `year`, `pseudonym`) is held.
    pub async fn has_first_exchange(&self, client_id: &str, year: i64, pseudonym: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 FROM exchange_firsts WHERE client_id = $1 AND year = $2 AND pseudonym = $3")
            .bind(client_id.to_owned())
            .bind(year)
            .bind(pseudonym.to_owned())
            .fetch_optional(&self.store.pool)
            .await?;
        Ok(row.is_some())
    }
}
