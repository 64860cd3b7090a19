//! `pgo-exchange load`: load files or folders of FHIR resources and Bundles (JSON or XML) for a provider,
//! through the same validation as the ingest endpoint, with a progress bar and a summary.

use anyhow::{Context as _, bail};
use clap::Args;
use fhir_core::Release;
use indicatif::{ProgressBar, ProgressStyle};
use ingest::{LoadOptions, LoadSummary};
use pgo_exchange::Context;
use settings::Overrides;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct LoadArgs {
    /// The provider to load for.
    #[arg(long)]
    provider: String,
    /// The FHIR release of the files (stu3 or r4). Default: the release of the provider's data
    /// services when they all share one, else each file's own, told by the profiles its resources
    /// claim.
    #[arg(long, value_name = "RELEASE", conflicts_with = "data_service")]
    fhir_version: Option<Release>,
    /// Take the release from this data service of the provider.
    #[arg(long, value_name = "ID")]
    data_service: Option<String>,
    /// Resources per database transaction.
    #[arg(long, default_value_t = 500)]
    batch_size: usize,
    /// Exit with status 0 even when resources were refused (by default a refusal makes the exit
    /// status 2, so that a script notices; the summary names each refusal either way).
    #[arg(long)]
    accept_refusals: bool,
    /// Files and folders to load (folders are walked; .json and .xml files are loaded).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub(crate) async fn run(config: Option<&Path>, overrides: Overrides, args: LoadArgs) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    let provider = context.provider(&args.provider).await?;
    let release = match (args.fhir_version, &args.data_service) {
        (Some(release), _) => Some(release),
        (None, Some(id)) => {
            if !provider.offers(id) {
                bail!("provider '{}' does not offer data service {id}", provider.name);
            }
            context
                .catalog
                .data_service(id)
                .map(|service| Some(service.release))
                .with_context(|| format!("data service {id} is not defined"))?
        }
        (None, None) => {
            let mut releases: Vec<Release> = provider
                .data_services
                .iter()
                .filter_map(|id| context.catalog.data_service(id))
                .map(|service| service.release)
                .collect();
            releases.sort();
            releases.dedup();
            match releases.as_slice() {
                [only] => Some(*only),
                [] => bail!("provider '{}' offers no data service", provider.name),
                _ => None,
            }
        }
    };
    let files = ingest::collect_files(&args.paths)?;
    let progress = ProgressBar::new(files.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} loading [{bar:40}] {pos}/{len} files ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let options = LoadOptions { release, batch_size: args.batch_size };
    let summary = context
        .ingestor
        .load(&context.store, &provider, &files, options, |done| progress.set_position(done as u64))
        .await?;
    progress.finish_and_clear();
    print_summary(&summary, &provider.medmij_name(), release);
    context.store.close().await;
    if !args.accept_refusals && !summary.rejected.is_empty() {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(summary: &LoadSummary, provider: &str, release: Option<Release>) {
    let release = release.map_or_else(|| "the release each file's profiles claim".to_owned(), |r| r.to_string());
    println!(
        "{provider} ({release}): {} files read, {} resources loaded ({} new, {} updated, {} unchanged), {} deleted, {} rejected",
        summary.files,
        summary.loaded(),
        summary.created,
        summary.updated,
        summary.unchanged,
        summary.deleted,
        summary.rejected.len()
    );
    if !summary.rejected.is_empty() {
        println!("rejected:");
        for rejected in &summary.rejected {
            println!("  {} ({})", rejected.resource, rejected.file);
            for reason in &rejected.reasons {
                println!("    - {reason}");
            }
        }
    }
    if !summary.warnings.is_empty() {
        println!("warnings:");
        for warning in &summary.warnings {
            println!("  - {warning}");
        }
    }
    if !summary.skipped.is_empty() {
        println!("skipped:");
        for (file, reason) in &summary.skipped {
            println!("  - {file}: {reason}");
        }
    }
}
