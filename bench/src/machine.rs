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

/// A process's resident memory by what backs it, in MiB (`RssAnon`, `RssFile`, `RssShmem` of
/// `/proc/PID/status`). VmHWM counts them together, so a database read through a memory map
/// looks like the service's own memory; these tell them apart.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Resident {
    /// Anonymous pages: the heap, stacks, what the process itself allocated.
    pub(crate) anonymous: f64,
    /// Pages of mapped files: the binary and libraries, SQLite's memory-mapped database.
    pub(crate) file: f64,
    /// Shared memory.
    pub(crate) shared: f64,
}

/// Process `pid`'s resident memory now.
pub(crate) fn resident_mib(pid: u32) -> Option<Resident> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let kib: f64 =
            status.lines().find_map(|line| line.strip_prefix(name))?.split_whitespace().next()?.parse().ok()?;
        Some(kib / 1024.0)
    };
    Some(Resident { anonymous: field("RssAnon:")?, file: field("RssFile:")?, shared: field("RssShmem:")? })
}

/// The peak of each part of a process's resident memory, sampled by a thread of its own until
/// stopped (the kernel keeps a peak only of the sum).
pub(crate) struct ResidentPeaks {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Resident>,
}

impl ResidentPeaks {
    /// How often the parts are read.
    pub(crate) const EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    /// Starts sampling process `pid`.
    pub(crate) fn watch(pid: u32) -> ResidentPeaks {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peaks = Resident::default();
            while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(now) = resident_mib(pid) {
                    peaks.anonymous = peaks.anonymous.max(now.anonymous);
                    peaks.file = peaks.file.max(now.file);
                    peaks.shared = peaks.shared.max(now.shared);
                }
                std::thread::sleep(ResidentPeaks::EVERY);
            }
            peaks
        });
        ResidentPeaks { stop, thread }
    }

    /// Stops sampling; the peaks seen.
    pub(crate) fn stop(self) -> Resident {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
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
    fn resident_memory_is_split_and_its_peaks_follow_what_a_process_touches() {
        let before = super::resident_mib(std::process::id()).expect("this process's status");
        assert!(before.file > 0.0, "the binary itself is a mapped file: {before:?}");
        let peaks = super::ResidentPeaks::watch(std::process::id());
        // 64 MiB of anonymous memory, touched, held for three samples.
        let held = vec![1_u8; 64 << 20];
        std::thread::sleep(super::ResidentPeaks::EVERY * 3);
        let seen = peaks.stop();
        assert!(seen.anonymous >= before.anonymous + 60.0, "64 MiB more anonymous memory: {before:?} then {seen:?}");
        assert!(seen.file < before.file + 16.0, "not counted as file-backed: {before:?} then {seen:?}");
        drop(std::hint::black_box(held));
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
