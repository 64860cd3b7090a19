//! Guessing is throttled: failed attempts at an ingest key, a PGO's refresh token, an auditor's
//! secret (at the token endpoint and the dashboard's form) are counted per source address and
//! per provider, client or auditor; past the limit every attempt with that key is 429 with
//! `Retry-After`, in the door's protocol, the right credential too. Other addresses and other
//! clients carry on. Behind a trusted proxy the source is the address it forwards; from anyone
//! else `X-Forwarded-For` changes nothing.

use e2e::pgo::{Browser, OTHER_PGO, PGO, Person, VERIFIER, authorize_url, challenge, param, request};
use e2e::{ANNA, PROVIDER, TestApp};
use serde_json::Value;
use store::NewProvider;
use test_support::on_both_backends;

/// The loopback peer of the tests is a trusted proxy; each test names its "addresses" in
/// `X-Forwarded-For`.
const BEHIND_A_PROXY: &str = "[trusted_proxy]\naddresses = [\"127.0.0.1\"]\n";
const LIMIT_OF_THREE: (&str, &str) = ("PGO_EXCHANGE__THROTTLING__MAX_FAILURES", "3");

/// The `Retry-After` of a 429, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    assert_eq!(response.status(), 429);
    let seconds = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    seconds
}

/// `GET` of a stored resource at the ingest endpoint of `provider` with `key`, from `address`.
async fn ingest_read(app: &TestApp, provider: &str, key: &str, address: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/ingest/{provider}/stu3/Patient/demo-patient-anna", app.address))
        .bearer_auth(key)
        .header("X-Forwarded-For", address)
        .send()
        .await
        .unwrap()
}

async fn assert_throttled_outcome(response: reqwest::Response) {
    retry_after(&response);
    let outcome: Value = response.json().await.unwrap();
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "throttled");
}

on_both_backends!(wrong_ingest_keys_are_throttled_per_address_and_per_provider, |database| {
    let app = TestApp::start_with_config(database, BEHIND_A_PROXY, &[LIMIT_OF_THREE]).await;
    let third_key = "the-third-providers-ingest-key";
    let third =
        NewProvider { name: "derdeziekenhuis".into(), display_name: "Derde".into(), data_services: vec!["48".into()] };
    app.context.store.create_provider(&third, Some(&store::ingest_key_hash(third_key))).await.unwrap();

    // An address guessing keys of a provider that does not exist: only the address counts.
    for _ in 0..3 {
        assert_eq!(ingest_read(&app, "nosuchprovider", "guess", "192.0.2.1").await.status(), 401);
    }
    assert_throttled_outcome(ingest_read(&app, PROVIDER, &app.ingest_key, "192.0.2.1").await).await;
    assert_eq!(ingest_read(&app, PROVIDER, &app.ingest_key, "192.0.2.2").await.status(), 200, "another address");

    // Wrong keys for a provider from many addresses: the provider counts.
    for n in 10..13 {
        assert_eq!(ingest_read(&app, "derdeziekenhuis", "guess", &format!("192.0.2.{n}")).await.status(), 401);
    }
    assert_throttled_outcome(ingest_read(&app, "derdeziekenhuis", third_key, "192.0.2.20").await).await;
    assert_eq!(ingest_read(&app, PROVIDER, &app.ingest_key, "192.0.2.20").await.status(), 200, "another provider");
});

on_both_backends!(a_forwarded_address_from_an_untrusted_peer_changes_nothing_and_the_default_is_ten, |database| {
    let app = TestApp::start(database).await;
    // Every guess claims another address; the peer is no proxy, so all are one address.
    for n in 0..10 {
        let response = ingest_read(&app, "nosuchprovider", "guess", &format!("198.51.100.{n}")).await;
        assert_eq!(response.status(), 401, "attempt {n}");
    }
    assert_throttled_outcome(ingest_read(&app, PROVIDER, &app.ingest_key, "198.51.100.99").await).await;
});

/// A token request from `address`.
async fn token_from(app: &TestApp, address: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}/oauth/token", app.address))
        .header("X-Forwarded-For", address)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn refresh_from(app: &TestApp, address: &str, client_id: &str, refresh_token: &str) -> reqwest::Response {
    token_from(
        app,
        address,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)],
    )
    .await
}

async fn assert_throttled_oauth(response: reqwest::Response) {
    retry_after(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request", "{body}");
}

/// A refresh token of `PGO` for Anna, through the whole flow.
async fn refresh_token(app: &TestApp) -> String {
    let browser = Browser::new(app);
    let url = authorize_url(app, &request(PGO, &format!("{PROVIDER}~48"), "s", &challenge(VERIFIER)));
    let back = browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await;
    let code = param(&back, "code").expect("a code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", e2e::pgo::REDIRECT_URI),
        ("client_id", PGO),
        ("code_verifier", VERIFIER),
    ];
    let response = token_from(app, "203.0.113.1", &form).await;
    assert_eq!(response.status(), 200);
    response.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned()
}

on_both_backends!(refresh_token_guesses_are_throttled_per_address_and_per_client, |database| {
    let app = TestApp::start_authorization_with_config(database, BEHIND_A_PROXY, &[LIMIT_OF_THREE]).await;
    let mut refresh = refresh_token(&app).await;

    // Another PGO guessing refresh tokens from one address.
    for _ in 0..3 {
        let response = refresh_from(&app, "192.0.2.1", OTHER_PGO, "a-guessed-refresh-token").await;
        assert_eq!(response.status(), 400);
        assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_grant");
    }
    assert_throttled_oauth(refresh_from(&app, "192.0.2.1", OTHER_PGO, "a-guessed-refresh-token").await).await;
    // The address is throttled for every client, the right refresh token too, which stays unspent.
    assert_throttled_oauth(refresh_from(&app, "192.0.2.1", PGO, &refresh).await).await;
    // The guessing client is throttled from every address.
    assert_throttled_oauth(refresh_from(&app, "192.0.2.2", OTHER_PGO, "another-guess").await).await;
    // Another client from another address carries on.
    let response = refresh_from(&app, "192.0.2.2", PGO, &refresh).await;
    assert_eq!(response.status(), 200);
    refresh = response.json::<Value>().await.unwrap()["refresh_token"].as_str().unwrap().to_owned();

    // Requests for clients that are not listed count against the address only: they cannot
    // lock a listed PGO out.
    for _ in 0..3 {
        let response = refresh_from(&app, "192.0.2.3", PGO.replace("pgo", "nope").as_str(), "x").await;
        assert_eq!(response.status(), 401);
    }
    assert_throttled_oauth(refresh_from(&app, "192.0.2.3", PGO, &refresh).await).await;
    assert_eq!(refresh_from(&app, "192.0.2.4", PGO, &refresh).await.status(), 200);
});

const NZA_SECRET: &str = "nza-secret-for-the-throttling-tests";
const CBS_SECRET: &str = "cbs-secret-for-the-throttling-tests";

async fn auditor_from(app: &TestApp, address: &str, id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/oauth/token", app.address))
        .header("X-Forwarded-For", address)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

async fn dashboard_from(app: &TestApp, address: &str, id: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/audit/login", app.address))
        .header("X-Forwarded-For", address)
        .header("Origin", &app.address)
        .form(&[("client_id", id), ("client_secret", secret)])
        .send()
        .await
        .unwrap()
}

on_both_backends!(auditor_secret_guesses_are_throttled_at_both_doors, |database| {
    let (nza, cbs) = (metering::secret_hash(NZA_SECRET), metering::secret_hash(CBS_SECRET));
    let settings = [
        LIMIT_OF_THREE,
        ("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", nza.as_str()),
        ("PGO_EXCHANGE__AUDITORS__CBS__SECRET_SHA256", cbs.as_str()),
    ];
    let app = TestApp::start_with_config(database, BEHIND_A_PROXY, &settings).await;

    // Unknown auditor ids from one address: the address counts.
    for _ in 0..3 {
        assert_eq!(auditor_from(&app, "192.0.2.1", "nobody", "guess").await.status(), 401);
    }
    assert_throttled_oauth(auditor_from(&app, "192.0.2.1", "nza", NZA_SECRET).await).await;
    assert_eq!(auditor_from(&app, "192.0.2.2", "nza", NZA_SECRET).await.status(), 200, "another address");

    // One auditor's secret guessed from many addresses: the auditor counts, at both doors.
    for n in 10..13 {
        assert_eq!(auditor_from(&app, &format!("192.0.2.{n}"), "nza", "guess").await.status(), 401);
    }
    assert_throttled_oauth(auditor_from(&app, "192.0.2.20", "nza", NZA_SECRET).await).await;
    let page = dashboard_from(&app, "192.0.2.20", "nza", NZA_SECRET).await;
    retry_after(&page);
    assert!(page.text().await.unwrap().contains("Te veel mislukte inlogpogingen"));
    assert_eq!(auditor_from(&app, "192.0.2.20", "cbs", CBS_SECRET).await.status(), 200, "another auditor");

    // Failures at the dashboard count at the token endpoint too.
    for n in 30..33 {
        assert_eq!(dashboard_from(&app, &format!("192.0.2.{n}"), "cbs", "guess").await.status(), 401);
    }
    assert_throttled_oauth(auditor_from(&app, "192.0.2.40", "cbs", CBS_SECRET).await).await;
    let signed_in = dashboard_from(&app, "192.0.2.41", "nobody-yet", "guess").await;
    assert_eq!(signed_in.status(), 401, "an address and auditor without failures are let through");
});
