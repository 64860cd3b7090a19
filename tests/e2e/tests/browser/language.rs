//! The language switch: the landing page links to itself in English, and the choice holds for
//! the rest of the flow (it is kept in the session).

use crate::BSNS;
use crate::person::Person;
use crate::steps::{log_in, start_at_demo_pgo, to_simulator};
use e2e::{ANNA, TestApp};
use test_support::on_both_backends;

on_both_backends!(the_landing_page_switches_to_english_and_the_consent_page_follows, |database| {
    let backend = crate::backend_of(&database);
    let app = TestApp::start_authorization(database, &[]).await;
    let Some(person) = Person::start(&app).await else { return };
    start_at_demo_pgo(&app, &person).await;
    assert_eq!(person.html_lang().await.as_deref(), Some("nl"));

    let english = person.follow("English", "/oauth/start").await;
    assert_eq!(english.query(), Some("lang=en"));
    assert_eq!(person.html_lang().await.as_deref(), Some("en"));
    let page = person.text().await;
    for expected in ["An app asks for your data", "wants to collect your data from", "Access to your health data"] {
        assert!(page.contains(expected), "{expected:?} on the English landing page: {page}");
    }
    assert_eq!(person.text_of("login").await, "Log in with DigiD");
    assert_eq!(person.text_of("cancel").await, "Cancel");
    assert!(!page.contains("Inloggen met DigiD"), "no Dutch left: {page}");
    assert!(page.contains("Nederlands"), "a way back to Dutch: {page}");

    to_simulator(&app, &person, "/oauth/login/callback").await;
    log_in(&person, ANNA, "/oauth/consent").await;
    assert_eq!(person.html_lang().await.as_deref(), Some("en"));
    assert!(person.text().await.contains("Give consent"));
    assert_eq!(person.text_of("allow").await, "Yes, I consent");
    // The English texts are longer in places: they must fit a phone too.
    person.check_widths(&format!("consent-page-en-{backend}")).await;

    let dutch = person.follow("Nederlands", "/oauth/consent").await;
    assert_eq!(dutch.query(), Some("lang=nl"));
    assert_eq!(person.html_lang().await.as_deref(), Some("nl"));
    assert_eq!(person.text_of("allow").await, "Ja, ik geef toestemming");

    person.assert_no_bsn(&BSNS);
    person.close().await;
});
