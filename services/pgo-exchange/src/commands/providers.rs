//! `pgo-exchange providers add|list|rotate-key`: the providers (tenants) of the service.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Subcommand;
use pgo_exchange::Context;
use settings::Overrides;
use std::path::Path;
use std::process::ExitCode;
use store::NewProvider;

#[derive(Debug, Subcommand)]
pub(crate) enum ProvidersCommand {
    /// Add a provider. Prints its ingest key once: the service keeps only a hash of it.
    Add {
        /// MedMij name without @medmij: lower-case letters only (e.g. umcx).
        name: String,
        /// Name shown to people.
        #[arg(long)]
        display_name: String,
        /// Data services offered, comma-separated (e.g. 48,63).
        #[arg(long, value_delimiter = ',', required = true)]
        data_services: Vec<String>,
    },
    /// List the providers.
    List,
    /// Give a provider a new ingest key (the old one stops working). Prints the new key once.
    RotateKey {
        /// The provider's name.
        name: String,
    },
}

pub(crate) async fn run(
    config: Option<&Path>,
    overrides: Overrides,
    command: ProvidersCommand,
) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    match command {
        ProvidersCommand::Add { name, display_name, data_services } => {
            let new = NewProvider { name, display_name, data_services };
            context.check_provider(&new)?;
            let key = new_ingest_key()?;
            let provider = context.store.create_provider(&new, Some(&store::ingest_key_hash(&key))).await?;
            eprintln!(
                "added {} ({}) offering data services {}",
                provider.medmij_name(),
                provider.display_name,
                provider.data_services.join(", ")
            );
            eprintln!("its ingest key (shown only now; send it as 'Authorization: Bearer <key>'):");
            println!("{key}");
        }
        ProvidersCommand::List => {
            let providers = context.store.providers().await?;
            if providers.is_empty() {
                eprintln!("no providers yet; add one with `pgo-exchange providers add`");
            }
            for provider in providers {
                let services: Vec<String> = provider
                    .data_services
                    .iter()
                    .map(|id| match context.catalog.data_service(id) {
                        Some(service) => format!("{id} ({})", service.name),
                        None => format!("{id} (not defined)"),
                    })
                    .collect();
                let key = if provider.ingest_key_hash.is_some() { "ingest key set" } else { "no ingest key" };
                println!("{}\t{}\t{}\t{key}", provider.medmij_name(), provider.display_name, services.join(", "));
            }
        }
        ProvidersCommand::RotateKey { name } => {
            let provider = context.provider(&name).await?;
            let key = new_ingest_key()?;
            context.store.set_ingest_key_hash(provider.id, &store::ingest_key_hash(&key)).await?;
            eprintln!("new ingest key for {} (shown only now):", provider.medmij_name());
            println!("{key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn new_ingest_key() -> anyhow::Result<String> {
    let mut bytes = [0_u8; 32];
    SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("the system random number generator failed"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}
