//! The token endpoint under load. Consents with fresh codes are prepared in the store of the
//! service under test, the service is started (development client authentication: token calls
//! from loopback), and PGO servers at a fixed concurrency exchange the codes (each once), then
//! rotate the refresh tokens those gave (each family a chain: the next token comes from the
//! previous answer). The bare baseline is driven in alternating rounds with the same
//! concurrency. Every answer of the service must be a 200 with tokens, or the run fails.

use crate::driver::{Backend, Options, Sample, load, spawn_app, spawn_bare, wait_until_up};
use crate::grants::{self, CLIENT_ID, PreparedCode, REDIRECT_URI};
use crate::machine;
use anyhow::bail;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Codes are prepared before the service starts and must outlive the whole run: the longest
/// lifetime the settings allow.
const CODE_LIFETIME_SECONDS: &str = "600";
const CODE_LIFETIME_SETTING: &str = "PGO_EXCHANGE__AUTHORIZATION__CODE_LIFETIME_SECONDS";
/// The exchanges/s the token endpoint is meant to sustain on a 2-core machine.
const TARGET_PER_SECOND: f64 = 2_000.0;

/// The prepared codes, handed out once each.
#[derive(Debug)]
struct CodeQueue {
    codes: Vec<PreparedCode>,
    next: AtomicUsize,
}

impl CodeQueue {
    fn take(&self) -> Option<&PreparedCode> {
        self.codes.get(self.next.fetch_add(1, Ordering::Relaxed))
    }

    fn left(&self) -> usize {
        self.codes.len().saturating_sub(self.next.load(Ordering::Relaxed))
    }
}

/// What the connections of one drive send.
#[derive(Debug, Clone)]
enum Job {
    /// `grant_type=authorization_code` with the next unused code.
    Codes(Arc<CodeQueue>),
    /// `grant_type=refresh_token`, each connection rotating its share of the families in turn.
    Refresh,
    /// The bare baseline: a form of a code exchange's size, answered without reading it.
    Bare,
}

/// One drive: what was measured, and the families' current refresh tokens afterwards.
#[derive(Debug)]
struct Driven {
    sample: Sample,
    families: Vec<String>,
}

/// Measures the token endpoint on `backend` (its database at `database_url`, empty).
pub(crate) async fn measure(
    options: &Options,
    templates: &crate::generate::Templates,
    backend: Backend,
    data_dir: &std::path::Path,
    database_url: &str,
    codes: usize,
) -> anyhow::Result<()> {
    let (port, address, context) = crate::driver::open_on_free_port(
        data_dir,
        database_url,
        vec![(CODE_LIFETIME_SETTING.to_owned(), CODE_LIFETIME_SECONDS.to_owned())],
    )
    .await?;
    let (resources, took) = load(&context, templates, options.patients).await?;
    println!("\n[{backend:?}] loaded {resources} resources in {:.1} s", took.as_secs_f64());
    grants::import_client_list(&context).await?;
    let started = Instant::now();
    let prepared = grants::prepare_codes(&context, codes, options.patients).await?;
    let took = started.elapsed();
    println!(
        "[{backend:?}] prepared {codes} consents with codes in {:.1} s ({:.0}/s); codes live {CODE_LIFETIME_SECONDS} s",
        took.as_secs_f64(),
        codes as f64 / took.as_secs_f64()
    );
    context.store.close().await;

    let mut app = spawn_app(options, data_dir, database_url, port, &[(CODE_LIFETIME_SETTING, CODE_LIFETIME_SECONDS)])?;
    let result = drive_rounds(options, backend, &address, prepared, &mut app).await;
    let _ = app.kill();
    let _ = app.wait();
    result
}

async fn drive_rounds(
    options: &Options,
    backend: Backend,
    address: &str,
    prepared: Vec<PreparedCode>,
    app: &mut std::process::Child,
) -> anyhow::Result<()> {
    wait_until_up(address).await?;
    let token_url = format!("{address}/oauth/token");
    let queue = Arc::new(CodeQueue { codes: prepared, next: AtomicUsize::new(0) });
    let concurrency = options.concurrency;
    // Warm-up: codes (which make the first families), refresh tokens, then the bare server with
    // the mean size of a token answer.
    let warm = drive(&token_url, concurrency, options.warmup, Job::Codes(queue.clone()), Vec::new()).await?;
    let mut failures = warm.sample.errors;
    let body_bytes = warm.sample.mean_body_bytes();
    let warm = drive(&token_url, concurrency, options.warmup, Job::Refresh, warm.families).await?;
    failures += warm.sample.errors;
    let families = warm.families;
    let (mut bare, bare_address) = spawn_bare(options, body_bytes)?;
    let result = async {
        wait_until_up(&bare_address).await?;
        let bare_url = format!("{bare_address}/oauth/token");
        drive(&bare_url, concurrency, options.warmup, Job::Bare, Vec::new()).await?;
        alternate(options, app.id(), &token_url, &bare_url, &queue, families).await
    }
    .await;
    let rss = machine::peak_rss_mib(app.id());
    let _ = bare.kill();
    let _ = bare.wait();
    let Rounds {
        codes,
        refreshes,
        baseline,
        mut code_ratios,
        mut refresh_ratios,
        code_rounds,
        families,
        code_cpu,
        refresh_cpu,
    } = result?;
    let (code_count, refresh_count) = (codes.latencies.len(), refreshes.latencies.len());
    let (codes, refreshes, baseline) = (codes.summarize(), refreshes.summarize(), baseline.summarize());
    failures += codes.errors + refreshes.errors + baseline.errors;
    if failures > 0 {
        bail!("{failures} requests did not answer 200 (with tokens); the numbers would mean nothing");
    }
    if code_rounds < options.rounds.max(1) {
        println!(
            "[{backend:?}] the {} prepared codes ran out: code exchanges measured in {code_rounds} of {} rounds \
             (prepare more with --codes)",
            queue.codes.len(),
            options.rounds.max(1)
        );
    }
    code_ratios.sort_by(f64::total_cmp);
    refresh_ratios.sort_by(f64::total_cmp);
    let spread = |ratios: &[f64]| {
        format!("{:.2} to {:.2}", ratios.first().copied().unwrap_or(0.0), ratios.last().copied().unwrap_or(0.0))
    };
    println!("[{backend:?}] | grant | exchanges/s | p50 ms | p99 ms | exchanges | ratio to bare (per round) |");
    for (grant, measured, ratios) in
        [("authorization_code", &codes, &code_ratios), ("refresh_token", &refreshes, &refresh_ratios)]
    {
        println!(
            "[{backend:?}] | {grant} | {:.0} | {:.2} | {:.2} | {} | {:.2} ({}) |",
            measured.per_second,
            measured.p50_ms,
            measured.p99_ms,
            measured.requests,
            measured.per_second / baseline.per_second,
            spread(ratios)
        );
    }
    println!(
        "[{backend:?}] | bare actix-web, {} bytes | {:.0} | {:.2} | {:.2} | {} | |",
        baseline.mean_body_bytes, baseline.per_second, baseline.p50_ms, baseline.p99_ms, baseline.requests
    );
    // Processor time per exchange depends far less than the rates on how busy the shared machine
    // was; it bounds what these cores carry with no load generator beside them.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("[{backend:?}] | grant | service µs/exchange | PostgreSQL µs/exchange | bound on {cores} cores /s |");
    for (grant, cpu, count) in
        [("authorization_code", code_cpu, code_count), ("refresh_token", refresh_cpu, refresh_count)]
    {
        let (service, postgres) = cpu.per_exchange_micros(count);
        println!(
            "[{backend:?}] | {grant} | {service:.0} | {postgres:.0} | {:.0} |",
            cores as f64 * 1e6 / (service + postgres).max(1.0)
        );
    }
    let verdict = |per_second: f64| if per_second >= TARGET_PER_SECOND { "met" } else { "missed" };
    println!(
        "[{backend:?}] target >= {TARGET_PER_SECOND:.0} exchanges/s: authorization_code {}, refresh_token {}; \
         {} refresh token families; service peak RSS {} MiB; mean token answer {} bytes",
        verdict(codes.per_second),
        verdict(refreshes.per_second),
        families,
        rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into()),
        codes.mean_body_bytes
    );
    Ok(())
}

/// What the measured rounds gave.
#[derive(Debug)]
struct Rounds {
    codes: Sample,
    refreshes: Sample,
    baseline: Sample,
    code_ratios: Vec<f64>,
    refresh_ratios: Vec<f64>,
    /// Rounds in which codes were left to exchange.
    code_rounds: u32,
    /// Refresh token families at the end.
    families: usize,
    /// Processor time spent during the code rounds.
    code_cpu: Cpu,
    /// Processor time spent during the refresh rounds.
    refresh_cpu: Cpu,
}

/// Processor time, in seconds, of the service and of the PostgreSQL server.
#[derive(Debug, Default, Clone, Copy)]
struct Cpu {
    service: f64,
    postgres: f64,
}

impl Cpu {
    /// What the service (process `service_pid`) and PostgreSQL have used so far.
    fn so_far(service_pid: u32) -> Cpu {
        Cpu { service: machine::cpu_seconds(service_pid).unwrap_or(0.0), postgres: machine::postgres_cpu_seconds() }
    }

    /// Adds what was used between `start` and `end`.
    fn add(&mut self, start: Cpu, end: Cpu) {
        self.service += end.service - start.service;
        self.postgres += end.postgres - start.postgres;
    }

    /// Microseconds of the service's and of PostgreSQL's processor time per exchange.
    fn per_exchange_micros(self, exchanges: usize) -> (f64, f64) {
        let exchanges = exchanges.max(1) as f64;
        (self.service * 1e6 / exchanges, self.postgres * 1e6 / exchanges)
    }
}

/// The measurement: rounds of code exchanges, the bare server, and refresh token exchanges, one
/// after the other, so that all three see the same, drifting, state of the shared machine.
async fn alternate(
    options: &Options,
    service_pid: u32,
    token_url: &str,
    bare_url: &str,
    queue: &Arc<CodeQueue>,
    mut families: Vec<String>,
) -> anyhow::Result<Rounds> {
    let concurrency = options.concurrency;
    let slice = options.duration / options.rounds.max(1);
    let mut rounds = Rounds {
        codes: Sample::default(),
        refreshes: Sample::default(),
        baseline: Sample::default(),
        code_ratios: Vec::new(),
        refresh_ratios: Vec::new(),
        code_rounds: 0,
        families: 0,
        code_cpu: Cpu::default(),
        refresh_cpu: Cpu::default(),
    };
    for _ in 0..options.rounds.max(1) {
        let codes = if queue.left() > 0 {
            let start = Cpu::so_far(service_pid);
            let codes = drive(token_url, concurrency, slice, Job::Codes(queue.clone()), Vec::new()).await?;
            rounds.code_cpu.add(start, Cpu::so_far(service_pid));
            Some(codes)
        } else {
            None
        };
        let bare = drive(bare_url, concurrency, slice, Job::Bare, Vec::new()).await?;
        if let Some(codes) = codes {
            rounds.code_rounds += 1;
            rounds.code_ratios.push(codes.sample.per_second() / bare.sample.per_second());
            families.extend(codes.families);
            rounds.codes.merge(codes.sample);
        }
        let start = Cpu::so_far(service_pid);
        let refresh = drive(token_url, concurrency, slice, Job::Refresh, families).await?;
        rounds.refresh_cpu.add(start, Cpu::so_far(service_pid));
        rounds.refresh_ratios.push(refresh.sample.per_second() / bare.sample.per_second());
        families = refresh.families;
        rounds.refreshes.merge(refresh.sample);
        rounds.baseline.merge(bare.sample);
    }
    rounds.families = families.len();
    Ok(rounds)
}

/// Drives `url` with `concurrency` connections for `duration` (less if the codes run out).
/// `families` are the current refresh tokens, shared out among the connections for
/// [`Job::Refresh`]; the families after the drive (new ones from code exchanges, rotated ones)
/// come back.
async fn drive(
    url: &str,
    concurrency: usize,
    duration: Duration,
    job: Job,
    families: Vec<String>,
) -> anyhow::Result<Driven> {
    // A new client per drive: no connection left idle by an earlier round (and perhaps closed by
    // the server meanwhile) is reused.
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let mut shares: Vec<Vec<String>> = vec![Vec::new(); concurrency.max(1)];
    for (index, token) in families.into_iter().enumerate() {
        shares[index % concurrency.max(1)].push(token);
    }
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = shares
        .into_iter()
        .enumerate()
        .map(|(connection, share)| {
            tokio::spawn(run_connection(client.clone(), url.to_owned(), job.clone(), share, connection, deadline))
        })
        .collect();
    let mut driven = Driven { sample: Sample::default(), families: Vec::new() };
    let mut finished = started;
    for task in tasks {
        let (sample, families, last) = task.await?;
        driven.sample.merge(sample);
        driven.families.extend(families);
        finished = finished.max(last);
    }
    driven.sample.elapsed = finished - started;
    Ok(driven)
}

/// One PGO server's connection: sends its job's requests one after another until `deadline`;
/// returns what it measured, its families, and when its last answer came.
async fn run_connection(
    client: reqwest::Client,
    url: String,
    job: Job,
    mut families: Vec<String>,
    connection: usize,
    deadline: Instant,
) -> (Sample, Vec<String>, Instant) {
    let mut sample = Sample::default();
    let mut last = Instant::now();
    let (mut turn, mut sent) = (0_usize, 0_u64);
    let bare = PreparedCode { code: "c".repeat(43), verifier: "v".repeat(43) };
    while Instant::now() < deadline {
        let form: Vec<(&str, &str)> = match &job {
            Job::Codes(queue) => {
                let Some(prepared) = queue.take() else { break };
                code_form(prepared)
            }
            Job::Refresh => {
                if families.is_empty() {
                    break;
                }
                turn %= families.len();
                vec![("grant_type", "refresh_token"), ("refresh_token", &families[turn]), ("client_id", CLIENT_ID)]
            }
            Job::Bare => code_form(&bare),
        };
        sent += 1;
        let started = Instant::now();
        // As a PGO server does: the MedMij tracing ids as headers on the back channel.
        let outcome = client
            .post(&url)
            .header("MedMij-Request-ID", format!("{connection:08x}-0002-4000-8000-{sent:012x}"))
            .header("X-Correlation-ID", format!("{connection:08x}-0003-4000-8000-{sent:012x}"))
            .form(&form)
            .send()
            .await;
        let answer = match outcome {
            Ok(response) if response.status() == 200 => response.bytes().await.ok(),
            _ => None,
        };
        last = Instant::now();
        sample.latencies.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
        sample.bytes += answer.as_ref().map_or(0, |body| body.len());
        let refresh_token = match (&job, &answer) {
            (Job::Bare, Some(_)) => continue,
            (_, Some(body)) => new_refresh_token(body),
            _ => None,
        };
        match (&job, refresh_token) {
            (Job::Codes(_), Some(token)) => families.push(token),
            (Job::Refresh, Some(token)) => {
                families[turn] = token;
                turn += 1;
            }
            (Job::Refresh, None) => {
                // The family's token is spent or its consent revoked: it is out of the run.
                sample.errors += 1;
                families.swap_remove(turn);
            }
            _ => sample.errors += 1,
        }
    }
    (sample, families, last)
}

/// The form of a code exchange (RFC 6749 §4.1.3, with the PKCE verifier of RFC 7636 §4.5).
fn code_form(prepared: &PreparedCode) -> Vec<(&'static str, &str)> {
    vec![
        ("grant_type", "authorization_code"),
        ("code", &prepared.code),
        ("redirect_uri", REDIRECT_URI),
        ("client_id", CLIENT_ID),
        ("code_verifier", &prepared.verifier),
    ]
}

/// The refresh token of a token answer that also has an access token.
fn new_refresh_token(body: &[u8]) -> Option<String> {
    let answer: serde_json::Value = serde_json::from_slice(body).ok()?;
    answer["access_token"].as_str()?;
    answer["refresh_token"].as_str().map(str::to_owned)
}
