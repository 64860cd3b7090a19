//! Processor time per request, from /proc: the service's, its PostgreSQL backends' and the load
//! generator's, in the measured window of each round.
//!
//! Why: requests per second tell how fast the whole machine was, not which process a change made
//! cheaper or dearer; the split does (the service, PostgreSQL and the load generator share the two
//! cores). Measured in the same rounds as the bare server, the ratio of the two totals is a second
//! reading of the throughput ratio.

use std::collections::HashMap;

/// Clock ticks per second of `/proc/PID/stat`'s times (`USER_HZ`, 100 on every Linux the
/// benchmark runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// The processes whose processor time is counted.
pub(crate) struct Watched {
    /// The server measured (the service or the bare one).
    pub(crate) server: u32,
    /// PostgreSQL's backends serving the scratch database, when it runs on this machine.
    pub(crate) postgres: Option<sqlx::PgPool>,
}

/// Processor ticks used so far, by process.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    server: u64,
    generator: u64,
    backends: HashMap<u32, u64>,
}

impl Watched {
    /// The ticks used so far by each watched process.
    pub(crate) async fn snapshot(&self) -> Snapshot {
        let mut backends = HashMap::new();
        if let Some(pool) = &self.postgres {
            // Our own connection's backend is left out: it only asks this.
            let pids: Vec<i32> = sqlx::query_scalar(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_all(pool)
            .await
            .unwrap_or_default();
            for pid in pids.into_iter().filter_map(|pid| u32::try_from(pid).ok()) {
                // A server elsewhere: its pids are not ours to read.
                if is_postgres(pid)
                    && let Some(ticks) = ticks(pid)
                {
                    backends.insert(pid, ticks);
                }
            }
        }
        Snapshot {
            server: ticks(self.server).unwrap_or(0),
            generator: ticks(std::process::id()).unwrap_or(0),
            backends,
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
    /// Adds what was spent between `before` and `after`. A backend that connected in between is
    /// counted whole (the pool opens its connections while serving).
    pub(crate) fn add(&mut self, before: &Snapshot, after: &Snapshot) {
        let seconds = |ticks: u64| ticks as f64 / TICKS_PER_SECOND;
        self.server += seconds(after.server.saturating_sub(before.server));
        self.generator += seconds(after.generator.saturating_sub(before.generator));
        self.postgres += after
            .backends
            .iter()
            .map(|(pid, ticks)| seconds(ticks.saturating_sub(before.backends.get(pid).copied().unwrap_or(0))))
            .sum::<f64>();
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

/// Process `pid`'s user and system time so far, in ticks, its threads' included (fields 14 and
/// 15 of `/proc/PID/stat`, counted after the command's closing parenthesis, which may itself hold
/// spaces).
fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_ticks(&stat)
}

fn parse_ticks(stat: &str) -> Option<u64> {
    let (_, after_command) = stat.rsplit_once(')')?;
    let mut fields = after_command.split_whitespace();
    // After the command: state (3), ppid (4), ... utime is field 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Whether `pid` is a PostgreSQL process of this machine.
fn is_postgres(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|command| command.trim() == "postgres")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_system_ticks_are_read_past_a_command_with_spaces() {
        let stat = "4242 (serve app) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 0 0 20 0 9 0 100 0 0";
        assert_eq!(parse_ticks(stat), Some(1234 + 567));
        assert_eq!(parse_ticks("4242 (cut short) S 1"), None);
    }

    #[test]
    fn a_process_of_this_machine_is_read_and_a_gone_one_is_not() {
        assert!(ticks(std::process::id()).is_some());
        // Above the kernel's largest pid (2^22).
        assert_eq!(ticks(5_000_000), None);
        assert!(!is_postgres(std::process::id()));
    }

    #[test]
    fn a_backend_that_connected_between_snapshots_counts_whole() {
        let before = Snapshot { server: 100, generator: 50, backends: HashMap::from([(1, 10)]) };
        let after = Snapshot { server: 300, generator: 150, backends: HashMap::from([(1, 30), (2, 5)]) };
        let mut spent = Spent::default();
        spent.add(&before, &after);
        assert_eq!((spent.server, spent.generator, spent.postgres), (2.0, 1.0, 0.25));
        let per = spent.per_request_us(1_000);
        assert_eq!((per.server, per.postgres, per.generator), (2_000.0, 250.0, 1_000.0));
        assert_eq!(per.total(), 3_250.0);
    }
}
