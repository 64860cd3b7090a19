//! What metering costs a search. The same synthetic patients are loaded once; two child
//! processes serve that one database: the service as served (`Application::build`: every
//! request leaves an access-log entry, every 2xx is metered before it is answered) and the same
//! service built with `Application::build_unmetered` (neither). Both name themselves by the same
//! public URL, so the very same access tokens work at both.
//!
//! Before measuring, every person makes one request at the metered server with their token:
//! that is each person's first exchange through the PGO this year, written durably to
//! `exchange_firsts`. What is measured after that is the steady state: a PGO collecting the BgZ
//! of people already counted, where the meter does an in-memory lookup and writes nothing (the
//! access log still takes every request, in batches in the background). The two servers are then
//! driven in alternating rounds (which goes first alternates too), and the overhead is
//! `1 - metered/unmetered` requests/s over all rounds. The rows of `exchange_firsts` are
//! counted after the priming and after the rounds: the difference is what the meter wrote while
//! measured.

use crate::driver::{
    BGZ_QUERIES, Backend, JSON, Options, PROVIDER, Sample, drive, free_port, load, spawn, tokens, wait_until_up,
};
use crate::generate::Templates;
use crate::machine;
use anyhow::bail;
use futures::StreamExt;
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The overhead metering may add to a search.
const TARGET_OVERHEAD: f64 = 0.05;

/// Measures metered against unmetered on `backend` (its database at `database_url`, empty).
pub(crate) async fn measure(
    options: &Options,
    templates: &Templates,
    backend: Backend,
    data_dir: &Path,
    database_url: &str,
) -> anyhow::Result<()> {
    let (port, address, context) = crate::driver::open_on_free_port(data_dir, database_url, Vec::new()).await?;
    let (resources, took) = load(&context, templates, options.patients).await?;
    println!(
        "\n[{backend:?}] loaded {resources} resources in {:.1} s ({:.0} resources/s)",
        took.as_secs_f64(),
        resources as f64 / took.as_secs_f64()
    );
    let tokens = Arc::new(tokens(&context, &address, options.patients)?);
    context.store.close().await;

    let unmetered_port = free_port()?;
    let unmetered_address = format!("http://127.0.0.1:{unmetered_port}");
    let serve = |port: u16, unmetered: bool| {
        let (data_dir, port, workers) = (data_dir.display().to_string(), port.to_string(), options.workers.to_string());
        let mut args = vec![
            "serve-app".to_owned(),
            "--data-dir".to_owned(),
            data_dir,
            "--database-url".to_owned(),
            database_url.to_owned(),
            "--port".to_owned(),
            port,
            "--workers".to_owned(),
            workers,
            "--public-url".to_owned(),
            address.clone(),
        ];
        if unmetered {
            args.push("--unmetered".to_owned());
        }
        spawn(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let mut metered = serve(port, false)?;
    let mut unmetered = match serve(unmetered_port, true) {
        Ok(child) => child,
        Err(error) => {
            let _ = metered.kill();
            let _ = metered.wait();
            return Err(error);
        }
    };
    let result = compare(options, backend, database_url, &address, &unmetered_address, tokens).await;
    let rss = (machine::peak_rss_mib(metered.id()), machine::peak_rss_mib(unmetered.id()));
    for child in [&mut metered, &mut unmetered] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let compared = result?;
    report(backend, &compared, rss);
    Ok(())
}

/// What the comparison measured.
#[derive(Debug)]
struct Compared {
    metered: crate::driver::Measured,
    unmetered: crate::driver::Measured,
    /// Per round, 1 - metered/unmetered, sorted.
    overheads: Vec<f64>,
    /// Requests of the priming pass, one per person.
    primed: usize,
    /// Rows of `exchange_firsts` after the priming, after the warm-up, and at the end.
    firsts: (i64, i64, i64),
    /// Rows of `access_log` at the end.
    logged: i64,
}

async fn compare(
    options: &Options,
    backend: Backend,
    database_url: &str,
    metered_address: &str,
    unmetered_address: &str,
    tokens: Arc<Vec<String>>,
) -> anyhow::Result<Compared> {
    wait_until_up(metered_address).await?;
    wait_until_up(unmetered_address).await?;
    // Every person's first exchange of the year through the PGO: one request each.
    let primed = prime(options, metered_address, &tokens).await?;
    let after_priming = count(backend, database_url, Table::ExchangeFirsts).await?;
    drive(options, metered_address, tokens.clone(), options.warmup, JSON).await?;
    drive(options, unmetered_address, tokens.clone(), options.warmup, JSON).await?;
    let after_warmup = count(backend, database_url, Table::ExchangeFirsts).await?;
    let rounds = options.rounds.max(1);
    let slice = options.duration / rounds;
    let (mut metered, mut unmetered, mut overheads) = (Sample::default(), Sample::default(), Vec::new());
    for round in 0..rounds {
        // Which server goes first alternates, so that neither always follows the other's
        // background work (the access log's batched writes).
        let (metered_round, unmetered_round) = if round % 2 == 0 {
            let first = drive(options, metered_address, tokens.clone(), slice, JSON).await?;
            (first, drive(options, unmetered_address, tokens.clone(), slice, JSON).await?)
        } else {
            let first = drive(options, unmetered_address, tokens.clone(), slice, JSON).await?;
            (drive(options, metered_address, tokens.clone(), slice, JSON).await?, first)
        };
        overheads.push(1.0 - metered_round.per_second() / unmetered_round.per_second());
        metered.merge(metered_round);
        unmetered.merge(unmetered_round);
    }
    // The access log writes in the background: give its last batch a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_end = count(backend, database_url, Table::ExchangeFirsts).await?;
    let logged = count(backend, database_url, Table::AccessLog).await?;
    let (metered, unmetered) = (metered.summarize(), unmetered.summarize());
    for run in [&metered, &unmetered] {
        if run.errors > 0 {
            bail!("{} of {} requests failed; the numbers would mean nothing", run.errors, run.requests);
        }
    }
    overheads.sort_by(f64::total_cmp);
    Ok(Compared { metered, unmetered, overheads, primed, firsts: (after_priming, after_warmup, at_end), logged })
}

fn report(backend: Backend, compared: &Compared, rss: (Option<f64>, Option<f64>)) {
    let Compared { metered, unmetered, overheads, primed, firsts, logged } = compared;
    let mib = |rss: Option<f64>| rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into());
    println!("[{backend:?}] | server | requests/s | p50 ms | p99 ms | peak RSS MiB | requests |");
    println!(
        "[{backend:?}] | pgo-exchange, metered | {:.0} | {:.2} | {:.2} | {} | {} |",
        metered.per_second,
        metered.p50_ms,
        metered.p99_ms,
        mib(rss.0),
        metered.requests
    );
    println!(
        "[{backend:?}] | pgo-exchange, unmetered | {:.0} | {:.2} | {:.2} | {} | {} |",
        unmetered.per_second,
        unmetered.p50_ms,
        unmetered.p99_ms,
        mib(rss.1),
        unmetered.requests
    );
    let overhead = 1.0 - metered.per_second / unmetered.per_second;
    println!(
        "[{backend:?}] metering overhead (1 - metered/unmetered): {:.1}% over {} rounds (per round {:.1}% to {:.1}%; \
         target < {:.0}%): {}",
        overhead * 100.0,
        overheads.len(),
        overheads.first().copied().unwrap_or(0.0) * 100.0,
        overheads.last().copied().unwrap_or(0.0) * 100.0,
        TARGET_OVERHEAD * 100.0,
        if overhead < TARGET_OVERHEAD { "met" } else { "missed" }
    );
    println!(
        "[{backend:?}] first exchanges written: {} by the priming pass ({primed} requests, one per person), {} during \
         the warm-up, {} during the measured rounds; access_log rows: {logged}",
        firsts.0,
        firsts.1 - firsts.0,
        firsts.2 - firsts.1
    );
}

/// One request per person (the first query of the BgZ list) at `address`; returns how many.
async fn prime(options: &Options, address: &str, tokens: &[String]) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;
    let url = format!("{address}/{PROVIDER}/48/fhir/{}", BGZ_QUERIES[0]);
    let statuses: Vec<Result<reqwest::StatusCode, reqwest::Error>> = futures::stream::iter(tokens.iter().enumerate())
        .map(|(index, token)| {
            let request = client
                .get(&url)
                .bearer_auth(token)
                .header("MedMij-Request-ID", format!("bench-prime-{index}"))
                .header("Accept", JSON);
            async move { request.send().await.map(|response| response.status()) }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let failed = statuses.iter().filter(|status| !matches!(status, Ok(status) if status.is_success())).count();
    if failed > 0 {
        bail!("{failed} of {} priming requests did not answer 2xx", statuses.len());
    }
    Ok(statuses.len())
}

#[derive(Debug, Clone, Copy)]
enum Table {
    ExchangeFirsts,
    AccessLog,
}

/// The rows of `table` in the database at `database_url`.
async fn count(backend: Backend, database_url: &str, table: Table) -> anyhow::Result<i64> {
    let sql = match table {
        Table::ExchangeFirsts => "SELECT count(*) FROM exchange_firsts",
        Table::AccessLog => "SELECT count(*) FROM access_log",
    };
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
