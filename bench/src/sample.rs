//! What a drive of a server measured (latencies, errors, bytes, time) and the statistics the
//! reports take of it; the measuring window every load generator of the benchmark runs in.

use crate::driver::Measured;
use crate::processor::{Spent, Watched};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one drive of a server measured; drives of the same server add up.
#[derive(Debug, Default)]
pub(crate) struct Sample {
    pub(crate) latencies: Vec<u32>,
    pub(crate) errors: usize,
    pub(crate) bytes: usize,
    pub(crate) per_query: Vec<(u64, u64)>,
    pub(crate) elapsed: Duration,
    /// The processor time the watched processes spent while this was measured.
    pub(crate) spent: Spent,
}

impl Sample {
    /// Counts one answer: its latency since `started` (returned, in µs), its body's `bytes`, and
    /// an error unless `ok`.
    pub(crate) fn record(&mut self, started: Instant, bytes: usize, ok: bool) -> u32 {
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latencies.push(micros);
        self.bytes += bytes;
        if !ok {
            self.errors += 1;
        }
        micros
    }

    pub(crate) fn merge(&mut self, other: Sample) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.bytes += other.bytes;
        if self.per_query.is_empty() {
            self.per_query = vec![(0, 0); other.per_query.len()];
        }
        for (total, (count, micros)) in self.per_query.iter_mut().zip(other.per_query) {
            total.0 += count;
            total.1 += micros;
        }
        self.elapsed += other.elapsed;
        self.spent.merge(other.spent);
    }

    pub(crate) fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    pub(crate) fn mean_body_bytes(&self) -> usize {
        self.bytes / self.latencies.len().max(1)
    }

    pub(crate) fn summarize(mut self) -> Measured {
        self.latencies.sort_unstable();
        let latencies = &self.latencies;
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(0) as f64
                / 1000.0
        };
        Measured {
            per_query_ms: self
                .per_query
                .iter()
                .map(|(count, micros)| *micros as f64 / (*count).max(1) as f64 / 1000.0)
                .collect(),
            requests: latencies.len(),
            errors: self.errors,
            per_second: self.per_second(),
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            mean_body_bytes: self.mean_body_bytes(),
            spent: self.spent,
        }
    }
}

/// The `p` quantile of `latencies` (µs, in any order), in ms.
pub(crate) fn percentile_ms(latencies: &[u32], p: f64) -> f64 {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or(0) as f64
        / 1000.0
}

/// The median of `sorted` (ascending): the middle value, or the mean of the middle two.
pub(crate) fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        length if length % 2 == 1 => sorted[length / 2],
        length => (sorted[length / 2 - 1] + sorted[length / 2]) / 2.0,
    }
}

/// Lets the load `tasks` run a second of warm-up, then measure (`measuring` set) for `duration`,
/// then stop; their samples are merged into `total`, with the time measured and what the
/// `watched` processes spent in that time.
pub(crate) async fn measure_window(
    tasks: Vec<tokio::task::JoinHandle<Sample>>,
    measuring: &AtomicBool,
    stop: &AtomicBool,
    duration: Duration,
    mut total: Sample,
    watched: Option<&Watched>,
) -> anyhow::Result<Sample> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = watched.map(Watched::snapshot);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = started.elapsed();
    if let (Some(watched), Some(before)) = (watched, before) {
        total.spent.add(&before, &watched.snapshot());
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        total.merge(task.await?);
    }
    total.elapsed = elapsed;
    Ok(total)
}
