//! One benchmark run per backend: load the synthetic data, start the service as a child process,
//! drive the BgZ query list, then drive the bare baseline with the same load and body size. (The
//! token endpoint's workload is in `tokens.rs`, the metering comparison in `overhead.rs`, documents
//! in `documents.rs`, sharing in `share.rs`; the scratch database and the helpers for loading,
//! tokens are shared from here, the scratch database and row counts from `scratch.rs`, child
//! processes from `children.rs`, samples from `sample.rs`, loading and tokens from `loading.rs`.)

use crate::generate::Templates;
use crate::machine;
use crate::processor;
pub(crate) use crate::scratch::{count_rows, create_scratch_database, drop_scratch_database};
use anyhow::bail;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub(crate) use crate::children::{
    free_port, open_on_free_port, spawn, spawn_app, spawn_app_witnessing, spawn_bare, spawn_with_env, wait_until_up,
};
pub(crate) use crate::loading::{load, load_persons, person_token, prepared_writes, tokens};
pub(crate) use crate::sample::{Sample, measure_window, median, percentile_ms};

/// The BgZ query list (the domain brief), as the load generator sends it.
pub(crate) const BGZ_QUERIES: &[&str] = &[
    "Patient?_include=Patient:general-practitioner",
    "Coverage?_include=Coverage:payor:Patient&_include=Coverage:payor:Organization",
    "Consent?category=http://snomed.info/sct|11291000146105",
    "Consent?category=http://snomed.info/sct|11341000146107",
    "Observation/$lastn?category=http://snomed.info/sct|118228005,http://snomed.info/sct|384821006",
    "Condition",
    "Observation/$lastn?code=http://snomed.info/sct|365508006",
    "Observation?code=http://snomed.info/sct|228366006",
    "Observation?code=http://snomed.info/sct|228273003",
    "Observation?code=http://snomed.info/sct|365980008",
    "NutritionOrder",
    "Flag",
    "AllergyIntolerance",
    "MedicationStatement?category=urn:oid:2.16.840.1.113883.2.4.3.11.60.20.77.5.3|6&_include=MedicationStatement:medication",
    "MedicationRequest?category=http://snomed.info/sct|16076005&_include=MedicationRequest:medication",
    "MedicationDispense?category=http://snomed.info/sct|422037009&_include=MedicationDispense:medication",
    "DeviceUseStatement?_include=DeviceUseStatement:device",
    "Immunization?status=completed",
    "Observation/$lastn?code=http://loinc.org|85354-9",
    "Observation/$lastn?code=http://loinc.org|29463-7",
    "Observation/$lastn?code=http://loinc.org|8302-2,http://loinc.org|8306-3,http://loinc.org|8308-9",
    "Observation/$lastn?category=http://snomed.info/sct|275711006&_include=Observation:related-target&_include=Observation:specimen",
    "Procedure?category=http://snomed.info/sct|387713003",
    "Encounter?class=http://hl7.org/fhir/v3/ActCode|IMP,http://hl7.org/fhir/v3/ActCode|ACUTE,http://hl7.org/fhir/v3/ActCode|NONAC",
    "ProcedureRequest?status=active",
    "ImmunizationRecommendation",
    "Appointment?status=booked,pending,proposed",
    "DeviceRequest?status=active&_include=DeviceRequest:device",
];

/// The provider the synthetic patients are loaded for.
pub(crate) const PROVIDER: &str = "bench";
pub(crate) const JSON: &str = "application/fhir+json";
const XML: &str = "application/fhir+xml";

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Workload {
    /// The BgZ query list at the resource server.
    BgZ,
    /// Code and refresh token exchanges at the token endpoint, with `codes` prepared codes.
    Tokens { codes: usize },
    /// The BgZ query list at the service as served (metered) and built without meter and access
    /// log, in alternating rounds.
    Metering,
    /// Documents of `bytes` bytes fetched as PDF (data service 51), against a bare handler.
    Documents { bytes: usize },
    /// Batches of a Patient and ten vital-sign Observations shared (data service 52), at most
    /// `batches` in all, against a bare handler.
    Share { batches: usize },
    /// The Vaccinaties search (R4), one person after another, against a bare handler, served
    /// witnessing `witness` (a `serve-app --witness` value).
    Vaccinations { witness: &'static str },
    /// The BgZ query list at `count` instances of the service on one PostgreSQL database behind
    /// one port, against one instance behind the same port.
    Instances { count: usize },
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) patients: usize,
    pub(crate) workload: Workload,
    pub(crate) backends: Vec<Backend>,
    pub(crate) postgres_url: String,
    pub(crate) concurrency: usize,
    pub(crate) duration: Duration,
    pub(crate) warmup: Duration,
    pub(crate) workers: usize,
    pub(crate) keep_database: bool,
    /// Measurement is split into this many alternating rounds of each server.
    pub(crate) rounds: u32,
}

/// The result of driving one server.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    /// Mean latency per query of the list, in ms.
    pub(crate) per_query_ms: Vec<f64>,
    pub(crate) requests: usize,
    pub(crate) errors: usize,
    pub(crate) per_second: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) mean_body_bytes: usize,
    /// The processor time the watched processes spent while measured.
    pub(crate) spent: processor::Spent,
}

pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    println!("machine: {}", machine::describe());
    if options.workload == Workload::Metering {
        println!(
            "load: metering, {} synthetic patients, {} concurrent connections (each a PGO collecting the BgZ of one person \
             after another), {} s warm-up, {} s measured per server (metered and logged, logged only, neither) in {} \
             rounds (order rotating), {} \
             server workers",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else if let Workload::Documents { bytes } = options.workload {
        println!(
            "load: documents, {} synthetic patients with one PDF of {bytes} bytes each, {} concurrent connections \
             (each a PGO fetching one person's document after another's), {} s warm-up, {} s measured per server in \
             {} alternating rounds, {} server workers",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else if let Workload::Share { batches } = options.workload {
        println!(
            "load: sharing, {} synthetic persons, {} concurrent connections (each a PGO sharing a batch of a Patient and \
             10 vital-sign Observations for one person after another), {} s warm-up, {} s measured per server in {} \
             alternating rounds, at most {batches} batches in all, {} server workers",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else if let Workload::Instances { count } = options.workload {
        println!(
            "load: {count} instances of the service on one PostgreSQL database behind one port (a round-robin TCP \
             forwarder), against one of them alone behind the same port; {} synthetic patients, {} concurrent \
             connections (each a PGO collecting the BgZ of one person after another), {} s warm-up, {} s measured per \
             configuration in {} alternating rounds, {} server workers per instance",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else if let Workload::Vaccinations { witness } = options.workload {
        println!(
            "load: Vaccinaties (data service 63, R4), {} synthetic patients with 2 Immunizations each, {} concurrent \
             connections (each a PGO fetching one person's vaccinations after another's), {} s warm-up, {} s measured \
             per server in {} alternating rounds, {} server workers; served witnessing {witness}",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else if let Workload::Tokens { codes } = options.workload {
        println!(
            "load: token endpoint, {} concurrent connections (each a PGO server exchanging codes, then refresh tokens), \
             {codes} prepared codes, {} synthetic patients, {} s warm-up, {} s measured per server and grant in {} \
             alternating rounds, {} server workers",
            options.concurrency,
            options.patients,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    } else {
        println!(
            "load: {} synthetic patients, {} concurrent connections (each a PGO collecting the BgZ of one person after another), \
         {} s warm-up, {} s measured per server in {} alternating rounds, {} server workers",
            options.patients,
            options.concurrency,
            options.warmup.as_secs(),
            options.duration.as_secs(),
            options.rounds,
            options.workers
        );
    }
    let templates = Templates::from_demo()?;
    if !matches!(options.workload, Workload::Documents { .. } | Workload::Share { .. } | Workload::Vaccinations { .. })
    {
        println!("records: {} per patient + {} shared resources", templates.per_patient(), templates.shared.len());
    }
    for backend in options.backends.clone() {
        run_backend(&options, &templates, backend).await?;
    }
    Ok(())
}

async fn run_backend(options: &Options, templates: &Templates, backend: Backend) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let data_dir = scratch.path().join("data");
    let (database_url, postgres_database) = match backend {
        Backend::Sqlite => (format!("sqlite://{}?mode=rwc", data_dir.join("bench.db").display()), None),
        Backend::Postgres => {
            let (url, name) = create_scratch_database(&options.postgres_url).await?;
            (url, Some(name))
        }
    };
    let result = match options.workload {
        Workload::BgZ => measure_backend(options, templates, backend, &data_dir, &database_url).await,
        Workload::Tokens { codes } => {
            crate::tokens::measure(options, templates, backend, &data_dir, &database_url, codes).await
        }
        Workload::Metering => crate::overhead::measure(options, templates, backend, &data_dir, &database_url).await,
        Workload::Documents { bytes } => {
            crate::documents::measure(options, backend, &data_dir, &database_url, bytes).await
        }
        Workload::Share { batches } => crate::share::measure(options, backend, &data_dir, &database_url, batches).await,
        Workload::Vaccinations { witness } => {
            crate::vaccinations::measure(options, backend, &data_dir, &database_url, witness).await
        }
        Workload::Instances { count } => {
            crate::instances::measure(options, templates, backend, &data_dir, &database_url, count).await
        }
    };
    if options.keep_database {
        match &postgres_database {
            Some(name) => println!("[{backend:?}] kept the database: {}/{name}", options.postgres_url),
            None => println!("[{backend:?}] kept the database: {}", scratch.keep().join("data/bench.db").display()),
        }
    } else if let Some(name) = postgres_database {
        drop_scratch_database(&options.postgres_url, &name).await;
    }
    result
}

async fn measure_backend(
    options: &Options,
    templates: &Templates,
    backend: Backend,
    data_dir: &std::path::Path,
    database_url: &str,
) -> anyhow::Result<()> {
    let (port, address, context) = open_on_free_port(data_dir, database_url, Vec::new()).await?;
    let loaded = load(&context, templates, options.patients).await?;
    println!(
        "\n[{backend:?}] loaded {} resources in {:.1} s ({:.0} resources/s)",
        loaded.0,
        loaded.1.as_secs_f64(),
        loaded.0 as f64 / loaded.1.as_secs_f64()
    );
    let tokens = Arc::new(tokens(&context, &address, options.patients)?);
    context.store.close().await;

    let mut app = spawn_app(options, data_dir, database_url, port, &[])?;
    let memory = machine::ResidentPeaks::watch(app.id());
    wait_until_up(&address).await?;
    // A first run warms the service and tells the mean body size the bare server must send.
    let calibration = drive(options, &address, tokens.clone(), options.warmup, JSON).await?;
    drive(options, &address, tokens.clone(), options.warmup, XML).await?;
    let (mut bare, bare_address) = spawn_bare(options, calibration.mean_body_bytes())?;
    wait_until_up(&bare_address).await?;
    drive(options, &bare_address, tokens.clone(), options.warmup, JSON).await?;
    // The machine is shared and its speed drifts: the servers (and our server in JSON and in
    // XML) are measured in alternating rounds, so that all see the same conditions, and the
    // ratios are taken over all rounds.
    let slice = options.duration / options.rounds.max(1);
    let (mut ours, mut baseline, mut round_ratios) = (Sample::default(), Sample::default(), Vec::new());
    let (mut xml, mut xml_ratios) = (Sample::default(), Vec::new());
    let watched_app = processor::Watched { server: app.id(), postgres: backend == Backend::Postgres };
    let watched_bare = processor::Watched { server: bare.id(), postgres: false };
    for _ in 0..options.rounds.max(1) {
        let ours_round = drive_watched(options, &address, tokens.clone(), slice, JSON, Some(&watched_app)).await?;
        let bare_round =
            drive_watched(options, &bare_address, tokens.clone(), slice, JSON, Some(&watched_bare)).await?;
        let xml_round = drive(options, &address, tokens.clone(), slice, XML).await?;
        round_ratios.push(ours_round.per_second() / bare_round.per_second());
        xml_ratios.push(xml_round.per_second() / ours_round.per_second());
        ours.merge(ours_round);
        baseline.merge(bare_round);
        xml.merge(xml_round);
    }
    let rss = machine::peak_rss_mib(app.id());
    let resident = memory.stop();
    for child in [&mut app, &mut bare] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (ours, baseline, xml) = (ours.summarize(), baseline.summarize(), xml.summarize());
    for run in [&ours, &xml] {
        if run.errors > 0 {
            bail!("{} of {} requests failed; the numbers would mean nothing", run.errors, run.requests);
        }
    }
    round_ratios.sort_by(f64::total_cmp);
    xml_ratios.sort_by(f64::total_cmp);

    println!("[{backend:?}] | server | requests/s | p50 ms | p99 ms | peak RSS MiB | mean body bytes |");
    println!(
        "[{backend:?}] | pgo-exchange | {:.0} | {:.2} | {:.2} | {} | {} |",
        ours.per_second,
        ours.p50_ms,
        ours.p99_ms,
        rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into()),
        ours.mean_body_bytes
    );
    println!(
        "[{backend:?}] | pgo-exchange, XML | {:.0} | {:.2} | {:.2} | | {} |",
        xml.per_second, xml.p50_ms, xml.p99_ms, xml.mean_body_bytes
    );
    println!(
        "[{backend:?}] | bare actix-web, same body size | {:.0} | {:.2} | {:.2} | | {} |",
        baseline.per_second, baseline.p50_ms, baseline.p99_ms, baseline.mean_body_bytes
    );
    println!(
        "[{backend:?}] pgo-exchange resident memory, peaks while serving (sampled every {} ms): anonymous (its own \
         heap and stacks) {:.0} MiB, file-backed (the binary, the database's mapped pages) {:.0} MiB, shared {:.0} MiB",
        machine::ResidentPeaks::EVERY.as_millis(),
        resident.anonymous,
        resident.file,
        resident.shared
    );
    println!(
        "[{backend:?}] XML to JSON throughput: {:.2} (per round {:.2} to {:.2}; target >= 0.70)",
        xml.per_second / ours.per_second,
        xml_ratios.first().copied().unwrap_or(0.0),
        xml_ratios.last().copied().unwrap_or(0.0)
    );
    // The targets BENCHMARKS.md measures against (PostgreSQL's own processes share the cores).
    let target = match backend {
        Backend::Sqlite => 0.40,
        Backend::Postgres => 0.36,
    };
    println!(
        "[{backend:?}] ratio to the bare limit: {:.2} over {} rounds (per round {:.2} to {:.2}; target >= {target:.2}); {} requests measured",
        ours.per_second / baseline.per_second,
        round_ratios.len(),
        round_ratios.first().copied().unwrap_or(0.0),
        round_ratios.last().copied().unwrap_or(0.0),
        ours.requests
    );
    let (app_us, bare_us) =
        (ours.spent.per_request_us(ours.requests), baseline.spent.per_request_us(baseline.requests));
    println!(
        "[{backend:?}] processor time per request (from /proc, JSON rounds): pgo-exchange {:.0} µs, PostgreSQL \
         {:.0} µs, load generator {:.0} µs, {:.0} µs in all; bare server {:.0} µs, load generator {:.0} µs, \
         {:.0} µs in all; bare to pgo-exchange in processor time: {:.2}",
        app_us.server,
        app_us.postgres,
        app_us.generator,
        app_us.total(),
        bare_us.server,
        bare_us.generator,
        bare_us.total(),
        bare_us.total() / app_us.total()
    );
    let mut slowest: Vec<(f64, &str)> = ours.per_query_ms.iter().copied().zip(BGZ_QUERIES.iter().copied()).collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("[{backend:?}] mean latency per query, slowest first:");
    for (ms, query) in slowest {
        println!("[{backend:?}]   {ms:6.2} ms  {query}");
    }
    Ok(())
}

/// Drives `address` with the BgZ query list, person after person, for a second of warm-up (new
/// connections) and then `duration` of measurement.
pub(crate) async fn drive(
    options: &Options,
    address: &str,
    tokens: Arc<Vec<String>>,
    duration: Duration,
    accept: &'static str,
) -> anyhow::Result<Sample> {
    drive_watched(options, address, tokens, duration, accept, None).await
}

/// As [`drive`], with the processor time the `watched` processes spent while measured.
async fn drive_watched(
    options: &Options,
    address: &str,
    tokens: Arc<Vec<String>>,
    duration: Duration,
    accept: &'static str,
    watched: Option<&processor::Watched>,
) -> anyhow::Result<Sample> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let base = format!("{address}/{PROVIDER}/48/fhir");
    let mut tasks = Vec::new();
    for worker in 0..options.concurrency {
        let (client, tokens, measuring, stop, base) =
            (client.clone(), tokens.clone(), measuring.clone(), stop.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample { per_query: vec![(0, 0); BGZ_QUERIES.len()], ..Sample::default() };
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1) ^ (tokens.len() as u64) << 32;
            // Each connection is a PGO collecting the BgZ of one person after another: the whole
            // query list with that person's token, as MedMij collection goes.
            let mut patient = 0;
            let mut query = BGZ_QUERIES.len();
            let mut sent = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                if query == BGZ_QUERIES.len() {
                    // xorshift: a cheap, reproducible choice of the next person.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    patient = (state % tokens.len() as u64) as usize;
                    query = 0;
                }
                let url = format!("{base}/{}", BGZ_QUERIES[query]);
                let this_query = query;
                query += 1;
                sent += 1;
                let started = Instant::now();
                // As a PGO does: the MedMij tracing ids (UUIDs) with every request.
                let outcome = client
                    .get(url)
                    .bearer_auth(&tokens[patient])
                    .header("MedMij-Request-ID", format!("{worker:08x}-0000-4000-8000-{sent:012x}"))
                    .header("X-Correlation-ID", format!("{worker:08x}-0001-4000-8000-{patient:012x}"))
                    .header("Accept", accept)
                    .send()
                    .await;
                let (ok, length) = match outcome {
                    Ok(response) => {
                        let ok = response.status() == 200;
                        (ok, response.bytes().await.map(|body| body.len()).unwrap_or(0))
                    }
                    Err(_) => (false, 0),
                };
                if measuring.load(Ordering::Relaxed) {
                    let micros = sample.record(started, length, ok);
                    sample.per_query[this_query].0 += 1;
                    sample.per_query[this_query].1 += u64::from(micros);
                }
            }
            sample
        }));
    }
    let total = Sample { per_query: vec![(0, 0); BGZ_QUERIES.len()], ..Sample::default() };
    measure_window(tasks, &measuring, &stop, duration, total, watched).await
}
