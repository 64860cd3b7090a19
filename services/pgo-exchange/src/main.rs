//! `pgo-exchange`: the service and its administration commands.

/// mimalloc: a search allocates many small, short-lived objects (rows, strings, the response),
/// and the system allocator spent a tenth of the server's time on them (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod commands;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// A MedMij-style exchange service: PGOs collect a person's health data from the providers it
/// hosts, over FHIR.
#[derive(Debug, Parser)]
#[command(name = "pgo-exchange", version, about, propagate_version = true)]
struct Cli {
    /// A TOML config file (see infra/config/example.toml); its settings override the defaults.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder for the SQLite database, the signing key and the deployment secret.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://... for PostgreSQL (default: SQLite in the data folder).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service.
    Serve(commands::serve::ServeArgs),
    /// Apply database migrations and exit (serve also does this at start-up).
    Migrate,
    /// Manage the providers (tenants).
    Providers {
        #[command(subcommand)]
        command: commands::providers::ProvidersCommand,
    },
    /// Import or show the MedMij lists (OAuth Client List, data-service names, Whitelist).
    Lists {
        #[command(subcommand)]
        command: commands::lists::ListsCommand,
    },
    /// Load FHIR JSON or XML files and folders (resources and Bundles) for a provider; exits 2
    /// when any resource was refused (unless `--accept-refusals`).
    Load(commands::load::LoadArgs),
    /// Check FHIR JSON or XML files and folders against the profiles they claim (or `--profile`)
    /// with the configured packages (and `--package`), loading nothing; exits 1 when any file
    /// breaks a rule, 2 when any cannot be read.
    Validate(commands::validate::ValidateArgs),
    /// Mint an access token for a person at a provider (an administration tool, e.g. for
    /// qualification runs): prints the token on stdout.
    Token(commands::token::TokenArgs),
    /// The signed usage report of a period (new unique users per PGO, amounts due, evidence),
    /// or `report verify FILE` to check a saved one.
    Report(commands::report::ReportArgs),
    /// List stored patient's records tied to no Patient (served to nobody); exits 1 if any.
    Check,
    /// Register auditors (who read usage reports and the access log).
    Auditors {
        #[command(subcommand)]
        command: commands::auditors::AuditorsCommand,
    },
    /// The signing keys of the deployment: list them, or rotate (a new key signs from now on).
    Keys {
        #[command(subcommand)]
        command: commands::keys::KeysCommand,
    },
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let overrides = settings::Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..settings::Overrides::default()
    };
    let result = match cli.command {
        Command::Serve(args) => commands::serve::run(cli.config.as_deref(), overrides, args).await,
        Command::Migrate => commands::migrate(cli.config.as_deref(), overrides).await,
        Command::Providers { command } => commands::providers::run(cli.config.as_deref(), overrides, command).await,
        Command::Lists { command } => commands::lists::run(cli.config.as_deref(), overrides, command).await,
        Command::Load(args) => commands::load::run(cli.config.as_deref(), overrides, args).await,
        Command::Validate(args) => commands::validate::run(cli.config.as_deref(), overrides, args),
        Command::Token(args) => commands::token::run(cli.config.as_deref(), overrides, args).await,
        Command::Report(args) => commands::report::run(cli.config.as_deref(), overrides, args).await,
        Command::Check => commands::check::run(cli.config.as_deref(), overrides).await,
        Command::Auditors { command } => commands::auditors::run(command),
        Command::Keys { command } => commands::keys::run(cli.config.as_deref(), overrides, command).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
