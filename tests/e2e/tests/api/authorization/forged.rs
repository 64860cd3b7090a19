//! The relying party refuses ID tokens that do not prove the login: a bad signature, another
//! audience, another nonce, another issuer, an expired token. An OpenID Provider that forges them
//! (the DigiD simulator with a fault set) stands in for an attacker between the service and DigiD.

use e2e::pgo::{Browser, PGO, Person, VERIFIER, authorize_url, challenge, param, request};
use e2e::{ANNA, PROVIDER, TestApp};
use std::net::TcpListener;
use test_support::on_both_backends;

/// Starts the service with its login at a simulator that commits `fault`.
async fn app_with_forging_provider(database: test_support::TestDatabase, fault: Option<digid_sim::Fault>) -> TestApp {
    let app_listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let app_address = format!("http://{}", app_listener.local_addr().expect("address"));
    let op_listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let issuer = format!("http://{}", op_listener.local_addr().expect("address"));
    let simulator = digid_sim::Simulator::new(digid_sim::SimulatorConfig {
        issuer: issuer.clone(),
        clients: vec![digid_sim::SimClient {
            client_id: "pgo-exchange-test".into(),
            client_secret: "test-secret".into(),
            redirect_uris: vec![format!("{app_address}/oauth/login/callback")],
        }],
        bsn_in_id_token: true,
        fault,
    })
    .expect("simulator");
    let data = actix_web::web::Data::new(simulator);
    let server =
        actix_web::HttpServer::new(move || actix_web::App::new().configure(digid_sim::configure(data.clone())))
            .workers(1)
            .listen(op_listener)
            .expect("listen")
            .run();
    tokio::spawn(server);
    let settings = [
        ("PGO_EXCHANGE__LOGIN__ISSUER", issuer.as_str()),
        ("PGO_EXCHANGE__LOGIN__CLIENT_ID", "pgo-exchange-test"),
        ("PGO_EXCHANGE__LOGIN__CLIENT_SECRET", "test-secret"),
    ];
    let mut all = vec![("PGO_EXCHANGE__DEMO__ENABLED", "true")];
    all.extend_from_slice(&settings);
    let app = TestApp::start_on(app_listener, database, &all).await;
    authorization::import(&app.context.store, e2e::pgo::client_list(2).as_bytes()).await.expect("client list");
    app
}

/// The simulator's login page is at the forging provider now; the browser helper finds it
/// through the redirect either way.
async fn attempt(app: &TestApp) -> url::Url {
    let browser = Browser::new(app);
    let challenge = challenge(VERIFIER);
    let scope = format!("{PROVIDER}~48");
    let url = authorize_url(app, &request(PGO, &scope, "st", &challenge));
    browser.authorize(&url, Person::LogsIn { bsn: ANNA, loa: "substantial", decision: "allow" }).await
}

macro_rules! forged {
    ($name:ident, $fault:expr) => {
        on_both_backends!($name, |database| {
            let app = app_with_forging_provider(database, Some($fault)).await;
            let back = attempt(&app).await;
            assert_eq!(param(&back, "error").as_deref(), Some("server_error"), "{back}");
            assert_eq!(param(&back, "error_description").as_deref(), Some("the login could not be completed"));
            assert_eq!(param(&back, "code"), None);
        });
    };
}

forged!(an_id_token_with_a_bad_signature_is_refused, digid_sim::Fault::BadSignature);
forged!(an_id_token_for_another_audience_is_refused, digid_sim::Fault::WrongAudience);
forged!(an_id_token_with_another_nonce_is_refused, digid_sim::Fault::WrongNonce);
forged!(an_id_token_from_another_issuer_is_refused, digid_sim::Fault::WrongIssuer);
forged!(an_expired_id_token_is_refused, digid_sim::Fault::Expired);

on_both_backends!(the_same_provider_without_a_fault_logs_the_person_in, |database| {
    let app = app_with_forging_provider(database, None).await;
    let back = attempt(&app).await;
    assert!(param(&back, "code").is_some(), "the control: an honest provider gives a code: {back}");
});
