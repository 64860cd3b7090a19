//! The access log (NEN 7513): one row per PGO request to a FHIR base, successful or not. Rows are
//! appended in batches and deleted only when past their retention.

use crate::db::Row;
use crate::sql::{Arg, Sql};
use crate::{Backend, StoreError, Usage};

/// What a PGO asked of a FHIR base: the kind of exchange an access-log entry (and so its
/// AuditEvent, and whether it collects or shares data) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interaction {
    /// `GET [base]/{type}?...`.
    Search,
    /// `GET [base]/{type}/{id}`.
    Read,
    /// `GET [base]/Observation/$lastn?...`.
    Lastn,
    /// `POST [base]/{type}`: a PGO delivering one resource (Delen).
    Create,
    /// `POST [base]` with a transaction Bundle (Delen).
    Transaction,
    /// `POST [base]` with a batch Bundle (Delen).
    Batch,
}

impl Interaction {
    /// Every interaction, for readers of the stored form.
    pub const ALL: [Interaction; 6] = [
        Interaction::Search,
        Interaction::Read,
        Interaction::Lastn,
        Interaction::Create,
        Interaction::Transaction,
        Interaction::Batch,
    ];

    /// The stored form (FHIR's interaction codes, `lastn` for the operation).
    pub fn as_str(self) -> &'static str {
        match self {
            Interaction::Search => "search",
            Interaction::Read => "read",
            Interaction::Lastn => "lastn",
            Interaction::Create => "create",
            Interaction::Transaction => "transaction",
            Interaction::Batch => "batch",
        }
    }

    /// From the stored form.
    pub fn parse(text: &str) -> Option<Interaction> {
        Interaction::ALL.into_iter().find(|interaction| interaction.as_str() == text)
    }

    /// Whether the PGO delivers data (shares) rather than retrieves it (collects).
    pub fn shares(self) -> bool {
        matches!(self, Interaction::Create | Interaction::Transaction | Interaction::Batch)
    }
}

/// How a logged request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessOutcome {
    /// Answered 2xx.
    Success,
    /// Refused (4xx): a bad token, a bad request, nothing to see.
    Refused,
    /// Failed (5xx).
    Failed,
}

impl AccessOutcome {
    /// The outcome of an answer with HTTP status `status`.
    pub fn of_status(status: u16) -> AccessOutcome {
        match status {
            200..=299 => AccessOutcome::Success,
            400..=499 => AccessOutcome::Refused,
            _ => AccessOutcome::Failed,
        }
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessOutcome::Success => "success",
            AccessOutcome::Refused => "refused",
            AccessOutcome::Failed => "failed",
        }
    }

    /// From the stored form.
    pub fn parse(text: &str) -> Option<AccessOutcome> {
        [AccessOutcome::Success, AccessOutcome::Refused, AccessOutcome::Failed]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// When (ms since the epoch).
    pub at: i64,
    /// The PGO, when its token verified.
    pub client_id: Option<String>,
    /// The person, when the token verified.
    pub pseudonym: Option<String>,
    /// The provider, as named in the path.
    pub provider: String,
    /// The data service, as named in the path.
    pub data_service: String,
    /// What was asked.
    pub interaction: Interaction,
    /// The resource type asked for.
    pub resource_type: String,
    /// The resources returned, `Type/id`.
    pub returned: Vec<String>,
    /// The HTTP status.
    pub status: i64,
    /// How it ended.
    pub outcome: AccessOutcome,
    /// The `MedMij-Request-ID`.
    pub request_id: String,
    /// The `X-Correlation-ID`.
    pub correlation_id: Option<String>,
    /// The address the request came from.
    pub peer: Option<String>,
}

/// Bound columns of a row.
const BOUND_COLUMNS: usize = 13;

const COLUMNS: &str = "at, client_id, pseudonym, provider, data_service, interaction, resource_type, returned, \
                       status, outcome, request_id, correlation_id, peer";

/// The arrays, one per column of [`COLUMNS`], that PostgreSQL appends rows from.
const ARRAYS: &str = "$1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
                      $8::text[], $9::bigint[], $10::text[], $11::text[], $12::text[], $13::text[]";

impl Usage<'_> {
    /// Appends `entries` in one transaction. On PostgreSQL in one kept statement that takes each
    /// column as an array (`unnest`): a multi-row INSERT of the batch's size was parsed and
    /// planned for every batch, and the access log cost a sixth of the service's throughput
    /// under the BgZ load. On SQLite one row at a time with one kept statement, which is cheaper
    /// there than a statement of the batch's size: that is parsed for every batch, and as a
    /// multi-row change it writes a statement journal of the pages it touches (a tenth of the
    /// service's processor time went to the access log under the BgZ load).
    pub async fn append_access_log(&self, entries: &[AccessEntry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut transaction = self.store.db.begin().await?;
        match self.store.db.backend() {
            Backend::Sqlite => {
                let text = format!("INSERT INTO access_log ({COLUMNS}) VALUES ({})", placeholders(BOUND_COLUMNS));
                for entry in entries {
                    transaction.execute(Sql::with(&text, values(entry))).await?;
                }
            }
            Backend::Postgres => {
                let text = format!("INSERT INTO access_log ({COLUMNS}) SELECT * FROM unnest({ARRAYS})");
                transaction.execute(Sql::with(&text, columns(entries))).await?;
            }
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The person's entries, newest first, at most `limit`.
    pub async fn access_log_of(&self, pseudonym: &str, limit: i64) -> Result<Vec<AccessEntry>, StoreError> {
        let sql = Sql::with(
            &format!("SELECT id, {COLUMNS} FROM access_log WHERE pseudonym = $1 ORDER BY at DESC, id DESC LIMIT $2"),
            [pseudonym.into(), limit.into()],
        );
        let rows = self.store.db.fetch_all(sql).await?;
        rows.into_iter().map(|row| entry(row).map(|(_, entry)| entry)).collect()
    }

    /// Entries in `[from, to)`, of one PGO or all, in order, after the entry with id `after`, at
    /// most `limit`; with their ids (to ask for the next page).
    pub async fn access_log_between(
        &self,
        from: i64,
        to: i64,
        client_id: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, AccessEntry)>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT id, {COLUMNS} FROM access_log WHERE at >= "));
        sql.bind(from).push(" AND at < ").bind(to).push(" AND id > ").bind(after);
        if let Some(client_id) = client_id {
            sql.push(" AND client_id = ").bind(client_id.to_owned());
        }
        sql.push(" ORDER BY id LIMIT ").bind(limit);
        let rows = self.store.db.fetch_all(sql).await?;
        rows.into_iter().map(entry).collect()
    }

    /// Deletes the entries from before `before`; returns how many. In batches: a backlog of
    /// years (a shortened retention) deleted in one statement would outlast the statement
    /// timeout, fail, and fail again at every later purge.
    pub async fn purge_access_log(&self, before: i64) -> Result<u64, StoreError> {
        let mut purged = 0;
        loop {
            let done = self
                .store
                .db
                .execute(Sql::with(
                    "DELETE FROM access_log WHERE id IN (SELECT id FROM access_log WHERE at < $1 ORDER BY at LIMIT $2)",
                    [before.into(), PURGE_BATCH.into()],
                ))
                .await?;
            purged += done;
            if done < PURGE_BATCH.unsigned_abs() {
                return Ok(purged);
            }
        }
    }
}

/// Entries deleted per statement when the access log is purged.
const PURGE_BATCH: i64 = 10_000;

/// An access-log row: `id`, then [`COLUMNS`] in order.
/// `$1, $2, ... $n`.
fn placeholders(count: usize) -> String {
    (1..=count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// `entries` as one array per column, in the order of [`COLUMNS`]: [`values`] turned on its side.
/// A column of integers is a `bigint[]`, any other a `text[]` (with `NULL`s).
fn columns(entries: &[AccessEntry]) -> Vec<Arg> {
    let mut columns: Vec<Vec<Arg>> = (0..BOUND_COLUMNS).map(|_| Vec::with_capacity(entries.len())).collect();
    for entry in entries {
        for (column, value) in columns.iter_mut().zip(values(entry)) {
            column.push(value);
        }
    }
    columns
        .into_iter()
        .map(|column| {
            let ints: Option<Vec<i64>> =
                column.iter().map(|value| if let Arg::Int(int) = value { Some(*int) } else { None }).collect();
            ints.map_or_else(
                || {
                    Arg::Texts(
                        column
                            .into_iter()
                            .map(|value| if let Arg::Text(text) = value { Some(text) } else { None })
                            .collect(),
                    )
                },
                Arg::Ints,
            )
        })
        .collect()
}

/// `entry`'s values, in the order of [`COLUMNS`].
fn values(entry: &AccessEntry) -> [Arg; BOUND_COLUMNS] {
    [
        Arg::from(entry.at),
        entry.client_id.clone().into(),
        entry.pseudonym.clone().into(),
        entry.provider.clone().into(),
        entry.data_service.clone().into(),
        entry.interaction.as_str().into(),
        entry.resource_type.clone().into(),
        entry.returned.join(" ").into(),
        entry.status.into(),
        entry.outcome.as_str().into(),
        entry.request_id.clone().into(),
        entry.correlation_id.clone().into(),
        entry.peer.clone().into(),
    ]
}

fn entry(mut row: Row) -> Result<(i64, AccessEntry), StoreError> {
    let unknown = |column: &str, value: &str| {
        StoreError::Corrupt(format!("access_log.{column} holds an unknown value '{value}'"))
    };
    let id = row.take(0)?;
    let at = row.take(1)?;
    let client_id = row.take(2)?;
    let pseudonym = row.take(3)?;
    let provider = row.take(4)?;
    let data_service = row.take(5)?;
    let interaction: String = row.take(6)?;
    let resource_type = row.take(7)?;
    let returned: String = row.take(8)?;
    let status = row.take(9)?;
    let outcome: String = row.take(10)?;
    Ok((
        id,
        AccessEntry {
            at,
            client_id,
            pseudonym,
            provider,
            data_service,
            interaction: Interaction::parse(&interaction).ok_or_else(|| unknown("interaction", &interaction))?,
            resource_type,
            returned: returned.split(' ').filter(|item| !item.is_empty()).map(str::to_owned).collect(),
            status,
            outcome: AccessOutcome::parse(&outcome).ok_or_else(|| unknown("outcome", &outcome))?,
            request_id: row.take(11)?,
            correlation_id: row.take(12)?,
            peer: row.take(13)?,
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::Store;

    fn entry(index: usize) -> AccessEntry {
        AccessEntry {
            at: 1_000 + i64::try_from(index).unwrap(),
            client_id: Some("pgo.example.nl".into()),
            pseudonym: Some("pseudonym-a".into()),
            provider: "umcx".into(),
            data_service: "48".into(),
            interaction: Interaction::Search,
            resource_type: "Condition".into(),
            returned: vec![format!("Condition/{index}")],
            status: 200,
            outcome: AccessOutcome::Success,
            request_id: format!("request-{index}"),
            correlation_id: None,
            peer: None,
        }
    }

    test_support::postgres_test! {
    /// Batches of every size go through one statement: as multi-row INSERTs each size was a
    /// statement text of its own, parsed and planned per batch (and, kept prepared, they held
    /// memory in the service and in the database for the connection's life).
    async fn batches_of_every_size_share_one_prepared_statement_postgres() {
        let database = test_support::TestDatabase::create(test_support::Backend::Postgres).await;
        // One connection: the statements below run where the batches ran.
        let store = Store::connect(&database.url, 1).await.expect("connects");
        store.migrate().await.expect("migrates");
        for size in 1..=40 {
            let entries: Vec<AccessEntry> = (0..size).map(entry).collect();
            store.usage().append_access_log(&entries).await.expect("appended");
        }
        let logged = store.db.count(Sql::new("SELECT count(*) FROM access_log")).await.expect("counted");
        assert_eq!(logged, 820);
        let kept = store
            .db
            .count(Sql::new(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT INTO access_log%'",
            ))
            .await
            .expect("the session's prepared statements");
        assert_eq!(kept, 1, "one statement for every batch size");
        let newest = store.usage().access_log_of("pseudonym-a", 1).await.expect("read back");
        assert_eq!(newest, [entry(39)]);
    }
    }
}
