//! Processor time per request, from /proc: the service's, PostgreSQL's (every PostgreSQL process of
//! this machine, its background writers included) and the load generator's, in the measured window
//! of each round.
//!
//! Why: requests per second tell how fast the whole machine was, not which process a change made
//! cheaper or dearer; the split does (the service, PostgreSQL and the load generator share the two
//! cores). Measured in the same rounds as the bare server, the ratio of the two totals is a second
//! reading of the throughput ratio.

use crate::machine;

/// The processes whose processor time is counted.
pub(crate) struct Watched {
    /// The server measured (the service or the bare one).
    pub(crate) server: u32,
    /// Whether PostgreSQL's processes on this machine serve it (`machine::postgres_cpu_seconds`,
    /// as the token benchmark counts them).
    pub(crate) postgres: bool,
}

/// Processor time used so far, in seconds, by process.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    server: f64,
    generator: f64,
    postgres: f64,
}

impl Watched {
    /// The processor time used so far by each watched process.
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            server: machine::cpu_seconds(self.server).unwrap_or(0.0),
            generator: machine::cpu_seconds(std::process::id()).unwrap_or(0.0),
            postgres: if self.postgres { machine::postgres_cpu_seconds() } else { 0.0 },
        }
    }
}

/// Processor time over some rounds, in seconds, by process.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spent {
    pub(crate) server: f64,
    pub(crate) postgres: f64,
    pub(crate) generator: f64,
}

impl Spent {
    /// Adds what was spent between `before` and `after`. (A PostgreSQL backend that ended in
    /// between takes its time with it; the pool keeps its connections while serving.)
    pub(crate) fn add(&mut self, before: &Snapshot, after: &Snapshot) {
        self.server += (after.server - before.server).max(0.0);
        self.generator += (after.generator - before.generator).max(0.0);
        self.postgres += (after.postgres - before.postgres).max(0.0);
    }

    /// Adds what another window spent.
    pub(crate) fn merge(&mut self, other: Spent) {
        self.server += other.server;
        self.postgres += other.postgres;
        self.generator += other.generator;
    }

    /// Microseconds of processor time per request, by process, for `requests` requests.
    pub(crate) fn per_request_us(&self, requests: usize) -> Spent {
        let per = |seconds: f64| seconds * 1e6 / requests.max(1) as f64;
        Spent { server: per(self.server), postgres: per(self.postgres), generator: per(self.generator) }
    }

    /// All three together.
    pub(crate) fn total(&self) -> f64 {
        self.server + self.postgres + self.generator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_spent_between_snapshots_adds_up_per_request() {
        let before = Snapshot { server: 1.0, generator: 0.5, postgres: 0.1 };
        let after = Snapshot { server: 3.0, generator: 1.5, postgres: 0.35 };
        let mut spent = Spent::default();
        spent.add(&before, &after);
        spent.merge(Spent { server: 1.0, postgres: 0.0, generator: 0.0 });
        let per = spent.per_request_us(1_000);
        assert_eq!((per.server, per.generator), (3_000.0, 1_000.0));
        assert!((per.postgres - 250.0).abs() < 1e-6, "{per:?}");
        assert!((per.total() - 4_250.0).abs() < 1e-6, "{per:?}");
    }

    #[test]
    fn time_lost_with_an_ended_process_is_not_counted_as_negative() {
        let before = Snapshot { server: 1.0, generator: 1.0, postgres: 5.0 };
        let after = Snapshot { server: 1.0, generator: 1.0, postgres: 4.0 };
        let mut spent = Spent::default();
        spent.add(&before, &after);
        assert_eq!(spent.postgres, 0.0);
    }

    #[test]
    fn this_process_is_watched_as_the_load_generator() {
        // Enough time on a processor to show in ticks of 10 ms, however young this process is.
        let started = std::time::Instant::now();
        let mut spin = 0_u64;
        while machine::cpu_seconds(std::process::id()).unwrap_or(0.0) < 0.02
            && started.elapsed() < std::time::Duration::from_secs(30)
        {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let watched = Watched { server: std::process::id(), postgres: false };
        let snapshot = watched.snapshot();
        assert!(snapshot.generator > 0.0 && snapshot.server > 0.0, "{snapshot:?}");
        assert_eq!(snapshot.postgres, 0.0);
    }
}
