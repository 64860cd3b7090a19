//! Stopping: the real `pgo-exchange serve` runs as a child process and is signalled with the
//! `kill` command, as a supervisor does.
//! - SIGTERM, the graceful stop: a PGO's share (data service 52) is in flight, half its Bundle
//!   sent, when the signal comes. The share must still be answered 2xx once the rest arrives; the
//!   process must then end by itself with status 0; and the share's access-log entry, queued only
//!   as it was answered (during the stop), must be in the database afterwards, its first exchange
//!   metered.
//! - SIGINT, the immediate stop: right after a burst of requests, whose access-log entries are
//!   still gathering into a batch (25 ms), the process must write them all before it ends.
//!
//! Runs on SQLite and, with `PGO_EXCHANGE_TEST_POSTGRES`, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use access_token::Grant;
use base64::Engine;
use fhir_core::Release;
use pgo_exchange::Context;
use serde_json::{Value, json};
use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use test_support::{TestDatabase, on_both_backends};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROVIDER: &str = "vitaal";
const LOTTE_BSN: &str = "999955019";
const PGO: &str = "pgo.example.nl";
const PATIENT_OID: &str = "urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.1";

/// The child process, killed and reaped however the test ends, and its log.
struct Server {
    child: Child,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends `signal` (`-TERM`, `-INT`) with the `kill` command.
    fn signal(&self, signal: &str) {
        let sent = Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill {signal}");
    }

    /// Waits for the process to end by itself, and checks that it ended well.
    async fn ends_well(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the process did not end:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(status.success(), "the process ended with {status}:\n{}", self.log());
    }
}

/// A deployment of one provider of data service 52 holding Lotte's Patient, and a share token.
struct Deployment {
    environment: Vec<(String, String)>,
    data_dir: PathBuf,
    address: String,
    token: String,
    pseudonym: String,
    year: i64,
}

impl Deployment {
    async fn make(database: &TestDatabase) -> Deployment {
        let secret = base64::engine::general_purpose::STANDARD.encode([0x3c_u8; 32]);
        let environment = vec![
            ("PGO_EXCHANGE__SECRETS__DEPLOYMENT_SECRET".to_owned(), secret),
            ("PGO_EXCHANGE__LOG__LEVEL".to_owned(), "info".to_owned()),
        ];
        let data_dir = database.dir.path().join("data");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let address = format!("127.0.0.1:{port}");
        let overrides = settings::Overrides {
            data_dir: Some(data_dir.clone()),
            database_url: Some(database.url.clone()),
            listen: Some(address.clone()),
            public_url: Some(format!("http://{address}")),
        };
        let settings = settings::Settings::load_with_environment(None, &overrides, environment.clone()).unwrap();
        let year = i64::from(metering::period::year_of(fhir_core::date::now_millis(), settings.timezone()));
        let context = Context::open(settings).await.expect("service opens");
        let new = store::NewProvider {
            name: PROVIDER.into(),
            display_name: "Vitaal".into(),
            data_services: vec!["52".into()],
        };
        let provider = context.store.create_provider(&new, None).await.unwrap();
        let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/fixtures/vitalsigns");
        let files = ingest::collect_files(&[fixtures.join("Patient-vs-lotte.json")]).unwrap();
        let options = ingest::LoadOptions { release: Some(Release::Stu3), batch_size: 10 };
        let loaded = context.ingestor.load(&context.store, &provider, &files, options, |_| {}).await.unwrap();
        assert!(loaded.rejected.is_empty(), "{loaded:#?}");
        let pseudonym = context.secret.pseudonym(LOTTE_BSN);
        let grant = Grant {
            person_key: context.secret.person_key(PROVIDER, LOTTE_BSN),
            pseudonym: pseudonym.clone(),
            client_id: PGO.into(),
            provider: PROVIDER.into(),
            scope: format!("{PROVIDER}~52").parse().unwrap(),
            audience: vec![format!("http://{address}/{PROVIDER}/52/fhir")],
            consent: None,
        };
        let token = context.token_issuer().issue(&grant).unwrap().token;
        context.store.close().await;
        Deployment { environment, data_dir, address, token, pseudonym, year }
    }

    /// Starts `pgo-exchange serve` and waits until it answers.
    async fn serve(&self, database: &TestDatabase) -> Server {
        let log = database.dir.path().join(format!("serve-{}.log", fhir_core::request_id::generate()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_pgo-exchange"));
        command.args(["--data-dir", &self.data_dir.display().to_string(), "--database-url", &database.url]).args([
            "serve",
            "--listen",
            &self.address,
            "--public-url",
            &format!("http://{}", self.address),
        ]);
        for (name, _) in std::env::vars() {
            if name.starts_with("PGO_EXCHANGE__") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command.envs(self.environment.iter().cloned()).stdin(Stdio::null()).stdout(Stdio::null());
        let mut server = Server { child: command.stderr(File::create(&log).unwrap()).spawn().unwrap(), log };
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let health = format!("http://{}/health", self.address);
        while !client.get(&health).send().await.is_ok_and(|answer| answer.status() == 200) {
            assert!(server.child.try_wait().unwrap().is_none(), "the service exited at start-up:\n{}", server.log());
            assert!(Instant::now() < deadline, "the service did not start:\n{}", server.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        server
    }
}

/// The access-log entries of the last hours, read from the database after the process ended.
async fn access_log(database: &TestDatabase) -> Vec<store::AccessEntry> {
    let store = store::Store::connect(&database.url, 2).await.unwrap();
    let now = fhir_core::date::now_millis();
    let logged = store.usage().access_log_between(now - 3_600_000, now + 60_000, None, 0, 1000).await.unwrap();
    store.close().await;
    logged.into_iter().map(|(_, entry)| entry).collect()
}

/// A batch sharing one body weight of the token's person, in the qualification's form.
fn shared_weight() -> String {
    let patient = json!({"fullUrl": PATIENT_OID,
        "resource": {"resourceType": "Patient", "id": "self",
            "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
            "identifier": [{"system": "http://example.org/pgo/patient-id", "value": "p-1"}]},
        "request": {"method": "POST", "url": "Patient"}});
    let weight = json!({"fullUrl": "urn:uuid:5ba1c0de-0000-4000-8000-00000000a001",
        "resource": {"resourceType": "Observation",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BodyWeight"]},
            "status": "final",
            "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7", "display": "Body weight"}]},
            "subject": {"reference": PATIENT_OID}, "effectiveDateTime": "2026-03-01",
            "performer": [{"reference": PATIENT_OID}],
            "valueQuantity": {"value": 70.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}},
        "request": {"method": "POST", "url": "Observation"}});
    let bundle: Value = json!({"resourceType": "Bundle", "type": "batch", "entry": [patient, weight]});
    bundle.to_string()
}

on_both_backends!(a_sigterm_finishes_the_request_in_flight_and_writes_its_access_log, |database| {
    let deployment = Deployment::make(&database).await;
    let mut server = deployment.serve(&database).await;

    // The share: its head and half its Bundle, then SIGTERM, then the rest.
    let body = shared_weight();
    let request_id = fhir_core::request_id::generate();
    let head = format!(
        "POST /{PROVIDER}/52/fhir HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/fhir+json\r\nMedMij-Request-ID: {request_id}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        deployment.address,
        deployment.token,
        body.len()
    );
    let (first_half, second_half) = body.as_bytes().split_at(body.len() / 2);
    let mut connection = tokio::net::TcpStream::connect(&deployment.address).await.unwrap();
    connection.write_all(head.as_bytes()).await.unwrap();
    connection.write_all(first_half).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.signal("-TERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.child.try_wait().unwrap().is_none(), "ended with a request in flight:\n{}", server.log());
    connection.write_all(second_half).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "the share in flight was not answered:\n{answer}\n{}", server.log());
    server.ends_well().await;

    // From the database alone: the share is logged and metered.
    let logged = access_log(&database).await;
    let entry = logged.iter().find(|entry| entry.request_id == request_id);
    let entry = entry.unwrap_or_else(|| panic!("the share's access-log entry is lost:\n{}", server.log()));
    assert_eq!((entry.status, entry.interaction), (200, store::Interaction::Batch));
    assert_eq!(entry.client_id.as_deref(), Some(PGO));
    let store = store::Store::connect(&database.url, 2).await.unwrap();
    let metered = store.usage().has_first_exchange(PGO, deployment.year, &deployment.pseudonym).await.unwrap();
    store.close().await;
    assert!(metered, "the share is not metered");
});

/// Requests in the burst before SIGINT.
const BURST: usize = 40;

on_both_backends!(a_sigint_still_writes_the_access_log_entries_queued, |database| {
    let deployment = Deployment::make(&database).await;
    let mut server = deployment.serve(&database).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let url = format!("http://{}/{PROVIDER}/52/fhir/Observation", deployment.address);
    let ids: Vec<String> = (0..BURST).map(|_| fhir_core::request_id::generate()).collect();
    let mut burst = tokio::task::JoinSet::new();
    for id in &ids {
        let request = client.get(&url).bearer_auth(&deployment.token).header("MedMij-Request-ID", id);
        burst.spawn(async move { request.send().await.map(|answer| answer.status().as_u16()) });
    }
    let statuses = burst.join_all().await;
    // At once: the last entries are still gathering into a batch.
    server.signal("-INT");
    assert!(statuses.iter().all(|status| status.as_ref().is_ok_and(|status| *status == 200)), "{statuses:?}");
    server.ends_well().await;
    let logged = access_log(&database).await;
    let lost: Vec<&String> = ids.iter().filter(|id| !logged.iter().any(|entry| &entry.request_id == *id)).collect();
    assert!(lost.is_empty(), "{} of {BURST} access-log entries lost:\n{}", lost.len(), server.log());
});
