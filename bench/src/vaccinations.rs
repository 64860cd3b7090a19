//! The Vaccinaties search (data service 63, R4) at saturation: PGOs fetching one person's
//! vaccinations after another's (`GET [base]/Immunization` with the person's token, checked,
//! metered and access-logged), against a bare handler answering bodies of the same mean size, in
//! alternating rounds, with the latency of every round. The records and the search are also what
//! the side-by-side with Helios HFS (`hfs.rs`) measures on our side.

use crate::driver::{
    Backend, JSON, Options, Sample, measure_window, open_on_free_port, person_token, spawn_app_witnessing, spawn_bare,
    wait_until_up,
};
use crate::generate::Templates;
use crate::machine;
use anyhow::bail;
use fhir_core::Release;
use pgo_exchange::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use store::NewProvider;

/// The provider the vaccinations are loaded for.
const PROVIDER: &str = "benchvacc";
/// Vaccinaties.
const DATA_SERVICE: &str = "63";
/// Patients stored per write while loading.
const PATIENTS_PER_WRITE: usize = 100;

/// One person's search at one server: the URL, and the access token if the server wants one.
#[derive(Debug, Clone)]
pub(crate) struct Search {
    pub(crate) url: String,
    pub(crate) token: Option<String>,
}

/// Loads the shared resources and `patients` synthetic patients through ingest, for a provider
/// offering Vaccinaties (R4); returns how many resources were written.
pub(crate) async fn load(context: &Context, templates: &Templates, patients: usize) -> anyhow::Result<usize> {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Benchmark vaccinations".into(),
        data_services: vec![DATA_SERVICE.into()],
    };
    let provider = context.store.upsert_provider(&new, None).await?;
    let prepare = |resources| crate::driver::prepared_writes(context, &provider, Release::R4, resources);
    let mut written = context.store.write(provider.id, prepare(templates.shared.clone())?).await?.len();
    for start in (0..patients).step_by(PATIENTS_PER_WRITE) {
        let mut writes = Vec::new();
        for index in start..(start + PATIENTS_PER_WRITE).min(patients) {
            writes.extend(prepare(templates.patient(index).1)?);
        }
        written += context.store.write(provider.id, writes).await?.len();
    }
    context.store.analyze(store::Filled::Resources).await?;
    Ok(written)
}

/// Each person's search at our server at `address`, with their access token.
pub(crate) fn searches(context: &Context, address: &str, patients: usize) -> anyhow::Result<Vec<Search>> {
    let base = format!("{address}/{PROVIDER}/{DATA_SERVICE}/fhir");
    (0..patients)
        .map(|index| {
            let token = person_token(context, address, (PROVIDER, DATA_SERVICE), index)?;
            Ok(Search { url: format!("{base}/Immunization"), token: Some(token) })
        })
        .collect()
}

/// The GET of `search`, with the person's token and a PGO's MedMij tracing ids where the server
/// wants a token.
pub(crate) fn request(client: &reqwest::Client, search: &Search, worker: usize, sent: u64) -> reqwest::RequestBuilder {
    let request = client.get(&search.url).header("Accept", JSON);
    match &search.token {
        Some(token) => request
            .bearer_auth(token)
            .header("MedMij-Request-ID", format!("{worker:08x}-0000-4000-8000-{sent:012x}"))
            .header("X-Correlation-ID", format!("{worker:08x}-0001-4000-8000-{sent:012x}")),
        None => request,
    }
}

/// Drives the searches `searches` (one per person) for a second of warm-up and then `duration`:
/// each connection a PGO fetching one person's vaccinations after another's.
pub(crate) async fn drive(options: &Options, searches: Arc<Vec<Search>>, duration: Duration) -> anyhow::Result<Sample> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..options.concurrency {
        let (client, searches, measuring, stop) = (client.clone(), searches.clone(), measuring.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample::default();
            // The same xorshift as the BgZ drive: a cheap, reproducible choice of the next person.
            let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1) ^ (searches.len() as u64) << 32;
            let mut sent = 0_u64;
            while !stop.load(Ordering::Relaxed) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let search = &searches[(state % searches.len() as u64) as usize];
                sent += 1;
                let started = Instant::now();
                let (ok, length) = match request(&client, search, worker, sent).send().await {
                    Ok(response) => {
                        let ok = response.status() == 200;
                        (ok, response.bytes().await.map(|body| body.len()).unwrap_or(0))
                    }
                    Err(_) => (false, 0),
                };
                if measuring.load(Ordering::Relaxed) {
                    sample.record(started, length, ok);
                }
            }
            sample
        }));
    }
    measure_window(tasks, &measuring, &stop, duration, Sample::default(), None).await
}

/// One round of one server: requests/s, p50 and p99 in ms.
fn round_of(sample: &Sample) -> (f64, f64, f64) {
    (
        sample.per_second(),
        crate::driver::percentile_ms(&sample.latencies, 0.50),
        crate::driver::percentile_ms(&sample.latencies, 0.99),
    )
}

/// Loads the vaccinations on `backend`, serves them and a bare handler, and prints what was
/// measured, round by round.
pub(crate) async fn measure(
    options: &Options,
    backend: Backend,
    data_dir: &std::path::Path,
    database_url: &str,
    witness: &str,
) -> anyhow::Result<()> {
    let templates = Templates::vaccinations()?;
    let (port, address, context) = open_on_free_port(data_dir, database_url, Vec::new()).await?;
    let loading = Instant::now();
    let written = load(&context, &templates, options.patients).await?;
    println!("\n[{backend:?}] loaded {written} resources through ingest in {:.1} s", loading.elapsed().as_secs_f64());
    let ours = Arc::new(searches(&context, &address, options.patients)?);
    context.store.close().await;
    let mut app = spawn_app_witnessing(options, data_dir, database_url, port, witness, &[])?;
    let memory = machine::ResidentPeaks::watch(app.id());
    wait_until_up(&address).await?;
    // A first drive warms the service and tells the body size the bare handler must send.
    let calibration = drive(options, ours.clone(), options.warmup).await?;
    if calibration.errors > 0 {
        bail!("{} of {} warm-up searches failed", calibration.errors, calibration.latencies.len());
    }
    let (mut bare, bare_address) = spawn_bare(options, calibration.mean_body_bytes())?;
    wait_until_up(&bare_address).await?;
    let bare_searches: Vec<Search> = ours
        .iter()
        .map(|search| Search { url: search.url.replacen(&address, &bare_address, 1), token: search.token.clone() })
        .collect();
    let bare_searches = Arc::new(bare_searches);
    drive(options, bare_searches.clone(), options.warmup).await?;
    let slice = options.duration / options.rounds.max(1);
    let (mut all_ours, mut all_bare, mut rounds) = (Sample::default(), Sample::default(), Vec::new());
    let cpu_before = machine::cpu_seconds(app.id()).unwrap_or(0.0);
    let mut cpu_ours = 0.0;
    for _ in 0..options.rounds.max(1) {
        let before = machine::cpu_seconds(app.id()).unwrap_or(cpu_before);
        let ours_round = drive(options, ours.clone(), slice).await?;
        cpu_ours += machine::cpu_seconds(app.id()).unwrap_or(before) - before;
        let bare_round = drive(options, bare_searches.clone(), slice).await?;
        rounds.push((round_of(&ours_round), round_of(&bare_round)));
        all_ours.merge(ours_round);
        all_bare.merge(bare_round);
    }
    let resident = memory.stop();
    for child in [&mut app, &mut bare] {
        let _ = child.kill();
        let _ = child.wait();
    }
    if all_ours.errors > 0 {
        bail!("{} of {} searches failed; the numbers would mean nothing", all_ours.errors, all_ours.latencies.len());
    }
    println!("[{backend:?}] | round | pgo-exchange req/s | p50 ms | p99 ms | bare req/s | p50 ms | p99 ms | ratio |");
    let mut ratios = Vec::new();
    for (index, (mine, bare)) in rounds.iter().enumerate() {
        let ratio = mine.0 / bare.0.max(f64::MIN_POSITIVE);
        ratios.push(ratio);
        println!(
            "[{backend:?}] | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {ratio:.2} |",
            index + 1,
            mine.0,
            mine.1,
            mine.2,
            bare.0,
            bare.1,
            bare.2
        );
    }
    let (mine, bare) = (round_of(&all_ours), round_of(&all_bare));
    println!(
        "[{backend:?}] | all | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} |",
        mine.0,
        mine.1,
        mine.2,
        bare.0,
        bare.1,
        bare.2,
        mine.0 / bare.0.max(f64::MIN_POSITIVE)
    );
    ratios.sort_by(f64::total_cmp);
    let worst_p99 = rounds.iter().map(|(mine, _)| mine.2).fold(0.0, f64::max);
    println!(
        "[{backend:?}] p99 {:.2} ms over all rounds, {worst_p99:.2} ms in the worst round (target < 10); ratio to the \
         bare limit: median of the rounds {:.2}",
        mine.2,
        crate::driver::median(&ratios)
    );
    println!(
        "[{backend:?}] {} searches, mean body {} bytes, {:.0} µs of the service's processor time per search; resident \
         peaks: anonymous {:.0} MiB, file-backed {:.0} MiB",
        all_ours.latencies.len(),
        all_ours.mean_body_bytes(),
        cpu_ours / all_ours.latencies.len().max(1) as f64 * 1e6,
        resident.anonymous,
        resident.file
    );
    Ok(())
}
