//! A receiving system's script (a PGO sends data to the provider) against a stand-in that records
//! what it receives: a `batch` posted to the base with `Prefer: return=representation`, a
//! `create` in XML answered 201 without a body, and the asserts on their responses; only with
//! `allow_writes`, and not run without it.

use super::{Recorder, assert_action, counts, http, r4_operation, scenario, write};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use pgo_conformance::outcome::{RunReport, Verdict};
use pgo_conformance::testscript::{self, TestScriptTarget};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The token the script names, the target's token it maps to, and the target's token for the rest.
const SCRIPT_TOKEN: &str = "script-token-0001";
const MAPPED_TOKEN: &str = "receiving-token-mapped";
const TARGET_TOKEN: &str = "receiving-token-fallback";

/// A request the stand-in received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(field, _)| field == name).map(|(_, value)| value.as_str())
    }
}

type Log = Arc<Mutex<Vec<Received>>>;

/// Starts the stand-in; its FHIR base (`http://127.0.0.1:port/fhir`) and what it will receive.
fn spawn_receiver() -> (String, Log) {
    let log = Log::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/fhir", listener.local_addr().unwrap());
    let shared = log.clone();
    let server =
        HttpServer::new(move || App::new().app_data(web::Data::new(shared.clone())).default_service(web::to(receive)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
    tokio::spawn(server);
    (base, log)
}

/// Records the request; a batch at the base is answered with its `batch-response` (the resources
/// in it when `Prefer` asks for their representation), a create of a Patient with 201, a
/// `Location` and no body (as `return=minimal` asks).
async fn receive(request: HttpRequest, body: web::Bytes, log: web::Data<Log>) -> HttpResponse {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
        .collect();
    let received = Received {
        method: request.method().as_str().to_owned(),
        path: request.path().to_owned(),
        headers,
        body: body.to_vec(),
    };
    let representation = received.header("prefer") == Some("return=representation");
    log.lock().unwrap().push(received);
    match (request.method().as_str(), request.path()) {
        ("POST", "/fhir") => {
            let sent: Value = serde_json::from_slice(&body).unwrap_or_default();
            let entries: Vec<Value> = sent["entry"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|entry| {
                    let resource = &entry["resource"];
                    let kind = resource["resourceType"].as_str().unwrap_or_default();
                    let id = resource["id"].as_str().unwrap_or_default();
                    let response = json!({"status": "201 Created", "location": format!("{kind}/{id}/_history/1")});
                    if representation {
                        json!({"resource": resource, "response": response})
                    } else {
                        json!({"response": response})
                    }
                })
                .collect();
            let answer = json!({"resourceType": "Bundle", "type": "batch-response", "entry": entries});
            HttpResponse::Ok().content_type("application/fhir+json;charset=utf-8").body(answer.to_string())
        }
        ("POST", "/fhir/Patient") => {
            HttpResponse::Created().insert_header(("Location", "Patient/new/_history/1")).finish()
        }
        _ => HttpResponse::NotFound().finish(),
    }
}

/// The script: a batch of two resources, then a Patient created in XML.
fn receiving_script(dir: &Path, base: &str) {
    std::fs::create_dir(dir.join("fixtures")).unwrap();
    let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [
        {"fullUrl": "urn:uuid:5f0c1c9e-2b6e-4d8a-9a57-0c1b2d3e4f50",
            "resource": {"resourceType": "Patient", "id": "shared-a", "gender": "female"},
            "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:6a1d2e3f-4b5c-4d6e-8f70-1a2b3c4d5e6f",
            "resource": {"resourceType": "Observation", "id": "shared-b", "status": "final", "code": {"text": "weight"},
                "subject": {"reference": "urn:uuid:5f0c1c9e-2b6e-4d8a-9a57-0c1b2d3e4f50"}},
            "request": {"method": "POST", "url": "Observation"}},
    ]});
    write(&dir.join("fixtures"), "batch.json", &bundle);
    write(
        &dir.join("fixtures"),
        "patient.json",
        &json!({"resourceType": "Patient", "id": "created", "gender": "male"}),
    );
    let batch = r4_operation(
        "batch",
        json!({
            "sourceId": "shared", "contentType": "json", "requestId": "batch-request", "responseId": "batch-response",
            "requestHeader": [
                {"field": "Prefer", "value": "return=representation"},
                {"field": "Authorization", "value": format!("Bearer {SCRIPT_TOKEN}")},
            ],
        }),
    );
    let create = r4_operation(
        "create",
        json!({
            "resource": "Patient", "sourceId": "new-patient", "contentType": "xml", "responseId": "created",
            "requestHeader": [{"field": "Prefer", "value": "return=minimal"}],
        }),
    );
    let script = json!({
        "resourceType": "TestScript", "id": "receiving", "name": "receiving", "status": "active",
        "url": "http://qualification.example/fhir/TestScript/receiving",
        "fixture": [
            {"id": "shared", "autocreate": false, "autodelete": false, "resource": {"reference": "fixtures/batch.json"}},
            {"id": "new-patient", "autocreate": false, "autodelete": false, "resource": {"reference": "fixtures/patient.json"}},
        ],
        "variable": [{"name": "firstStatus", "expression": "Bundle.entry.first().response.status", "sourceId": "batch-response"}],
        "test": [
            {"name": "batch", "action": [
                batch,
                assert_action(json!({"responseCode": "200"})),
                assert_action(json!({"response": "okay"})),
                assert_action(json!({"expression": "Bundle.type = 'batch-response'", "sourceId": "batch-response"})),
                assert_action(json!({"expression": "Bundle.entry.resource.count() = 2"})),
                assert_action(json!({"expression": "'${firstStatus}'.startsWith('201')"})),
                assert_action(json!({"requestURL": base, "sourceId": "batch-request"})),
                assert_action(json!({"requestMethod": "post"})),
                assert_action(json!({"direction": "request", "headerField": "Prefer", "value": "return=representation"})),
                assert_action(json!({"validateProfileId": "batch-response-profile"})),
            ]},
            {"name": "create", "action": [
                create,
                assert_action(json!({"response": "created"})),
                assert_action(json!({"headerField": "Location", "operator": "contains", "value": "Patient/"})),
                assert_action(json!({"description": "the created Patient", "resource": "Patient", "sourceId": "created"})),
                assert_action(json!({"expression": "Bundle.type = 'batch-response'", "sourceId": "batch-response"})),
            ]},
        ],
    });
    write(dir, "receiving.json", &script);
}

/// Runs the scripts in `dir` against `base`, writes allowed or not.
async fn run_receiving(dir: &Path, base: &str, allow_writes: bool) -> RunReport {
    let mut target = TestScriptTarget::new(base, Some(TARGET_TOKEN), &[]).unwrap();
    target.token_map = vec![(SCRIPT_TOKEN.to_owned(), MAPPED_TOKEN.to_owned())];
    target.allow_writes = allow_writes;
    let recorder = Recorder::default();
    let report = testscript::run_with_load(dir, &target, None, &http(), &recorder).await.unwrap();
    assert_eq!(recorder.told.into_inner().unwrap().0, report.scenarios.len());
    report
}

#[tokio::test]
async fn with_allow_writes_a_batch_and_an_xml_create_are_sent_to_the_target_and_their_responses_checked() {
    let (base, log) = spawn_receiver();
    let dir = tempfile::tempdir().unwrap();
    receiving_script(dir.path(), &base);

    let report = run_receiving(dir.path(), &base, true).await;

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:#?}");
    let batch = &received[0];
    assert_eq!((batch.method.as_str(), batch.path.as_str()), ("POST", "/fhir"), "a batch is posted to the base");
    assert_eq!(batch.header("prefer"), Some("return=representation"));
    assert_eq!(batch.header("authorization"), Some(format!("Bearer {MAPPED_TOKEN}").as_str()), "--token-map");
    assert_eq!(batch.header("content-type"), Some("application/fhir+json"));
    assert!(batch.header("medmij-request-id").is_some());
    let sent: Value = serde_json::from_slice(&batch.body).unwrap();
    assert_eq!((sent["type"].as_str(), sent["entry"][1]["resource"]["id"].as_str()), (Some("batch"), Some("shared-b")));
    let create = &received[1];
    assert_eq!((create.method.as_str(), create.path.as_str()), ("POST", "/fhir/Patient"));
    assert_eq!(create.header("content-type"), Some("application/fhir+xml"));
    assert_eq!(create.header("prefer"), Some("return=minimal"));
    assert_eq!(create.header("authorization"), Some(format!("Bearer {TARGET_TOKEN}").as_str()), "--token");
    let xml = String::from_utf8(create.body.clone()).unwrap();
    assert!(
        xml.starts_with("<Patient xmlns=\"http://hl7.org/fhir\">") && xml.contains("<gender value=\"male\"/>"),
        "{xml}"
    );

    // 13 asserts: the validateProfileId not run (the script declares no such profile; counted on its
    // own), the Patient of a 201 without a body failed.
    assert_eq!(counts(&report), (13, 11, 1, 1), "{report:#?}");
    assert_eq!(report.totals.profile_validations_not_run, 1);
    let batch = scenario(&report, "receiving.batch");
    assert_eq!(batch.verdict, Verdict::Passed, "{batch:#?}");
    assert_eq!(batch.exchanges.len(), 1);
    assert!(batch.exchanges[0].request_body.contains("shared-a"), "the exchange shows the body sent");
    let created = scenario(&report, "receiving.create");
    assert!(
        matches!(&created.verdict, Verdict::Failed(why) if why.starts_with("the created Patient") && why.contains("the response (201) has no body")),
        "{created:#?}"
    );
    assert!(
        created.checks.iter().filter(|check| check.passed).count() == 3,
        "status, Location and the batch's response held"
    );
}

#[tokio::test]
async fn without_allow_writes_the_writes_are_not_run_and_nothing_reaches_the_target() {
    let (base, log) = spawn_receiver();
    let dir = tempfile::tempdir().unwrap();
    receiving_script(dir.path(), &base);

    let report = run_receiving(dir.path(), &base, false).await;

    assert!(log.lock().unwrap().is_empty(), "the target received {:#?}", log.lock().unwrap());
    assert_eq!(counts(&report), (15, 0, 0, 15), "two writes and their 13 asserts, not run: {report:#?}");
    assert!(!report.all_passed());
    for test in ["receiving.batch", "receiving.create"] {
        let result = scenario(&report, test);
        assert!(result.exchanges.is_empty());
        let write = &result.checks[0];
        assert!(write.not_run && write.found.contains("--allow-writes"), "{write:?}");
        assert!(matches!(&result.verdict, Verdict::NotRun(why) if why.contains("--allow-writes")), "{result:#?}");
    }
}
