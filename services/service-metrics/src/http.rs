//! HTTP requests: how many, and how long each took until its answer's head, by data service,
//! interaction and status. The label values are bounded by construction: a data service the
//! definitions know (or none), an interaction the routes name, a status code; never a path, a
//! resource id or a client.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// Upper bounds of the duration buckets, in seconds: a search from SQLite's cache takes some
/// hundred microseconds, a token a few milliseconds, a large share or a slow database seconds.
const DURATION_BUCKETS: [f64; 14] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// What a request is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct RequestLabels {
    /// A data service the definitions know (`48`), or empty when the request names none.
    pub data_service: String,
    /// What was asked: `read`, `search-type`, `$lastn`, `share`, `token`, `authorize`, ...
    pub interaction: &'static str,
    /// The answer's status code.
    pub status: u16,
}

/// What a handler said its request was, left in the request for the middleware that counts it
/// (a route the router matched by pattern needs none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// A data service the definitions know, or empty.
    pub data_service: String,
    /// The interaction.
    pub interaction: &'static str,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// Requests and their durations.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: HistogramFamily,
}

impl Default for HttpMetrics {
    fn default() -> HttpMetrics {
        HttpMetrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(DURATION_BUCKETS)),
        }
    }
}

impl HttpMetrics {
    /// Counts one answered request that took `elapsed`.
    pub fn observe(&self, labels: &RequestLabels, elapsed: Duration) {
        self.requests.get_or_create(labels).inc();
        self.durations.get_or_create(labels).observe(elapsed.as_secs_f64());
    }

    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register("http_requests", "HTTP requests answered", self.requests.clone());
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's head",
            Unit::Seconds,
            self.durations.clone(),
        );
    }
}
