//! The auditors' dashboard in Chromium: an auditor signs in with the demo auditor's credentials,
//! sees the chart and the table of new users per PGO (after real exchanges), downloads nothing
//! through scripts (there are none), signs out; a wrong secret is refused on the page. In Dutch
//! by default and in English after the switch, the choice kept across the sign-in form, the
//! dashboard's pages and signing out; counts of one and of more than one in their own forms; at
//! a desktop's and a phone's width, nothing sticking out sideways.

use crate::person::Person;
use crate::{BSNS, backend_of};
use access_token::Grant;
use e2e::pgo::{OTHER_PGO, PGO};
use e2e::{ANNA, BRAM, PROVIDER, TestApp};
use test_support::on_both_backends;

/// A PGO's first exchange for the person with `bsn` (metered, so it counts as a new user).
async fn collect(app: &TestApp, client_id: &str, bsn: &str) {
    let grant = Grant {
        person_key: app.context.secret.person_key(PROVIDER, bsn),
        pseudonym: app.context.secret.pseudonym(bsn),
        client_id: client_id.to_owned(),
        provider: PROVIDER.to_owned(),
        scope: format!("{PROVIDER}~48").parse().unwrap(),
        audience: vec![app.base(PROVIDER, "48")],
        consent: None,
    };
    let token = app.context.token_issuer().issue(&grant).unwrap().token;
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    let response = app.client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

/// The text of the element with this `id`, with no-break spaces (after the euro sign in Dutch)
/// read as spaces.
async fn text_of(auditor: &Person, id: &str) -> String {
    auditor.text_of(id).await.replace('\u{a0}', " ")
}

/// Whether the legend has exactly this line (a line of one user is part of a line of two, so a
/// substring would not tell the singular from the plural).
async fn legend_has(auditor: &Person, line: &str) -> bool {
    text_of(auditor, "legend").await.lines().any(|shown| shown.trim() == line)
}

async fn sign_in(auditor: &Person, secret: &str, expected_path: &str) {
    auditor.fill("client_id", pgo_exchange::DEMO_AUDITOR).await;
    auditor.fill("client_secret", secret).await;
    auditor.click("sign-in", expected_path).await;
}

on_both_backends!(an_auditor_signs_in_and_sees_new_users_per_pgo, |database| {
    let backend = backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    // Two people through one PGO (one of them twice: still one new user), one through another:
    // the year holds a count of two and a count of one.
    collect(&app, PGO, ANNA).await;
    collect(&app, PGO, BRAM).await;
    collect(&app, PGO, ANNA).await;
    collect(&app, OTHER_PGO, BRAM).await;
    let Some(auditor) = Person::start(&app).await else { return };
    let secret = app.context.demo_auditor_secret();

    // Dutch unless asked otherwise.
    let login = auditor.open("/audit/dashboard").await;
    assert_eq!(login.path(), "/audit/login", "the dashboard asks to sign in first");
    assert_eq!(auditor.html_lang().await.as_deref(), Some("nl"));
    assert_eq!(auditor.text_of("sign-in").await, "Inloggen");
    assert_eq!(auditor.text_of("language").await, "English");
    auditor.check_widths(&format!("audit-login-nl-{backend}")).await;
    sign_in(&auditor, "not the secret", "/audit/login").await;
    assert_eq!(auditor.text_of("login-error").await, "De client-id of het geheim klopt niet.");
    assert_eq!(auditor.html_lang().await.as_deref(), Some("nl"));

    sign_in(&auditor, &secret, "/audit/dashboard").await;
    assert_eq!(auditor.html_lang().await.as_deref(), Some("nl"));
    assert!(auditor.has("chart").await, "the chart is on the page");
    let totals = text_of(&auditor, "totals").await;
    assert!(totals.starts_with("3 nieuwe unieke gebruikers, € 22,50 te betalen over "), "{totals}");
    assert!(legend_has(&auditor, &format!("{PGO}: 2 nieuwe unieke gebruikers")).await);
    assert!(legend_has(&auditor, &format!("{OTHER_PGO}: 1 nieuwe unieke gebruiker")).await);
    let table = text_of(&auditor, "usage").await;
    assert!(table.contains(PGO) && table.contains("€ 15,00") && table.contains("€ 7,50"), "{table}");
    assert!(table.contains("Bedrag") && !table.contains("EUR"), "{table}");
    assert_eq!(auditor.text_of("sign-out").await, "Uitloggen");
    assert!(auditor.width_of("#chart").await > 300.0, "the chart is drawn at a readable size");
    auditor.check_widths(&format!("audit-dashboard-nl-{backend}")).await;
    auditor.screenshot(&format!("audit-dashboard-{backend}")).await;
    if backend == "sqlite" {
        auditor.screenshot("audit-dashboard").await;
    }

    // English, kept by the session for the dashboard's next pages.
    let english = auditor.click("language", "/audit/dashboard").await;
    assert!(english.query().is_some_and(|query| query.ends_with("lang=en")), "{english}");
    assert_eq!(auditor.html_lang().await.as_deref(), Some("en"));
    let totals = text_of(&auditor, "totals").await;
    assert!(totals.starts_with("3 new unique users, €22.50 due for "), "{totals}");
    assert!(legend_has(&auditor, &format!("{PGO}: 2 new unique users")).await);
    assert!(legend_has(&auditor, &format!("{OTHER_PGO}: 1 new unique user")).await);
    let table = text_of(&auditor, "usage").await;
    assert!(table.contains("€15.00") && table.contains("Amount"), "{table}");
    let page = auditor.text().await;
    for dutch in ["Uitloggen", "gebruiker", "te betalen", "Ondertekende"] {
        assert!(!page.contains(dutch), "{dutch:?} on the English dashboard: {page}");
    }
    auditor.check_widths(&format!("audit-dashboard-en-{backend}")).await;
    auditor.open("/audit/dashboard").await;
    assert_eq!(auditor.html_lang().await.as_deref(), Some("en"), "the choice holds without the parameter");

    // Signing out keeps the language; so do the sign-in form and its answers.
    auditor.click("sign-out", "/audit/login").await;
    assert_eq!(auditor.html_lang().await.as_deref(), Some("en"));
    assert_eq!(auditor.text_of("sign-in").await, "Sign in");
    auditor.check_widths(&format!("audit-login-en-{backend}")).await;
    sign_in(&auditor, "not the secret", "/audit/login").await;
    assert_eq!(auditor.text_of("login-error").await, "The client id or secret is not right.");
    sign_in(&auditor, &secret, "/audit/dashboard").await;
    assert_eq!(auditor.html_lang().await.as_deref(), Some("en"), "the choice made before signing in holds after it");
    assert!(text_of(&auditor, "totals").await.starts_with("3 new unique users"));

    auditor.click("sign-out", "/audit/login").await;
    let again = auditor.open("/audit/dashboard").await;
    assert_eq!(again.path(), "/audit/login", "signed out means signed out");
    auditor.assert_no_bsn(&BSNS);
    auditor.close().await;
});
