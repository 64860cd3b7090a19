//! Metering: the first successful exchange of each person through each PGO in each calendar
//! year. Recording one that is already held changes nothing (the earlier one stays), so a
//! repeated or concurrent record is harmless; the reports read ranges of these rows.

use crate::sql::{Sql, rows_per_insert};
use crate::{Store, StoreError};

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
        let mut transaction = self.store.db.begin().await?;
        for chunk in firsts.chunks(rows_per_insert(self.store.db.backend(), BOUND_COLUMNS)) {
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
            transaction.execute(if chunk.len() == 1 { sql } else { sql.once() }).await?;
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
        // A year's report reads millions of rows: taken one at a time as they come and by
        // column position, each row is copied once. Collected whole first, every row was held
        // twice (the driver's rows and their copies), which made it three times slower
        // (docs/benchmarks/metering.md, "Usage reports over a million users").
        let mut firsts = Vec::new();
        self.store
            .db
            .fetch_each(sql, |mut row| {
                firsts.push(FirstExchange {
                    client_id: row.take(0)?,
                    year,
                    pseudonym: row.take(1)?,
                    first_at: row.take(2)?,
                    request_id: row.take(3)?,
                    provider: row.take(4)?,
                    data_service: row.take(5)?,
                    kind: row.take(6)?,
                });
                Ok(())
            })
            .await?;
        Ok(firsts)
    }

    /// Per PGO, how many first exchanges of `year` fall in `[from, to)`.
    pub async fn first_exchange_counts(&self, year: i64, from: i64, to: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = Sql::with(
            "SELECT client_id, COUNT(*) AS users FROM exchange_firsts \
             WHERE year = $1 AND first_at >= $2 AND first_at < $3 GROUP BY client_id ORDER BY client_id",
            [year.into(), from.into(), to.into()],
        );
        let rows = self.store.db.fetch_all(sql).await?;
        rows.into_iter().map(|mut row| Ok((row.take(0)?, row.take(1)?))).collect()
    }

    /// Whether the first exchange of (`client_id`, `year`, `pseudonym`) is held.
    pub async fn has_first_exchange(&self, client_id: &str, year: i64, pseudonym: &str) -> Result<bool, StoreError> {
        let sql = Sql::with(
            "SELECT 1 FROM exchange_firsts WHERE client_id = $1 AND year = $2 AND pseudonym = $3",
            [client_id.into(), year.into(), pseudonym.into()],
        );
        Ok(self.store.db.fetch_optional(sql).await?.is_some())
    }
}
