//! Values read when Prometheus scrapes, not recorded as they change: the database pool's
//! connections, the access-log queue, the throttle's open windows. Reading them costs the scrape,
//! never a request.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;

/// Reads a gauge's samples: each a label value (under the gauge's one label; ignored without one)
/// and the value.
type Read = dyn Fn() -> Vec<(&'static str, i64)> + Send + Sync;

/// A gauge read at every scrape.
pub struct Sampled {
    name: &'static str,
    help: &'static str,
    label: Option<&'static str>,
    read: Box<Read>,
}

impl std::fmt::Debug for Sampled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampled").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Sampled {
    /// A gauge `name` whose value `read` gives.
    pub fn gauge(name: &'static str, help: &'static str, read: impl Fn() -> i64 + Send + Sync + 'static) -> Sampled {
        Sampled { name, help, label: None, read: Box::new(move || vec![("", read())]) }
    }

    /// A gauge `name` with one `label`, whose values (label value, value) `read` gives.
    pub fn labelled(
        name: &'static str,
        help: &'static str,
        label: &'static str,
        read: impl Fn() -> Vec<(&'static str, i64)> + Send + Sync + 'static,
    ) -> Sampled {
        Sampled { name, help, label: Some(label), read: Box::new(read) }
    }
}

impl Collector for Sampled {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let samples = (self.read)();
        let mut metric = encoder.encode_descriptor(self.name, self.help, None, ConstGauge::new(0_i64).metric_type())?;
        let Some(label) = self.label else {
            let value = samples.first().map_or(0, |(_, value)| *value);
            return ConstGauge::new(value).encode(metric);
        };
        for (value_of_label, value) in samples {
            ConstGauge::new(value).encode(metric.encode_family(&[(label, value_of_label)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metrics;

    #[test]
    fn sampled_gauges_are_read_at_the_scrape() {
        let exposition = Metrics::default().exposition(vec![
            Sampled::gauge("queued", "Entries queued", || 3),
            Sampled::labelled("connections", "Connections", "state", || vec![("idle", 2), ("in_use", 1)]),
        ]);
        let text = exposition.encode().unwrap_or_default();
        assert!(text.contains("# TYPE pgo_exchange_queued gauge\npgo_exchange_queued 3\n"), "{text}");
        assert!(text.contains("pgo_exchange_connections{state=\"in_use\"} 1\n"), "{text}");
    }
}
