//! Tokens: a token never reaches another patient's or another provider's data; missing, forged,
//! tampered and expired tokens fail with 401, and so do tokens signed with the service's own key
//! whose time claims the service would never have issued; a data service outside the scope fails
//! with 403; every refusal is an OperationOutcome with issue code `security` and a
//! `WWW-Authenticate` challenge.

use access_token::{SigningKey, TokenIssuer};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use e2e::{ANNA, BRAM, OTHER_PROVIDER, PROVIDER, TestApp, entry_ids};
use fhir_core::Release;
use serde_json::{Value, json};
use store::Write;
use test_support::on_both_backends;

async fn assert_refused(response: reqwest::Response, status: u16, challenge: &str) {
    assert_eq!(response.status(), status);
    let header =
        response.headers().get("www-authenticate").and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
    assert!(header.starts_with("Bearer realm=") && header.contains(challenge), "WWW-Authenticate: {header}");
    let outcome: Value = response.json().await.expect("json");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(outcome["issue"][0]["code"], "security");
}

on_both_backends!(missing_garbage_forged_and_tampered_tokens_are_refused, |database| {
    let app = TestApp::start(database).await;
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    assert_refused(app.client.get(&url).send().await.expect("sent"), 401, "").await;
    assert_refused(
        app.client.get(&url).header("Authorization", "Basic dXNlcjpwdw==").send().await.expect("sent"),
        401,
        "",
    )
    .await;
    assert_refused(app.get(&url, "not-a-token").await, 401, "invalid_token").await;
    let forger =
        TokenIssuer::new(SigningKey::generate().expect("key"), app.context.issuer(), 900, app.context.seal.clone());
    assert_refused(app.get(&url, &app.token_with(&forger, PROVIDER, ANNA, &["48"])).await, 401, "invalid_token").await;
    // Anna's token with Bram's key in it: the signature no longer fits.
    let anna = app.token(PROVIDER, ANNA, &["48"]);
    let bram = app.token(PROVIDER, BRAM, &["48"]);
    let (anna_parts, bram_parts): (Vec<&str>, Vec<&str>) = (anna.split('.').collect(), bram.split('.').collect());
    let tampered = format!("{}.{}.{}", anna_parts[0], bram_parts[1], anna_parts[2]);
    assert_refused(app.get(&url, &tampered).await, 401, "invalid_token").await;
    // Another issuer's token (a different public URL), signed with the service's own key.
    let elsewhere = TokenIssuer::new(
        app.context.signing_key().expect("key"),
        "https://elsewhere.example",
        900,
        app.context.seal.clone(),
    );
    assert_refused(app.get(&url, &app.token_with(&elsewhere, PROVIDER, ANNA, &["48"])).await, 401, "invalid_token")
        .await;
});

on_both_backends!(expired_tokens_are_refused, |database| {
    let app = TestApp::start(database).await;
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    let short =
        TokenIssuer::new(app.context.signing_key().expect("key"), app.context.issuer(), 1, app.context.seal.clone());
    let token = app.token_with(&short, PROVIDER, ANNA, &["48"]);
    assert_eq!(app.get(&url, &token).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // Refused even though the verified token was cached on its first use.
    assert_refused(app.get(&url, &token).await, 401, "invalid_token").await;
});

on_both_backends!(a_data_service_outside_the_scope_is_forbidden, |database| {
    let app = TestApp::start(database).await;
    let only_48 = app.token(PROVIDER, ANNA, &["48"]);
    assert_refused(
        app.get(&format!("{}/Immunization", app.base(PROVIDER, "63")), &only_48).await,
        403,
        "insufficient_scope",
    )
    .await;
    let both = app.token(PROVIDER, ANNA, &["48", "63"]);
    assert_eq!(app.get(&format!("{}/Immunization", app.base(PROVIDER, "63")), &both).await.status(), 200);
});

on_both_backends!(a_token_never_reaches_another_providers_data, |database| {
    let app = TestApp::start(database).await;
    // A record only the other provider holds.
    let other = app.context.store.provider(OTHER_PROVIDER).await.expect("store").expect("provider");
    let extra = json!({"resourceType": "Condition", "id": "only-at-the-other-provider",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Problem"]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003", "display": "Hypertensie"}]},
        "subject": {"reference": "Patient/demo-patient-anna", "display": "Anna de Vries"}});
    let prepared = app.context.ingestor.prepare_by_id(&other, Release::Stu3, extra, None).expect("valid");
    app.context.store.write(other.id, vec![Write::Put(Box::new(prepared.write))]).await.expect("stored");

    let here = app.token(PROVIDER, ANNA, &["48"]);
    let there = app.token(OTHER_PROVIDER, ANNA, &["48"]);
    let conditions_here = app.get_json(&format!("{}/Condition", app.base(PROVIDER, "48")), &here).await;
    assert!(!entry_ids(&conditions_here).contains(&"Condition/only-at-the-other-provider".to_owned()));
    let read_here = app.get(&format!("{}/Condition/only-at-the-other-provider", app.base(PROVIDER, "48")), &here).await;
    assert_eq!(read_here.status(), 404);
    let conditions_there = app.get_json(&format!("{}/Condition", app.base(OTHER_PROVIDER, "48")), &there).await;
    assert!(entry_ids(&conditions_there).contains(&"Condition/only-at-the-other-provider".to_owned()));
    // One provider's token at the other provider's endpoint: refused.
    assert_refused(
        app.get(&format!("{}/Condition", app.base(OTHER_PROVIDER, "48")), &here).await,
        401,
        "invalid_token",
    )
    .await;
    assert_refused(app.get(&format!("{}/Condition", app.base(PROVIDER, "48")), &there).await, 401, "invalid_token")
        .await;
});

on_both_backends!(a_token_never_reaches_another_patients_data, |database| {
    let app = TestApp::start(database).await;
    let base = app.base(PROVIDER, "48");
    let anna = app.token(PROVIDER, ANNA, &["48"]);
    let bram = app.token(PROVIDER, BRAM, &["48"]);
    let annas: Vec<String> = entry_ids(&app.get_json(&format!("{base}/Observation?_count=1000"), &anna).await);
    let brams: Vec<String> = entry_ids(&app.get_json(&format!("{base}/Observation?_count=1000"), &bram).await);
    assert_eq!(brams, ["Observation/demo-bram-bp-2025-10"]);
    assert!(!annas.contains(&brams[0]));
    for id in &annas {
        let (_, id) = id.split_once('/').expect("Type/id");
        assert_eq!(app.get(&format!("{base}/Observation/{id}"), &bram).await.status(), 404, "{id}");
    }
    // A person the provider holds no record of sees nothing at all.
    let stranger = app.token(PROVIDER, "999911120", &["48"]);
    let nothing = app.get_json(&format!("{base}/Observation"), &stranger).await;
    assert_eq!(nothing["total"], 0);
    assert_eq!(app.get(&format!("{base}/Patient/demo-patient-anna"), &stranger).await.status(), 404);
});

/// `token` with its claims changed by `change`, signed again with the service's own key.
fn re_signed(app: &TestApp, token: &str, change: impl FnOnce(&mut Value)) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
    change(&mut claims);
    let header = jsonwebtoken::decode_header(token).expect("header");
    jsonwebtoken::encode(&header, &claims, app.context.signing_key().expect("key").encoding_key()).expect("signed")
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970").as_secs()
}

/// A named change to a token's claims.
type ClaimChange = (&'static str, Box<dyn FnOnce(&mut Value)>);

/// Changes to a token's time claims the service never makes: `nbf` or `iat` an hour ahead, `exp`
/// a year away.
fn bad_time_claims() -> Vec<ClaimChange> {
    let now = unix_now();
    vec![
        ("nbf an hour ahead", Box::new(move |claims: &mut Value| claims["nbf"] = json!(now + 3600))),
        (
            "iat an hour ahead",
            Box::new(move |claims: &mut Value| {
                claims["iat"] = json!(now + 3600);
                claims["exp"] = json!(now + 3600 + 900);
            }),
        ),
        ("exp a year away", Box::new(move |claims: &mut Value| claims["exp"] = json!(now + 365 * 86_400))),
    ]
}

on_both_backends!(tokens_with_time_claims_the_service_never_issues_are_refused, |database| {
    const SECRET: &str = "auditor-secret-for-tests";
    let hash = metering::secret_hash(SECRET);
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", hash.as_str())]).await;
    let url = format!("{}/Patient", app.base(PROVIDER, "48"));
    let token = app.token(PROVIDER, ANNA, &["48"]);
    assert_eq!(app.get(&url, &re_signed(&app, &token, |_| {})).await.status(), 200, "re-signing alone changes nothing");
    for (case, change) in bad_time_claims() {
        let response = app.get(&url, &re_signed(&app, &token, change)).await;
        assert_eq!(response.status(), 401, "{case}");
        assert_refused(response, 401, "invalid_token").await;
    }

    // Auditors' tokens, at the audit API.
    let response = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .basic_auth("nza", Some(SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("sent");
    let auditor: Value = response.json().await.expect("json");
    let auditor = auditor["access_token"].as_str().expect("a token").to_owned();
    let usage = format!("{}/audit/usage?period=2026-01", app.address);
    assert_eq!(app.get(&usage, &auditor).await.status(), 200);
    for (case, change) in bad_time_claims() {
        let response = app.get(&usage, &re_signed(&app, &auditor, change)).await;
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_token", "{case}");
    }
});
