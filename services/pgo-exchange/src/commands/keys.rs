//! `pgo-exchange keys list|rotate|jwks`: the deployment's signing keys, held in the database. A
//! rotation adds a new key that signs from then on; every running instance hears of it and
//! follows, and the retired key verifies until the tokens it signed have expired.

use clap::Subcommand;
use pgo_exchange::Context;
use settings::Overrides;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Show the keys held: id, when added, when retired.
    List,
    /// Add a new signing key; the others stop signing now.
    Rotate,
    /// Print the public keys of every key ever held, as a JWK Set (for verifying old reports
    /// offline: `report verify --jwks`).
    Jwks,
}

pub(crate) async fn run(config: Option<&Path>, overrides: Overrides, command: KeysCommand) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    match command {
        KeysCommand::List => {
            for key in context.signing_keys.list().await? {
                let added = fhir_core::date::format_instant(key.created_at);
                match key.retired_at {
                    Some(retired) => {
                        println!("{}  added {added}  retired {}", key.kid, fhir_core::date::format_instant(retired))
                    }
                    None => println!("{}  added {added}  signs", key.kid),
                }
            }
        }
        KeysCommand::Jwks => println!("{}", context.signing_keys.every_public_key().await?),
        KeysCommand::Rotate => {
            let kid = context.signing_keys.rotate().await?;
            println!("{kid}");
            eprintln!("key {kid} signs from now on; the others verify until their tokens expire");
        }
    }
    Ok(ExitCode::SUCCESS)
}
