//! The service's metrics for Prometheus: cheap handles that every part of the service records into
//! (HTTP requests in `http.rs`, the FHIR API's caches in `caches.rs`, the meter in `exchanges.rs`,
//! the access-log writer in `access_log.rs`), values read only when scraped (`sampled.rs`: the
//! database pool, the access-log queue), and their exposition in the Prometheus text format.
//!
//! One [`Metrics`] per application, never a process-wide static: tests run many applications in
//! one process, and each must count its own requests. Recording is an atomic add, or for a
//! histogram a short uncontended mutex; a labelled family first finds its child under a read
//! lock (`prometheus-client`'s `Family` is a `RwLock`ed map), so a request pays a few tens of
//! nanoseconds, never a wait on a scrape for long.

mod access_log;
mod caches;
mod exchanges;
mod http;
mod sampled;

pub use access_log::AccessLogMetrics;
pub use caches::{CacheMetrics, Lookups};
pub use exchanges::ExchangeMetrics;
pub use http::{HttpMetrics, RequestLabels, Routed};
pub use sampled::Sampled;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;

/// What every metric's name starts with.
pub const PREFIX: &str = "pgo_exchange";

/// The `Content-Type` of [`Exposition::encode`]'s text (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Every metric the service records into, as handles: clones share their counts.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    /// Requests by data service, interaction and status, and their durations.
    pub http: HttpMetrics,
    /// Hits and misses of the FHIR API's caches.
    pub caches: CacheMetrics,
    /// Exchanges the meter recorded, and the first exchanges it wrote.
    pub exchanges: ExchangeMetrics,
    /// What the access-log writer committed, how long entries waited, what was lost.
    pub access_log: AccessLogMetrics,
}

impl Metrics {
    /// The exposition of these metrics, with `sampled` values read at every scrape.
    pub fn exposition(&self, sampled: Vec<Sampled>) -> Exposition {
        let mut registry = Registry::with_prefix(PREFIX);
        self.http.register(&mut registry);
        self.caches.register(&mut registry);
        self.exchanges.register(&mut registry);
        self.access_log.register(&mut registry);
        for source in sampled {
            registry.register_collector(Box::new(source));
        }
        Exposition { registry }
    }
}

/// The registry a scrape reads.
#[derive(Debug)]
pub struct Exposition {
    registry: Registry,
}

impl Exposition {
    /// Every metric in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_applications_count_apart() {
        let (first, second) = (Metrics::default(), Metrics::default());
        first.exchanges.recorded(true);
        let first_text = first.exposition(Vec::new()).encode().unwrap_or_default();
        let second_text = second.exposition(Vec::new()).encode().unwrap_or_default();
        assert!(first_text.contains("pgo_exchange_meter_first_exchanges_total 1\n"), "{first_text}");
        assert!(second_text.contains("pgo_exchange_meter_first_exchanges_total 0\n"), "{second_text}");
    }
}
