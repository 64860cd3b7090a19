//! `pgo-exchange report`: the signed usage report of a period, the same document the audit API
//! serves (`--period 2026-03 --format csv`); and `pgo-exchange report verify FILE`: checks a saved
//! report's signature offline, with the service's own key or a saved JWKS.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use metering::{Period, ReportRequest};
use pgo_exchange::Context;
use settings::Overrides;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ReportArgs {
    #[command(subcommand)]
    command: Option<ReportCommand>,
    /// The period: a month (2026-03), a quarter (2026-Q1) or a year (2026).
    #[arg(long)]
    period: Option<String>,
    /// json or csv (inside the signature).
    #[arg(long, default_value = "json")]
    format: String,
    /// One PGO's client id (default: all).
    #[arg(long)]
    client: Option<String>,
    /// Write the signed report here instead of to stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum ReportCommand {
    /// Check a saved report's signature; prints the report when it holds.
    Verify {
        /// The signed report.
        file: PathBuf,
        /// A JWK Set (e.g. saved from /oauth/jwks) to check with, instead of this service's key.
        #[arg(long, value_name = "FILE")]
        jwks: Option<PathBuf>,
        /// Print only the verdict, not the report.
        #[arg(long)]
        quiet: bool,
    },
}

pub(crate) async fn run(config: Option<&Path>, overrides: Overrides, args: ReportArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(ReportCommand::Verify { file, jwks, quiet }) => {
            verify(config, overrides, &file, jwks.as_deref(), quiet).await
        }
        None => make(config, overrides, args).await,
    }
}

async fn make(config: Option<&Path>, overrides: Overrides, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let Some(period) = args.period else { bail!("--period is needed, e.g. --period 2026-03") };
    let period: Period = period.parse()?;
    let (payload_of, media_type): (fn(&metering::UsageReport) -> String, &str) = match args.format.as_str() {
        "json" => (metering::UsageReport::to_json, "application/json"),
        "csv" => (metering::UsageReport::to_csv, "text/csv"),
        other => bail!("--format must be json or csv, not {other}"),
    };
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    let request = ReportRequest { period, client_id: args.client.as_deref() };
    let report =
        metering::report::build(&context.store, &context.report_settings(), &request, fhir_core::date::now_millis())
            .await?;
    let key = context.signing_key()?;
    let signed = metering::signing::sign(&payload_of(&report), media_type, &key)?;
    match &args.output {
        Some(path) => std::fs::write(path, &signed).with_context(|| format!("writing {}", path.display()))?,
        None => println!("{signed}"),
    }
    eprintln!(
        "{period}: {} new unique users, EUR {}.{:02} due, over {} PGOs (signed with key {})",
        report.totals.new_users,
        report.totals.amount_cents / 100,
        report.totals.amount_cents % 100,
        report.totals.clients,
        key.kid()
    );
    Ok(ExitCode::SUCCESS)
}

async fn verify(
    config: Option<&Path>,
    overrides: Overrides,
    file: &Path,
    jwks: Option<&Path>,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    let document = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let keys: serde_json::Value = match jwks {
        Some(path) => {
            serde_json::from_str(&std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
                .with_context(|| format!("{} is not a JWK Set", path.display()))?
        }
        None => {
            // The deployment's own keys, every one it ever signed with (a report outlives a
            // rotation), opened from the database.
            let settings = settings::Settings::load(config, &overrides)?;
            let context = Context::open(settings).await?;
            context.signing_keys.every_public_key().await?
        }
    };
    match metering::signing::verify(&document, &keys) {
        Ok(verified) => {
            eprintln!("valid: {} signed by key {} ({})", file.display(), verified.kid, verified.content_type);
            if !quiet {
                print!("{}", verified.payload);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("NOT VALID: {}: {error}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}
