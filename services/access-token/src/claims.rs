//! The claims of an access token and the MedMij scope they carry.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The issuing service.
    pub iss: String,
    /// The person's opaque key at this provider (never a BSN).
    pub sub: String,
    /// The resource endpoints the token is for.
    pub aud: Vec<String>,
    /// The PGO (OAuth client id: its hostname).
    pub client_id: String,
    /// The provider's MedMij name, without `@medmij`.
    pub provider: String,
    /// The granted scope, `name~id` space-separated.
    pub scope: String,
    /// Issued at (seconds since the epoch).
    pub iat: u64,
    /// Not before (seconds since the epoch): the service does not set it, but a token that has
    /// one is held to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Expires at (seconds since the epoch).
    pub exp: u64,
    /// Unique token id.
    pub jti: String,
    /// The person's pseudonym, sealed (see `identity::PseudonymSeal`): only the service can open
    /// it, to meter the exchange; to the PGO it is noise that differs in every token.
    pub psn: String,
    /// The consent the token was given under, as an opaque handle (a keyed hash of the
    /// consent's id): when the consent is revoked, every token carrying it stops at once
    /// ([`Revocations`](crate::Revocations)). Absent in tokens an administrator minted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AccessClaims {
    /// The granted scope, parsed.
    pub fn parsed_scope(&self) -> Result<Scope, ScopeError> {
        self.scope.parse()
    }

    /// Whether `endpoint` is one of the audiences.
    pub fn is_for(&self, endpoint: &str) -> bool {
        self.aud.iter().any(|audience| audience == endpoint)
    }
}

/// What is granted: a person's data at a provider, for some data services, to a PGO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The person's opaque key at the provider.
    pub person_key: String,
    /// The person's pseudonym (the same at every provider); sealed into the token.
    pub pseudonym: String,
    /// The PGO's client id.
    pub client_id: String,
    /// The provider's MedMij name.
    pub provider: String,
    /// The data services granted.
    pub scope: Scope,
    /// The resource endpoints of those data services.
    pub audience: Vec<String>,
    /// The handle of the consent it is given under (`None`: minted by an administrator).
    pub consent: Option<String>,
}

/// A MedMij scope: one provider and one or more data services, written `umcx~48 umcx~63`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The provider's MedMij name without `@medmij`.
    pub provider: String,
    /// The data-service ids, in the order given, without repeats.
    pub data_services: Vec<String>,
}

/// A scope string that breaks the MedMij syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Empty.
    #[error("the scope is empty")]
    Empty,
    /// An item is not `name~id`.
    #[error("'{0}' is not of the form provider~dataservice (e.g. umcx~48)")]
    Syntax(String),
    /// Items name different providers.
    #[error("a scope names exactly one provider, found '{0}' and '{1}'")]
    SeveralProviders(String, String),
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;

    fn from_str(text: &str) -> Result<Scope, ScopeError> {
        let mut provider: Option<String> = None;
        let mut data_services: Vec<String> = Vec::new();
        for item in text.split(' ').filter(|item| !item.is_empty()) {
            let (name, id) = item.split_once('~').ok_or_else(|| ScopeError::Syntax(item.to_owned()))?;
            let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase());
            let id_ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
            if !name_ok || !id_ok {
                return Err(ScopeError::Syntax(item.to_owned()));
            }
            match &provider {
                Some(known) if known != name => {
                    return Err(ScopeError::SeveralProviders(known.clone(), name.to_owned()));
                }
                Some(_) => {}
                None => provider = Some(name.to_owned()),
            }
            if !data_services.iter().any(|known| known == id) {
                data_services.push(id.to_owned());
            }
        }
        let provider = provider.ok_or(ScopeError::Empty)?;
        Ok(Scope { provider, data_services })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<String> = self.data_services.iter().map(|id| format!("{}~{id}", self.provider)).collect();
        f.write_str(&items.join(" "))
    }
}

impl Scope {
    /// Whether data service `id` is granted.
    pub fn includes(&self, id: &str) -> bool {
        self.data_services.iter().any(|granted| granted == id)
    }
}
