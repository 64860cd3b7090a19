//! The cost of serving documents (data service 51): PGOs fetching persons' PDFs
//! (`GET [base]/Binary/{id}`, `Accept: application/pdf`, each through the person's own
//! DocumentReference) of a given size, against a bare handler sending as many bytes, in
//! alternating rounds; with the service's peak resident memory, since a document is held whole
//! while it is sent.

use crate::driver::{
    Backend, Options, Sample, measure_window, open_on_free_port, spawn_app, spawn_bare, wait_until_up,
};
use crate::machine;
use anyhow::bail;
use base64::Engine;
use pgo_exchange::Context;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use store::NewProvider;

/// The provider the documents are loaded for.
const PROVIDER: &str = "benchdocs";

/// A PDF-shaped document of `bytes` bytes (a header, filler that does not compress, a trailer).
fn document(bytes: usize) -> Vec<u8> {
    let mut document = b"%PDF-1.7\n".to_vec();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    while document.len() + 6 < bytes {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        document.push(b' ' + (state % 90) as u8);
    }
    document.extend_from_slice(b"%%EOF\n");
    document.truncate(bytes.max(15));
    document
}

/// Loads `patients` persons, each with one document of `bytes` bytes (Patient, Binary,
/// DocumentReference); returns how many resources were written.
async fn load(context: &Context, patients: usize, bytes: usize) -> anyhow::Result<usize> {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Benchmark documents".into(),
        data_services: vec!["51".into()],
    };
    let content = base64::engine::general_purpose::STANDARD.encode(document(bytes));
    crate::driver::load_persons(context, &new, (patients, 20), |index| {
        vec![
            json!({"resourceType": "Binary", "id": format!("doc{index}"), "contentType": "application/pdf", "content": content}),
            json!({"resourceType": "DocumentReference", "id": format!("ref{index}"),
                "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference"]},
                "status": "current", "subject": {"reference": format!("Patient/p{index}")},
                "type": {"coding": [{"system": "http://snomed.info/sct", "code": "11071000146104"}]},
                "indexed": "2026-03-01T10:00:00Z",
                "content": [{"attachment": {"contentType": "application/pdf", "url": format!("Binary/doc{index}")}}]}),
        ]
    })
    .await
}

fn tokens(context: &Context, address: &str, patients: usize) -> anyhow::Result<Vec<String>> {
    (0..patients).map(|index| crate::driver::person_token(context, address, (PROVIDER, "51"), index)).collect()
}

/// Fetches each person's document, one person after another, for `duration` after a second of
/// warm-up; a request counts as an error unless it brings `bytes` bytes with a 200.
async fn drive(
    options: &Options,
    address: &str,
    tokens: Arc<Vec<String>>,
    duration: Duration,
    bytes: usize,
) -> anyhow::Result<Sample> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let base = format!("{address}/{PROVIDER}/51/fhir");
    let mut tasks = Vec::new();
    for worker in 0..options.concurrency {
        let (client, tokens, measuring, stop, base) =
            (client.clone(), tokens.clone(), measuring.clone(), stop.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample::default();
            let mut patient = worker % tokens.len();
            while !stop.load(Ordering::Relaxed) {
                patient = (patient + 7) % tokens.len();
                let started = Instant::now();
                let outcome = client
                    .get(format!("{base}/Binary/doc{patient}"))
                    .bearer_auth(&tokens[patient])
                    .header("Accept", "application/pdf")
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
                    sample.record(started, length, ok && length == bytes);
                }
            }
            sample
        }));
    }
    measure_window(tasks, &measuring, &stop, duration, Sample::default(), None).await
}

/// Loads the documents on `backend`, serves them and a bare handler, and prints what was measured.
pub(crate) async fn measure(
    options: &Options,
    backend: Backend,
    data_dir: &std::path::Path,
    database_url: &str,
    bytes: usize,
) -> anyhow::Result<()> {
    let (port, address, context) = open_on_free_port(data_dir, database_url, Vec::new()).await?;
    let loading = Instant::now();
    let written = load(&context, options.patients, bytes).await?;
    println!(
        "\n[{backend:?}] loaded {written} resources ({} documents of {bytes} bytes) in {:.1} s",
        options.patients,
        loading.elapsed().as_secs_f64()
    );
    let tokens = Arc::new(tokens(&context, &address, options.patients)?);
    context.store.close().await;
    let mut app = spawn_app(options, data_dir, database_url, port, &[])?;
    wait_until_up(&address).await?;
    let (mut bare, bare_address) = spawn_bare(options, bytes)?;
    wait_until_up(&bare_address).await?;
    drive(options, &address, tokens.clone(), options.warmup, bytes).await?;
    drive(options, &bare_address, tokens.clone(), options.warmup, bytes).await?;
    let slice = options.duration / options.rounds.max(1);
    let (mut ours, mut baseline, mut ratios) = (Sample::default(), Sample::default(), Vec::new());
    for _ in 0..options.rounds.max(1) {
        let ours_round = drive(options, &address, tokens.clone(), slice, bytes).await?;
        let bare_round = drive(options, &bare_address, tokens.clone(), slice, bytes).await?;
        ratios.push(ours_round.per_second() / bare_round.per_second());
        ours.merge(ours_round);
        baseline.merge(bare_round);
    }
    let rss = machine::peak_rss_mib(app.id());
    for child in [&mut app, &mut bare] {
        let _ = child.kill();
        let _ = child.wait();
    }
    let (ours, baseline) = (ours.summarize(), baseline.summarize());
    if ours.errors > 0 {
        bail!("{} of {} document requests failed; the numbers would mean nothing", ours.errors, ours.requests);
    }
    ratios.sort_by(f64::total_cmp);
    let megabytes = |per_second: f64| per_second * bytes as f64 / 1_048_576.0;
    println!("[{backend:?}] | server | documents/s | MiB/s | p50 ms | p99 ms | peak RSS MiB |");
    println!(
        "[{backend:?}] | pgo-exchange, Binary as PDF | {:.0} | {:.0} | {:.2} | {:.2} | {} |",
        ours.per_second,
        megabytes(ours.per_second),
        ours.p50_ms,
        ours.p99_ms,
        rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into())
    );
    println!(
        "[{backend:?}] | bare actix-web, same bytes | {:.0} | {:.0} | {:.2} | {:.2} | |",
        baseline.per_second,
        megabytes(baseline.per_second),
        baseline.p50_ms,
        baseline.p99_ms
    );
    println!(
        "[{backend:?}] ratio to the bare limit: {:.2} over {} rounds (per round {:.2} to {:.2}); {} documents measured",
        ours.per_second / baseline.per_second,
        ratios.len(),
        ratios.first().copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0),
        ours.requests
    );
    Ok(())
}
