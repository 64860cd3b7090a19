//! The auditors' API: client-credentials tokens, signed usage reports that match what happened,
//! the access log as AuditEvents, the OpenAPI document, and the doors between auditors and PGOs.

use base64::Engine;
use e2e::{ANNA, BRAM, PROVIDER, TestApp};
use serde_json::{Value, json};
use test_support::on_both_backends;

const AUDITOR: &str = "nza";
const REQ_ANNA: &str = "a0000000-0000-4000-8000-000000000001";
const REQ_ANNA_AGAIN: &str = "a0000000-0000-4000-8000-000000000002";
const REQ_BRAM: &str = "b0000000-0000-4000-8000-000000000001";
const REQ_LOGGED: &str = "c0000000-0000-4000-8000-000000000001";
const SECRET: &str = "auditor-secret-for-tests";

async fn start(database: test_support::TestDatabase) -> TestApp {
    let hash = metering::secret_hash(SECRET);
    TestApp::start_with(database, &[("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", hash.as_str())]).await
}

async fn auditor_token(app: &TestApp, secret: &str) -> reqwest::Response {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{AUDITOR}:{secret}"));
    app.client
        .post(format!("{}/oauth/token", app.address))
        .header("Authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

async fn token(app: &TestApp) -> String {
    let response = auditor_token(app, SECRET).await;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["scope"], "auditor");
    assert!(body.get("refresh_token").is_none());
    body["access_token"].as_str().unwrap().to_owned()
}

fn this_month() -> String {
    metering::Period::containing(
        metering::Granularity::Month,
        fhir_core::date::now_millis(),
        chrono_tz::Europe::Amsterdam,
    )
    .to_string()
}

async fn jwks(app: &TestApp) -> Value {
    app.client.get(format!("{}/oauth/jwks", app.address)).send().await.unwrap().json().await.unwrap()
}

async fn collect(app: &TestApp, bsn: &str, request_id: &str) -> String {
    let response = app
        .client
        .get(format!("{}/Patient", app.base(PROVIDER, "48")))
        .bearer_auth(app.token(PROVIDER, bsn, &["48"]))
        .header("MedMij-Request-ID", request_id)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    response.headers()["medmij-request-id"].to_str().unwrap().to_owned()
}

on_both_backends!(a_signed_report_shows_each_new_user_with_evidence, |database| {
    let app = start(database).await;
    collect(&app, ANNA, REQ_ANNA).await;
    collect(&app, ANNA, REQ_ANNA_AGAIN).await;
    collect(&app, BRAM, REQ_BRAM).await;
    let token = token(&app).await;
    let url = format!("{}/audit/usage?period={}", app.address, this_month());
    let response = app.client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/jose+json");
    let signed = response.text().await.unwrap();
    let verified = metering::signing::verify(&signed, &jwks(&app).await).expect("the report verifies");
    assert_eq!(verified.content_type, "application/json");
    let report: metering::UsageReport = serde_json::from_str(&verified.payload).unwrap();
    assert_eq!(report.clients.len(), 1);
    let usage = &report.clients[0];
    assert_eq!((usage.client_id.as_str(), usage.new_users, usage.amount_cents), ("pgo.example.nl", 2, 1500));
    let anna = usage.evidence.iter().find(|e| e.pseudonym == app.context.secret.pseudonym(ANNA)).unwrap();
    assert_eq!(
        (anna.request_id.as_str(), anna.provider.as_str(), anna.data_service.as_str()),
        (REQ_ANNA, PROVIDER, "48")
    );
    assert_eq!(report.totals.amount_cents, 1500);
    assert!(!signed.contains(ANNA) && !signed.contains(BRAM), "no BSN in a report");

    // The same report as CSV, and a tampered one.
    let csv =
        app.client.get(format!("{url}&format=csv")).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    let verified = metering::signing::verify(&csv, &jwks(&app).await).expect("the CSV report verifies");
    assert_eq!(verified.content_type, "text/csv");
    assert!(verified.payload.contains(&format!(",{REQ_ANNA},")), "{}", verified.payload);
    let mut document: Value = serde_json::from_str(&csv).unwrap();
    document["payload"] =
        json!(verified.payload.replace("client,pgo.example.nl,2,1500", "client,pgo.example.nl,3,2250"));
    assert!(matches!(
        metering::signing::verify(&document.to_string(), &jwks(&app).await),
        Err(metering::SignatureError::Mismatch)
    ));

    // The report is what the OpenAPI document says it is.
    let openapi: Value =
        app.client.get(format!("{}/audit/openapi.json", app.address)).send().await.unwrap().json().await.unwrap();
    let schema = json!({ "$ref": "#/components/schemas/UsageReport", "components": openapi["components"] });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let payload: Value = serde_json::from_str(&report.to_json()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&payload).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let envelope = json!({ "$ref": "#/components/schemas/SignedReport", "components": openapi["components"] });
    assert!(jsonschema::validator_for(&envelope).unwrap().is_valid(&serde_json::from_str::<Value>(&signed).unwrap()));
});

on_both_backends!(the_access_log_is_served_as_audit_events, |database| {
    let app = start(database).await;
    collect(&app, ANNA, REQ_LOGGED).await;
    let token = token(&app).await;
    let url = format!("{}/audit/AuditEvent?period={}&_count=1", app.address, this_month());
    let mut bundle = Value::Null;
    for _ in 0..100 {
        bundle = app.client.get(&url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        if bundle["entry"].as_array().is_some_and(|entries| !entries.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let event = &bundle["entry"][0]["resource"];
    assert_eq!(event["resourceType"], "AuditEvent");
    assert_eq!(event["outcome"], "0");
    assert_eq!(event["agent"][0]["who"]["identifier"]["value"], "pgo.example.nl");
    assert!(event.to_string().contains(REQ_LOGGED));
    assert!(bundle["link"][0]["url"].as_str().unwrap().contains("after="), "a full page links to the next");
    assert!(!bundle.to_string().contains(ANNA));
});

on_both_backends!(auditors_and_pgos_cannot_use_each_others_doors, |database| {
    let app = start(database).await;
    let wrong = auditor_token(&app, "wrong-secret").await;
    assert_eq!(wrong.status().as_u16(), 401);
    assert_eq!(wrong.json::<Value>().await.unwrap()["error"], "invalid_client");
    let auditor = token(&app).await;
    let pgo = app.token(PROVIDER, ANNA, &["48"]);
    let usage = format!("{}/audit/usage?period={}", app.address, this_month());
    let no_token = app.client.get(&usage).send().await.unwrap();
    assert_eq!(no_token.status().as_u16(), 401);
    assert!(no_token.headers().contains_key("www-authenticate"));
    let with_pgo_token = app.client.get(&usage).bearer_auth(&pgo).send().await.unwrap();
    assert_eq!(with_pgo_token.status().as_u16(), 401, "a PGO's token opens no report");
    let fhir =
        app.client.get(format!("{}/Patient", app.base(PROVIDER, "48"))).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(fhir.status().as_u16(), 401, "an auditor's token opens no person's data");
    let bad_period = app
        .client
        .get(format!("{}/audit/usage?period=2026-13", app.address))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_period.status().as_u16(), 400);
    assert_eq!(bad_period.json::<Value>().await.unwrap()["error"], "invalid_request");
});

on_both_backends!(the_openapi_document_is_valid_and_served, |database| {
    let app = start(database).await;
    let text =
        app.client.get(format!("{}/audit/openapi.json", app.address)).send().await.unwrap().text().await.unwrap();
    let spec = oas3::from_json(&text).expect("a valid OpenAPI 3.1 document");
    let mut paths: Vec<String> = spec.paths.unwrap_or_default().keys().cloned().collect();
    paths.sort();
    assert_eq!(paths, ["/AuditEvent", "/openapi.json", "/usage"]);
    assert_eq!(spec.servers[0].url, format!("{}/audit", app.address));
    // Every schema in it is a valid JSON Schema.
    let document: Value = serde_json::from_str(&text).unwrap();
    for (name, _) in document["components"]["schemas"].as_object().unwrap() {
        let schema = json!({ "$ref": format!("#/components/schemas/{name}"), "components": document["components"] });
        assert!(jsonschema::validator_for(&schema).is_ok(), "{name}");
    }
});

/// The AuditEvents of this month, once at least `expected` are written (the access log is written
/// in the background).
async fn audit_events(app: &TestApp, token: &str, expected: usize) -> Value {
    let url = format!("{}/audit/AuditEvent?period={}", app.address, this_month());
    for _ in 0..100 {
        let bundle: Value = app.client.get(&url).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        if bundle["entry"].as_array().is_some_and(|entries| entries.len() >= expected) {
            return bundle;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the access log did not reach {expected} entries");
}

on_both_backends!(request_ids_that_are_not_uuids_are_kept_nowhere, |database| {
    let app = start(database).await;
    // A PGO that puts a BSN and a spreadsheet formula where request ids belong.
    let first = collect(&app, ANNA, BRAM).await;
    let second = collect(&app, BRAM, "=HYPERLINK(\"http://evil.example\",\"x\")").await;
    assert!(fhir_core::request_id::is_uuid(&first) && fhir_core::request_id::is_uuid(&second));
    let token = token(&app).await;
    let events = audit_events(&app, &token, 2).await.to_string();
    assert!(events.contains(&first) && events.contains(&second), "the ids used are the ones logged");
    let csv = app
        .client
        .get(format!("{}/audit/usage?period={}&format=csv", app.address, this_month()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let report = metering::signing::verify(&csv, &jwks(&app).await).expect("verifies").payload;
    assert!(report.contains(&format!(",{first},")) && report.contains(&format!(",{second},")), "{report}");
    for kept in [&events, &report] {
        assert!(!kept.contains(BRAM) && !kept.contains("HYPERLINK"), "{kept}");
    }
});

on_both_backends!(a_formula_kept_in_the_evidence_reaches_the_csv_report_as_text, |database| {
    let app = start(database).await;
    // Evidence written before request ids had to be UUIDs can still hold anything.
    let exchange = metering::Exchange {
        client_id: "pgo.example.nl".into(),
        pseudonym: app.context.secret.pseudonym(ANNA),
        at: fhir_core::date::now_millis(),
        request_id: "=1+1".into(),
        provider: PROVIDER.into(),
        data_service: "48".into(),
        kind: metering::ExchangeKind::Collect,
    };
    app.context.meter.record(&exchange).await.unwrap();
    let token = token(&app).await;
    let url = format!("{}/audit/usage?period={}&format=csv", app.address, this_month());
    let signed = app.client.get(&url).bearer_auth(&token).send().await.unwrap().text().await.unwrap();
    let csv = metering::signing::verify(&signed, &jwks(&app).await).expect("verifies").payload;
    assert!(csv.contains(",'=1+1,"), "{csv}");
    assert!(!csv.lines().any(|line| line.split(',').any(|cell| cell.starts_with('='))), "{csv}");
});

on_both_backends!(an_auditor_removed_from_the_configuration_is_refused_at_once, |database| {
    let app = start(database).await;
    let token = token(&app).await;
    let report = |address: String| {
        let (client, token) = (app.client.clone(), token.clone());
        async move {
            client
                .get(format!("{address}/audit/usage?period={}", this_month()))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(report(app.address.clone()).await.status(), 200);
    // The configuration without the auditor, on an instance of the same deployment: the same
    // signing key, so the token still verifies; the auditor it names is gone.
    let other = app.another_instance_without(&["PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256"], &[]).await;
    let refused = report(other.address.clone()).await;
    assert_eq!(refused.status(), 401);
});
