//! The suite's retrieval scenarios of data services 52 (vital signs) and 51 (PDF/A documents)
//! against the service, on SQLite and on PostgreSQL: a provider offering 48, 51 and 52 holds the
//! vital-signs records of the tests (`tests/e2e/fixtures/vitalsigns/`: Lotte van Meeteren's
//! measurements, one of Kees Polsbeek's) and two documents of Lotte's with a manifest, and every
//! search of the Nictiz qualification for serving systems of 52 and 51, with 51's document read,
//! passes in JSON and in XML, their number fixed. So do the discovery, header, error and
//! isolation scenarios of 51 and 52, each asking what the data service offers (52 has no Patient
//! search, 51 no Observation), with Kees as patient B (one document of his at 51).
//!
//! Lotte's documents lie where the suite's fixed periods find some and miss others (see
//! `pgo-conformance`'s `queries.rs`): a letter indexed in June 2024 (inside 51's `indexed` window,
//! 31 March 2024 to 31 March 2025), a summary indexed in March 2026 (outside it), and a manifest of
//! both created in November 2025 (inside its `created` window, 31 March 2025 to 30 January 2026).

use super::*;
use base64::Engine;
use fhir_core::Release;
use ingest::LoadOptions;
use serde_json::{Value, json};
use std::path::PathBuf;
use store::{NewProvider, Write};

const VITAAL: &str = "vitaal";
const LOTTE: &str = "999955019";
const KEES: &str = "999955032";
/// Lotte's Patient in the vital-signs fixtures.
const LOTTE_PATIENT: &str = "vs-lotte";
/// Kees's Patient and his blood pressure in the vital-signs fixtures.
const KEES_PATIENT: &str = "vs-kees";
const KEES_MEASUREMENT: &str = "vs-kees-bp-2026-02";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const REFERENCE_PROFILE: &str = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.Minimal.DocumentReference";
const MANIFEST_PROFILE: &str = "http://nictiz.nl/fhir/StructureDefinition/IHE.MHD.DocumentManifest";

/// The discovery, header, error and isolation scenarios of 51 and 52: discovery 2 + 2 x 2,
/// headers 2 x 2, errors (5 + 2 limits) x 2, isolation 4 x 2.
const OFFERED_SCENARIOS: usize = 6 + 4 + 14 + 8;

/// The query labels of each data service's list (`queries.rs`): 52's seven searches, 51's four
/// searches and its document read.
const VITAL_SIGNS_QUERIES: [&str; 7] = ["1", "2", "3", "4", "5", "6", "7"];
const DOCUMENT_QUERIES: [&str; 5] = ["1", "2", "3", "4", "5"];
/// Each query in JSON and in XML.
const SCENARIOS: usize = (DOCUMENT_QUERIES.len() + VITAL_SIGNS_QUERIES.len()) * 2;
/// What each search finds for Lotte (`Bundle.total`), worked out by hand from the records: the
/// suite's checks hold for an empty answer too, so this says the run looked at her records.
const FOUND: [(&str, u64); 12] = [
    ("retrieval.51.q1.json", 2),
    ("retrieval.51.q2.json", 1),
    ("retrieval.51.q3.json", 1),
    ("retrieval.51.q4.json", 1),
    ("retrieval.51.q5.json", 2),
    ("retrieval.52.q1.json", 2),
    ("retrieval.52.q2.json", 1),
    ("retrieval.52.q3.json", 1),
    ("retrieval.52.q4.json", 1),
    ("retrieval.52.q5.json", 1),
    ("retrieval.52.q6.json", 4),
    ("retrieval.52.q7.json", 5),
];

fn subject() -> Value {
    json!({"reference": format!("Patient/{LOTTE_PATIENT}"), "display": "Lotte van Meeteren"})
}

fn kees() -> Value {
    json!({"reference": format!("Patient/{KEES_PATIENT}"), "display": "Kees Polsbeek"})
}

fn binary(id: &str) -> Value {
    json!({"resourceType": "Binary", "id": id, "contentType": "application/pdf",
        "content": base64::engine::general_purpose::STANDARD.encode(PDF)})
}

fn reference(id: &str, binary: &str, title: &str, indexed: &str, subject: Value) -> Value {
    json!({"resourceType": "DocumentReference", "id": id, "meta": {"profile": [REFERENCE_PROFILE]},
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}]},
        "subject": subject, "indexed": indexed, "description": title,
        "content": [{"attachment": {"contentType": "application/pdf", "url": format!("Binary/{binary}"), "title": title}}]})
}

fn manifest(id: &str, created: &str, references: &[(&str, &str)]) -> Value {
    let content: Vec<Value> = references
        .iter()
        .map(|(id, title)| json!({"pReference": {"reference": format!("DocumentReference/{id}"), "display": title}}))
        .collect();
    json!({"resourceType": "DocumentManifest", "id": id, "meta": {"profile": [MANIFEST_PROFILE]},
        "status": "current", "subject": subject(), "created": created, "description": "Ontslag",
        "content": content})
}

/// The provider `vitaal` offering 48, 51 and 52, with the vital-signs fixtures, Lotte's
/// documents and one of Kees's (for the isolation scenarios: a document of patient B's).
async fn with_records(app: &TestApp) {
    let new = NewProvider {
        name: VITAAL.into(),
        display_name: "Vitaal Ziekenhuis".into(),
        data_services: ["48", "51", "52"].map(str::to_owned).to_vec(),
    };
    let provider = app.context.store.create_provider(&new, None).await.expect("provider");

    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/vitalsigns");
    let files = ingest::collect_files(&[fixtures]).expect("fixtures");
    let options = LoadOptions { release: Some(Release::Stu3), batch_size: 50 };
    let summary =
        app.context.ingestor.load(&app.context.store, &provider, &files, options, |_| {}).await.expect("loads");
    assert_eq!((summary.created, summary.rejected.len()), (files.len(), 0), "{summary:#?}");

    let documents = [
        binary("lotte-letter"),
        binary("lotte-summary"),
        reference("lotte-letter-ref", "lotte-letter", "Ontslagbrief", "2024-06-15T10:00:00+02:00", subject()),
        reference("lotte-summary-ref", "lotte-summary", "Samenvatting", "2026-03-09T10:00:00+01:00", subject()),
        binary("kees-letter"),
        reference("kees-letter-ref", "kees-letter", "Verwijsbrief", "2025-05-02T10:00:00+02:00", kees()),
        manifest(
            "lotte-manifest",
            "2025-11-20T09:00:00+01:00",
            &[("lotte-letter-ref", "Ontslagbrief"), ("lotte-summary-ref", "Samenvatting")],
        ),
    ];
    let writes: Vec<Write> = documents
        .into_iter()
        .map(|resource| {
            let prepared = app.context.ingestor.prepare_by_id(&provider, Release::Stu3, resource, None);
            Write::Put(Box::new(prepared.expect("a valid document resource").write))
        })
        .collect();
    app.context.store.write(provider.id, writes).await.expect("stored");
}

/// The suite's configuration for the scenarios starting with `only` of 51 and 52 at `vitaal`,
/// Lotte as patient A and Kees as patient B.
fn collecting_config(address: &str, only: &[&str]) -> Config {
    let mut config = config(address, only);
    config.target =
        TargetSpec::Zal { source: format!("{address}/medmij/zal.xml"), provider: format!("{VITAAL}@medmij") };
    config.other_provider = None;
    config.persons = Persons::Login { form: LoginForm::default(), patient_a: LOTTE.into(), patient_b: KEES.into() };
    config.data_services = vec!["51".into(), "52".into()];
    config.allow_writes = false;
    config
}

on_both_backends!(every_retrieval_scenario_of_vital_signs_and_documents_passes, |database| {
    let backend = if database.url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let app = start(database).await;
    with_records(&app).await;

    let report = pgo_conformance::run_suite(collecting_config(&app.address, &["retrieval."]), &Quiet)
        .await
        .expect("the suite runs");
    keep_report(&report, &format!("collecting-{backend}"));

    assert_eq!(failures(&report), Vec::<String>::new());
    let expected: Vec<String> = [("51", &DOCUMENT_QUERIES[..]), ("52", &VITAL_SIGNS_QUERIES[..])]
        .into_iter()
        .flat_map(|(service, labels)| {
            labels
                .iter()
                .flat_map(move |label| ["json", "xml"].map(|format| format!("retrieval.{service}.q{label}.{format}")))
        })
        .collect();
    let ran: Vec<&str> = report.scenarios.iter().map(|scenario| scenario.id.as_str()).collect();
    assert_eq!(ran, expected, "the retrieval scenarios of 51 and 52, in order");
    assert_eq!(report.totals.scenarios, SCENARIOS, "the number of scenarios run");
    assert_eq!(report.totals.passed, SCENARIOS);

    for (id, found) in FOUND {
        let scenario = report.scenarios.iter().find(|scenario| scenario.id == id).expect("ran");
        let search = scenario
            .exchanges
            .iter()
            .rev()
            .find(|exchange| exchange.url.contains("/fhir/Document") || exchange.url.contains("/fhir/Observation"));
        let bundle: Value = serde_json::from_str(&search.expect("the search").response_body).expect("a JSON answer");
        assert_eq!(bundle["total"], found, "{id}");
    }
    // The document read was made, in both formats, and found Lotte's letter a PDF.
    for format in ["json", "xml"] {
        let read = report.scenarios.iter().find(|scenario| scenario.id == format!("retrieval.51.q5.{format}"));
        let checks: Vec<&str> =
            read.expect("the document read").checks.iter().map(|check| check.expected.as_str()).collect();
        for expected in
            ["a Binary", "the Binary named (lotte-letter)", "its content is a PDF (base64 of bytes starting %PDF-)"]
        {
            assert!(checks.contains(&expected), "{format}: {expected} in {checks:?}");
        }
    }
    // No report carries a test patient's BSN.
    let json = pgo_conformance::report::json::to_json(&report);
    assert!(!json.contains(LOTTE) && !json.contains(KEES), "a BSN in the JSON report");
});

on_both_backends!(the_header_error_and_isolation_scenarios_of_vital_signs_and_documents_pass, |database| {
    let backend = if database.url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let app = start(database).await;
    with_records(&app).await;
    // The other provider offers 51 and 52 too, for the cross-provider scenario.
    let other = NewProvider {
        name: OTHER_PROVIDER.into(),
        display_name: "Ander Ziekenhuis".into(),
        data_services: ["48", "51", "52", "63"].map(str::to_owned).to_vec(),
    };
    app.context.store.upsert_provider(&other, None).await.unwrap();
    let mut config = collecting_config(&app.address, &["discovery.", "headers.", "errors.", "isolation."]);
    config.other_provider = Some(OTHER_PROVIDER.into());

    let report = pgo_conformance::run_suite(config, &Quiet).await.expect("the suite runs");
    keep_report(&report, &format!("offered-{backend}"));

    assert_eq!(failures(&report), Vec::<String>::new());
    assert_eq!(report.totals.scenarios, OFFERED_SCENARIOS, "the number of scenarios run");
    assert_eq!(report.totals.passed, OFFERED_SCENARIOS);
    let checks = |id: &str| -> Vec<String> {
        let scenario = report.scenarios.iter().find(|scenario| scenario.id == id).expect(id);
        scenario.checks.iter().map(|check| check.expected.clone()).collect()
    };
    let asked = |id: &str| -> Vec<String> {
        let scenario = report.scenarios.iter().find(|scenario| scenario.id == id).expect(id);
        scenario.exchanges.iter().map(|exchange| exchange.url.clone()).collect()
    };
    // 51's Binary read, the follow-up of its document search, is among what discovery checks.
    for service in ["51", "52"] {
        let checked = checks(&format!("discovery.{service}.capability-statement"));
        assert!(checked.iter().any(|check| check.starts_with("every search, operation and read")), "{checked:?}");
    }
    // Each data service is asked with a search it offers.
    let searched = |id: &str, path: &str| assert!(asked(id).iter().any(|url| url.ends_with(path)), "{id}: {path}");
    searched("headers.52.request-ids-echoed", "/52/fhir/Observation?code=http://loinc.org|85354-9");
    searched("headers.51.request-ids-echoed", "/51/fhir/DocumentReference?status=current");
    searched("errors.52.bad-parameter", "/52/fhir/Observation?date=not-a-date");
    searched("errors.51.bad-parameter", "/51/fhir/DocumentReference?indexed=not-a-date");
    // A's token reads none of Kees's records, each reached the way its data service allows: at
    // 52 his measurement and his Patient (read, not searched); at 51 his Patient, his
    // DocumentReference and the Binary it names.
    let refused = |path: String| format!("reading {path} with A's token is refused (403 or 404)");
    let read_52 = checks("isolation.52.read-other-patient");
    for path in [format!("Observation/{KEES_MEASUREMENT}"), format!("Patient/{KEES_PATIENT}")] {
        assert!(read_52.contains(&refused(path.clone())), "{path} in {read_52:?}");
    }
    let read_51 = checks("isolation.51.read-other-patient");
    for path in ["DocumentReference/kees-letter-ref", "Binary/kees-letter"].map(str::to_owned) {
        assert!(read_51.contains(&refused(path.clone())), "{path} in {read_51:?}");
    }
    assert!(read_51.contains(&refused(format!("Patient/{KEES_PATIENT}"))), "{read_51:?}");
    // No report carries a test patient's BSN.
    let json = pgo_conformance::report::json::to_json(&report);
    assert!(!json.contains(LOTTE) && !json.contains(KEES), "a BSN in the JSON report");
});
