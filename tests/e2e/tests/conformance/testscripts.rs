//! The project's example TestScripts (`conformance/testscripts`) run by `pgo-conformance
//! testscript` against the service itself, with a demo patient's token: every assert of the
//! ordinary scripts passes, and the script of unsupported constructs reports each as not run.
//! The scripts in the qualification dialect (`dialect/`) load their own data through the ingest
//! endpoint first (the load script, with its purge), then run with their exact counts. The
//! receiving scripts of Delen (`sharing/`) share their Bundles with the service only when the run
//! allows writes; without it nothing is sent and nothing is stored. Every `validateProfileId`
//! against the base Bundle definition is made and passes: the service's answers are valid FHIR.

use super::*;
use pgo_conformance::http::Http;
use pgo_conformance::mask::Masker;
use pgo_conformance::profiles::Profiles;
use pgo_conformance::testscript::{self, LoadTarget, TestScriptTarget};
use std::path::PathBuf;
use std::sync::Arc;
use test_support::corpus;

/// The patient the dialect's load script loads (see `dialect/_reference/resources`).
const SANNE: &str = "999990019";
/// The token the dialect's Vaccinaties script names for her; the run maps it to a real one.
const SCRIPT_TOKEN_63: &str = "00000000-0000-4000-8000-000000000063";

fn scripts(folder: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/testscripts").join(folder)
}

fn http() -> Http {
    Http::new(
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        Masker::new([ANNA.to_owned(), BRAM.to_owned(), SANNE.to_owned()]),
    )
}

async fn run(app: &TestApp, folder: &str, data_service: &str) -> RunReport {
    let token = app.token(PROVIDER, ANNA, &["48", "63"]);
    let http = http();
    let base = app.base(PROVIDER, data_service);
    pgo_conformance::testscript::run_dir(&scripts(folder), &base, Some(&token), &[], &http, &Quiet)
        .await
        .expect("the scripts run")
}

/// The profile validations (`validateProfileId`) of `report`: passed, failed, not run.
fn profile_validations(report: &RunReport) -> (usize, usize, usize) {
    let totals = &report.totals;
    (totals.profile_validations_passed, totals.profile_validations_failed, totals.profile_validations_not_run)
}

/// (results, passed, checks, failed checks, checks not run).
fn counts(report: &RunReport) -> (usize, usize, usize, usize, usize) {
    let totals = &report.totals;
    (totals.scenarios, totals.passed, totals.checks, totals.checks_failed, totals.checks_not_run)
}

on_both_backends!(the_example_testscripts_run_against_the_service_with_their_counts, |database| {
    let app = start(database).await;

    let bgz = run(&app, "48", "48").await;
    assert_eq!(failures(&bgz), Vec::<String>::new());
    assert_eq!(counts(&bgz), (3, 3, 21, 0, 0), "BgZ: results, passed, asserts, failed, not run");

    let vaccinaties = run(&app, "63", "63").await;
    assert_eq!(failures(&vaccinaties), Vec::<String>::new());
    assert_eq!(counts(&vaccinaties), (2, 2, 14, 0, 0), "Vaccinaties");

    let unsupported = run(&app, "not-run", "48").await;
    assert_eq!(counts(&unsupported), (3, 0, 9, 0, 7), "unsupported constructs");
    assert!(unsupported.scenarios.iter().all(|scenario| matches!(scenario.verdict, Verdict::NotRun(_))));
    let reasons: String = unsupported.scenarios.iter().filter_map(|scenario| scenario.verdict.reason()).collect();
    assert!(reasons.contains("resolve"), "{reasons}");
    // The profile validation (against a profile no package publishes) is counted on its own, not
    // among the reasons a test was not run.
    assert_eq!(profile_validations(&unsupported), (0, 0, 1));
    let unknown = "profile http://example.org/fhir/StructureDefinition/bgz-patient-searchset is not loaded";
    assert!(not_run(&unsupported).iter().any(|(why, profile)| *profile && why.contains(unknown)));
});

/// The dialect's Vaccinaties script after its load script, against the service: the script's
/// token mapped to the loaded patient's.
async fn run_after_load(app: &TestApp) -> RunReport {
    run_after_load_with(app, Profiles::default()).await
}

/// As `run_after_load`, validating profiles with `profiles`.
async fn run_after_load_with(app: &TestApp, profiles: Profiles) -> RunReport {
    let mut target = TestScriptTarget::new(&app.base(PROVIDER, "63"), None, &[]).unwrap();
    target.token_map = vec![(SCRIPT_TOKEN_63.to_owned(), app.token(PROVIDER, SANNE, &["63"]))];
    target.profiles = Arc::new(profiles);
    let ingest = LoadTarget::new(&format!("{}/ingest/{PROVIDER}/{{release}}", app.address), &app.ingest_key).unwrap();
    let load = scripts("dialect/_LoadResources");
    testscript::run_with_load(&scripts("dialect/63"), &target, Some((&load, &ingest)), &http(), &Quiet)
        .await
        .expect("the scripts run")
}

on_both_backends!(the_dialect_testscripts_load_their_data_and_run_with_their_counts, |database| {
    let app = start(database).await;

    let bgz = run(&app, "dialect/48", "48").await;
    assert_eq!(failures(&bgz), Vec::<String>::new());
    assert_eq!(counts(&bgz), (2, 2, 17, 0, 0), "BgZ dialect: results, passed, asserts, failed, not run");
    assert_eq!(profile_validations(&bgz), (1, 0, 0), "the searchset is a valid Bundle");
    assert!(bgz.scenarios.iter().all(|scenario| scenario.warnings.is_empty()), "nothing read past");

    let vaccinations = run_after_load(&app).await;
    assert_eq!(failures(&vaccinations), Vec::<String>::new());
    let ids: Vec<&str> = vaccinations.scenarios.iter().map(|scenario| scenario.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "dialect-load-vaccinations.setup",
            "dialect-load-vaccinations.Step1-LoadTestResourceCreate",
            "dialect-63-vaccinations.immunizations-json",
            "dialect-63-vaccinations.immunizations-xml",
        ]
    );
    assert_eq!(counts(&vaccinations), (4, 4, 25, 0, 0), "load and Vaccinaties dialect");
    assert_eq!(profile_validations(&vaccinations), (1, 0, 0), "the R4 searchset is a valid Bundle");
    let warnings: Vec<&String> = vaccinations.scenarios.iter().flat_map(|scenario| &scenario.warnings).collect();
    assert_eq!(warnings.len(), 1, "the build tool's element: {warnings:?}");
    assert!(warnings[0].contains("TestScript.test.include is ignored"), "{warnings:?}");
    let loaded = app
        .get_json(
            &format!("{}/Patient/dialect-patient-sanne", app.base(PROVIDER, "63")),
            &app.token(PROVIDER, SANNE, &["63"]),
        )
        .await;
    let seventeen = chrono::Local::now().date_naive().checked_sub_months(chrono::Months::new(17 * 12)).unwrap();
    assert_eq!(loaded["birthDate"], seventeen.format("%Y-%m-%d").to_string(), "the fixture's built-in, worked out");

    // Again: the purge deletes what the first run loaded (newest first), the load writes it anew.
    let again = run_after_load(&app).await;
    assert_eq!(failures(&again), Vec::<String>::new());
    assert_eq!(counts(&again), (4, 4, 25, 0, 0));
    let purge = &again.scenarios[0].exchanges;
    let deleted: Vec<(&str, u16)> = purge.iter().map(|exchange| (exchange.method.as_str(), exchange.status)).collect();
    assert_eq!(deleted, [("DELETE", 204), ("DELETE", 204), ("DELETE", 204)]);
    assert!(purge[2].url.ends_with("/ingest/demoziekenhuis/r4/Patient/dialect-patient-sanne"), "{}", purge[2].url);
});

/// The profiles the resources in the JSON answers of `report` claim (answers cut short left out).
fn claimed(report: &RunReport) -> Vec<String> {
    let bodies = report.scenarios.iter().flat_map(|scenario| &scenario.exchanges);
    let answers = bodies.filter_map(|exchange| serde_json::from_str::<serde_json::Value>(&exchange.response_body).ok());
    let mut claimed: Vec<String> = answers
        .flat_map(|answer| answer["entry"].as_array().cloned().unwrap_or_default())
        .flat_map(|entry| entry["resource"]["meta"]["profile"].as_array().cloned().unwrap_or_default())
        .filter_map(|profile| profile.as_str().map(str::to_owned))
        .collect();
    claimed.sort();
    claimed.dedup();
    claimed
}

on_both_backends!(with_the_published_packages_the_entries_are_validated_against_the_profiles_they_claim, |database| {
    let (Some(stu3), Some(immunization), Some(nl_core)) = (
        corpus("stu3-zib2017-package/profiles"),
        corpus("r4-immunization-package/package"),
        corpus("r4-zib2020/nl-core"),
    ) else {
        return;
    };
    let app = start(database).await;

    // BgZ: the searchset against the base Bundle, its entries against the zib profiles they claim.
    let token = app.token(PROVIDER, ANNA, &["48"]);
    let mut target = TestScriptTarget::new(&app.base(PROVIDER, "48"), Some(&token), &[]).unwrap();
    target.profiles = Arc::new(Profiles::with_packages(vec![stu3]));
    let bgz = testscript::run_with_load(&scripts("dialect/48"), &target, None, &http(), &Quiet).await.unwrap();
    assert_eq!(failures(&bgz), Vec::<String>::new());
    assert_eq!(profile_validations(&bgz), (1, 0, 0));
    let validator = target.profiles.validator(fhir_core::Release::Stu3).unwrap();
    let claimed = claimed(&bgz);
    assert!(!claimed.is_empty(), "the answers' entries claim profiles");
    let unknown: Vec<&String> = claimed.iter().filter(|url| !validator.knows(url)).collect();
    assert!(unknown.is_empty(), "every claimed profile is loaded, so the validation covered it: {unknown:?}");

    // Vaccinaties (R4): the loaded immunizations against the Vaccination-Immunization package.
    let vaccinations = run_after_load_with(&app, Profiles::with_packages(vec![immunization, nl_core])).await;
    assert_eq!(failures(&vaccinations), Vec::<String>::new());
    assert_eq!(profile_validations(&vaccinations), (1, 0, 0));
});

/// The Delen scripts for `data_service` (`sharing/51`, `sharing/52`) with a token of Anna's for
/// that data service alone, as a share needs; writes made only when `allow_writes`.
async fn run_share(app: &TestApp, data_service: &str, allow_writes: bool) -> RunReport {
    let token = app.token(PROVIDER, ANNA, &[data_service]);
    let mut target = TestScriptTarget::new(&app.base(PROVIDER, data_service), Some(&token), &[]).unwrap();
    target.allow_writes = allow_writes;
    let folder = scripts(&format!("sharing/{data_service}"));
    testscript::run_with_load(&folder, &target, None, &http(), &Quiet).await.expect("the scripts run")
}

/// What Anna's record at `data_service` holds of `resource_type`, and how many items PGOs have
/// shared with the provider (its feed).
async fn held(app: &TestApp, data_service: &str, resource_type: &str) -> (u64, usize) {
    let token = app.token(PROVIDER, ANNA, &[data_service]);
    let url = format!("{}/{resource_type}", app.base(PROVIDER, data_service));
    let total = app.get_json(&url, &token).await["total"].as_u64().expect("a total");
    let feed = app
        .client
        .get(format!("{}/ingest/{PROVIDER}/stu3/shared", app.address))
        .bearer_auth(&app.ingest_key)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    let feed: serde_json::Value = feed.json().await.unwrap();
    (total, feed["entry"].as_array().map(Vec::len).unwrap_or(0))
}

/// Whether `report` has a check of `expected` that passed.
fn passed(report: &RunReport, expected: &str) -> bool {
    report
        .scenarios
        .iter()
        .flat_map(|scenario| &scenario.checks)
        .any(|check| check.expected == expected && check.passed)
}

/// The checks of `report` that were not run (why), each with whether it is a profile validation.
fn not_run(report: &RunReport) -> Vec<(&str, bool)> {
    let checks = report.scenarios.iter().flat_map(|scenario| &scenario.checks);
    checks.filter(|check| check.not_run).map(|check| (check.found.as_str(), check.profile_validation)).collect()
}

on_both_backends!(the_delen_testscripts_share_with_the_service_only_when_writes_are_allowed, |database| {
    let app = start(database).await;
    let (observations, _) = held(&app, "52", "Observation").await;
    let (references, _) = held(&app, "51", "DocumentReference").await;

    // Without --allow-writes: every write, and every check on its answer, is not run.
    for (data_service, checks) in [("52", 26), ("51", 25)] {
        let report = run_share(&app, data_service, false).await;
        assert_eq!(counts(&report), (2, 0, checks, 0, checks), "{data_service} without writes");
        assert!(report.scenarios.iter().all(|scenario| scenario.exchanges.is_empty()), "nothing was sent");
        let reason = report.scenarios[0].verdict.reason().unwrap_or_default();
        assert!(reason.contains("only with --allow-writes"), "{reason}");
        assert!(report.scenarios.iter().all(|scenario| scenario.warnings.is_empty()), "nothing read past");
    }
    assert_eq!(held(&app, "52", "Observation").await, (observations, 0), "nothing stored, nothing shared");
    assert_eq!(held(&app, "51", "DocumentReference").await, (references, 0));

    // With it: every assert holds, the batch-response's validation against the base Bundle too.
    let vitals = run_share(&app, "52", true).await;
    assert_eq!(failures(&vitals), Vec::<String>::new());
    assert_eq!(counts(&vitals), (2, 2, 24, 0, 0), "vital signs: results, passed, asserts, failed, not run");
    assert_eq!(profile_validations(&vitals), (1, 0, 0));
    let validation = "the batch-response conforms to the base FHIR specification: valid against profile Bundle-profile";
    assert!(passed(&vitals, validation), "{validation}");
    let sent: Vec<(&str, u16)> = vitals
        .scenarios
        .iter()
        .flat_map(|scenario| &scenario.exchanges)
        .map(|exchange| (exchange.method.as_str(), exchange.status))
        .collect();
    assert_eq!(sent, [("POST", 200), ("GET", 200)], "the batch, then the read back");
    assert_eq!(held(&app, "52", "Observation").await, (observations + 6, 6), "six measurements shared");

    let documents = run_share(&app, "51", true).await;
    assert_eq!(failures(&documents), Vec::<String>::new());
    assert_eq!(counts(&documents), (2, 2, 22, 0, 0), "documents");
    assert_eq!(profile_validations(&documents), (1, 0, 0));
    let validation =
        "the transaction-response conforms to the base FHIR specification: valid against profile Bundle-profile";
    assert!(passed(&documents, validation), "{validation}");
    let transaction = &documents.scenarios[0].exchanges[0];
    assert_eq!((transaction.method.as_str(), transaction.status), ("POST", 200));
    let content_type = transaction.request_headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    assert_eq!(content_type.map(|(_, value)| value.as_str()), Some("application/fhir+xml"), "the fixture sent as XML");
    assert!(transaction.request_body.starts_with("<Bundle"), "{}", transaction.request_body);
    assert_eq!(documents.scenarios[1].exchanges.len(), 2, "the DocumentReference and its Binary read back");
    assert!(documents.scenarios.iter().all(|scenario| scenario.warnings.is_empty()), "nothing read past");
    // The manifest, two references and two documents join the six measurements in the feed.
    assert_eq!(held(&app, "51", "DocumentReference").await, (references + 2, 11));
    // No report carries the person's BSN.
    for report in [&vitals, &documents] {
        assert!(!pgo_conformance::report::json::to_json(report).contains(ANNA), "a BSN in the JSON report");
    }
});
