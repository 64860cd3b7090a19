//! Side by side with Helios HFS (`hfs`, the Rust FHIR server of crates.io `helios-hfs`, R4 on
//! SQLite): the same Vaccinaties records on both sides, the same search for the same persons,
//! the same load generator and concurrency, in alternating rounds.
//!
//! The records: N synthetic patients, each the R4 demo patient's Patient and her two
//! Immunizations (`Templates::vaccinations`), and the location, practitioner role, practitioner
//! and hospital they point to once. Our side loads them through ingest for a provider offering
//! data service 63, as any provider's R4 data goes in (`vaccinations.rs`); HFS gets them PUT with
//! their ids, in transaction Bundles over its FHIR API.
//!
//! The search: ours is what a PGO sends, `GET [base]/Immunization` at
//! `/{provider}/63/fhir` with the person's access token (checked, against the revocations too),
//! metered and access-logged; HFS's is `GET /Immunization?patient=Patient/<id>`, unauthenticated
//! (HFS runs with its defaults: no authorization, no audit). Both answer a searchset Bundle of
//! the person's two Immunizations; before measuring, the benchmark checks that both sides find
//! the same two for the first persons. HFS is never built here: the binary comes from
//! `--hfs-binary`, `HFS_BINARY` or `hfs` on PATH.

use crate::driver::{JSON, Options, Sample, open_on_free_port, spawn_app, wait_until_up};
use crate::generate::Templates;
use crate::machine;
use crate::vaccinations::{self, Search, drive, request};
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Patients per transaction Bundle sent to HFS (three resources each).
const PATIENTS_PER_BUNDLE: usize = 100;
/// Persons whose answers are compared between the two servers before measuring.
const CHECKED_PERSONS: usize = 20;

/// HFS finds its search parameters in its data folder, from the FHIR specification's bundle
/// (`search-parameters-r4.json`, which `cargo install` does not ship). Without them it knows only
/// `_id` and the like, and would ignore `patient`. The one parameter searched here, as R4
/// defines it for Immunization (`clinical-patient`), is given as a custom file instead.
const PATIENT_SEARCH_PARAMETER: &str = r#"{
  "resourceType": "SearchParameter",
  "id": "clinical-patient",
  "url": "http://hl7.org/fhir/SearchParameter/clinical-patient",
  "name": "patient",
  "status": "active",
  "code": "patient",
  "base": ["Immunization"],
  "type": "reference",
  "expression": "Immunization.patient",
  "target": ["Patient"]
}
"#;

/// The HFS binary: `explicit` (`--hfs-binary` or `HFS_BINARY`), else `hfs` on PATH.
pub(crate) fn find_binary(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    const INSTALL: &str = "install it with `cargo install helios-hfs --locked --root DIR` (about 20 minutes on 2 cores) \
                           and give DIR/bin/hfs with --hfs-binary or HFS_BINARY, or put it on PATH; the benchmark \
                           never builds it";
    if let Some(path) = explicit {
        if path.is_file() {
            return Ok(path);
        }
        bail!("no Helios HFS binary at {}: {INSTALL}", path.display());
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|folder| folder.join("hfs"))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("Helios HFS (`hfs`) is not on PATH: {INSTALL}"))
}

/// The two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Hfs,
}

/// One server's rounds: all requests, and per round requests/s, p50 and p99 in ms; with its
/// processor time while measured.
#[derive(Debug, Default)]
struct Measured {
    sample: Sample,
    rounds: Vec<(f64, f64, f64)>,
    cpu_seconds: f64,
}

pub(crate) async fn run(options: Options, binary: PathBuf) -> anyhow::Result<()> {
    println!("machine: {}", machine::describe());
    println!(
        "load: Vaccinaties side by side with Helios HFS ({}), {} synthetic patients with 2 Immunizations each, {} \
         concurrent connections (each a PGO fetching one person's vaccinations after another's), {} s warm-up, {} s \
         measured per server in {} alternating rounds, {} server workers; SQLite on both sides",
        binary.display(),
        options.patients,
        options.concurrency,
        options.warmup.as_secs(),
        options.duration.as_secs(),
        options.rounds,
        options.workers
    );
    let templates = Templates::vaccinations()?;
    let scratch = tempfile::tempdir()?;
    let data_dir = scratch.path().join("data");
    let database_url = format!("sqlite://{}?mode=rwc", data_dir.join("bench.db").display());
    let (port, address, context) = open_on_free_port(&data_dir, &database_url, Vec::new()).await?;
    let started = Instant::now();
    let loaded = vaccinations::load(&context, &templates, options.patients).await?;
    println!(
        "\n[pgo-exchange] loaded {loaded} resources through ingest in {:.1} s ({:.0} resources/s)",
        started.elapsed().as_secs_f64(),
        loaded as f64 / started.elapsed().as_secs_f64()
    );
    let ours = vaccinations::searches(&context, &address, options.patients)?;
    context.store.close().await;

    let hfs_dir = scratch.path().join("hfs");
    let mut children: Vec<Child> = vec![spawn_app(&options, &data_dir, &database_url, port, &[])?];
    let hfs_port = crate::driver::free_port()?;
    let hfs_address = format!("http://127.0.0.1:{hfs_port}");
    match spawn_hfs(&binary, &hfs_dir, hfs_port) {
        Ok(child) => children.push(child),
        Err(error) => {
            stop(&mut children);
            return Err(error);
        }
    }
    let theirs: Vec<Search> = (0..options.patients)
        .map(|index| Search {
            url: format!("{hfs_address}/Immunization?patient=Patient/{}", patient_id(&templates, index)),
            token: None,
        })
        .collect();
    let result = async {
        wait_until_up(&address).await?;
        wait_for_hfs(&hfs_address, &mut children[1], &hfs_dir).await?;
        let started = Instant::now();
        let loaded = load_hfs(&hfs_address, &templates, options.patients).await?;
        println!(
            "[HFS] loaded {loaded} resources with PUTs in transaction Bundles of {PATIENTS_PER_BUNDLE} patients in {:.1} s \
             ({:.0} resources/s)",
            started.elapsed().as_secs_f64(),
            loaded as f64 / started.elapsed().as_secs_f64()
        );
        check_answers(&ours, &theirs).await?;
        compare(&options, [Arc::new(ours), Arc::new(theirs)], [children[0].id(), children[1].id()]).await
    }
    .await;
    let rss: Vec<Option<f64>> = children.iter().map(|child| machine::peak_rss_mib(child.id())).collect();
    stop(&mut children);
    let (ours, theirs) = result?;
    for (name, measured) in [("pgo-exchange", &ours), ("HFS", &theirs)] {
        if measured.sample.errors > 0 {
            bail!(
                "{name}: {} of {} requests failed; the numbers would mean nothing",
                measured.sample.errors,
                measured.sample.latencies.len()
            );
        }
    }
    report(&ours, &theirs, &rss);
    Ok(())
}

fn stop(children: &mut [Child]) {
    for child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The id of synthetic patient `index`'s Patient.
fn patient_id(templates: &Templates, index: usize) -> String {
    templates
        .patient(index)
        .1
        .iter()
        .find(|resource| resource["resourceType"] == "Patient")
        .and_then(|patient| patient["id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// Starts HFS on `port` with a SQLite file and its data folder in `folder`, its output to
/// `folder/hfs.log`.
fn spawn_hfs(binary: &Path, folder: &Path, port: u16) -> anyhow::Result<Child> {
    let data = folder.join("data");
    std::fs::create_dir_all(&data)?;
    std::fs::write(data.join("immunization-patient.json"), PATIENT_SEARCH_PARAMETER)?;
    let log = std::fs::File::create(folder.join("hfs.log"))?;
    Command::new(binary)
        .current_dir(folder)
        .args(["--host", "127.0.0.1", "--port", &port.to_string(), "--log-level", "warn"])
        .arg("--database-url")
        .arg(folder.join("fhir.db"))
        .arg("--data-dir")
        .arg(&data)
        .env("HFS_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("HFS_DEFAULT_FHIR_VERSION", "R4")
        // Nothing but the FHIR API: no web UI, no natural-language search.
        .env("HFS_UI_ENABLED", "false")
        .env("HFS_NL_SEARCH_ENABLED", "false")
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))
}

/// Waits until HFS answers `/health`, for up to 2 minutes (it sets its database up first).
async fn wait_for_hfs(address: &str, child: &mut Child, folder: &Path) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let log = || std::fs::read_to_string(folder.join("hfs.log")).unwrap_or_default();
    for _ in 0..1200 {
        if let Ok(response) = client.get(format!("{address}/health")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            bail!("HFS exited ({status}) before it answered; its output:\n{}", log());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("HFS did not answer {address}/health within 2 minutes; its output:\n{}", log())
}

/// PUTs the shared resources, then the patients' records, in transaction Bundles; returns how
/// many resources HFS stored.
async fn load_hfs(address: &str, templates: &Templates, patients: usize) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(120)).build()?;
    let mut written = transaction(&client, address, templates.shared.clone()).await?;
    for start in (0..patients).step_by(PATIENTS_PER_BUNDLE) {
        let resources =
            (start..(start + PATIENTS_PER_BUNDLE).min(patients)).flat_map(|index| templates.patient(index).1);
        written += transaction(&client, address, resources.collect()).await?;
    }
    Ok(written)
}

/// One transaction Bundle of a PUT per resource, with its id; returns the entries HFS answered
/// 200 or 201.
async fn transaction(client: &reqwest::Client, address: &str, resources: Vec<Value>) -> anyhow::Result<usize> {
    let count = resources.len();
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|resource| {
            let url = format!("{}/{}", resource["resourceType"].as_str().unwrap_or(""), resource["id"].as_str().unwrap_or(""));
            json!({"fullUrl": format!("{address}/{url}"), "resource": resource, "request": {"method": "PUT", "url": url}})
        })
        .collect();
    let bundle = json!({"resourceType": "Bundle", "type": "transaction", "entry": entries});
    let response = client
        .post(format!("{address}/"))
        .header("Content-Type", JSON)
        .header("Accept", JSON)
        .body(bundle.to_string())
        .send()
        .await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("HFS answered the transaction {status}: {}", &text[..text.len().min(1000)]);
    }
    let answer: Value = serde_json::from_str(&text)?;
    let stored = answer["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["response"]["status"].as_str().is_some_and(|status| status.starts_with("20")))
        .count();
    if stored != count {
        bail!("HFS stored {stored} of the {count} resources of a transaction: {}", &text[..text.len().min(1000)]);
    }
    Ok(stored)
}

/// Checks that both servers answer the first persons' searches with the same two Immunizations.
async fn check_answers(ours: &[Search], theirs: &[Search]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for (index, (mine, hers)) in ours.iter().zip(theirs).take(CHECKED_PERSONS).enumerate() {
        let (mine, hers) = (immunization_ids(&client, mine).await?, immunization_ids(&client, hers).await?);
        if mine.len() != 2 || mine != hers {
            bail!(
                "person {index}: pgo-exchange found {mine:?}, HFS {hers:?}; both should find the same two Immunizations"
            );
        }
    }
    println!("checked: both servers find the same 2 Immunizations for each of the first {CHECKED_PERSONS} persons");
    Ok(())
}

/// The sorted ids of the Immunizations the search `search` finds.
async fn immunization_ids(client: &reqwest::Client, search: &Search) -> anyhow::Result<Vec<String>> {
    let response = request(client, search, 0, 0).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status != 200 {
        bail!("{} answered {status}: {}", search.url, &text[..text.len().min(600)]);
    }
    let bundle: Value = serde_json::from_str(&text)?;
    let mut ids: Vec<String> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["resource"]["resourceType"] == "Immunization")
        .filter_map(|entry| entry["resource"]["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    Ok(ids)
}

/// Warms both servers, then measures them in alternating rounds (ours first in even rounds).
async fn compare(
    options: &Options,
    searches: [Arc<Vec<Search>>; 2],
    pids: [u32; 2],
) -> anyhow::Result<(Measured, Measured)> {
    for side in &searches {
        drive(options, side.clone(), options.warmup).await?;
    }
    let rounds = options.rounds.max(1);
    let slice = options.duration / rounds;
    let mut measured = [Measured::default(), Measured::default()];
    for round in 0..rounds {
        let order = if round % 2 == 0 { [Side::Ours, Side::Hfs] } else { [Side::Hfs, Side::Ours] };
        for side in order {
            let index = usize::from(side == Side::Hfs);
            let before = machine::cpu_seconds(pids[index]).unwrap_or(0.0);
            let sample = drive(options, searches[index].clone(), slice).await?;
            measured[index].cpu_seconds += machine::cpu_seconds(pids[index]).unwrap_or(0.0) - before;
            let latencies = &sample.latencies;
            measured[index].rounds.push((
                sample.per_second(),
                crate::driver::percentile_ms(latencies, 0.50),
                crate::driver::percentile_ms(latencies, 0.99),
            ));
            measured[index].sample.merge(sample);
        }
    }
    let [ours, theirs] = measured;
    Ok((ours, theirs))
}

fn report(ours: &Measured, theirs: &Measured, rss: &[Option<f64>]) {
    println!("| round | pgo-exchange req/s | p50 ms | p99 ms | HFS req/s | p50 ms | p99 ms | ours/HFS |");
    let mut ratios = Vec::new();
    for (round, (mine, hers)) in ours.rounds.iter().zip(&theirs.rounds).enumerate() {
        let ratio = mine.0 / hers.0.max(f64::MIN_POSITIVE);
        ratios.push(ratio);
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {ratio:.2} |",
            round + 1,
            mine.0,
            mine.1,
            mine.2,
            hers.0,
            hers.1,
            hers.2
        );
    }
    let all = |measured: &Measured| {
        (
            measured.sample.per_second(),
            crate::driver::percentile_ms(&measured.sample.latencies, 0.50),
            crate::driver::percentile_ms(&measured.sample.latencies, 0.99),
        )
    };
    let (mine, hers) = (all(ours), all(theirs));
    println!(
        "| all | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2} |",
        mine.0,
        mine.1,
        mine.2,
        hers.0,
        hers.1,
        hers.2,
        mine.0 / hers.0.max(f64::MIN_POSITIVE)
    );
    ratios.sort_by(f64::total_cmp);
    let median = crate::driver::median(&ratios);
    println!("ours/HFS: median of the rounds {median:.2}");
    let mib = |index: usize| {
        rss.get(index).copied().flatten().map(|mib| format!("{mib:.0} MiB")).unwrap_or_else(|| "?".into())
    };
    for (index, (name, measured)) in [("pgo-exchange", ours), ("HFS", theirs)].into_iter().enumerate() {
        println!(
            "{name}: {} requests, mean body {} bytes, {:.0} µs of processor time per request, peak RSS {}",
            measured.sample.latencies.len(),
            measured.sample.mean_body_bytes(),
            measured.cpu_seconds / measured.sample.latencies.len().max(1) as f64 * 1e6,
            mib(index)
        );
    }
}
