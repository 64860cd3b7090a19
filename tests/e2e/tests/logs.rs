//! What the service logs: never a request's query string or body, at any level, not even for a
//! request that fails inside; and never a request id that is not a UUID. The service's own
//! subscriber layers (text with span context, and JSON lines) write into a buffer here, at
//! `trace` for everything the service runs; this binary holds only these tests, so nothing else
//! writes there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use e2e::{ANNA, PROVIDER, TestApp};
use std::sync::{Arc, Mutex, OnceLock};
use test_support::on_both_backends;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// A BSN (it passes the 11-test) that only these tests send, in queries, bodies and headers.
const SECRET_BSN: &str = "123456782";

/// Everything logged so far.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = {
            let buffer = buffer.clone();
            move || Sink(buffer.clone())
        };
        // The test's own HTTP client logs the URLs it calls; that is not the service.
        let filter = tracing_subscriber::EnvFilter::new("trace,reqwest=off,hyper=off,hyper_util=off,h2=off");
        tracing_subscriber::registry()
            .with(filter)
            .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(writer.clone()))
            .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_writer(writer))
            .try_init()
            .expect("the only subscriber");
        buffer
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

on_both_backends!(no_query_body_or_foreign_request_id_reaches_a_log_line, |database| {
    let logs = logs();
    let auditor_hash = metering::secret_hash("auditor-secret");
    let app =
        // No collections kept: the request made to fail inside the database below would be
        // answered from the person's collection that the first query read.
        TestApp::start_authorization(
            database,
            &[
                ("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", &auditor_hash),
                ("PGO_EXCHANGE__DATABASE__COLLECTION_CACHE_MIB", "0"),
            ],
        )
        .await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let bsn_query = format!("identifier=http://fhir.nl/fhir/NamingSystem/bsn|{SECRET_BSN}&note={SECRET_BSN}");
    let get = |url: String| app.client.get(url).bearer_auth(&token).header("MedMij-Request-ID", SECRET_BSN).send();

    // Answered, refused by the search rules, refused for the token, unknown path.
    assert_eq!(get(format!("{base}/Patient?{bsn_query}")).await.unwrap().status(), 200);
    assert_eq!(get(format!("{base}/Observation?date={SECRET_BSN}")).await.unwrap().status(), 400);
    let anonymous = app.client.get(format!("{base}/Patient?{bsn_query}")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(get(format!("{}/nowhere?{bsn_query}", app.address)).await.unwrap().status(), 404);
    // The authorization request, the token endpoint and ingest, with the BSN in query and body.
    let authorize = format!(
        "{}/oauth/authorize?response_type=code&client_id={SECRET_BSN}&state={SECRET_BSN}&MedMij-Request-ID={SECRET_BSN}",
        app.address
    );
    assert_eq!(app.client.get(authorize).send().await.unwrap().status(), 400);
    // A listed PGO asking for a "data service" that is the BSN: redirected back, not logged.
    let scope = format!("{PROVIDER}~{SECRET_BSN}");
    let mut pairs = e2e::pgo::request(e2e::pgo::PGO, &scope, SECRET_BSN, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    pairs.retain(|(name, _)| *name != "MedMij-Request-ID");
    pairs.push(("MedMij-Request-ID", SECRET_BSN));
    let refused = app.client.get(e2e::pgo::authorize_url(&app, &pairs)).send().await.unwrap();
    assert_eq!(refused.status(), 303);
    // An auditor's report for a "client" that is the BSN.
    let auditor = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .basic_auth("nza", Some("auditor-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let auditor: serde_json::Value = auditor.json().await.unwrap();
    let usage = app
        .client
        .get(format!("{}/audit/usage?period=2026-01&client={SECRET_BSN}", app.address))
        .bearer_auth(auditor["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(usage.status(), 200);
    let token_request = app
        .client
        .post(format!("{}/oauth/token?{bsn_query}", app.address))
        .form(&[("grant_type", "refresh_token"), ("client_id", SECRET_BSN), ("refresh_token", SECRET_BSN)])
        .send()
        .await
        .unwrap();
    assert_eq!(token_request.status(), 401);
    let auditor = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .basic_auth(SECRET_BSN, Some(SECRET_BSN))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(auditor.status(), 401);
    let ingest = app
        .client
        .put(format!("{}/ingest/{PROVIDER}/stu3/Patient/x?{bsn_query}", app.address))
        .bearer_auth(&app.ingest_key)
        .header("Content-Type", "application/fhir+json")
        .body(format!(
            "{{\"resourceType\": \"Patient\", \"id\": \"x\", \"identifier\": [{{\"value\": \"{SECRET_BSN}\"}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(ingest.status(), 400);

    // A PGO's own ids: kept, echoed, and on every line logged while the request is served.
    let (request_id, correlation_id) = (fhir_core::request_id::generate(), fhir_core::request_id::generate());
    let traced = app
        .client
        .get(format!("{base}/Patient"))
        .bearer_auth(&token)
        .header("MedMij-Request-ID", &request_id)
        .header("X-Correlation-ID", &correlation_id)
        .send()
        .await
        .unwrap();
    assert_eq!(traced.status(), 200);
    assert_eq!(traced.headers()["medmij-request-id"], request_id.as_str());

    // A request that fails inside: the table behind searches is gone.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.context.settings.database_url()).await.unwrap();
    sqlx::query("ALTER TABLE resources RENAME TO resources_gone").execute(&pool).await.unwrap();
    let failed = get(format!("{base}/Observation?{bsn_query}")).await.unwrap();
    assert_eq!(failed.status(), 500);

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(text.contains("/demoziekenhuis/48/fhir/Observation"), "the paths are logged");
    assert!(text.contains("store error"), "the failure is logged");
    // The JSON line of that search names the request's ids (its root span's fields).
    let carries_ids = |line: &serde_json::Value| {
        line["spans"].as_array().into_iter().flatten().any(|span| {
            span["medmij_request_id"] == request_id.as_str() && span["correlation_id"] == correlation_id.as_str()
        })
    };
    let json_lines: Vec<serde_json::Value> = text.lines().filter_map(|line| serde_json::from_str(line).ok()).collect();
    assert!(
        json_lines.iter().any(|line| line["fields"]["message"] == "search" && carries_ids(line)),
        "no JSON line of the search carries its MedMij-Request-ID and X-Correlation-ID"
    );
    let leaks: Vec<&str> = text.lines().filter(|line| line.contains(SECRET_BSN)).collect();
    assert!(
        leaks.is_empty(),
        "{} log lines hold the BSN, e.g.:\n{}",
        leaks.len(),
        leaks[..leaks.len().min(5)].join("\n")
    );
});
