//! The application's metrics that are read when Prometheus scrapes rather than counted as they
//! happen: the database pool's connections, the collection cache's use, the access-log queue, the
//! throttle's counted keys.

use metering::AccessLog;
use service_metrics::Sampled;
use store::Store;
use throttle::Throttle;

/// The scrape-time gauges of an application over `store`, writing `access_log` (if it logs).
pub(crate) fn sampled(store: &Store, access_log: Option<&AccessLog>, throttle: &Throttle) -> Vec<Sampled> {
    let (pool, limit, collections, throttle) = (store.clone(), store.clone(), store.clone(), throttle.clone());
    let mut sampled = vec![
        Sampled::labelled("db_connections", "The database pool's open connections, by state", "state", move || {
            let status = pool.pool_status();
            vec![("in_use", i64::from(status.in_use)), ("idle", i64::from(status.idle))]
        }),
        Sampled::gauge("db_connections_max", "The most connections the database pool opens", move || {
            i64::from(limit.pool_status().max)
        }),
        Sampled::labelled(
            "collection_cache_total",
            "Since the start: queries answered from a person's kept collection (hit), collections read from the database (read)",
            "result",
            move || {
                let counts = collections.collection_counts();
                let count = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
                vec![("hit", count(counts.hits)), ("read", count(counts.misses))]
            },
        ),
        Sampled::gauge(
            "throttle_keys",
            "Addresses, clients, auditors and providers with failed attempts counted in an open window",
            move || i64::try_from(throttle.keys_counted()).unwrap_or(i64::MAX),
        ),
    ];
    if let Some(access_log) = access_log.cloned() {
        sampled.push(Sampled::gauge("access_log_queued", "Access-log entries waiting to be written", move || {
            i64::try_from(access_log.queued()).unwrap_or(i64::MAX)
        }));
    }
    sampled
}
