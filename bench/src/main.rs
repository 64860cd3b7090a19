//! The benchmark of the resource server: N synthetic patients with BgZ records are loaded, then
//! the BgZ query list is driven with authenticated requests at a fixed concurrency against the
//! real server (in its own process, so that its memory can be measured), and, in the same run,
//! against a bare actix-web handler returning a fixed body of the same mean size: the limit of
//! this machine. Prints requests/s, p50/p99 latency, peak RSS and the ratio to the bare limit.
//!
//! With `--tokens` it measures the token endpoint instead: authorization code and refresh token
//! exchanges against the same bare baseline.
//!
//! With `--metering` it measures what metering costs a search: the BgZ query list against the
//! service as served (every 2xx metered, every request access-logged) and against the same
//! service built without meter and access log, in alternating rounds (`overhead.rs`).
//!
//! With `--documents` it measures serving documents (data service 51): PGOs fetching persons'
//! PDFs against a bare handler sending as many bytes (`documents.rs`).
//!
//! With `--share` it measures sharing (Delen, data service 52): PGOs posting persons' batches of
//! a Patient and ten vital-sign Observations against a bare handler that reads the same bodies
//! and answers as many bytes; what the answers say was stored is checked against the database
//! (`share.rs`).
//!
//! With `--report` it measures the auditors' usage reports on PostgreSQL: a scratch database with
//! the first exchanges of 1,000,000 users over a year across 30 PGOs, then the monthly and the
//! yearly report, end to end (query, assembly, serialization, signature), against a plain
//! `count(*)` of the same rows (`report.rs`).
//!
//! With `--validation` it measures profile validation: the validator alone on the BgZ demo set and
//! the published examples, then the synthetic load through ingest without and with the Nictiz
//! STU3 package, in the same run (`validation.rs`).
//!
//! With `--vaccinations` it measures the Vaccinaties search (data service 63, R4) at saturation
//! against a bare handler, round by round, on each backend (`vaccinations.rs`).
//!
//! With `--peer-hfs` it measures the same Vaccinaties search side by side with Helios HFS, the
//! Rust FHIR server, over the same R4 records, in alternating rounds (`hfs.rs`).
//!
//! With `--instances N` it measures the BgZ query list on PostgreSQL against N instances of the
//! service on one database behind one port (a round-robin TCP forwarder), and against one of them
//! alone behind the same forwarder, in alternating rounds (`instances.rs`).
//!
//! `cargo run -p bench --release -- --help`

/// mimalloc: a search allocates many small, short-lived objects (rows, strings, the response),
/// and the system allocator spent a tenth of the server's time on them (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod children;
mod documents;
mod driver;
mod forwarder;
mod generate;
mod grants;
mod hfs;
mod instances;
mod loading;
mod machine;
mod overhead;
mod processor;
mod report;
mod sample;
mod scratch;
mod servers;
mod share;
mod tokens;
mod vaccinations;
mod validation;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(about = "Benchmark the BgZ query list against the resource server and a bare baseline")]
struct Cli {
    #[command(subcommand)]
    internal: Option<Internal>,
    /// Synthetic patients to generate (each with the demo patient's ~45 BgZ records); default
    /// 10,000, or 1,000 with --tokens, or 100 with --documents and --share, or 2,000 with
    /// --vaccinations and --peer-hfs (each with 2 Immunizations).
    #[arg(long)]
    patients: Option<usize>,
    /// Measure profile validation instead: the validator alone (resources per second for the BgZ
    /// demo set and the published examples) and the ingest rate of the synthetic load into SQLite
    /// without and with the package, in the same run.
    #[arg(long, conflicts_with_all = ["tokens", "metering", "report", "documents", "share"])]
    validation: bool,
    /// With --validation: the STU3 package folder (default: the corpus's Nictiz zib2017 profiles).
    #[arg(long, value_name = "DIR")]
    package: Option<PathBuf>,
    /// Measure serving documents (data service 51: a Binary fetched as its PDF) instead of the
    /// BgZ queries, one of --document-bytes per patient.
    #[arg(long, conflicts_with_all = ["tokens", "metering", "report"])]
    documents: bool,
    /// With --documents: the size of each document.
    #[arg(long, default_value_t = 1_048_576)]
    document_bytes: usize,
    /// Measure sharing (Delen, data service 52) instead of the BgZ queries: each person's PGO
    /// POSTs batch Bundles of a Patient and 10 vital-sign Observations.
    #[arg(long, conflicts_with_all = ["tokens", "metering", "report", "documents"])]
    share: bool,
    /// With --share: the most batches sent to the service in all (each stores 10 Observations),
    /// a bound on the database's growth; the run fails if it runs out before the rounds end.
    #[arg(long, default_value_t = 200_000)]
    batches: usize,
    /// Measure the Vaccinaties search (data service 63, R4) alone: PGOs fetching one person's
    /// Immunizations after another's, against a bare handler, in alternating rounds, with the
    /// p50 and p99 of every round.
    #[arg(long, conflicts_with_all = ["tokens", "metering", "report", "documents", "share", "validation", "instances", "peer_hfs"])]
    vaccinations: bool,
    /// With --vaccinations: what the served search witnesses (everything, as served; or less, to
    /// see what the meter, the access log and the revocation check cost).
    #[arg(long, value_enum, default_value = "everything", requires = "vaccinations")]
    witness: Witness,
    /// Measure the Vaccinaties search (data service 63, R4) side by side with Helios HFS, the
    /// Rust FHIR server: the same Patients with 2 Immunizations each on both sides (SQLite), ours
    /// `GET .../Immunization` with the person's token, HFS `GET /Immunization?patient=...`.
    #[arg(long, conflicts_with_all = ["tokens", "metering", "report", "documents", "share", "validation", "instances"])]
    peer_hfs: bool,
    /// With --peer-hfs: the HFS binary (`cargo install helios-hfs`); default: `hfs` on PATH.
    #[arg(long, env = "HFS_BINARY", value_name = "PATH")]
    hfs_binary: Option<PathBuf>,
    /// Measure the BgZ query list against N instances of the service on one PostgreSQL database
    /// behind one port (a round-robin TCP forwarder), and against one instance behind the same
    /// forwarder, in alternating rounds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(2..),
        conflicts_with_all = ["tokens", "metering", "report", "documents", "share", "validation"])]
    instances: Option<u16>,
    /// Measure the token endpoint (code and refresh token exchanges) instead of the BgZ queries.
    #[arg(long)]
    tokens: bool,
    /// With --tokens: consents with a fresh authorization code to prepare (each code is
    /// exchanged once; enough for the warm-up and every code round).
    #[arg(long, default_value_t = 100_000)]
    codes: usize,
    /// Measure what metering costs the BgZ query list: the service as served (meter and access
    /// log) against the same service built without them, in alternating rounds.
    #[arg(long, conflicts_with_all = ["tokens", "report"])]
    metering: bool,
    /// Measure the usage reports on PostgreSQL instead: generate a year of first exchanges of
    /// --users users across --clients PGOs in a scratch database, then time the monthly and
    /// yearly reports (JSON and CSV, signed) against a count(*) of the same rows.
    #[arg(long, conflicts_with = "tokens")]
    report: bool,
    /// With --report: users to generate (each uses 1 to 3 PGOs).
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    /// With --report: PGOs (client ids) the users are spread over.
    #[arg(long, default_value_t = 30)]
    clients: usize,
    /// With --report: the calendar year of the exchanges.
    #[arg(long, default_value_t = 2026)]
    year: i32,
    /// With --report: the month of the monthly report (1-12).
    #[arg(long, default_value_t = 3)]
    month: u32,
    /// sqlite, postgres or both (--peer-hfs: SQLite; --instances: PostgreSQL).
    #[arg(long, default_value = "both")]
    backend: String,
    /// The PostgreSQL server to create a scratch database on.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres_url: String,
    /// Concurrent connections of the load generator.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds of measurement per server (after the warm-up), split into alternating rounds;
    /// default 40, or 30 with --peer-hfs.
    #[arg(long)]
    duration: Option<u64>,
    /// Alternating rounds of the two servers the measurement is split into; default 8, or 3
    /// with --peer-hfs.
    #[arg(long)]
    rounds: Option<u32>,
    /// Seconds of warm-up per run.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// HTTP worker threads of both servers (0: one per core).
    #[arg(long, default_value_t = 0)]
    workers: usize,
    /// Keep the scratch database (PostgreSQL's, or the SQLite file) and print where it is, for
    /// inspection.
    #[arg(long)]
    keep_database: bool,
}

/// The servers, run as child processes of the benchmark.
/// What a served application witnesses (see `pgo_exchange::Witnessing`).
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Witness {
    Everything,
    AccessLogOnly,
    Nothing,
    EverythingButRevocations,
}

impl Witness {
    /// As given on the command line.
    fn name(self) -> &'static str {
        match self {
            Witness::Everything => "everything",
            Witness::AccessLogOnly => "access-log-only",
            Witness::Nothing => "nothing",
            Witness::EverythingButRevocations => "everything-but-revocations",
        }
    }
}

impl From<Witness> for pgo_exchange::Witnessing {
    fn from(witness: Witness) -> pgo_exchange::Witnessing {
        match witness {
            Witness::Everything => pgo_exchange::Witnessing::Everything,
            Witness::AccessLogOnly => pgo_exchange::Witnessing::AccessLogOnly,
            Witness::Nothing => pgo_exchange::Witnessing::Nothing,
            Witness::EverythingButRevocations => pgo_exchange::Witnessing::EverythingButRevocations,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Internal {
    /// The service over an already loaded database.
    #[command(hide = true)]
    ServeApp {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        workers: usize,
        /// The public URL to name itself by (default: its own address).
        #[arg(long)]
        public_url: Option<String>,
        /// What the FHIR endpoints witness.
        #[arg(long, value_enum, default_value = "everything")]
        witness: Witness,
    },
    /// A bare handler answering every request with `size` bytes.
    #[command(hide = true)]
    ServeBare {
        #[arg(long)]
        size: usize,
        #[arg(long)]
        port: u16,
        #[arg(long)]
        workers: usize,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.internal {
        Some(Internal::ServeApp { data_dir, database_url, port, workers, public_url, witness }) => {
            let witnessing = witness.into();
            servers::serve_app(servers::AppServing { data_dir, database_url, port, workers, public_url, witnessing })
        }
        Some(Internal::ServeBare { size, port, workers }) => servers::serve_bare(size, port, workers),
        None if cli.report => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(report::run(report::ReportOptions {
                users: cli.users,
                clients: cli.clients.max(1),
                year: cli.year,
                month: cli.month,
                postgres_url: cli.postgres_url,
                keep_database: cli.keep_database,
            }))
        }
        None if cli.peer_hfs => {
            // Before anything is loaded: without HFS there is nothing to compare with.
            let binary = hfs::find_binary(cli.hfs_binary.clone())?;
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            runtime.block_on(hfs::run(driver_options(&cli, cli.patients.unwrap_or(2_000)), binary))
        }
        None if cli.validation => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let templates = generate::Templates::from_demo()?;
            let options = driver_options(&cli, cli.patients.unwrap_or(10_000));
            let package = cli.package.clone().unwrap_or_else(validation::default_package);
            runtime.block_on(validation::measure(&options, &templates, &package))
        }
        None => {
            let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            let default_patients = if cli.tokens {
                1_000
            } else if cli.documents || cli.share {
                100
            } else if cli.vaccinations {
                2_000
            } else {
                10_000
            };
            runtime.block_on(driver::run(driver_options(&cli, cli.patients.unwrap_or(default_patients))))
        }
    }
}

/// The driver's options as the command line gives them.
fn driver_options(cli: &Cli, patients: usize) -> driver::Options {
    driver::Options {
        patients,
        workload: if cli.tokens {
            driver::Workload::Tokens { codes: cli.codes }
        } else if cli.documents {
            driver::Workload::Documents { bytes: cli.document_bytes.max(16) }
        } else if cli.share {
            driver::Workload::Share { batches: cli.batches }
        } else if cli.metering {
            driver::Workload::Metering
        } else if cli.vaccinations {
            driver::Workload::Vaccinations { witness: cli.witness.name() }
        } else if let Some(count) = cli.instances {
            driver::Workload::Instances { count: usize::from(count) }
        } else {
            driver::Workload::BgZ
        },
        backends: match cli.backend.as_str() {
            // Instances of the service share a database server: PostgreSQL only.
            _ if cli.instances.is_some() => vec![driver::Backend::Postgres],
            "sqlite" => vec![driver::Backend::Sqlite],
            "postgres" => vec![driver::Backend::Postgres],
            _ => vec![driver::Backend::Sqlite, driver::Backend::Postgres],
        },
        postgres_url: cli.postgres_url.clone(),
        concurrency: cli.concurrency,
        duration: std::time::Duration::from_secs(cli.duration.unwrap_or(if cli.peer_hfs { 30 } else { 40 })),
        warmup: std::time::Duration::from_secs(cli.warmup),
        workers: if cli.workers == 0 {
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
        } else {
            cli.workers
        },
        keep_database: cli.keep_database,
        rounds: cli.rounds.unwrap_or(if cli.peer_hfs { 3 } else { 8 }),
    }
}
