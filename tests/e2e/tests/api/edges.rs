//! Errors at the edges of the protocols: every method a path does not take is 405 with `Allow`,
//! in the path's protocol (an OperationOutcome on FHIR paths, an RFC 6749-style JSON error under
//! `/oauth` and `/audit`); an over-long request target is 414 with a body, sent over raw TCP as
//! an attacker would.

use e2e::{ANNA, PROVIDER, TestApp};
use reqwest::Method;
use serde_json::Value;
use test_support::on_both_backends;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Whether `body` is what the path's protocol answers errors with.
fn assert_protocol_error(path: &str, body: &Value) {
    if path.starts_with("/oauth") || path.starts_with("/.well-known/oauth") || path.starts_with("/audit") {
        assert_eq!(body["error"], "invalid_request", "{path}: {body}");
        assert!(body["error_description"].is_string(), "{path}: {body}");
    } else {
        assert_eq!(body["resourceType"], "OperationOutcome", "{path}: {body}");
    }
}

on_both_backends!(every_path_answers_a_method_it_does_not_take_with_405_and_allow, |database| {
    let app = TestApp::start(database).await;
    let fhir = format!("/{PROVIDER}/48/fhir");
    let cases = [
        (Method::GET, "/oauth/token".to_owned(), "POST"),
        (Method::PUT, "/oauth/token".to_owned(), "POST"),
        (Method::GET, "/oauth/revoke".to_owned(), "POST"),
        (Method::POST, "/oauth/authorize".to_owned(), "GET"),
        (Method::DELETE, "/oauth/jwks".to_owned(), "GET"),
        (Method::POST, "/.well-known/oauth-authorization-server".to_owned(), "GET"),
        (Method::GET, "/oauth/decision".to_owned(), "POST"),
        (Method::POST, "/oauth/consents".to_owned(), "GET"),
        (Method::POST, "/audit/usage".to_owned(), "GET"),
        (Method::DELETE, "/audit/AuditEvent".to_owned(), "GET"),
        (Method::PUT, "/audit/login".to_owned(), "GET, POST"),
        (Method::GET, "/audit/logout".to_owned(), "POST"),
        (Method::POST, "/health".to_owned(), "GET"),
        (Method::DELETE, "/medmij/zal.xml".to_owned(), "GET"),
        (Method::POST, format!("{fhir}/Patient"), "GET"),
        (Method::PUT, format!("{fhir}/Patient/demo-patient-anna"), "GET"),
        (Method::DELETE, format!("{fhir}/metadata"), "GET"),
        (Method::GET, format!("/ingest/{PROVIDER}/stu3"), "POST"),
        (Method::PUT, format!("/ingest/{PROVIDER}/stu3/Patient"), "POST"),
        (Method::PATCH, format!("/ingest/{PROVIDER}/stu3/Patient/x"), "GET, PUT, DELETE"),
    ];
    for (method, path, allow) in cases {
        let response = app.client.request(method.clone(), format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: Value = response.json().await.unwrap_or_else(|error| panic!("{method} {path}: {error}"));
        assert_protocol_error(&path, &body);
    }
    // The methods the paths do take still work.
    assert_eq!(app.client.get(format!("{}/health", app.address)).send().await.unwrap().status(), 200);
    let token = app.token(PROVIDER, ANNA, &["48"]);
    assert_eq!(app.get(&format!("{}{fhir}/Patient", app.address), &token).await.status(), 200);
});

/// Sends `head` (a request line and headers, without the blank line) over a new TCP connection
/// and returns the status and the body of the answer.
async fn raw(app: &TestApp, head: &str) -> (u16, String) {
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("{head}\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    // The service may answer and close before reading all of an over-long head.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

on_both_backends!(an_over_long_request_target_is_answered_414_with_a_body, |database| {
    let app = TestApp::start(database).await;
    let fhir = format!("/{PROVIDER}/48/fhir/Observation");
    for (path, length) in [(fhir.as_str(), 20_000), (fhir.as_str(), 60_000), ("/oauth/authorize", 20_000)] {
        let query = format!("code={}", "9".repeat(length));
        let (status, body) = raw(&app, &format!("GET {path}?{query} HTTP/1.1")).await;
        assert_eq!(status, 414, "{path} with {length} bytes");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{path}: {error}: {body}"));
        assert_protocol_error(path, &body);
        if let Some(issue) = body["issue"].get(0) {
            assert_eq!(issue["code"], "too-long");
        }
    }
    // Within the limit, the request is served as always.
    let (status, _) = raw(&app, &format!("GET {fhir}?code={} HTTP/1.1", "9".repeat(10_000))).await;
    assert_eq!(status, 401, "read, and refused only for want of a token");
    // What actix-http refuses before the service sees it (a target the `http` crate cannot
    // hold, a head beyond its 128 KiB buffer) is answered with a body all the same.
    for (path, length, expected) in [
        (fhir.as_str(), 100_000, 414),
        (fhir.as_str(), 300_000, 431),
        ("/oauth/authorize", 100_000, 414),
        ("/oauth/authorize", 300_000, 431),
    ] {
        let (status, body) = raw(&app, &format!("GET {path}?code={} HTTP/1.1", "9".repeat(length))).await;
        assert_eq!(status, expected, "{path} with {length} bytes");
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|error| panic!("{path}: {error}: {body}"));
        assert_protocol_error(path, &body);
    }
    // Many header lines make a long head too.
    let headers: String = (0..3_000).map(|n| format!("\r\nX-Filler-{n}: {}", "f".repeat(40))).collect();
    let (status, body) = raw(&app, &format!("GET {fhir} HTTP/1.1{headers}")).await;
    assert_eq!(status, 431);
    assert_protocol_error(&fhir, &serde_json::from_str(&body).unwrap_or_default());
    // A long body is no long head: the service answers it itself.
    let key = app.ingest_key.clone();
    let body = format!("{{\"resourceType\": \"Basic\", \"id\": \"b\", \"text\": \"{}\"}}", "x".repeat(300_000));
    let answer = app
        .client
        .put(format!("{}/ingest/{PROVIDER}/stu3/Basic/b", app.address))
        .bearer_auth(key)
        .header("Content-Type", "application/fhir+json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422, "served by the service, not refused as a head");
});

on_both_backends!(the_request_target_limit_is_a_setting, |database| {
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__SERVER__MAX_REQUEST_TARGET_BYTES", "2048")]).await;
    let fhir = format!("/{PROVIDER}/48/fhir/Observation");
    let (status, _) = raw(&app, &format!("GET {fhir}?code={} HTTP/1.1", "9".repeat(1_500))).await;
    assert_eq!(status, 401);
    let (status, body) = raw(&app, &format!("GET {fhir}?code={} HTTP/1.1", "9".repeat(3_000))).await;
    assert_eq!(status, 414);
    assert!(body.contains("2048 bytes"), "{body}");
});

on_both_backends!(an_over_long_token_request_is_an_oauth_error, |database| {
    let app = TestApp::start(database).await;
    let response = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", "pgo.example.nl"),
            ("refresh_token", &"x".repeat(40_000)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_protocol_error("/oauth/token", &response.json().await.unwrap());
});
