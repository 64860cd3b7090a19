//! The probes of a load balancer or orchestrator: `/health/live` answers while the process does;
//! `/health/ready` says whether this instance can serve (database, migrations, an OAuth Client
//! List held), fails while the database is away and recovers when it is back.

use e2e::TestApp;
use serde_json::Value;
use std::time::{Duration, Instant};
use test_support::{Backend, TestDatabase, on_both_backends, postgres_test};

async fn probe(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(format!("{}{path}", app.address)).send().await.expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

on_both_backends!(an_instance_is_ready_once_an_oauth_client_list_is_held, |database| {
    let app = TestApp::start(database).await;
    assert_eq!(probe(&app, "/health/live").await, (200, serde_json::json!({"status": "live"})));
    let (status, unready) = probe(&app, "/health/ready").await;
    assert_eq!(status, 503, "no PGO can be authorized without the list: {unready}");
    let checks = serde_json::json!({"database": "ok", "migrations": "ok", "lists": "no OAuth Client List held"});
    assert_eq!(unready, serde_json::json!({"status": "unavailable", "checks": checks}));
    authorization::import(&app.context.store, e2e::pgo::client_list(2).as_bytes()).await.expect("list imported");
    let (status, ready) = probe(&app, "/health/ready").await;
    assert_eq!(status, 200, "{ready}");
    let checks = serde_json::json!({"database": "ok", "migrations": "ok", "lists": "OAuth Client List held"});
    assert_eq!(ready, serde_json::json!({"status": "ready", "checks": checks}));
});

/// Asks `/health/ready` until it answers `status` or `within` has passed.
async fn ready_becomes(app: &TestApp, status: u16, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (answered, body) = probe(app, "/health/ready").await;
        if answered == status {
            return body;
        }
        assert!(started.elapsed() < within, "still {answered} after {within:?}: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

postgres_test!(
    async fn readiness_fails_while_postgres_is_away_and_recovers() {
        let database = TestDatabase::create(Backend::Postgres).await;
        let app = TestApp::start_authorization(database, &[]).await;
        ready_becomes(&app, 200, Duration::from_secs(5)).await;
        app.database.set_reachable(false).await;
        let away = ready_becomes(&app, 503, Duration::from_secs(10)).await;
        assert_eq!(away["status"], "unavailable");
        assert_ne!(away["checks"]["database"], "ok", "{away}");
        assert_eq!(probe(&app, "/health/live").await.0, 200, "alive all the same");
        app.database.set_reachable(true).await;
        let back = ready_becomes(&app, 200, Duration::from_secs(15)).await;
        assert_eq!(back["checks"]["database"], "ok");
    }
);
