//! Flows that end without access: the person cancels at DigiD; the person declines; the provider
//! holds no record of the person. The demo PGO is sent back `access_denied` each time, and cannot
//! tell a person without a record from one who declined (the domain brief, flow step 4).

use crate::person::Person;
use crate::steps::{log_in, query, start_at_demo_pgo, to_simulator};
use crate::{BSNS, STRANGER};
use e2e::{ANNA, TestApp};
use test_support::on_both_backends;
use url::Url;

/// What the demo PGO shows when access was refused.
const NO_ACCESS: &str = "Geen toegang";

/// The `error` and `error_description` the demo PGO was sent back with.
fn error_of(back: &Url) -> (Option<String>, Option<String>) {
    assert_eq!(query(back, "code"), None, "no code: {back}");
    assert!(query(back, "state").is_some(), "the state comes back: {back}");
    (query(back, "error"), query(back, "error_description"))
}

on_both_backends!(a_person_who_cancels_at_digid_is_sent_back_with_access_denied, |database| {
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };
    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;

    let back = person.click("cancel", "/demo-pgo/callback").await;
    let (error, description) = error_of(&back);
    assert_eq!(error.as_deref(), Some("access_denied"));
    assert_eq!(description.as_deref(), Some("the person cancelled the login"));
    let page = person.text().await;
    assert!(page.contains(NO_ACCESS) && page.contains("access_denied"), "{page}");

    person.assert_no_bsn(&BSNS);
    person.close().await;
});

on_both_backends!(a_person_without_a_record_looks_to_the_pgo_like_a_person_who_declined, |database| {
    let backend = crate::backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };

    // Anna declines on the consent page.
    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;
    log_in(&person, ANNA, "/oauth/consent").await;
    let declined = person.click("deny", "/demo-pgo/callback").await;
    let declined_page = person.text().await;

    // Someone the demo provider has never seen is told so, and goes back.
    start_at_demo_pgo(&app, &person).await;
    to_simulator(&app, &person, "/oauth/login/callback").await;
    log_in(&person, STRANGER, "/oauth/consent").await;
    let page = person.text().await;
    assert!(page.contains("Geen gegevens gevonden"), "{page}");
    assert!(!person.has("allow").await, "nothing to consent to: {page}");
    assert_eq!(person.text_of("back").await, "Terug naar de app");
    person.check_widths(&format!("no-record-page-{backend}")).await;
    let unknown = person.click("back", "/demo-pgo/callback").await;
    let unknown_page = person.text().await;

    let expected = (Some("access_denied".to_owned()), Some("no authorization was given".to_owned()));
    assert_eq!(error_of(&declined), expected);
    assert_eq!(error_of(&unknown), expected);
    assert!(unknown_page.contains(NO_ACCESS) && unknown_page.contains("no authorization was given"), "{unknown_page}");
    assert_eq!(unknown_page, declined_page, "the PGO's page is the same either way");

    // Nor the stranger's BSN, typed only at the simulator.
    person.assert_no_bsn(&[BSNS.as_slice(), &[STRANGER]].concat());
    person.close().await;
});
