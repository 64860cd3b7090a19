//! The project's example TestScripts (`conformance/testscripts`) run by `pgo-conformance
//! testscript` against the service itself, with a demo patient's token: every assert of the
//! ordinary scripts passes, and the script of unsupported constructs reports each as not run.
//! The scripts in the qualification dialect (`dialect/`) load their own data through the ingest
//! endpoint first (the load script, with its purge), then run with their exact counts.

use super::*;
use pgo_conformance::http::Http;
use pgo_conformance::mask::Masker;
use pgo_conformance::testscript::{self, LoadTarget, TestScriptTarget};
use std::path::PathBuf;

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
    // The profile validation is counted on its own, not among the reasons a test was not run.
    assert_eq!(unsupported.totals.profile_validations_not_run, 1);
});

/// The dialect's Vaccinaties script after its load script, against the service: the script's
/// token mapped to the loaded patient's.
async fn run_after_load(app: &TestApp) -> RunReport {
    let mut target = TestScriptTarget::new(&app.base(PROVIDER, "63"), None, &[]).unwrap();
    target.token_map = vec![(SCRIPT_TOKEN_63.to_owned(), app.token(PROVIDER, SANNE, &["63"]))];
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
    assert_eq!(counts(&bgz), (2, 2, 17, 0, 1), "BgZ dialect: results, passed, asserts, failed, not run");
    assert_eq!(bgz.totals.profile_validations_not_run, 1, "the one validateProfileId, on its own line");
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
    assert_eq!(counts(&vaccinations), (4, 4, 25, 0, 1), "load and Vaccinaties dialect");
    assert_eq!(vaccinations.totals.profile_validations_not_run, 1);
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
    assert_eq!(counts(&again), (4, 4, 25, 0, 1));
    let purge = &again.scenarios[0].exchanges;
    let deleted: Vec<(&str, u16)> = purge.iter().map(|exchange| (exchange.method.as_str(), exchange.status)).collect();
    assert_eq!(deleted, [("DELETE", 204), ("DELETE", 204), ("DELETE", 204)]);
    assert!(purge[2].url.ends_with("/ingest/demoziekenhuis/r4/Patient/dialect-patient-sanne"), "{}", purge[2].url);
});
