//! `pgo-exchange token`: mint an access token for a person (by BSN) at a provider, with the
//! service's own key; the same tokens the authorization server issues. The BSN is only used to
//! find the person and is in nothing the command prints.

use access_token::{Grant, Scope};
use anyhow::{Context as _, bail};
use clap::Args;
use pgo_exchange::Context;
use settings::Overrides;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// The provider.
    #[arg(long)]
    provider: String,
    /// The PGO's OAuth client id (its hostname).
    #[arg(long)]
    client: String,
    /// The scope, e.g. "umcx~48" or "umcx~48 umcx~63".
    #[arg(long)]
    scope: String,
    /// The person's BSN.
    #[arg(long)]
    bsn: String,
    /// The public base URL the token's audience is built on (default: the configured one).
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

pub(crate) async fn run(config: Option<&Path>, mut overrides: Overrides, args: TokenArgs) -> anyhow::Result<ExitCode> {
    overrides.public_url = args.public_url.clone();
    let (settings, _guard) = super::settings_and_logging(config, &overrides, false)?;
    let context = Context::open(settings).await?;
    let provider = context.provider(&args.provider).await?;
    let scope: Scope = args.scope.parse().context("invalid --scope")?;
    if scope.provider != provider.name {
        bail!("the scope names provider '{}', not '{}'", scope.provider, provider.name);
    }
    for id in &scope.data_services {
        if !provider.offers(id) {
            bail!("provider '{}' does not offer data service {id}", provider.name);
        }
    }
    if !is_hostname(&args.client) {
        bail!("--client must be the PGO's hostname, e.g. pgo.example.nl");
    }
    if !identity::is_valid_bsn(&args.bsn) {
        bail!("the BSN is not nine digits passing the 11-test");
    }
    let person_key = context.secret.person_key(&provider.name, &args.bsn);
    if !context.store.knows_person(provider.id, &person_key).await? {
        bail!("provider '{}' holds no patient with that BSN", provider.name);
    }
    let audience = scope.data_services.iter().map(|id| context.resource_endpoint(&provider.name, id)).collect();
    let grant = Grant {
        person_key,
        pseudonym: context.secret.pseudonym(&args.bsn),
        client_id: args.client,
        provider: provider.name.clone(),
        scope,
        audience,
        consent: None,
    };
    let issued = context.token_issuer().issue(&grant)?;
    eprintln!("access token for {} at {}, valid {} seconds:", grant.scope, provider.medmij_name(), issued.expires_in);
    println!("{}", issued.token);
    Ok(ExitCode::SUCCESS)
}

/// A DNS host name: labels of letters, digits and hyphens, separated by dots.
fn is_hostname(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}
