//! What the benchmark ran on, from /proc.

/// A one-line description of this machine.
pub(crate) fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name").and_then(|rest| rest.split(':').nth(1)))
        .map(str::trim)
        .unwrap_or("unknown CPU");
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cores} cores, {:.0} GiB RAM, Linux {}", memory_kib as f64 / 1_048_576.0, kernel.trim())
}

/// The peak resident set size of process `pid`, in MiB (VmHWM).
pub(crate) fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 =
        status.lines().find_map(|line| line.strip_prefix("VmHWM:"))?.split_whitespace().next()?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Processor time on Linux's process clock: `/proc` counts in USER_HZ ticks, 100 a second.
const TICKS_PER_SECOND: f64 = 100.0;

/// The processor time (user and system, every thread's) process `pid` has used so far, in
/// seconds.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces: the fields are counted after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / TICKS_PER_SECOND)
}

/// The processor time every PostgreSQL process on this machine has used so far, in seconds:
/// the server the benchmark's scratch database lives on, its backends and its writers.
pub(crate) fn postgres_cpu_seconds() -> f64 {
    let Ok(processes) = std::fs::read_dir("/proc") else { return 0.0 };
    processes
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim() == "postgres"))
        .filter_map(cpu_seconds)
        .sum()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::{Duration, Instant};

    /// This thread's time on a processor, in seconds, as the scheduler counts it (nanoseconds).
    fn thread_seconds() -> f64 {
        let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
        let nanos: f64 = schedstat.split_whitespace().next().expect("a field").parse().expect("a number");
        nanos / 1e9
    }

    #[test]
    fn a_process_counts_the_processor_time_its_threads_spent() {
        let (before, thread_before, started) =
            (super::cpu_seconds(std::process::id()), thread_seconds(), Instant::now());
        // Spin until this thread has had 300 ms on a processor, however busy the machine is.
        let mut spin = 0_u64;
        while thread_seconds() - thread_before < 0.3 && started.elapsed() < Duration::from_secs(60) {
            spin = std::hint::black_box(spin.wrapping_add(1));
        }
        let spent = super::cpu_seconds(std::process::id()).unwrap() - before.unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        assert!(spent >= 0.28, "300 ms of spinning counted as {spent} s");
        assert!(spent <= started.elapsed().as_secs_f64() * cores + 0.02, "more than the processors could give");
    }
}
