//! What metering costs a search. The same synthetic patients are loaded once; child
//! processes serve that one database: the service as served (`Application::build`: every
//! request leaves an access-log entry, every 2xx is metered before it is answered), the same
//! service with the access log but no meter, and the same with neither
//! (`Application::build_for_benchmark`). All three name themselves by the same public URL, so
//! the very same access tokens work at each.
//!
//! Before measuring, every person makes one request at the metered server with their token:
//! that is each person's first exchange through the PGO this year, written durably to
//! `exchange_firsts`. What is measured after that is the steady state: a PGO collecting the BgZ
//! of people already counted, where the meter does an in-memory lookup and writes nothing (the
//! access log still takes every request, in batches in the background). The servers are then
//! driven in rounds, in an order that rotates from round to round. Three figures come out,
//! each over all rounds: the meter's own cost `1 - everything/access-log-only`, which is what the
//! target is about (a search by a person already counted must cost next to nothing more), the
//! access log's `1 - access-log-only/nothing`, and both together `1 - everything/nothing`. The
//! rows of `exchange_firsts` are counted after the priming and after the rounds: the difference
//! is what the meter wrote while measured.
//!
//! A fourth server is the service as served but for one check: tokens are not looked up among
//! the revoked consents. `1 - everything/everything-but-revocations` is what that check costs.

use crate::driver::{
    BGZ_QUERIES, Backend, JSON, Options, PROVIDER, Sample, count_rows, drive, free_port, load, spawn, tokens,
    wait_until_up,
};
use crate::generate::Templates;
use crate::machine;
use anyhow::bail;
use futures::StreamExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The overhead the meter may add to a search.
const TARGET_OVERHEAD: f64 = 0.05;

/// The servers, in the order of their `--witness` names.
const SERVERS: [(&str, &str); 4] = [
    ("everything", "metered and logged"),
    ("access-log-only", "logged only"),
    ("nothing", "neither"),
    ("everything-but-revocations", "metered and logged, tokens not checked against revocations"),
];

/// What checking every token against the revoked consents may add to a search.
const TARGET_REVOCATION_CHECK: f64 = 0.03;

/// Measures the four servers on `backend` (its database at `database_url`, empty).
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

    let ports = [port, free_port()?, free_port()?, free_port()?];
    let addresses: Vec<String> = ports.iter().map(|port| format!("http://127.0.0.1:{port}")).collect();
    let mut children = Vec::new();
    for (port, (witness, _)) in ports.iter().zip(SERVERS) {
        let (data_dir, port, workers) = (data_dir.display().to_string(), port.to_string(), options.workers.to_string());
        let args = [
            "serve-app",
            "--data-dir",
            &data_dir,
            "--database-url",
            database_url,
            "--port",
            &port,
            "--workers",
            &workers,
            "--public-url",
            &address,
            "--witness",
            witness,
        ];
        match spawn(&args) {
            Ok(child) => children.push(child),
            Err(error) => {
                for child in &mut children {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(error);
            }
        }
    }
    let result = compare(options, backend, database_url, &addresses, tokens).await;
    let rss: Vec<Option<f64>> = children.iter().map(|child| machine::peak_rss_mib(child.id())).collect();
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    let compared = result?;
    report(backend, &compared, &rss);
    Ok(())
}

/// What the comparison measured.
#[derive(Debug)]
struct Compared {
    /// Per server (in the order of `SERVERS`).
    servers: Vec<crate::driver::Measured>,
    /// Per round, the meter's own overhead (1 - everything/access-log-only), sorted.
    meter_overheads: Vec<f64>,
    /// Per round, the access log's (1 - access-log-only/nothing), sorted.
    log_overheads: Vec<f64>,
    /// Per round, the revocation check's (1 - everything/everything-but-revocations), sorted.
    revocation_overheads: Vec<f64>,
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
    addresses: &[String],
    tokens: Arc<Vec<String>>,
) -> anyhow::Result<Compared> {
    for address in addresses {
        wait_until_up(address).await?;
    }
    // Every person's first exchange of the year through the PGO: one request each.
    let primed = prime(options, &addresses[0], &tokens).await?;
    let after_priming = count(backend, database_url, Table::ExchangeFirsts).await?;
    for address in addresses {
        drive(options, address, tokens.clone(), options.warmup, JSON).await?;
    }
    let after_warmup = count(backend, database_url, Table::ExchangeFirsts).await?;
    let rounds = options.rounds.max(1);
    let slice = options.duration / rounds;
    let mut samples: Vec<Sample> = addresses.iter().map(|_| Sample::default()).collect();
    let (mut meter_overheads, mut log_overheads, mut revocation_overheads) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // The order rotates, so that no server always follows another's background work (the
        // access log's batched writes).
        let mut per_second = [0.0; SERVERS.len()];
        for step in 0..addresses.len() {
            let server = (round as usize + step) % addresses.len();
            let measured = drive(options, &addresses[server], tokens.clone(), slice, JSON).await?;
            per_second[server] = measured.per_second();
            samples[server].merge(measured);
        }
        meter_overheads.push(1.0 - per_second[0] / per_second[1]);
        log_overheads.push(1.0 - per_second[1] / per_second[2]);
        revocation_overheads.push(1.0 - per_second[0] / per_second[3]);
    }
    // The access log writes in the background: give its last batch a moment.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let at_end = count(backend, database_url, Table::ExchangeFirsts).await?;
    let logged = count(backend, database_url, Table::AccessLog).await?;
    let servers: Vec<crate::driver::Measured> = samples.into_iter().map(Sample::summarize).collect();
    for run in &servers {
        if run.errors > 0 {
            bail!("{} of {} requests failed; the numbers would mean nothing", run.errors, run.requests);
        }
    }
    meter_overheads.sort_by(f64::total_cmp);
    log_overheads.sort_by(f64::total_cmp);
    revocation_overheads.sort_by(f64::total_cmp);
    Ok(Compared {
        servers,
        meter_overheads,
        log_overheads,
        revocation_overheads,
        primed,
        firsts: (after_priming, after_warmup, at_end),
        logged,
    })
}

fn report(backend: Backend, compared: &Compared, rss: &[Option<f64>]) {
    let Compared { servers, meter_overheads, log_overheads, revocation_overheads, primed, firsts, logged } = compared;
    let mib = |rss: Option<f64>| rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into());
    println!("[{backend:?}] | server | requests/s | p50 ms | p99 ms | peak RSS MiB | requests |");
    for (index, (measured, (_, name))) in servers.iter().zip(SERVERS).enumerate() {
        println!(
            "[{backend:?}] | pgo-exchange, {name} | {:.0} | {:.2} | {:.2} | {} | {} |",
            measured.per_second,
            measured.p50_ms,
            measured.p99_ms,
            mib(rss.get(index).copied().flatten()),
            measured.requests
        );
    }
    let spread = |overheads: &[f64]| {
        format!(
            "per round {:.1}% to {:.1}%",
            overheads.first().copied().unwrap_or(0.0) * 100.0,
            overheads.last().copied().unwrap_or(0.0) * 100.0
        )
    };
    let rate = |index: usize| servers.get(index).map_or(0.0, |measured| measured.per_second);
    let meter = 1.0 - rate(0) / rate(1);
    println!(
        "[{backend:?}] the meter's overhead (1 - metered and logged / logged only): {:.1}% over {} rounds ({}; \
         target < {:.0}%): {}",
        meter * 100.0,
        meter_overheads.len(),
        spread(meter_overheads),
        TARGET_OVERHEAD * 100.0,
        if meter < TARGET_OVERHEAD { "met" } else { "missed" }
    );
    println!(
        "[{backend:?}] the access log's overhead (1 - logged only / neither): {:.1}% ({}); both together \
         (1 - metered and logged / neither): {:.1}%",
        (1.0 - rate(1) / rate(2)) * 100.0,
        spread(log_overheads),
        (1.0 - rate(0) / rate(2)) * 100.0
    );
    let revocation_check = 1.0 - rate(0) / rate(3);
    println!(
        "[{backend:?}] the revocation check's overhead (1 - metered and logged / the same without the check): \
         {:.1}% over {} rounds ({}; target < {:.0}%): {}",
        revocation_check * 100.0,
        revocation_overheads.len(),
        spread(revocation_overheads),
        TARGET_REVOCATION_CHECK * 100.0,
        if revocation_check < TARGET_REVOCATION_CHECK { "met" } else { "missed" }
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
                .header("MedMij-Request-ID", format!("00000000-0004-4000-8000-{index:012x}"))
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
    count_rows(backend, database_url, sql).await
}
