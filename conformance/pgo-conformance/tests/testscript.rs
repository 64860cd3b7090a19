#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The TestScript runner against a stand-in FHIR server (BgZ 48 in STU3, Vaccinaties 63 in R4,
//! small bundles written here): the example scripts of `conformance/testscripts` and scripts
//! written for one behaviour, with exact counts of asserts passed, failed and not run, and
//! faults in the stand-in that must fail exactly the assert that checks them. `writes`: a
//! receiving system's script writing to a stand-in that records what it receives. `profiles`:
//! `validateProfileId` against profiles of a package given to the run.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use fhir_core::Release;
use pgo_conformance::http::Http;
use pgo_conformance::mask::Masker;
use pgo_conformance::outcome::{Check, RunReport, ScenarioResult, Verdict};
use pgo_conformance::scenario::{Progress, Scenario};
use pgo_conformance::testscript::{self, TestScriptTarget};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

// In a folder of its own, so Cargo does not take it for a test binary of its own.
#[path = "testscript/writes.rs"]
mod writes;

#[path = "testscript/profiles.rs"]
mod profiles;

const TOKEN: &str = "demo-patient-token";

// ---- the stand-in server ----

/// What the stand-in gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// The Condition search says `total` 3 with two matches.
    WrongConditionTotal,
    /// The performer included in the Immunization search claims no profile.
    PerformerWithoutProfile,
}

/// Starts the stand-in; its address (`http://127.0.0.1:port`).
fn spawn(fault: Fault) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let server = HttpServer::new(move || App::new().app_data(web::Data::new(fault)).default_service(web::to(answer)))
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
    tokio::spawn(server);
    address
}

async fn answer(request: HttpRequest, fault: web::Data<Fault>) -> HttpResponse {
    let authorized = request.headers().get("authorization").and_then(|value| value.to_str().ok());
    if authorized != Some(&format!("Bearer {TOKEN}")) {
        return fhir(&request, 401, Release::Stu3, &outcome("no valid token"));
    }
    if request.headers().get("medmij-request-id").is_none() {
        return fhir(&request, 400, Release::Stu3, &outcome("no MedMij-Request-ID"));
    }
    let base = format!("http://{}", request.connection_info().host());
    let query = request.query_string().to_owned();
    let fault = *fault.get_ref();
    match request.path() {
        "/48/fhir/Patient" => {
            let bundle = searchset(&format!("{base}/48/fhir"), "Patient", &query, vec![anna()], vec![gp()], 1);
            fhir(&request, 200, Release::Stu3, &bundle)
        }
        "/48/fhir/Patient/anna" => fhir(&request, 200, Release::Stu3, &anna()),
        "/48/fhir/Condition" => {
            let total = if fault == Fault::WrongConditionTotal { 3 } else { 2 };
            let matches = vec![condition("c1", "diabetes"), condition("c2", "hypertension")];
            fhir(
                &request,
                200,
                Release::Stu3,
                &searchset(&format!("{base}/48/fhir"), "Condition", &query, matches, vec![], total),
            )
        }
        "/63/fhir/Immunization" => {
            let mut matches = vec![immunization("i1", "completed"), immunization("i2", "completed")];
            if !query.contains("status=completed") {
                matches.push(immunization("i3", "not-done"));
            }
            let mut performer = gp();
            if fault == Fault::PerformerWithoutProfile {
                performer["meta"] = json!({"versionId": "1"});
            }
            let included = if query.contains("_include") { vec![performer] } else { vec![] };
            let total = matches.len();
            fhir(
                &request,
                200,
                Release::R4,
                &searchset(&format!("{base}/63/fhir"), "Immunization", &query, matches, included, total),
            )
        }
        _ => fhir(&request, 404, Release::Stu3, &outcome("not found")),
    }
}

/// `body` in the format the request asked for (XML when `Accept` names XML, else JSON).
fn fhir(request: &HttpRequest, status: u16, release: Release, body: &Value) -> HttpResponse {
    let accept = request.headers().get("accept").and_then(|value| value.to_str().ok()).unwrap_or_default();
    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
    let mut response = HttpResponse::build(status);
    response.insert_header(("ETag", "W/\"1\""));
    if accept.contains("xml") {
        let xml = fhir_xml::to_xml(release, body, fhir_xml::UnknownMembers::Refuse).unwrap();
        response.content_type("application/fhir+xml;charset=utf-8").body(xml)
    } else {
        response.content_type("application/fhir+json;charset=utf-8").body(body.to_string())
    }
}

fn searchset(base: &str, kind: &str, query: &str, matches: Vec<Value>, included: Vec<Value>, total: usize) -> Value {
    let entry = |resource: Value, mode: &str| {
        let full_url =
            format!("{base}/{}/{}", resource["resourceType"].as_str().unwrap(), resource["id"].as_str().unwrap());
        json!({"fullUrl": full_url, "resource": resource, "search": {"mode": mode}})
    };
    let entries: Vec<Value> = matches
        .into_iter()
        .map(|resource| entry(resource, "match"))
        .chain(included.into_iter().map(|resource| entry(resource, "include")))
        .collect();
    let self_url = if query.is_empty() { format!("{base}/{kind}") } else { format!("{base}/{kind}?{query}") };
    json!({"resourceType": "Bundle", "type": "searchset", "total": total,
        "link": [{"relation": "self", "url": self_url}], "entry": entries})
}

fn anna() -> Value {
    json!({"resourceType": "Patient", "id": "anna",
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
        "gender": "female", "birthDate": "1968-05-21", "generalPractitioner": [{"reference": "Practitioner/gp"}]})
}

fn gp() -> Value {
    json!({"resourceType": "Practitioner", "id": "gp",
        "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-practitioner"]},
        "name": [{"family": "Huisarts"}]})
}

fn condition(id: &str, text: &str) -> Value {
    json!({"resourceType": "Condition", "id": id,
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Problem"]},
        "code": {"text": text}, "subject": {"reference": "Patient/anna"}})
}

fn immunization(id: &str, status: &str) -> Value {
    json!({"resourceType": "Immunization", "id": id,
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/nl-core-Vaccination-event"]},
        "status": status, "vaccineCode": {"text": "influenza"}, "patient": {"reference": "Patient/anna"},
        "occurrenceDateTime": "2025-10-01", "performer": [{"actor": {"reference": "Practitioner/gp"}}]})
}

fn outcome(text: &str) -> Value {
    json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing", "diagnostics": text}]})
}

// ---- running ----

/// Remembers what the runner told it.
#[derive(Default)]
struct Recorder {
    told: Mutex<(usize, Vec<String>, Vec<String>)>,
}

impl Progress for Recorder {
    fn start(&self, total: usize) {
        self.told.lock().unwrap().0 = total;
    }
    fn scenario(&self, scenario: &Scenario) {
        self.told.lock().unwrap().1.push(scenario.id.clone());
    }
    fn done(&self, result: &ScenarioResult) {
        self.told.lock().unwrap().2.push(result.id.clone());
    }
    fn finish(&self) {}
}

fn http() -> Http {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Http::new(client, Masker::default())
}

fn examples(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testscripts").join(name)
}

/// Runs the scripts in `dir` against `base`; the progress told must match the results.
async fn run(dir: &Path, base: &str) -> RunReport {
    let recorder = Recorder::default();
    let report = testscript::run_dir(dir, base, Some(TOKEN), &[], &http(), &recorder).await.unwrap();
    let (total, started, done) = recorder.told.into_inner().unwrap();
    let ids: Vec<String> = report.scenarios.iter().map(|scenario| scenario.id.clone()).collect();
    assert_eq!(total, report.scenarios.len(), "the progress total is the number of results");
    assert_eq!(done, ids);
    assert!(started.iter().all(|id| ids.contains(id)));
    report
}

/// (checks, passed, failed, not run) over the whole report.
fn counts(report: &RunReport) -> (usize, usize, usize, usize) {
    let totals = &report.totals;
    let passed = totals.checks - totals.checks_failed - totals.checks_not_run;
    (totals.checks, passed, totals.checks_failed, totals.checks_not_run)
}

fn scenario<'r>(report: &'r RunReport, id: &str) -> &'r ScenarioResult {
    report.scenarios.iter().find(|scenario| scenario.id == id).unwrap_or_else(|| panic!("no {id} in {report:#?}"))
}

fn failed_checks(report: &RunReport) -> Vec<&Check> {
    report.scenarios.iter().flat_map(|scenario| &scenario.checks).filter(|check| check.failed()).collect()
}

// ---- the examples ----

#[test]
fn every_example_loads_with_its_release_and_fixtures() {
    let loaded = testscript::load_dir(&examples("")).unwrap();
    let releases: Vec<(String, Release)> =
        loaded.iter().map(|script| (script.id(), script.script.as_ref().unwrap().release.release)).collect();
    assert_eq!(
        releases,
        vec![
            ("bgz-48-patient-problems".to_owned(), Release::Stu3),
            ("vaccinaties-63-immunizations".to_owned(), Release::R4),
            ("dialect-48-bgz".to_owned(), Release::Stu3),
            ("dialect-63-vaccinations".to_owned(), Release::R4),
            ("dialect-load-vaccinations".to_owned(), Release::R4),
            ("bgz-48-not-run".to_owned(), Release::Stu3),
            ("sharing-51-pdfa-transaction".to_owned(), Release::Stu3),
            ("sharing-52-vitalsigns-batch".to_owned(), Release::Stu3),
        ]
    );
    let not_run = loaded[5].script.as_ref().unwrap();
    assert_eq!(not_run.fixtures["new-patient"]["birthDate"], "1990-01-01");
    let dialect = loaded[3].script.as_ref().unwrap();
    assert_eq!(dialect.warnings.len(), 1, "the build tool's element: {:?}", dialect.warnings);
    let born = dialect.fixtures["patient-fixture"]["birthDate"].as_str().unwrap();
    assert!(born.len() == 10 && !born.contains('$'), "worked out: {born}");
    let load = loaded[4].script.as_ref().unwrap();
    assert_eq!(load.fixtures.len(), 3);
}

#[tokio::test]
async fn the_bgz_example_passes_every_assert_against_a_good_server() {
    let address = spawn(Fault::None);
    let report = run(&examples("48"), &format!("{address}/48/fhir")).await;
    assert_eq!(counts(&report), (21, 21, 0, 0), "{report:#?}");
    assert_eq!((report.totals.scenarios, report.totals.passed), (3, 3));
    assert_eq!(report.kind, "testscript");
    let read = scenario(&report, "bgz-48-patient-problems.read-patient");
    assert_eq!(read.exchanges.len(), 1);
    assert!(read.exchanges[0].url.ends_with("/48/fhir/Patient/anna"), "the variable came from the search");
    let search = &scenario(&report, "bgz-48-patient-problems.patient-with-gp").exchanges[0];
    assert!(search.url.ends_with("/48/fhir/Patient?_include=Patient:general-practitioner"), "{}", search.url);
    let header =
        |name: &str| search.request_headers.iter().find(|(field, _)| field == name).map(|(_, value)| value.clone());
    assert!(header("medmij-request-id").is_some() && header("x-correlation-id").is_some());
    assert!(!header("authorization").unwrap().contains(TOKEN), "the token is shortened in the record");
    let summary = pgo_conformance::report::console::summary(&report);
    assert!(summary.contains("(21 checks: 21 passed, 0 failed, 0 not run)"), "{summary}");
}

#[tokio::test]
async fn a_wrong_bundle_total_fails_exactly_the_assert_that_counts_the_matches() {
    let address = spawn(Fault::WrongConditionTotal);
    let report = run(&examples("48"), &format!("{address}/48/fhir")).await;
    assert_eq!(counts(&report), (21, 20, 1, 0));
    let failed = failed_checks(&report);
    assert!(failed[0].expected.starts_with("total counts the matches"), "{failed:?}");
    assert!(matches!(scenario(&report, "bgz-48-patient-problems.problems").verdict, Verdict::Failed(_)));
    assert_eq!(report.totals.passed, 2);
}

#[tokio::test]
async fn the_vaccinaties_example_reads_xml_and_json_and_compares_them() {
    let address = spawn(Fault::None);
    let report = run(&examples("63"), &format!("{address}/63/fhir")).await;
    assert_eq!(counts(&report), (14, 14, 0, 0), "{report:#?}");
    let xml = &scenario(&report, "vaccinaties-63-immunizations.completed-xml").exchanges[0];
    assert!(xml.response_body.contains("<Bundle"), "asked for and got XML");
    assert!(xml.url.contains("status=completed&_include=Immunization:performer"), "{}", xml.url);

    let broken = spawn(Fault::PerformerWithoutProfile);
    let report = run(&examples("63"), &format!("{broken}/63/fhir")).await;
    assert_eq!(counts(&report), (14, 13, 1, 0));
    assert!(failed_checks(&report)[0].expected.starts_with("every resource claims a profile"));
}

#[tokio::test]
async fn the_not_run_example_reports_each_unsupported_construct_with_its_reason() {
    let address = spawn(Fault::None);
    let report = run(&examples("not-run"), &format!("{address}/48/fhir")).await;
    assert_eq!(counts(&report), (9, 2, 0, 7), "{report:#?}");
    assert_eq!((report.totals.scenarios, report.totals.not_run), (3, 3));
    assert!(!report.all_passed());
    let reasons: Vec<String> = report
        .scenarios
        .iter()
        .flat_map(|scenario| &scenario.checks)
        .filter(|check| check.not_run)
        .map(|check| check.found.clone())
        .collect();
    for reason in [
        "bgz-patient-searchset is not loaded; give its package with --package",
        "XPath",
        "function resolve()",
        "create operation changes data",
    ] {
        assert!(reasons.iter().any(|found| found.contains(reason)), "{reason} in {reasons:#?}");
    }
    let patient = scenario(&report, "bgz-48-not-run.patient");
    let warning = patient.checks.iter().find(|check| check.expected.starts_with("warning:")).unwrap();
    assert!(warning.passed && warning.found.contains("false"), "{warning:?}");
    let sent: usize = report.scenarios.iter().map(|scenario| scenario.exchanges.len()).sum();
    assert_eq!(sent, 1, "neither the XPath read nor the create is sent");
}

// ---- behaviours, with scripts written here ----

fn write(dir: &Path, name: &str, script: &Value) {
    std::fs::write(dir.join(name), serde_json::to_string_pretty(script).unwrap()).unwrap();
}

fn r4_operation(code: &str, more: Value) -> Value {
    let mut operation =
        json!({"type": {"system": "http://terminology.hl7.org/CodeSystem/testscript-operation-codes", "code": code}});
    operation.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
    json!({"operation": operation})
}

fn assert_action(assert: Value) -> Value {
    json!({"assert": assert})
}

#[tokio::test]
async fn variables_operators_rebasing_and_fixtures_in_a_json_script() {
    let address = spawn(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fixtures")).unwrap();
    write(
        &dir.path().join("fixtures"),
        "anna.json",
        &json!({"resourceType": "Patient", "id": "other", "gender": "female", "generalPractitioner": [{"reference": "Practitioner/gp"}]}),
    );
    let mut asserts: Vec<Value> = [
        json!({"response": "okay"}),
        json!({"responseCode": "200,201", "operator": "in"}),
        json!({"responseCode": "404,500", "operator": "notIn"}),
        json!({"expression": "Patient.gender", "value": "${gender}"}),
        json!({"expression": "Patient.gender", "operator": "notEquals", "value": "male"}),
        json!({"expression": "Patient.birthDate", "operator": "greaterThan", "value": "1900-01-01"}),
        json!({"expression": "Patient.birthDate", "operator": "lessThan", "value": "2000-01-01"}),
        json!({"expression": "Patient.deceased", "operator": "empty"}),
        json!({"expression": "Patient.generalPractitioner", "operator": "notEmpty"}),
        json!({"expression": "%gpReference", "operator": "contains", "value": "Practitioner/"}),
        json!({"headerField": "ETag", "value": "${etag}"}),
        json!({"expression": "Patient.id", "operator": "notContains", "value": "bram"}),
        json!({"minimumId": "anna-minimum"}),
        json!({"requestURL": "/48/fhir/Patient/anna", "operator": "contains"}),
        json!({"direction": "request", "headerField": "X-Correlation-ID", "value": "fixed-correlation"}),
        json!({"compareToSourceId": "patients", "compareToSourceExpression": "Bundle.entry.where(search.mode='match').resource.id", "expression": "Patient.id"}),
        json!({"description": "deliberately wrong", "expression": "Patient.gender", "value": "male"}),
    ]
    .into_iter()
    .map(assert_action)
    .collect();
    let read = r4_operation(
        "read",
        json!({
            "url": "http://qualification.example/fhir/Patient/${patientId}",
            "responseId": "anna",
            "requestHeader": [{"field": "X-Correlation-ID", "value": "fixed-correlation"}],
        }),
    );
    asserts.insert(0, read);
    let script = json!({
        "resourceType": "TestScript", "id": "operators", "url": "http://qualification.example/fhir/TestScript/operators",
        "name": "operators", "status": "active",
        "fixture": [{"id": "anna-minimum", "autocreate": false, "autodelete": false, "resource": {"reference": "fixtures/anna.json"}}],
        "variable": [
            {"name": "patientId", "expression": "Bundle.entry.where(search.mode='match').resource.id", "sourceId": "patients"},
            {"name": "etag", "headerField": "ETag", "sourceId": "anna"},
            {"name": "gender", "defaultValue": "female"},
            {"name": "gpReference", "expression": "Patient.generalPractitioner.reference", "sourceId": "anna"},
        ],
        "setup": {"action": [r4_operation("search", json!({"resource": "Patient", "accept": "application/fhir+json", "params": "?_include=Patient:general-practitioner", "responseId": "patients"}))]},
        "test": [{"name": "operators", "action": asserts}],
    });
    write(dir.path(), "operators.json", &script);
    let report = run(dir.path(), &format!("{address}/48/fhir/")).await;
    assert_eq!(counts(&report), (17, 16, 1, 0), "{report:#?}");
    assert_eq!(scenario(&report, "operators.setup").verdict, Verdict::Passed, "a setup without asserts passes");
    let failed = failed_checks(&report);
    assert_eq!(failed[0].expected, "deliberately wrong: Patient.gender equals \"male\"");
    assert_eq!(failed[0].found, "\"female\"");
}

#[tokio::test]
async fn an_operation_without_answer_or_outside_the_base_is_one_problem_and_its_asserts_are_not_run() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let script = json!({
        "resourceType": "TestScript", "id": "unreachable", "name": "unreachable", "status": "active", "url": "http://q.example/TestScript/u",
        "test": [
            {"name": "no-answer", "action": [r4_operation("search", json!({"resource": "Patient"})), assert_action(json!({"response": "okay"}))]},
            {"name": "elsewhere", "action": [r4_operation("read", json!({"url": "https://elsewhere.example/fhir/Patient/1"})), assert_action(json!({"response": "okay"}))]},
        ],
    });
    write(dir.path(), "unreachable.json", &script);
    let report = run(dir.path(), &format!("{closed}/fhir")).await;
    assert_eq!(counts(&report), (4, 0, 1, 3), "{report:#?}");
    let no_answer = scenario(&report, "unreachable.no-answer");
    assert!(matches!(&no_answer.verdict, Verdict::Failed(why) if why.contains("no answer")));
    assert_eq!(no_answer.exchanges.len(), 1);
    let elsewhere = scenario(&report, "unreachable.elsewhere");
    assert!(matches!(&elsewhere.verdict, Verdict::NotRun(why) if why.contains("not under the target base")));
    assert!(elsewhere.exchanges.is_empty());
}

#[tokio::test]
async fn a_failed_setup_leaves_the_tests_not_run_and_unreadable_scripts_are_reported() {
    let address = spawn(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    let script = json!({
        "resourceType": "TestScript", "id": "flags", "name": "flags", "status": "active", "url": "http://q.example/TestScript/f",
        "setup": {"action": [r4_operation("search", json!({"resource": "Flag"})), assert_action(json!({"response": "okay"}))]},
        "test": [{"name": "flags", "action": [
            r4_operation("search", json!({"resource": "Flag"})),
            assert_action(json!({"resource": "Bundle"})),
            assert_action(json!({"expression": "Bundle.total > 0"})),
        ]}],
    });
    write(dir.path(), "flags.json", &script);
    std::fs::write(dir.path().join("broken.xml"), "<TestScript xmlns=\"http://hl7.org/fhir\"><name value=").unwrap();
    let report = run(dir.path(), &format!("{address}/48/fhir")).await;
    let ids: Vec<&str> = report.scenarios.iter().map(|scenario| scenario.id.as_str()).collect();
    assert_eq!(ids, ["broken.load", "flags.setup", "flags.flags"]);
    assert_eq!(counts(&report), (4, 0, 1, 3), "{report:#?}");
    assert!(
        matches!(&scenario(&report, "flags.flags").verdict, Verdict::NotRun(why) if why.contains("setup (flags.setup) failed"))
    );
    assert!(
        matches!(&scenario(&report, "broken.load").verdict, Verdict::NotRun(why) if why.contains("could not be read"))
    );
    assert_eq!(scenario(&report, "flags.setup").exchanges.len(), 1, "the test's own search is not sent");
}

#[tokio::test]
async fn a_failed_assert_that_stops_the_test_leaves_the_rest_of_the_test_not_run() {
    let address = spawn(Fault::None);
    let dir = tempfile::tempdir().unwrap();
    let stop = json!({"url": "http://touchstone.aegis.net/touchstone/fhir/testing/StructureDefinition/testscript-assert-stopTestOnFail", "valueBoolean": true});
    let script = json!({
        "resourceType": "TestScript", "id": "stops", "name": "stops", "status": "active", "url": "http://q.example/TestScript/s",
        "test": [
            {"name": "stopped", "action": [
                r4_operation("search", json!({"resource": "Condition"})),
                assert_action(json!({"extension": [stop], "description": "a wrong total", "expression": "Bundle.total = 5"})),
                r4_operation("search", json!({"resource": "Patient"})),
                assert_action(json!({"response": "okay"})),
                assert_action(json!({"resource": "Bundle"})),
            ]},
            {"name": "next", "action": [
                r4_operation("search", json!({"resource": "Condition"})),
                assert_action(json!({"stopTestOnFail": true, "response": "okay"})),
            ]},
        ],
    });
    write(dir.path(), "stops.json", &script);
    let report = run(dir.path(), &format!("{address}/48/fhir")).await;
    assert_eq!(counts(&report), (4, 1, 1, 2), "{report:#?}");
    let stopped = scenario(&report, "stops.stopped");
    assert_eq!(stopped.exchanges.len(), 1, "the search after the failure is not made");
    assert!(stopped.checks[1].found.contains("the test stopped: a wrong total failed"), "{:?}", stopped.checks[1]);
    assert_eq!(scenario(&report, "stops.next").verdict, Verdict::Passed, "the next test runs");
}

#[tokio::test]
async fn a_folder_without_testscripts_or_a_base_that_is_no_url_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let http = http();
    let quiet = pgo_conformance::scenario::Quiet;
    assert!(testscript::run_dir(dir.path(), "http://127.0.0.1:9/fhir", None, &[], &http, &quiet).await.is_err());
    assert!(testscript::run_dir(&examples("48"), "not a url", None, &[], &http, &quiet).await.is_err());
    assert!(TestScriptTarget::new("ftp://x/fhir", None, &[]).is_err());
    let target = TestScriptTarget::new("http://x/fhir/", Some("secret"), &[]).unwrap();
    assert_eq!(target.base, "http://x/fhir");
    assert!(!format!("{target:?}").contains("secret"));
}
