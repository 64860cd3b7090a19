//! `--validation`: what profile validation costs. First the validator alone (the Nictiz STU3
//! package loaded once): resources validated per second against the profiles they claim, on one
//! thread and on every core, for the BgZ demo set (one synthetic patient's records and the shared
//! ones) and for the package's 208 published examples. Then the benchmark's load of synthetic
//! patients through ingest into SQLite twice in the same run, without and with the package, each
//! into a fresh database.

use crate::driver::{self, Options};
use crate::generate::Templates;
use crate::machine;
use fhir_core::Release;
use profile_validator::Validator;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long each throughput measurement runs.
const WINDOW: Duration = Duration::from_secs(5);

/// The published STU3 package's profiles folder (next to it, `examples/`).
pub(crate) fn default_package() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus/stu3-zib2017-package/profiles")
}

pub(crate) async fn measure(options: &Options, templates: &Templates, package: &Path) -> anyhow::Result<()> {
    println!("machine: {}", machine::describe());
    anyhow::ensure!(package.is_dir(), "the package folder {} is missing (--package)", package.display());
    let started = Instant::now();
    let validator = Validator::load(Release::Stu3, &[package])?;
    println!(
        "validator: {} profiles of {} loaded in {} ms ({} definitions not used)",
        validator.profile_count(),
        package.display(),
        started.elapsed().as_millis(),
        validator.problems().len()
    );
    let mut bgz: Vec<Value> = templates.shared.clone();
    bgz.extend(templates.patient(0).1);
    throughput(&validator, "BgZ demo set", &bgz);
    let examples = published_examples(&package.join("../examples"))?;
    throughput(&validator, "published examples", &examples);

    println!(
        "ingest: {} synthetic patients ({} resources each) into SQLite",
        options.patients,
        templates.per_patient()
    );
    let package_setting = package.display().to_string();
    let mut rates = Vec::new();
    for (name, environment) in [
        ("without validation", Vec::new()),
        ("with validation", vec![("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3".to_owned(), package_setting.clone())]),
    ] {
        let scratch = tempfile::tempdir()?;
        let data_dir = scratch.path().join("data");
        let database_url = format!("sqlite://{}?mode=rwc", data_dir.join("bench.db").display());
        let (_, _, context) = driver::open_on_free_port(&data_dir, &database_url, environment).await?;
        let (written, elapsed) = driver::load(&context, templates, options.patients).await?;
        let rate = written as f64 / elapsed.as_secs_f64();
        println!("ingest {name}: {written} resources in {:.1} s: {rate:.0} resources/s", elapsed.as_secs_f64());
        rates.push(rate);
        context.store.close().await;
    }
    if let [without, with] = rates.as_slice() {
        println!("ingest rate with validation / without: {:.2}", with / without);
    }
    Ok(())
}

/// Validates `resources` against their claims over and over for `WINDOW`, on one thread and on
/// every core; prints resources per second and how many findings one pass gives.
fn throughput(validator: &Validator, name: &str, resources: &[Value]) {
    let findings: usize = resources.iter().map(|resource| validator.validate_claimed(resource).findings.len()).sum();
    let one = run_for(validator, resources, 1);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let all = run_for(validator, resources, cores);
    println!(
        "validate {name} ({} resources, {findings} findings a pass): {one:.0} resources/s on 1 thread, {all:.0} on {cores}",
        resources.len()
    );
}

fn run_for(validator: &Validator, resources: &[Value], threads: usize) -> f64 {
    let started = Instant::now();
    let done: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0;
                    while started.elapsed() < WINDOW {
                        for resource in resources {
                            std::hint::black_box(validator.validate_claimed(resource));
                            count += 1;
                        }
                    }
                    count
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap_or(0)).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

/// The package's examples (FHIR XML), read in spite of ordering faults.
fn published_examples(dir: &Path) -> anyhow::Result<Vec<Value>> {
    let mut resources = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "xml") {
            let bytes = std::fs::read(&path)?;
            let (resource, _) = fhir_xml::from_xml_noting_order(Release::Stu3, &bytes, fhir_xml::ReadLimits::default())
                .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
            resources.push(resource);
        }
    }
    Ok(resources)
}
