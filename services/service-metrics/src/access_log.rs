//! The access-log writer: entries committed, entries lost after every attempt, and how long each
//! entry waited between its request queueing it and its batch's commit (the writer gathers a
//! batch for 25 ms, so that is the floor; more means the database or the queue is behind).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Instant;

/// Upper bounds of the wait buckets, in seconds.
const LAG_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The writer's counts.
#[derive(Debug, Clone)]
pub struct AccessLogMetrics {
    written: Counter,
    lost: Counter,
    lag: Histogram,
}

impl Default for AccessLogMetrics {
    fn default() -> AccessLogMetrics {
        AccessLogMetrics { written: Counter::default(), lost: Counter::default(), lag: Histogram::new(LAG_BUCKETS) }
    }
}

impl AccessLogMetrics {
    /// Counts a committed batch whose entries were queued at `queued`, committed at `at`.
    pub fn committed(&self, queued: impl ExactSizeIterator<Item = Instant>, at: Instant) {
        self.written.inc_by(queued.len() as u64);
        for since in queued {
            self.lag.observe(at.saturating_duration_since(since).as_secs_f64());
        }
    }

    /// Counts `entries` given up after every attempt.
    pub fn lost(&self, entries: usize) {
        self.lost.inc_by(entries as u64);
    }

    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register("access_log_written", "Access-log entries committed", self.written.clone());
        registry.register("access_log_lost", "Access-log entries given up after every attempt", self.lost.clone());
        registry.register_with_unit(
            "access_log_lag",
            "Time from a request queueing its access-log entry to the entry's commit",
            Unit::Seconds,
            self.lag.clone(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_counts_each_entry() {
        let metrics = AccessLogMetrics::default();
        let now = Instant::now();
        let queued = [now.checked_sub(std::time::Duration::from_millis(30)).unwrap_or(now), now];
        metrics.committed(queued.into_iter(), now);
        assert_eq!(metrics.written.get(), 2);
    }
}
