//! `GET /metrics` over HTTP, read with a Prometheus text-format parser: requests are counted and
//! timed by data service, interaction and status, exactly as sent; two successful requests by one
//! person are two metered exchanges and one first exchange; the access log's writes, the pool's
//! connections and the caches' hits are there; no label carries a path or an id. And who may read
//! the metrics: loopback by default, never through a proxy, nobody outside the configured list.

use e2e::{ANNA, PROVIDER, TestApp};
use prometheus_parse::{Sample, Scrape, Value};
use test_support::{Backend, TestDatabase, on_both_backends};

const AUDITOR_SECRET: &str = "metrics-auditor-secret";

/// The application's metrics now, parsed.
async fn scrape(app: &TestApp) -> Scrape {
    let response = app.client.get(format!("{}/metrics", app.address)).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text format")
}

/// The series of `metric` whose labels include `labels`.
fn series<'s>(scrape: &'s Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'s Sample> {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == metric)
        .filter(|sample| labels.iter().all(|(name, value)| sample.labels.get(name) == Some(*value)))
        .collect()
}

/// The value of the one series of `metric` with `labels` (a histogram's: its count), 0 when
/// there is none yet (a labelled series appears with its first count).
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found = series(scrape, metric, labels);
    assert!(found.len() <= 1, "{metric} {labels:?} names {} series", found.len());
    match found.first().map(|sample| &sample.value) {
        None => 0.0,
        Some(Value::Counter(value) | Value::Gauge(value) | Value::Untyped(value)) => *value,
        Some(Value::Histogram(buckets)) => {
            buckets.iter().find(|bucket| bucket.less_than.is_infinite()).map_or(0.0, |bucket| bucket.count)
        }
        Some(other) => panic!("{metric}: unexpected {other:?}"),
    }
}

/// How much `metric` with `labels` moved from `before` to `after`.
fn moved(before: &Scrape, after: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    value(after, metric, labels) - value(before, metric, labels)
}

const REQUESTS: &str = "pgo_exchange_http_requests_total";
const DURATIONS: &str = "pgo_exchange_http_request_duration_seconds";

on_both_backends!(requests_exchanges_the_access_log_and_caches_are_counted, |database| {
    let hash = metering::secret_hash(AUDITOR_SECRET);
    let app = TestApp::start_with(database, &[("PGO_EXCHANGE__AUDITORS__NZA__SECRET_SHA256", hash.as_str())]).await;
    let base = app.base(PROVIDER, "48");
    let anna = app.token(PROVIDER, ANNA, &["48"]);
    let before = scrape(&app).await;

    // A token, two searches with one token by one person, a refused search, an unknown path.
    let token = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .basic_auth("nza", Some(AUDITOR_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    for _ in 0..2 {
        assert_eq!(app.get(&format!("{base}/Patient"), &anna).await.status(), 200);
    }
    let refused = app.client.get(format!("{base}/Observation")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let unknown = app.client.get(format!("{}/no/such/path/123", app.address)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    app.access_log(3).await;
    let after = scrape(&app).await;

    let search = |status| [("data_service", "48"), ("interaction", "search-type"), ("status", status)];
    for metric in [REQUESTS, DURATIONS] {
        assert_eq!(moved(&before, &after, metric, &search("200")), 2.0, "{metric}");
        assert_eq!(moved(&before, &after, metric, &search("401")), 1.0, "{metric}");
        let token = [("data_service", ""), ("interaction", "token"), ("status", "200")];
        assert_eq!(moved(&before, &after, metric, &token), 1.0, "{metric}");
        let unknown = [("data_service", ""), ("interaction", "other"), ("status", "404")];
        assert_eq!(moved(&before, &after, metric, &unknown), 1.0, "{metric}");
        // The first scrape, counted once its answer was made.
        let scraped = [("interaction", "metrics"), ("status", "200")];
        assert_eq!(moved(&before, &after, metric, &scraped), 1.0, "{metric}");
    }
    let count = format!("{DURATIONS}_count");
    assert_eq!(moved(&before, &after, &count, &search("200")), 2.0);
    let seconds = value(&after, &format!("{DURATIONS}_sum"), &search("200"));
    assert!(seconds > 0.0 && seconds < 10.0, "{seconds}");
    let all_requests: f64 = series(&after, REQUESTS, &[])
        .iter()
        .map(|sample| if let Value::Counter(count) = sample.value { count } else { panic!("{sample:?}") })
        .sum();
    assert_eq!(all_requests, 6.0, "the first scrape, a token, three searches, an unknown path");
    for sample in series(&after, REQUESTS, &[]) {
        assert!(
            sample.labels.values().all(|value| !value.contains('/') && !value.contains("pgo.example.nl")),
            "a label holds a path or a client: {:?}",
            sample.labels
        );
    }

    // Two exchanges metered, one of them the person's first this year.
    assert_eq!(moved(&before, &after, "pgo_exchange_meter_exchanges_total", &[]), 2.0);
    assert_eq!(moved(&before, &after, "pgo_exchange_meter_first_exchanges_total", &[]), 1.0);
    // Three access-log entries written (the token and the unknown path are no PGO requests), each
    // with its wait; none waiting now.
    assert_eq!(moved(&before, &after, "pgo_exchange_access_log_written_total", &[]), 3.0);
    assert_eq!(moved(&before, &after, "pgo_exchange_access_log_lag_seconds", &[]), 3.0);
    assert_eq!(value(&after, "pgo_exchange_access_log_lost_total", &[]), 0.0);
    assert_eq!(series(&after, "pgo_exchange_access_log_queued", &[]).len(), 1);
    // The pool, as configured for the tests.
    assert_eq!(value(&after, "pgo_exchange_db_connections_max", &[]), 4.0);
    let idle = value(&after, "pgo_exchange_db_connections", &[("state", "idle")]);
    let in_use = value(&after, "pgo_exchange_db_connections", &[("state", "in_use")]);
    assert!(series(&after, "pgo_exchange_db_connections", &[("state", "in_use")]).len() == 1);
    assert!(idle + in_use >= 1.0 && idle + in_use <= 4.0, "idle {idle}, in use {in_use}");
    // The token verified once, then found in the cache. Searches find the person's Patients by
    // key in their statements: they look up no Patient ids (only shares do).
    let lookups = "pgo_exchange_cache_lookups_total";
    assert_eq!(moved(&before, &after, lookups, &[("cache", "tokens"), ("result", "miss")]), 1.0);
    assert_eq!(moved(&before, &after, lookups, &[("cache", "tokens"), ("result", "hit")]), 1.0);
    for result in ["miss", "hit"] {
        assert_eq!(moved(&before, &after, lookups, &[("cache", "patients"), ("result", result)]), 0.0, "{result}");
    }
    // The person's collection read by the first search answers the second.
    let collections = "pgo_exchange_collection_cache_total";
    assert_eq!(moved(&before, &after, collections, &[("result", "read")]), 1.0);
    assert_eq!(moved(&before, &after, collections, &[("result", "hit")]), 1.0);
    let providers = moved(&before, &after, lookups, &[("cache", "providers"), ("result", "hit")])
        + moved(&before, &after, lookups, &[("cache", "providers"), ("result", "miss")]);
    assert_eq!(providers, 3.0, "one provider lookup per search");
    assert_eq!(series(&after, "pgo_exchange_throttle_keys", &[]).len(), 1);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_refused_through_a_proxy_and_to_addresses_not_listed() {
    let app = TestApp::start(TestDatabase::create(Backend::Sqlite).await).await;
    let url = format!("{}/metrics", app.address);
    let forwarded = app.client.get(&url).header("X-Forwarded-For", "192.0.2.7").send().await.unwrap();
    assert_eq!(forwarded.status(), 403);
    let forwarded = app.client.get(&url).header("Forwarded", "for=192.0.2.7").send().await.unwrap();
    assert_eq!(forwarded.status(), 403);
    assert_eq!(app.client.post(&url).send().await.unwrap().status(), 405);

    let config = "[metrics]\nallowed_addresses = [\"10.0.0.0/8\"]\n";
    let elsewhere = TestApp::start_with_config(TestDatabase::create(Backend::Sqlite).await, config, &[]).await;
    let refused = elsewhere.client.get(format!("{}/metrics", elsewhere.address)).send().await.unwrap();
    assert_eq!(refused.status(), 403);
}
