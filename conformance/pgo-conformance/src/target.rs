//! The target's endpoints, resolved once from a ZAL (as a PGO finds them) or as given.

use crate::config::TargetSpec;
use crate::zal::{ZalEntry, read_zal};
use std::collections::BTreeMap;

/// One provider's endpoints at the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// The name as scopes write it (`umcx`, without `@medmij`).
    pub name: String,
    /// Per data-service id: authorization endpoint, token endpoint, FHIR base.
    pub services: BTreeMap<String, ServiceEndpoints>,
}

/// The endpoints of one data service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEndpoints {
    /// The authorization endpoint.
    pub authorization: String,
    /// The token endpoint.
    pub token: String,
    /// The FHIR base (the first resource endpoint listed).
    pub base: String,
}

impl Provider {
    /// The endpoints of `data_service`, if offered.
    pub fn service(&self, data_service: &str) -> Option<&ServiceEndpoints> {
        self.services.get(data_service)
    }

    /// The token endpoint (of the first data service: MedMij lists it per data service, and a
    /// DVA has one).
    pub fn token_endpoint(&self) -> Option<&str> {
        self.services.values().next().map(|service| service.token.as_str())
    }

    /// The authorization endpoint (as the token endpoint).
    pub fn authorization_endpoint(&self) -> Option<&str> {
        self.services.values().next().map(|service| service.authorization.as_str())
    }
}

/// The ZAL document's text (fetched, or read from a file).
pub async fn zal_text(client: &reqwest::Client, source: &str) -> anyhow::Result<String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let response = client.get(source).send().await?;
        anyhow::ensure!(response.status().is_success(), "the ZAL at {source} answered {}", response.status());
        Ok(response.text().await?)
    } else {
        Ok(std::fs::read_to_string(source)?)
    }
}

/// `provider`'s endpoints per `spec` (for a ZAL, its text in `zal`).
pub fn resolve(spec: &TargetSpec, provider: &str, zal: Option<&str>) -> anyhow::Result<Provider> {
    match spec {
        TargetSpec::Zal { source, .. } => {
            let text = zal.ok_or_else(|| anyhow::anyhow!("the ZAL {source} was not read"))?;
            let entries = read_zal(text)?;
            let entry = find(&entries, provider)
                .ok_or_else(|| anyhow::anyhow!("the ZAL {source} has no provider {provider}"))?;
            Ok(from_zal(entry))
        }
        TargetSpec::Explicit { authorization, token, bases, .. } => Ok(Provider {
            name: scope_name(provider).to_owned(),
            services: bases
                .iter()
                .map(|(id, base)| {
                    let endpoints = ServiceEndpoints {
                        authorization: authorization.clone(),
                        token: token.clone(),
                        base: base.trim_end_matches('/').to_owned(),
                    };
                    (id.clone(), endpoints)
                })
                .collect(),
        }),
    }
}

/// The ZAL entry of `provider`, with or without `@medmij`.
pub fn find<'a>(entries: &'a [ZalEntry], provider: &str) -> Option<&'a ZalEntry> {
    entries.iter().find(|entry| scope_name(&entry.name) == scope_name(provider))
}

fn from_zal(entry: &ZalEntry) -> Provider {
    Provider {
        name: scope_name(&entry.name).to_owned(),
        services: entry
            .data_services
            .iter()
            .filter_map(|(id, endpoints)| {
                let base = endpoints.resources.values().next()?.trim_end_matches('/').to_owned();
                Some((
                    id.clone(),
                    ServiceEndpoints {
                        authorization: endpoints.authorization.clone(),
                        token: endpoints.token.clone(),
                        base,
                    },
                ))
            })
            .collect(),
    }
}

/// `umcx@medmij` as scopes write it: `umcx`.
pub fn scope_name(provider: &str) -> &str {
    provider.strip_suffix("@medmij").unwrap_or(provider)
}
