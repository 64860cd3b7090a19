//! String and quantity parameters over HTTP, in a deployment whose definitions offer them (no
//! published data service does yet): the demo's records found by name, city and measured value,
//! refusals as OperationOutcomes, and records stored before the kinds existed found after the
//! next start.

use e2e::{ANNA, PROVIDER, TestApp, entry_ids};
use serde_json::Value;
use std::path::Path;
use test_support::{TestDatabase, on_both_backends};

/// A copy of `profiles/`'s definitions in which data service 48 offers Patient's `name`,
/// `family` and `address-city` and Observation's `value-quantity` (as a deployment may, through
/// `definitions_dir`).
fn definitions_offering_the_new_kinds(into: &Path) {
    let profiles = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../profiles");
    for sub in ["fhir", "data-services"] {
        std::fs::create_dir_all(into.join(sub)).expect("folder");
        for entry in std::fs::read_dir(profiles.join(sub)).expect("definitions").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|extension| extension == "toml") {
                std::fs::copy(&path, into.join(sub).join(entry.file_name())).expect("copied");
            }
        }
    }
    let bgz = into.join("data-services/48-bgz.toml");
    let text = std::fs::read_to_string(&bgz).expect("48");
    let patient = "search = [\"_id\"]\ninclude = [\"Patient:general-practitioner\"]";
    let observation = "search = [\"_id\", \"code\", \"category\", \"status\", \"date\"]\ninclude = [\"Observation:";
    assert!(text.contains(patient) && text.contains(observation), "48's Patient and Observation as expected");
    let text = text
        .replacen(patient, &patient.replace("[\"_id\"]", "[\"_id\", \"name\", \"family\", \"address-city\"]"), 1)
        .replacen(observation, &observation.replace("\"date\"]", "\"date\", \"value-quantity\"]"), 1);
    std::fs::write(&bgz, text).expect("written");
}

async fn start(database: TestDatabase) -> TestApp {
    let definitions = database.dir.path().join("definitions");
    definitions_offering_the_new_kinds(&definitions);
    let definitions = definitions.to_string_lossy().into_owned();
    TestApp::start_with(database, &[("PGO_EXCHANGE__DEFINITIONS_DIR", &definitions)]).await
}

/// The ids a search finds, as `Type/id`.
async fn found(app: &TestApp, base: &str, token: &str, query: &str) -> Vec<String> {
    entry_ids(&app.get_json(&format!("{base}/{query}"), token).await)
}

on_both_backends!(names_cities_and_measured_values_are_searched_where_offered, |database| {
    let app = start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let anna = ["Patient/demo-patient-anna"];
    assert_eq!(found(&app, &base, &token, "Patient?name=ANNA").await, anna);
    assert_eq!(found(&app, &base, &token, "Patient?family=de%20vr").await, anna);
    assert_eq!(found(&app, &base, &token, "Patient?family:exact=de%20Vries").await, anna);
    assert!(found(&app, &base, &token, "Patient?family:exact=de%20vries").await.is_empty());
    assert_eq!(found(&app, &base, &token, "Patient?family:contains=VRIES").await, anna);
    assert_eq!(found(&app, &base, &token, "Patient?address-city=amers").await, anna);
    assert!(found(&app, &base, &token, "Patient?address-city=utrecht").await.is_empty());
    let weights = found(&app, &base, &token, "Observation?value-quantity=gt70||kg").await;
    assert_eq!(weights, ["Observation/demo-weight-2024-03", "Observation/demo-weight-2026-10"]);
    let exact = "Observation?value-quantity=72.5|http://unitsofmeasure.org|kg";
    assert_eq!(found(&app, &base, &token, exact).await, ["Observation/demo-weight-2026-10"]);
    assert_eq!(found(&app, &base, &token, "Observation?value-quantity=ap6.8").await, ["Observation/demo-lab-glucose"]);
    // The self link echoes the parameter as written.
    let bundle = app.get_json(&format!("{base}/Observation?value-quantity=le72.5%7C%7Ckg"), &token).await;
    let links = bundle["link"].as_array().cloned().unwrap_or_default();
    let self_link = links.iter().find(|link| link["relation"] == "self").and_then(|link| link["url"].as_str());
    let self_link = self_link.unwrap_or_default();
    assert!(self_link.ends_with("/Observation?value-quantity=le72.5%7C%7Ckg"), "{self_link}");
});

on_both_backends!(bad_string_and_quantity_searches_are_refused_with_an_operation_outcome, |database| {
    let app = start(database).await;
    let base = app.base(PROVIDER, "48");
    let token = app.token(PROVIDER, ANNA, &["48"]);
    for (query, code, diagnostics) in [
        ("Observation?value-quantity=abc", "invalid", "invalid value for 'value-quantity': unknown prefix 'ab'"),
        ("Observation?value-quantity=5.4.1", "invalid", "invalid value for 'value-quantity': '5.4.1' is not a number"),
        (
            "Observation?value-quantity=5%7Cmg",
            "invalid",
            "invalid value for 'value-quantity': expected number, number|system|code or number||code",
        ),
        (
            "Observation?value-quantity:exact=5",
            "not-supported",
            "the modifier ':exact' is not supported on 'value-quantity'",
        ),
        ("Patient?family:text=vries", "not-supported", "the modifier ':text' is not supported on 'family'"),
        ("Patient?name:below=anna", "not-supported", "the modifier ':below' is not supported on 'name'"),
    ] {
        let response = app.get(&format!("{base}/{query}"), &token).await;
        assert_eq!(response.status(), 400, "{query}");
        let outcome: Value = response.json().await.expect("json");
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{query}");
        assert_eq!(outcome["issue"][0]["code"], code, "{query}");
        assert_eq!(outcome["issue"][0]["diagnostics"], diagnostics, "{query}");
    }
});

on_both_backends!(records_stored_before_the_new_kinds_are_found_after_the_next_start, |database| {
    let app = start(database).await;
    let token = app.token(PROVIDER, ANNA, &["48"]);
    // As a database of a version before these kinds: no rows of theirs, and the work migration
    // 0008 left.
    {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut connection =
            sqlx::AnyConnection::connect(&app.context.settings.database_url()).await.expect("connects");
        for statement in [
            "DELETE FROM search_string",
            "DELETE FROM search_quantity",
            "INSERT INTO pending_work (name) VALUES ('search-index')",
        ] {
            sqlx::query(statement).execute(&mut connection).await.expect("made old");
        }
    }
    let base = app.base(PROVIDER, "48");
    assert!(found(&app, &base, &token, "Patient?family=de%20vr").await.is_empty());
    // The next start (an instance opening the same database) indexes them again.
    let restarted = app.another_instance(&[]).await;
    let base = format!("{}/{PROVIDER}/48/fhir", restarted.address);
    assert_eq!(found(&app, &base, &token, "Patient?family=de%20vr").await, ["Patient/demo-patient-anna"]);
    let weights = found(&app, &base, &token, "Observation?value-quantity=gt70||kg").await;
    assert_eq!(weights, ["Observation/demo-weight-2024-03", "Observation/demo-weight-2026-10"]);
});
