//! The project's example TestScripts (`conformance/testscripts`) run by `pgo-conformance
//! testscript` against the service itself, with a demo patient's token: every assert of the
//! ordinary scripts passes, and the script of unsupported constructs reports each as not run.

use super::*;
use pgo_conformance::http::Http;
use pgo_conformance::mask::Masker;
use std::path::PathBuf;

fn scripts(folder: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/testscripts").join(folder)
}

async fn run(app: &TestApp, folder: &str, data_service: &str) -> RunReport {
    let token = app.token(PROVIDER, ANNA, &["48", "63"]);
    let http = Http::new(
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        Masker::new([ANNA.to_owned(), BRAM.to_owned()]),
    );
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
    assert!(reasons.contains("validateProfileId"), "{reasons}");
    assert!(reasons.contains("resolve"), "{reasons}");
});
