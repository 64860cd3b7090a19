//! The auditors' usage reports at scale, on PostgreSQL. A scratch database (migrated by
//! `Context::open`) is filled with a year of metering as the service stores it: for each of
//! `users` persons (1,000,000 by default), the first exchange of the year through each PGO they
//! use. Only that first exchange per (PGO, year, person) is stored; repeat exchanges are not,
//! by design (the access log holds every request), so "a year of exchanges" is, in the store,
//! one row per person per PGO.
//!
//! The shape, from a fixed-seed xorshift so every run writes the same rows: each person uses one
//! PGO (60%), two (30%) or three (10%) of `clients` (30 by default; a few large PGOs, a long
//! tail); their first exchange through each falls in one of the twelve months, more often early
//! in the year (the first exchange of returning users clusters in January), at a uniform instant
//! within that month; pseudonyms are 43-character base64url strings (of a SHA-256, as the real
//! keyed hashes are), request ids UUIDs, six providers, data service 48 (80%) or 63, and 5% of
//! exchanges `share`. The rows go in through `Store::record_first_exchanges`, in batches.
//!
//! Then, for the monthly report (one month, all PGOs) and the yearly report (the year, all
//! PGOs), each timed end to end as the audit API makes it: `metering::report::build` (query and
//! assembly), serialization (`to_json`, pretty-printed; `to_csv`), and `metering::signing::sign`
//! (the JWS the auditor gets). The baseline, in the same run: `count(*)` and
//! `sum(length(pseudonym))` over the same rows, on a plain PostgreSQL connection. To show where
//! the time goes, the parts are timed on their own too: the store's query alone (sqlx `Any`
//! driver, decoding into `FirstExchange`), twice (the first call also pays for fresh memory),
//! the same query on the native PostgreSQL driver, compact against pretty JSON, a SHA-256 over the payload, and escaping the payload into the
//! JWS's JSON string.

use crate::driver::{create_scratch_database, drop_scratch_database};
use crate::machine;
use anyhow::Context as _;
use aws_lc_rs::digest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use metering::report::{ReportRequest, ReportSettings};
use metering::{Period, Tariffs};
use pgo_exchange::Context;
use sqlx::{Connection, PgConnection};
use std::time::{Duration, Instant};
use store::FirstExchange;

/// The query of `Store::first_exchanges` for all PGOs.
const FIRSTS_SQL: &str = "SELECT client_id, pseudonym, first_at, request_id, provider, data_service, kind \
                          FROM exchange_firsts WHERE year = $1 AND first_at >= $2 AND first_at < $3 \
                          ORDER BY client_id, first_at, pseudonym";

/// What a report, end to end, may take.
const TARGET: Duration = Duration::from_secs(10);
/// Persons per call of `record_first_exchanges` (one transaction each).
const USERS_PER_BATCH: usize = 20_000;
/// Calls of `record_first_exchanges` under way at once.
const CONCURRENT_BATCHES: usize = 3;
const PROVIDERS: &[&str] = &["umcx", "ziekenhuis-oost", "huisartsen-west", "apotheek-centrum", "lab-noord", "ggz-zuid"];

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct ReportOptions {
    pub(crate) users: usize,
    pub(crate) clients: usize,
    pub(crate) year: i32,
    /// The month of the monthly report.
    pub(crate) month: u32,
    pub(crate) postgres_url: String,
    pub(crate) keep_database: bool,
}

pub(crate) async fn run(options: ReportOptions) -> anyhow::Result<()> {
    println!("machine: {}", machine::describe());
    println!(
        "load: usage reports on PostgreSQL, {} users over {} PGOs, first exchanges over the 12 months of {}",
        options.users, options.clients, options.year
    );
    let (database_url, name) = create_scratch_database(&options.postgres_url).await?;
    let scratch = tempfile::tempdir()?;
    let result = measure(&options, &database_url, scratch.path()).await;
    if options.keep_database {
        println!("kept the database: {database_url}");
    } else {
        drop_scratch_database(&options.postgres_url, &name).await;
    }
    result
}

async fn measure(options: &ReportOptions, database_url: &str, data_dir: &std::path::Path) -> anyhow::Result<()> {
    let overrides = settings::Overrides {
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(database_url.to_owned()),
        listen: None,
        public_url: Some("https://pgx.bench.example".to_owned()),
    };
    let settings = settings::Settings::load_with_environment(None, &overrides, Vec::new())?;
    let context = Context::open(settings).await?;
    let zone = context.settings.timezone();
    let settings = ReportSettings { issuer: context.issuer(), zone, tariffs: Tariffs::standard() };

    let months: Vec<(i64, i64)> = (1..=12)
        .map(|month| Ok(format!("{}-{month:02}", options.year).parse::<Period>()?.bounds(zone)))
        .collect::<anyhow::Result<_>>()?;
    let started = Instant::now();
    let rows = generate(options, &context, &months).await?;
    let inserted = started.elapsed();
    let analyzed = Instant::now();
    context.store.analyze(store::Filled::Usage).await?;
    let analyzed = analyzed.elapsed();
    let mut connection = PgConnection::connect(database_url).await.context("PostgreSQL for the baseline")?;
    let (held,): (i64,) = sqlx::query_as("SELECT count(*) FROM exchange_firsts").fetch_one(&mut connection).await?;
    let (table_bytes,): (i64,) =
        sqlx::query_as("SELECT pg_total_relation_size('exchange_firsts')").fetch_one(&mut connection).await?;
    println!(
        "generated {rows} first exchanges of {} users in {:.1} s ({:.0} rows/s, batches of {USERS_PER_BATCH} users, {} \
         at once) + ANALYZE {:.1} s; exchange_firsts holds {held} rows, {:.0} MiB with its indexes",
        options.users,
        inserted.as_secs_f64(),
        rows as f64 / inserted.as_secs_f64(),
        CONCURRENT_BATCHES,
        analyzed.as_secs_f64(),
        table_bytes as f64 / 1_048_576.0
    );

    let monthly: Period = format!("{}-{:02}", options.year, options.month.clamp(1, 12)).parse()?;
    let yearly: Period = options.year.to_string().parse()?;
    let mut results = Vec::new();
    for period in [monthly, yearly] {
        results.push(time_period(&context, &settings, &mut connection, period).await?);
    }
    println!(
        "| report | rows | baseline count(*) | JSON signed, end to end | ratio | CSV signed, end to end | ratio | signed JSON | signed CSV |"
    );
    for timed in &results {
        println!(
            "| {} | {} | {:.3} s | {:.2} s | {:.0} | {:.2} s | {:.0} | {:.1} MB | {:.1} MB |",
            timed.period,
            timed.rows,
            timed.baseline.as_secs_f64(),
            timed.json.total().as_secs_f64(),
            timed.json.total().as_secs_f64() / timed.baseline.as_secs_f64(),
            timed.csv.total().as_secs_f64(),
            timed.csv.total().as_secs_f64() / timed.baseline.as_secs_f64(),
            timed.json.signed_bytes as f64 / 1e6,
            timed.csv.signed_bytes as f64 / 1e6,
        );
    }
    println!("where the time goes (s):");
    println!(
        "| report | form | build (query + assembly) | serialize | sign | total | payload MB | target < {} s |",
        TARGET.as_secs()
    );
    for timed in &results {
        for (form, parts) in [("JSON", &timed.json), ("CSV", &timed.csv)] {
            println!(
                "| {} | {form} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {} |",
                timed.period,
                parts.build.as_secs_f64(),
                parts.serialize.as_secs_f64(),
                parts.sign.as_secs_f64(),
                parts.total().as_secs_f64(),
                parts.payload_bytes as f64 / 1e6,
                if parts.total() < TARGET { "met" } else { "missed" }
            );
        }
    }
    println!(
        "| report | Store::first_exchanges alone (streamed, columns by position) | the same again | same query, native PostgreSQL driver, fetch_all | compact JSON | SHA-256 of the payload | payload escaped as a JSON string |"
    );
    for timed in &results {
        let parts = &timed.parts;
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            timed.period,
            parts.any_query.as_secs_f64(),
            parts.any_again.as_secs_f64(),
            parts.native_query.as_secs_f64(),
            parts.compact_json.as_secs_f64(),
            parts.sha256.as_secs_f64(),
            parts.escape.as_secs_f64()
        );
    }
    if let Some(mib) = machine::peak_rss_mib(std::process::id()) {
        println!("peak RSS of the benchmark process (generation and reports): {mib:.0} MiB");
    }
    connection.close().await?;
    context.store.close().await;
    Ok(())
}

/// One report form, end to end.
#[derive(Debug, Default)]
struct Timed {
    build: Duration,
    serialize: Duration,
    sign: Duration,
    payload_bytes: usize,
    signed_bytes: usize,
}

impl Timed {
    fn total(&self) -> Duration {
        self.build + self.serialize + self.sign
    }
}

/// The parts, timed on their own.
#[derive(Debug, Default)]
struct Parts {
    any_query: Duration,
    any_again: Duration,
    native_query: Duration,
    compact_json: Duration,
    sha256: Duration,
    escape: Duration,
}

#[derive(Debug)]
struct PeriodTimed {
    period: Period,
    rows: i64,
    baseline: Duration,
    json: Timed,
    csv: Timed,
    parts: Parts,
}

async fn time_period(
    context: &Context,
    settings: &ReportSettings,
    connection: &mut PgConnection,
    period: Period,
) -> anyhow::Result<PeriodTimed> {
    let (start, end) = period.bounds(settings.zone);
    let year = i64::from(period.year);
    let request = ReportRequest { period, client_id: None };
    let baseline_sql = "SELECT count(*), sum(length(pseudonym))::bigint FROM exchange_firsts \
                        WHERE year = $1 AND first_at >= $2 AND first_at < $3";
    async fn count(
        connection: &mut PgConnection,
        sql: &'static str,
        (year, start, end): (i64, i64, i64),
    ) -> Result<(i64, Option<i64>), sqlx::Error> {
        sqlx::query_as::<_, (i64, Option<i64>)>(sql).bind(year).bind(start).bind(end).fetch_one(connection).await
    }
    // Once untimed, so that every measurement finds the rows in PostgreSQL's cache alike.
    count(&mut *connection, baseline_sql, (year, start, end)).await?;
    let started = Instant::now();
    let (rows, _) = count(&mut *connection, baseline_sql, (year, start, end)).await?;
    let baseline = started.elapsed();

    let mut parts = Parts::default();
    let started = Instant::now();
    let native: Vec<(String, String, i64, String, String, String, String)> =
        sqlx::query_as(FIRSTS_SQL).bind(year).bind(start).bind(end).fetch_all(&mut *connection).await?;
    parts.native_query = started.elapsed();
    drop(native);
    let started = Instant::now();
    let firsts = context.store.usage().first_exchanges(year, start, end, None).await?;
    parts.any_query = started.elapsed();
    drop(firsts);
    // Again: the first call also pays for fresh memory (the process's first half gigabyte of
    // rows), which later calls find in the allocator.
    let started = Instant::now();
    let firsts = context.store.usage().first_exchanges(year, start, end, None).await?;
    parts.any_again = started.elapsed();
    drop(firsts);

    // JSON, end to end, as the audit API makes it.
    let mut json = Timed::default();
    let started = Instant::now();
    let report = metering::report::build(&context.store, settings, &request, fhir_core::date::now_millis()).await?;
    json.build = started.elapsed();
    let started = Instant::now();
    let payload = report.to_json();
    json.serialize = started.elapsed();
    let started = Instant::now();
    let signed = metering::signing::sign(&payload, "application/json", &context.signing_key()?)?;
    json.sign = started.elapsed();
    (json.payload_bytes, json.signed_bytes) = (payload.len(), signed.len());
    drop(signed);
    let started = Instant::now();
    let compact = serde_json::to_string(&report)?;
    parts.compact_json = started.elapsed();
    drop(compact);
    let started = Instant::now();
    let hash = digest::digest(&digest::SHA256, payload.as_bytes());
    parts.sha256 = started.elapsed();
    std::hint::black_box(hash);
    let started = Instant::now();
    let escaped = serde_json::to_string(&payload)?;
    parts.escape = started.elapsed();
    drop((escaped, payload, report));

    // CSV, end to end.
    let mut csv = Timed::default();
    let started = Instant::now();
    let report = metering::report::build(&context.store, settings, &request, fhir_core::date::now_millis()).await?;
    csv.build = started.elapsed();
    let started = Instant::now();
    let payload = report.to_csv();
    csv.serialize = started.elapsed();
    let started = Instant::now();
    let signed = metering::signing::sign(&payload, "text/csv", &context.signing_key()?)?;
    csv.sign = started.elapsed();
    (csv.payload_bytes, csv.signed_bytes) = (payload.len(), signed.len());
    if report.totals.new_users != u64::try_from(rows)? {
        anyhow::bail!("the {period} report counts {} users, the baseline {rows}", report.totals.new_users);
    }
    println!(
        "{period}: {rows} rows, {} PGOs, {} cents; JSON {:.2} s end to end, CSV {:.2} s",
        report.totals.clients,
        report.totals.amount_cents,
        json.total().as_secs_f64(),
        csv.total().as_secs_f64()
    );
    Ok(PeriodTimed { period, rows, baseline, json, csv, parts })
}

/// A small, fixed-seed pseudo-random generator (xorshift64*).
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

/// A pseudonym of the real shape: 43 characters of base64url.
fn pseudonym(user: usize) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, format!("bench-user-{user}").as_bytes()))
}

/// The first exchanges of the users of batch `batch`.
fn batch_rows(options: &ReportOptions, months: &[(i64, i64)], batch: usize) -> Vec<FirstExchange> {
    let mut rng = Rng::new(batch as u64 + 1);
    let users = batch * USERS_PER_BATCH..((batch + 1) * USERS_PER_BATCH).min(options.users);
    let mut rows = Vec::with_capacity(users.len() * 3 / 2 + 16);
    let mut clients = Vec::with_capacity(3);
    for user in users {
        let pseudonym = pseudonym(user);
        let uses = match rng.below(10) {
            0..=5 => 1,
            6..=8 => 2,
            _ => 3,
        }
        .min(options.clients);
        clients.clear();
        while clients.len() < uses {
            // A few large PGOs, a long tail.
            let client = ((rng.unit() * rng.unit()) * options.clients as f64) as usize;
            if !clients.contains(&client) {
                clients.push(client);
            }
        }
        for &client in &clients {
            // Earlier months more often: month m with probability ((m+1)/12)^(2/3) - (m/12)^(2/3).
            let month = ((rng.unit().powf(1.5) * 12.0) as usize).min(11);
            let (start, end) = months[month];
            let first_at = start + i64::try_from(rng.below(u64::try_from(end - start).unwrap_or(1))).unwrap_or(0);
            let mut random = [0_u8; 16];
            random[..8].copy_from_slice(&rng.next().to_le_bytes());
            random[8..].copy_from_slice(&rng.next().to_le_bytes());
            let data_service = if rng.below(5) == 0 { "63" } else { "48" };
            rows.push(FirstExchange {
                client_id: format!("pgo{:02}.bench.example", client + 1),
                year: i64::from(options.year),
                pseudonym: pseudonym.clone(),
                first_at,
                request_id: uuid::Builder::from_random_bytes(random).into_uuid().to_string(),
                provider: PROVIDERS[rng.below(PROVIDERS.len() as u64) as usize].to_owned(),
                data_service: data_service.to_owned(),
                kind: if rng.below(20) == 0 { "share" } else { "collect" }.to_owned(),
            });
        }
    }
    rows
}

/// Writes the first exchanges of all users; returns how many rows.
async fn generate(options: &ReportOptions, context: &Context, months: &[(i64, i64)]) -> anyhow::Result<usize> {
    let batches = options.users.div_ceil(USERS_PER_BATCH);
    let mut written = 0;
    let mut done = 0;
    let mut results = futures::stream::iter(0..batches)
        .map(|batch| {
            let rows = batch_rows(options, months, batch);
            let store = context.store.clone();
            async move { store.usage().record_first_exchanges(&rows).await.map(|()| rows.len()) }
        })
        .buffer_unordered(CONCURRENT_BATCHES);
    while let Some(result) = results.next().await {
        written += result?;
        done += 1;
        if done % 5 == 0 || done == batches {
            eprint!("\r  written {written} first exchanges ({done}/{batches} batches)");
        }
    }
    eprintln!();
    Ok(written)
}
