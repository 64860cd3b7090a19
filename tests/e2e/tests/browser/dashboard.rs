//! The auditors' dashboard in Chromium: an auditor signs in with the demo auditor's credentials,
//! sees the chart and the table of new users per PGO (after real exchanges), downloads nothing
//! through scripts (there are none), signs out; a wrong secret is refused on the page.

use crate::backend_of;
use crate::person::Person;
use e2e::{ANNA, BRAM, PROVIDER, TestApp};
use test_support::on_both_backends;

async fn collect(app: &TestApp, bsn: &str) {
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    let response = app.client.get(url).bearer_auth(app.token(PROVIDER, bsn, &["48"])).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

on_both_backends!(an_auditor_signs_in_and_sees_new_users_per_pgo, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    collect(&app, ANNA).await;
    collect(&app, BRAM).await;
    collect(&app, ANNA).await;
    let Some(auditor) = Person::start(&app).await else { return };
    let login = auditor.open("/audit/dashboard").await;
    assert_eq!(login.path(), "/audit/login", "the dashboard asks to sign in first");
    auditor.fill("client_id", pgo_exchange::DEMO_AUDITOR).await;
    auditor.fill("client_secret", "not the secret").await;
    auditor.click("sign-in", "/audit/login").await;
    assert!(auditor.has("login-error").await, "a wrong secret is refused on the page");

    auditor.fill("client_id", pgo_exchange::DEMO_AUDITOR).await;
    auditor.fill("client_secret", &app.context.demo_auditor_secret()).await;
    auditor.click("sign-in", "/audit/dashboard").await;
    assert!(auditor.has("chart").await, "the chart is on the page");
    let totals = auditor.text_of("totals").await;
    assert!(totals.starts_with("2 new unique users, EUR 15.00 due"), "{totals}");
    let table = auditor.text_of("usage").await;
    assert!(table.contains("pgo.example.nl") && table.contains("EUR 15.00"), "{table}");
    assert!(auditor.width_of("#chart").await > 300.0, "the chart is drawn at a readable size");
    auditor.screenshot(&format!("audit-dashboard-{backend}")).await;
    if backend == "sqlite" {
        auditor.screenshot("audit-dashboard").await;
    }
    auditor.click("sign-out", "/audit/login").await;
    let again = auditor.open("/audit/dashboard").await;
    assert_eq!(again.path(), "/audit/login", "signed out means signed out");
    auditor.close().await;
});
