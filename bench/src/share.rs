//! Delen under load (data service 52): PGOs sharing persons' vital signs with a provider. Each
//! request is a `batch` Bundle of the person's Patient entry (an `urn:oid:` fullUrl, no BSN) and
//! ten vital-sign Observations (body weight, blood pressure, heart rate) naming it as subject and
//! performer, `POST [base]` with that person's access token for data service 52 alone; every
//! connection takes the persons in turn. In alternating rounds the same requests go to a bare
//! handler that reads the body and answers as many bytes as the service's mean answer. Prints
//! batches/s, p50/p99, the ratio to the bare handler, the service's peak RSS, and the processor
//! time the service (and PostgreSQL) spent per batch.
//!
//! Every answer of the service must be a 200 holding ten `201 Created` entries (one per
//! Observation); any other answer is an error and fails the run. Afterwards the database must
//! hold as many Observations, and as many `shared_items` rows, as the answers counted `201
//! Created`, warm-ups included. The run is bounded by its rounds' time and by `--batches`, the
//! most batches sent to the service in all (each one stores ten resources).

use crate::driver::{
    Backend, Options, Sample, count_rows, measure_window, open_on_free_port, spawn_app, spawn_bare, wait_until_up,
};
use crate::machine;
use anyhow::bail;
use pgo_exchange::Context;
use serde_json::{Value, json};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use store::NewProvider;

/// The provider the persons share with.
const PROVIDER: &str = "benchshare";
/// Vital signs (Meetwaarden vitale functies), the data service shared under.
const DATA_SERVICE: &str = "52";
/// Observations in each shared batch (besides its Patient entry).
const OBSERVATIONS: usize = 10;
/// What the answer says of each stored entry.
const CREATED: &[u8] = b"\"201 Created\"";
const NL_CORE_PATIENT: &str = "http://fhir.nl/fhir/StructureDefinition/nl-core-patient";

/// One person: the access token and the Bundle the PGO shares for them.
#[derive(Debug)]
struct Person {
    token: String,
    bundle: String,
}

/// What the service's answers said over every drive, warm-ups included, and the bound on the
/// batches sent to it.
#[derive(Debug)]
struct Tally {
    /// Batches the service may still be sent.
    left: AtomicUsize,
    /// The bound ran out.
    exhausted: AtomicBool,
    /// Batches answered as they should be: 200, an entry `201 Created` per Observation.
    answered: AtomicUsize,
    /// `201 Created` entries in the answers.
    created: AtomicUsize,
    /// Batches answered otherwise, or not at all.
    failed: AtomicUsize,
    /// The first failed answer was shown.
    shown: AtomicBool,
}

impl Tally {
    fn new(batches: usize) -> Tally {
        Tally {
            left: AtomicUsize::new(batches),
            exhausted: AtomicBool::new(false),
            answered: AtomicUsize::new(0),
            created: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            shown: AtomicBool::new(false),
        }
    }

    /// Takes one batch from the bound; false when it ran out.
    fn take(&self) -> bool {
        let taken = self.left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_ok();
        if !taken {
            self.exhausted.store(true, Ordering::Relaxed);
        }
        taken
    }

    /// Counts the service's answer (`None`: no answer); whether it was as it should be.
    fn check(&self, answer: Option<(u16, &[u8])>) -> bool {
        let created = match answer {
            Some((200, body)) => body.windows(CREATED.len()).filter(|window| *window == CREATED).count(),
            _ => 0,
        };
        self.created.fetch_add(created, Ordering::Relaxed);
        if created == OBSERVATIONS {
            self.answered.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        self.failed.fetch_add(1, Ordering::Relaxed);
        if !self.shown.swap(true, Ordering::Relaxed) {
            let (status, body) = answer.unwrap_or((0, b"(no answer)"));
            let shown = String::from_utf8_lossy(&body[..body.len().min(600)]).into_owned();
            eprintln!("a batch was answered {status} with {created} of {OBSERVATIONS} entries created: {shown}");
        }
        false
    }
}

/// Loads `patients` persons (a Patient with a BSN each) for a provider offering data service
/// 52; returns how many resources were written.
async fn load(context: &Context, patients: usize) -> anyhow::Result<usize> {
    let new = NewProvider {
        name: PROVIDER.into(),
        display_name: "Benchmark sharing".into(),
        data_services: vec![DATA_SERVICE.into()],
    };
    crate::driver::load_persons(context, &new, (patients, 200), |_| Vec::new()).await
}

/// Each person's token (scope: data service 52 alone, as a share requires) and Bundle.
fn persons(context: &Context, address: &str, patients: usize) -> anyhow::Result<Vec<Person>> {
    (0..patients)
        .map(|index| {
            let token = crate::driver::person_token(context, address, (PROVIDER, DATA_SERVICE), index)?;
            Ok(Person { token, bundle: bundle(index).to_string() })
        })
        .collect()
}

/// The batch person `index` shares: their Patient (matched to the token's person, never stored)
/// and ten measurements of their own.
fn bundle(index: usize) -> Value {
    let patient = format!("urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.{}", index + 1);
    let mut entries = vec![json!({
        "fullUrl": patient,
        "resource": {"resourceType": "Patient", "meta": {"profile": [NL_CORE_PATIENT]},
            "identifier": [{"system": "urn:oid:2.16.840.1.113883.2.4.3.11.999.9999", "value": (index + 1).to_string()}],
            "name": [{"text": format!("Deelnemer {}", index + 1)}]},
        "request": {"method": "POST", "url": "Patient"},
    })];
    for entry in 0..OBSERVATIONS {
        entries.push(json!({
            "fullUrl": format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            "resource": observation(index, entry, &patient),
            "request": {"method": "POST", "url": "Observation"},
        }));
    }
    json!({"resourceType": "Bundle", "type": "batch", "entry": entries})
}

/// Measurement `entry` of person `index`, as the project's vital-sign fixtures are written:
/// a body weight, a blood pressure or a heart rate, measured by the person themselves.
fn observation(index: usize, entry: usize, patient: &str) -> Value {
    let vary = (index * 7 + entry * 13) % 40;
    let (profile, code, display, text) = match entry % 3 {
        0 => ("zib-BodyWeight", "29463-7", "Body weight", format!("Lichaamsgewicht {} kg", 60 + vary)),
        1 => (
            "zib-BloodPressure",
            "85354-9",
            "Blood pressure panel with all children optional",
            format!("Bloeddruk {}/{} mmHg", 110 + vary, 70 + vary / 2),
        ),
        _ => ("zib-HeartRate", "8867-4", "Heart rate", format!("Hartfrequentie {} /min", 55 + vary)),
    };
    let mut observation = json!({
        "resourceType": "Observation",
        "meta": {"profile": [format!("http://nictiz.nl/fhir/StructureDefinition/{profile}")]},
        "text": {"status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>{text}</p></div>")},
        "status": "final",
        "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
        "subject": {"reference": patient},
        "effectiveDateTime": format!("2026-03-{:02}T07:{:02}:00+01:00", entry + 1, vary),
        "performer": [{"reference": patient}],
    });
    let quantity = |value: usize, unit: &str, code: &str| json!({"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": code});
    let component = |code: &str, display: &str, value: usize| {
        json!({"code": {"coding": [{"system": "http://loinc.org", "code": code, "display": display}]},
            "valueQuantity": quantity(value, "mmHg", "mm[Hg]")})
    };
    match entry % 3 {
        0 => observation["valueQuantity"] = quantity(60 + vary, "kg", "kg"),
        1 => {
            observation["component"] = json!([
                component("8480-6", "Systolic blood pressure", 110 + vary),
                component("8462-4", "Diastolic blood pressure", 70 + vary / 2),
            ]);
        }
        _ => observation["valueQuantity"] = quantity(55 + vary, "/min", "/min"),
    }
    observation
}

/// POSTs the persons' batches to `base` for `duration` after a second of warm-up, each connection
/// taking the persons in turn. With a `tally` (the service) every answer is checked and counted,
/// and a batch is sent only while the tally's bound lasts; without (the bare handler) an answer
/// counts when it is a 200.
async fn drive(
    options: &Options,
    base: &str,
    persons: Arc<Vec<Person>>,
    duration: Duration,
    tally: Option<Arc<Tally>>,
) -> anyhow::Result<Sample> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(options.concurrency).build()?;
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for worker in 0..options.concurrency {
        let (client, persons, measuring, stop, tally, base) =
            (client.clone(), persons.clone(), measuring.clone(), stop.clone(), tally.clone(), base.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut sample = Sample::default();
            let (mut person, mut sent) = (worker % persons.len(), 0_u64);
            while !stop.load(Ordering::Relaxed) {
                if tally.as_ref().is_some_and(|tally| !tally.take()) {
                    break;
                }
                person = (person + 7) % persons.len();
                sent += 1;
                let started = Instant::now();
                // As a PGO does: the MedMij tracing ids (UUIDs) with every request.
                let outcome = client
                    .post(&base)
                    .bearer_auth(&persons[person].token)
                    .header("Content-Type", crate::driver::JSON)
                    .header("Accept", crate::driver::JSON)
                    .header("MedMij-Request-ID", format!("{worker:08x}-0004-4000-8000-{sent:012x}"))
                    .header("X-Correlation-ID", format!("{worker:08x}-0005-4000-8000-{person:012x}"))
                    .body(persons[person].bundle.clone())
                    .send()
                    .await;
                let answer = match outcome {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        response.bytes().await.ok().map(|body| (status, body))
                    }
                    Err(_) => None,
                };
                let answered = answer.as_ref().map(|(status, body)| (*status, body.as_ref()));
                let ok = match &tally {
                    Some(tally) => tally.check(answered),
                    None => matches!(answered, Some((200, _))),
                };
                if measuring.load(Ordering::Relaxed) {
                    sample.record(started, answered.map_or(0, |(_, body)| body.len()), ok);
                }
            }
            sample
        }));
    }
    measure_window(tasks, &measuring, &stop, duration, Sample::default(), None).await
}

/// Loads the persons on `backend`, lets them share against the service and the bare handler,
/// checks what was stored, and prints what was measured.
pub(crate) async fn measure(
    options: &Options,
    backend: Backend,
    data_dir: &std::path::Path,
    database_url: &str,
    batches: usize,
) -> anyhow::Result<()> {
    let (port, address, context) = open_on_free_port(data_dir, database_url, Vec::new()).await?;
    let loading = Instant::now();
    let written = load(&context, options.patients.max(1)).await?;
    println!(
        "\n[{backend:?}] loaded {written} Patients for provider {PROVIDER} (data service {DATA_SERVICE}) in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let persons = Arc::new(persons(&context, &address, options.patients.max(1))?);
    context.store.close().await;
    let tally = Arc::new(Tally::new(batches));
    let mut app = spawn_app(options, data_dir, database_url, port, &[])?;
    let mut bare = None;
    let rounds = alternate(options, &address, &persons, &tally, &mut app, &mut bare).await;
    let rss = machine::peak_rss_mib(app.id());
    for child in std::iter::once(&mut app).chain(bare.as_mut()) {
        let _ = child.kill();
        let _ = child.wait();
    }
    let rounds = rounds?;
    let failed = tally.failed.load(Ordering::Relaxed);
    if failed > 0 {
        bail!(
            "{failed} batches were not answered 200 with {OBSERVATIONS} entries created; the numbers would mean nothing"
        );
    }
    if tally.exhausted.load(Ordering::Relaxed) {
        bail!("the bound of {batches} batches ran out before the rounds ended: raise --batches or shorten --duration");
    }
    // What the answers said was stored, against what the database holds.
    let created = tally.created.load(Ordering::Relaxed);
    let answered = tally.answered.load(Ordering::Relaxed);
    let stored =
        count_rows(backend, database_url, "SELECT count(*) FROM resources WHERE resource_type = 'Observation'").await?;
    let provenance = count_rows(backend, database_url, "SELECT count(*) FROM shared_items").await?;
    if created != answered * OBSERVATIONS || i64::try_from(created)? != stored || i64::try_from(created)? != provenance
    {
        bail!(
            "{answered} batches answered with {created} entries created, but {stored} Observations and {provenance} \
             shared items are stored"
        );
    }
    report(backend, rounds, rss, &persons);
    println!(
        "[{backend:?}] checked: {answered} batches answered 200 (warm-ups included), {created} entries 201 Created \
         = {stored} Observations stored = {provenance} shared items; no other answer"
    );
    Ok(())
}

/// What the alternating rounds measured.
#[derive(Debug)]
struct Rounds {
    ours: Sample,
    baseline: Sample,
    ratios: Vec<f64>,
    /// Processor seconds of the service, and of every PostgreSQL process, in the service's rounds
    /// (each with its second of warm-up), the batches answered then and the wall-clock seconds.
    service_cpu: f64,
    postgres_cpu: f64,
    service_batches: usize,
    service_seconds: f64,
}

/// Warms both servers up (the bare one is started here, `bare`, with the service's mean answer
/// size), then measures them in alternating rounds.
async fn alternate(
    options: &Options,
    address: &str,
    persons: &Arc<Vec<Person>>,
    tally: &Arc<Tally>,
    app: &mut Child,
    bare: &mut Option<Child>,
) -> anyhow::Result<Rounds> {
    wait_until_up(address).await?;
    let base = format!("{address}/{PROVIDER}/{DATA_SERVICE}/fhir");
    let calibration = drive(options, &base, persons.clone(), options.warmup, Some(tally.clone())).await?;
    let (child, bare_address) = spawn_bare(options, calibration.mean_body_bytes())?;
    *bare = Some(child);
    wait_until_up(&bare_address).await?;
    let bare_base = format!("{bare_address}/{PROVIDER}/{DATA_SERVICE}/fhir");
    drive(options, &bare_base, persons.clone(), options.warmup, None).await?;
    let slice = options.duration / options.rounds.max(1);
    let mut rounds = Rounds {
        ours: Sample::default(),
        baseline: Sample::default(),
        ratios: Vec::new(),
        service_cpu: 0.0,
        postgres_cpu: 0.0,
        service_batches: 0,
        service_seconds: 0.0,
    };
    for _ in 0..options.rounds.max(1) {
        let (service, postgres) = (machine::cpu_seconds(app.id()).unwrap_or(0.0), machine::postgres_cpu_seconds());
        let (answered, started) = (tally.answered.load(Ordering::Relaxed), Instant::now());
        let ours = drive(options, &base, persons.clone(), slice, Some(tally.clone())).await?;
        rounds.service_seconds += started.elapsed().as_secs_f64();
        rounds.service_batches += tally.answered.load(Ordering::Relaxed) - answered;
        rounds.service_cpu += machine::cpu_seconds(app.id()).unwrap_or(0.0) - service;
        rounds.postgres_cpu += machine::postgres_cpu_seconds() - postgres;
        let baseline = drive(options, &bare_base, persons.clone(), slice, None).await?;
        rounds.ratios.push(ours.per_second() / baseline.per_second());
        rounds.ours.merge(ours);
        rounds.baseline.merge(baseline);
    }
    Ok(rounds)
}

fn report(backend: Backend, rounds: Rounds, rss: Option<f64>, persons: &[Person]) {
    let Rounds { ours, baseline, mut ratios, service_cpu, postgres_cpu, service_batches, service_seconds } = rounds;
    let (ours, baseline) = (ours.summarize(), baseline.summarize());
    ratios.sort_by(f64::total_cmp);
    let request_bytes = persons.iter().map(|person| person.bundle.len()).sum::<usize>() / persons.len().max(1);
    println!(
        "[{backend:?}] | server | batches/s | Observations/s | p50 ms | p99 ms | peak RSS MiB | mean answer bytes |"
    );
    println!(
        "[{backend:?}] | pgo-exchange, batch of a Patient and {OBSERVATIONS} Observations | {:.0} | {:.0} | {:.2} | {:.2} | {} | {} |",
        ours.per_second,
        ours.per_second * OBSERVATIONS as f64,
        ours.p50_ms,
        ours.p99_ms,
        rss.map(|mib| format!("{mib:.0}")).unwrap_or_else(|| "?".into()),
        ours.mean_body_bytes
    );
    println!(
        "[{backend:?}] | bare actix-web, same requests, same answer size | {:.0} | | {:.2} | {:.2} | | {} |",
        baseline.per_second, baseline.p50_ms, baseline.p99_ms, baseline.mean_body_bytes
    );
    println!(
        "[{backend:?}] ratio to the bare limit: {:.3} over {} rounds (per round {:.3} to {:.3}); {} batches measured; \
         mean request body {request_bytes} bytes",
        ours.per_second / baseline.per_second,
        ratios.len(),
        ratios.first().copied().unwrap_or(0.0),
        ratios.last().copied().unwrap_or(0.0),
        ours.requests
    );
    // Processor time hardly depends on what else the shared machine was doing, unlike a rate.
    let batches = service_batches.max(1) as f64;
    let postgres = match backend {
        Backend::Postgres => format!(", PostgreSQL {:.0} µs", postgres_cpu * 1e6 / batches),
        Backend::Sqlite => String::new(),
    };
    println!(
        "[{backend:?}] processor time per batch: service {:.0} µs{postgres}; the service busy {:.2} cores on average in its rounds",
        service_cpu * 1e6 / batches,
        service_cpu / service_seconds.max(f64::MIN_POSITIVE)
    );
}
