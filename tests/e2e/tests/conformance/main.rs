//! The conformance suite (`pgo-conformance`) against the service itself, on SQLite and on
//! PostgreSQL: every scenario must pass, and the number run is fixed, so a suite that silently
//! lost scenarios fails here. Then against deliberately broken stand-ins (the real service behind
//! a proxy that breaks one rule), where the scenarios of that rule must fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collecting;
mod proxy;
mod testscripts;

use e2e::pgo::{LIMITED_PGO, OTHER_PGO, PGO, REDIRECT_URI};
use e2e::{ANNA, BRAM, OTHER_PROVIDER, PROVIDER, TestApp};
use pgo_conformance::config::{Auditor, Config, ForbiddenScope, LoginForm, Persons, PgoClient, TargetSpec};
use pgo_conformance::outcome::{RunReport, Verdict};
use pgo_conformance::scenario::Quiet;
use proxy::Fault;
use test_support::on_both_backends;

/// Scenarios of a whole run against the service with data services 48 and 63 collected and 51
/// and 52 shared with: discovery 6, authorization 13, retrieval (28 BgZ + 4 Vaccinaties queries)
/// x 2 formats = 64, headers, errors and isolation 11 x 2 = 22, metering 1, token 11, sharing 8.
const SCENARIOS: usize = 6 + 13 + 64 + 22 + 4 + 1 + 1 + 11 + 8;

const AUDITOR: &str = "nza";
const AUDITOR_SECRET: &str = "auditor-secret-for-conformance";
/// Codes live 5 s here, so that the expiry scenario waits 7 s, not a minute.
const CODE_LIFETIME: &str = "5";
/// The suite refuses itself on purpose dozens of times a minute from one address (replayed codes,
/// wrong verifiers, other clients' tokens), as a tester and not a guesser: a deployment that runs
/// it raises the throttle's limit for the run as this does.
const MAX_FAILURES: &str = "1000";
/// The largest Bundle the service takes from a PGO here (1 MiB: the suite's oversized share is
/// sent just over it).
const MAX_SHARED_BYTES: usize = 1_048_576;

async fn start(database: test_support::TestDatabase) -> TestApp {
    let hash = metering::secret_hash(AUDITOR_SECRET);
    let app = TestApp::start_authorization(
        database,
        &[
            ("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", hash.as_str()),
            ("PGO_EXCHANGE__AUTHORIZATION__CODE_LIFETIME_SECONDS", CODE_LIFETIME),
            ("PGO_EXCHANGE__THROTTLING__MAX_FAILURES", MAX_FAILURES),
            ("PGO_EXCHANGE__SERVER__MAX_SHARED_BODY_BYTES", &MAX_SHARED_BYTES.to_string()),
        ],
    )
    .await;
    // The demo provider takes shares too (51 and 52), for the sharing scenarios.
    let demo = app.context.store.provider(PROVIDER).await.unwrap().expect("the demo provider");
    let services = ["48", "51", "52", "63"].map(str::to_owned).to_vec();
    let new = store::NewProvider {
        name: demo.name.clone(),
        display_name: demo.display_name.clone(),
        data_services: services,
    };
    app.context.store.upsert_provider(&new, None).await.unwrap();
    app
}

/// The suite's configuration for the service (or a proxy of it) at `address`.
fn config(address: &str, only: &[&str]) -> Config {
    Config {
        target: TargetSpec::Zal { source: format!("{address}/medmij/zal.xml"), provider: format!("{PROVIDER}@medmij") },
        other_provider: Some(OTHER_PROVIDER.into()),
        pgo: PgoClient {
            client_id: PGO.into(),
            redirect_uri: REDIRECT_URI.into(),
            other_client_id: Some(OTHER_PGO.into()),
            forbidden: Some(ForbiddenScope {
                client_id: LIMITED_PGO.into(),
                redirect_uri: REDIRECT_URI.into(),
                data_service: "48".into(),
            }),
            identity: None,
            other_identity: None,
            ca: None,
        },
        persons: Persons::Login { form: LoginForm::default(), patient_a: ANNA.into(), patient_b: BRAM.into() },
        data_services: vec!["48".into(), "63".into()],
        auditor: Some(Auditor {
            id: AUDITOR.into(),
            secret: AUDITOR_SECRET.into(),
            usage_url: format!("{address}/audit/usage"),
            access_log_url: Some(format!("{address}/audit/AuditEvent")),
        }),
        code_lifetime_seconds: CODE_LIFETIME.parse().unwrap(),
        timeout_seconds: 30,
        only: only.iter().map(|prefix| (*prefix).to_owned()).collect(),
        allow_writes: true,
        share_body_limit: Some(MAX_SHARED_BYTES as u64),
    }
}

fn failures(report: &RunReport) -> Vec<String> {
    report
        .scenarios
        .iter()
        .filter(|scenario| scenario.verdict != Verdict::Passed)
        .map(|scenario| {
            format!("{} [{}]: {}", scenario.id, scenario.verdict.label(), scenario.verdict.reason().unwrap_or(""))
        })
        .collect()
}

/// Keeps the HTML report where CI collects artifacts.
fn keep_report(report: &RunReport, name: &str) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("conformance");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.html")), pgo_conformance::report::html::to_html(report)).unwrap();
    std::fs::write(dir.join(format!("{name}.junit.xml")), pgo_conformance::report::junit::to_junit(report)).unwrap();
}

on_both_backends!(the_whole_suite_passes_against_the_service, |database| {
    let backend = if database.url.starts_with("postgres") { "postgres" } else { "sqlite" };
    let app = start(database).await;
    let report = pgo_conformance::run_suite(config(&app.address, &[]), &Quiet).await.expect("the suite runs");
    keep_report(&report, &format!("suite-{backend}"));
    assert_eq!(failures(&report), Vec::<String>::new());
    assert_eq!(report.totals.scenarios, SCENARIOS, "the number of scenarios run");
    assert_eq!(report.totals.passed, SCENARIOS);
    assert!(report.totals.checks > 10 * SCENARIOS / 2, "checks made: {}", report.totals.checks);
    // No report carries a test patient's BSN, whatever the answers held.
    let json = pgo_conformance::report::json::to_json(&report);
    assert!(!json.contains(ANNA) && !json.contains(BRAM), "a BSN in the JSON report");
});

/// Runs the scenarios starting with `only` against the service behind a proxy with `fault`.
async fn against_broken(app: &TestApp, fault: Fault, only: &[&str]) -> RunReport {
    let address = proxy::start(&app.address, fault);
    pgo_conformance::run_suite(config(&address, only), &Quiet).await.expect("the suite runs")
}

fn failed_ids(report: &RunReport) -> Vec<&str> {
    report
        .scenarios
        .iter()
        .filter(|scenario| matches!(scenario.verdict, Verdict::Failed(_)))
        .map(|scenario| scenario.id.as_str())
        .collect()
}

on_both_backends!(a_leaked_patient_parameter_fails_every_json_search, |database| {
    let app = start(database).await;
    let report = against_broken(
        &app,
        Fault::LeaksPatientParameter,
        &["retrieval.48.q1.", "retrieval.48.q5.", "retrieval.63.q1."],
    )
    .await;
    assert_eq!(report.totals.scenarios, 6);
    // The proxy breaks JSON answers only: the XML scenarios still pass.
    assert_eq!(failed_ids(&report), ["retrieval.48.q1.json", "retrieval.48.q5.json", "retrieval.63.q1.json"]);
    let reason = report.scenarios[0].verdict.reason().unwrap();
    assert!(reason.contains("the self link has no patient parameter"), "{reason}");
});

on_both_backends!(a_missing_total_fails_the_search, |database| {
    let app = start(database).await;
    let report = against_broken(&app, Fault::OmitsTotal, &["retrieval.48.q8a.json", "discovery.zal"]).await;
    assert_eq!(failed_ids(&report), ["retrieval.48.q8a.json"]);
    assert!(
        report
            .scenarios
            .iter()
            .any(|scenario| scenario.verdict.reason().is_some_and(|why| why.contains("Bundle.total is present")))
    );
});

on_both_backends!(an_accepted_replayed_code_fails_the_replay_scenario, |database| {
    let app = start(database).await;
    let report = against_broken(&app, Fault::AcceptsReplayedCode, &["token.code-replay", "token.code-exchange"]).await;
    assert_eq!(failed_ids(&report), ["token.code-replay"]);
});

on_both_backends!(a_dropped_correlation_id_fails_the_header_scenarios, |database| {
    let app = start(database).await;
    let report = against_broken(&app, Fault::DropsCorrelationId, &["headers.48."]).await;
    assert_eq!(failed_ids(&report), ["headers.48.request-ids-echoed", "headers.48.request-ids-on-errors"]);
});

on_both_backends!(with_pre_issued_tokens_the_flow_scenarios_are_not_run_and_the_rest_passes, |database| {
    let app = start(database).await;
    let tokens = |bsn: &str| {
        ["48", "63"].into_iter().map(|service| (service.to_owned(), app.token(PROVIDER, bsn, &[service]))).collect()
    };
    let mut config =
        config(&app.address, &["authorization.ordinary", "token.code-exchange", "retrieval.48.q1.", "isolation.48."]);
    config.persons = Persons::Tokens { patient_a: tokens(ANNA), patient_b: tokens(BRAM) };
    let report = pgo_conformance::run_suite(config, &Quiet).await.expect("the suite runs");
    let verdicts: Vec<(&str, &str)> =
        report.scenarios.iter().map(|scenario| (scenario.id.as_str(), scenario.verdict.label())).collect();
    assert_eq!(
        verdicts,
        [
            ("authorization.ordinary-request", "not run"),
            ("retrieval.48.q1.json", "passed"),
            ("retrieval.48.q1.xml", "passed"),
            ("isolation.48.patient-parameter-ignored", "passed"),
            ("isolation.48.read-other-patient", "passed"),
            ("isolation.48.token-of-other-patient-differs", "passed"),
            ("isolation.48.other-provider", "passed"),
            ("token.code-exchange", "not run"),
        ]
    );
    assert!(!report.all_passed(), "a run with scenarios not run is not a pass");
});
