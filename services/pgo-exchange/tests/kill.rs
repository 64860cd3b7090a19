//! The kill test: metering survives a crash. The real `pgo-exchange serve` runs as a child
//! process; 16 concurrent PGO clients search the demo provider's BgZ service for thousands of
//! distinct persons (almost every request a person's first exchange through its PGO this year,
//! so almost every one a durable write); mid-load the process gets SIGKILL, with requests still
//! in flight. Then, from the database alone, every request that was answered 2xx must be found
//! in `exchange_firsts`: an answer that left the service was counted before it left, whatever
//! happened to the process afterwards. (Rows for requests whose answer was lost in the kill are
//! allowed: the meter counts at least every answered exchange, never fewer.)
//!
//! Runs on SQLite and, with `PGO_EXCHANGE_TEST_POSTGRES`, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use access_token::Grant;
use base64::Engine;
use pgo_exchange::Context;
use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_support::{TestDatabase, on_both_backends};

const PROVIDER: &str = "demoziekenhuis";
const SERVICE: &str = "48";
const CLIENTS: [&str; 3] = ["pgo-a.example.nl", "pgo-b.example.nl", "pgo-c.example.nl"];
const PERSONS: usize = 2_000;
const TASKS: usize = 16;
/// Kill once this many requests succeeded ...
const KILL_AFTER_OK: usize = 500;
/// ... or once load ran this long with at least `MIN_CHECKED` successes ...
const KILL_AFTER: Duration = Duration::from_secs(2);
/// ... and in any case after this long.
const KILL_AT_THE_LATEST: Duration = Duration::from_secs(20);
/// Fewer answered requests than this would make the check meaningless.
const MIN_CHECKED: usize = 200;

/// The child process, killed (SIGKILL) and reaped however the test ends.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Server {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The end of the service's log, for failure messages.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One request's outcome.
#[derive(Debug)]
enum Outcome {
    /// Answered 2xx: the exchange of (client, pseudonym) must be counted.
    Success { client: usize, pseudonym: String },
    /// Answered with another status.
    Status(u16),
    /// No answer (connection refused, reset or cut short).
    NoAnswer { sent_before_kill: bool },
}

/// `count` distinct valid BSNs (9 digits passing the 11-test), none of them a demo patient's.
fn bsns(count: usize) -> Vec<String> {
    (10_000_000_u32..)
        .flat_map(|prefix| (0..10).map(move |last| format!("{prefix}{last}")))
        .filter(|bsn| identity::is_valid_bsn(bsn))
        .take(count)
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("address").port()
}

/// The settings' environment, the same for the test's own `Context` and for the child.
fn environment(secret: &str) -> Vec<(String, String)> {
    vec![
        ("PGO_EXCHANGE__SECRETS__DEPLOYMENT_SECRET".to_owned(), secret.to_owned()),
        ("PGO_EXCHANGE__LOG__LEVEL".to_owned(), "warn".to_owned()),
    ]
}

/// A token per (client, person) work item, interleaving the clients, with the pseudonym the
/// service will open from it.
fn mint(context: &Context, base: &str) -> Vec<(usize, String, String)> {
    let issuer = context.token_issuer();
    let mut work = Vec::with_capacity(PERSONS * CLIENTS.len());
    for bsn in bsns(PERSONS) {
        let pseudonym = context.secret.pseudonym(&bsn);
        for (client, client_id) in CLIENTS.iter().enumerate() {
            let grant = Grant {
                person_key: context.secret.person_key(PROVIDER, &bsn),
                pseudonym: pseudonym.clone(),
                client_id: (*client_id).to_owned(),
                provider: PROVIDER.into(),
                scope: format!("{PROVIDER}~{SERVICE}").parse().expect("scope"),
                audience: vec![base.to_owned()],
                consent: None,
            };
            work.push((client, pseudonym.clone(), issuer.issue(&grant).expect("token").token));
        }
    }
    work
}

fn start(database: &TestDatabase, data_dir: &Path, port: u16, environment: &[(String, String)]) -> Server {
    let log = database.dir.path().join("serve.log");
    let stderr = File::create(&log).expect("log file");
    let address = format!("127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgo-exchange"));
    command.args(["--data-dir", &data_dir.display().to_string(), "--database-url", &database.url]).args([
        "serve",
        "--listen",
        &address,
        "--public-url",
        &format!("http://{address}"),
    ]);
    for (name, _) in std::env::vars() {
        if name.starts_with("PGO_EXCHANGE__") || name == "RUST_LOG" {
            command.env_remove(name);
        }
    }
    command.envs(environment.iter().cloned()).stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
    Server { child: command.spawn().expect("the binary starts"), log }
}

async fn wait_until_healthy(server: &mut Server, client: &reqwest::Client, address: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("the service exited at start-up ({status}):\n{}", server.log_tail());
        }
        if let Ok(response) = client.get(format!("{address}/health")).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "the service did not answer /health within 30 s:\n{}", server.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends!(every_answered_exchange_survives_a_kill, |database| {
    let secret = base64::engine::general_purpose::STANDARD.encode([0x5a_u8; 32]);
    let environment = environment(&secret);
    let data_dir = database.dir.path().join("data");
    let port = free_port();
    let address = format!("http://127.0.0.1:{port}");
    let base = format!("{address}/{PROVIDER}/{SERVICE}/fhir");

    // The test's own view of the deployment: creates the key, migrates, seeds, mints.
    let overrides = settings::Overrides {
        data_dir: Some(data_dir.clone()),
        database_url: Some(database.url.clone()),
        listen: Some(format!("127.0.0.1:{port}")),
        public_url: Some(address.clone()),
    };
    let settings = settings::Settings::load_with_environment(None, &overrides, environment.clone()).expect("settings");
    let zone = settings.timezone();
    let context = Context::open(settings).await.expect("service opens");
    demo::seed(&context.store, &context.ingestor, &context.secret, PROVIDER).await.expect("demo seeded");
    let work = Arc::new(mint(&context, &base));
    context.store.close().await;
    drop(context);

    let mut server = start(&database, &data_dir, port, &environment);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    wait_until_healthy(&mut server, &client, &address).await;
    let year_at_start = metering::period::year_of(fhir_core::date::now_millis(), zone);

    // Load: TASKS clients take the next work item until told to stop.
    let next = Arc::new(AtomicUsize::new(0));
    let succeeded = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(work.len())));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (work, next, succeeded, killed, outcomes, client, base) = (
            work.clone(),
            next.clone(),
            succeeded.clone(),
            killed.clone(),
            outcomes.clone(),
            client.clone(),
            base.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                if killed.load(Ordering::SeqCst) {
                    return;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some((client_index, pseudonym, token)) = work.get(index) else { return };
                let sent_before_kill = !killed.load(Ordering::SeqCst);
                let response = client
                    .get(format!("{base}/Patient"))
                    .bearer_auth(token)
                    .header("MedMij-Request-ID", format!("kill-test-{index}"))
                    .send()
                    .await;
                let outcome = match response {
                    Ok(response) if response.status().is_success() => {
                        // The status line left the service: metered, whatever the body does.
                        let _ = response.bytes().await;
                        succeeded.fetch_add(1, Ordering::SeqCst);
                        Outcome::Success { client: *client_index, pseudonym: pseudonym.clone() }
                    }
                    Ok(response) => Outcome::Status(response.status().as_u16()),
                    Err(_) => Outcome::NoAnswer { sent_before_kill },
                };
                outcomes.lock().expect("outcomes").push(outcome);
            }
        }));
    }

    // Kill mid-load.
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let ok = succeeded.load(Ordering::SeqCst);
        let elapsed = started.elapsed();
        if ok >= KILL_AFTER_OK || (elapsed >= KILL_AFTER && ok >= MIN_CHECKED) || elapsed >= KILL_AT_THE_LATEST {
            break;
        }
        assert!(next.load(Ordering::SeqCst) < work.len(), "the work ran out before the kill");
    }
    let log_before_kill = server.log_tail();
    server.child.kill().expect("SIGKILL");
    killed.store(true, Ordering::SeqCst);
    let load_time = started.elapsed();
    server.child.wait().expect("reaped");
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(15), task).await.expect("a client stops").expect("a client task");
    }
    let year_at_end = metering::period::year_of(fhir_core::date::now_millis(), zone);

    let outcomes = std::mem::take(&mut *outcomes.lock().expect("outcomes"));
    let mut answered = Vec::new();
    let (mut no_answer_in_flight, mut no_answer_after, mut other_status) = (0, 0, Vec::new());
    for outcome in outcomes {
        match outcome {
            Outcome::Success { client, pseudonym } => answered.push((client, pseudonym)),
            Outcome::Status(status) => other_status.push(status),
            Outcome::NoAnswer { sent_before_kill: true } => no_answer_in_flight += 1,
            Outcome::NoAnswer { sent_before_kill: false } => no_answer_after += 1,
        }
    }

    // From the database alone: every answered exchange is counted.
    let store = store::Store::connect(&database.url, 2).await.expect("store reopens");
    let mut missing = Vec::new();
    for (client, pseudonym) in &answered {
        let mut found = false;
        for year in [year_at_start, year_at_end] {
            found |=
                store.usage().has_first_exchange(CLIENTS[*client], i64::from(year), pseudonym).await.expect("lookup");
        }
        if !found {
            missing.push((CLIENTS[*client], pseudonym.clone()));
        }
    }
    let stored: i64 = store
        .usage()
        .first_exchange_counts(i64::from(year_at_start), 0, i64::MAX)
        .await
        .expect("counts")
        .iter()
        .map(|(_, count)| count)
        .sum();
    store.close().await;

    let backend = if database.url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    println!(
        "kill test ({backend}): killed after {:.2} s; {} requests answered 2xx, {} checked, {} missing; \
         {} rows in exchange_firsts; {} requests in flight got no answer, {} refused after the kill; \
         other statuses: {:?}",
        load_time.as_secs_f64(),
        answered.len(),
        answered.len() - missing.len(),
        missing.len(),
        stored,
        no_answer_in_flight,
        no_answer_after,
        other_status,
    );
    assert!(
        missing.is_empty(),
        "{} of {} answered exchanges are not counted, e.g. {:?}",
        missing.len(),
        answered.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        answered.len() >= MIN_CHECKED,
        "only {} requests answered 2xx before the kill:\n{log_before_kill}",
        answered.len()
    );
    assert!(no_answer_in_flight > 0, "the kill must cut requests in flight");
    assert!(other_status.is_empty(), "unexpected statuses under load: {other_status:?}\n{log_before_kill}");
});
