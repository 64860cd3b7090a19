//! The steps every test takes on the way to the page it is about: start at the demo PGO, go to
//! the DigiD simulator, log in there. Each step checks the address it lands on.

use crate::person::Person;
use e2e::TestApp;
use url::Url;

/// The demo PGO's organisation name, as the OAuth Client List has it.
pub(crate) const DEMO_PGO: &str = demo::pgo_client::ORGANISATION;
/// The demo provider's display name.
pub(crate) const DEMO_PROVIDER: &str = "Demo Ziekenhuis";

/// Opens the demo PGO and starts a request for the demo provider's data; ends on the service's
/// landing page.
pub(crate) async fn start_at_demo_pgo(app: &TestApp, person: &Person) {
    let demo = person.open(demo::pgo_client::PATH).await;
    assert_eq!(demo.as_str(), format!("{}/demo-pgo", app.address));
    assert!(person.has(&format!("start-{}", e2e::PROVIDER)).await, "{}", person.text().await);
    let landing = person.click(&format!("start-{}", e2e::PROVIDER), "/oauth/start").await;
    assert_eq!(
        landing.as_str(),
        format!("{}/oauth/start", app.address),
        "the request's details stay out of the address"
    );
}

/// From a page with a `login` button (the landing page, the consent-management page) to the
/// DigiD simulator's login page; returns its address.
pub(crate) async fn to_simulator(app: &TestApp, person: &Person, callback_path: &str) -> Url {
    let simulator = person.click("login", "/digid-sim/authorize").await;
    assert_eq!(simulator.origin(), Url::parse(&app.address).expect("address").origin());
    assert_eq!(query(&simulator, "response_type").as_deref(), Some("code"));
    assert_eq!(query(&simulator, "redirect_uri"), Some(format!("{}{callback_path}", app.address)));
    assert!(person.has("bsn").await && person.has("loa").await, "{}", person.text().await);
    simulator
}

/// Types `bsn` on the simulator's page and logs in; returns the address the service sends the
/// person on to, which must have `expected_path`.
pub(crate) async fn log_in(person: &Person, bsn: &str, expected_path: &str) -> Url {
    person.fill("bsn", bsn).await;
    person.click("login", expected_path).await
}

/// A query parameter of `url`.
pub(crate) fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(key, _)| key == name).map(|(_, value)| value.into_owned())
}
