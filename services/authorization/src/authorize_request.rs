//! A PGO's authorization request (the browser's GET to the authorization endpoint), checked
//! against RFC 6749 §4.1.1, RFC 7636 (PKCE) and the MedMij rules, in the order that decides how
//! an error may be reported: first the client and its redirect URI (until both are trusted, an
//! error is shown to the person, never redirected), then everything else (redirected back to the
//! PGO with the `state`). Whether the provider offers the data services is checked by the caller,
//! which has the store.

use crate::directory::{Directory, KnownClient};
use crate::flow_error::FlowError;
use crate::redirect_uri::{self, RedirectUriError};
use access_token::{Scope, ScopeError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A checked authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    /// The PGO's hostname.
    pub client_id: String,
    /// Where to send the person back, exactly as given.
    pub redirect_uri: String,
    /// The provider (without `@medmij`).
    pub provider: String,
    /// The data-service ids, as requested.
    pub data_services: Vec<String>,
    /// The PGO's `state`, returned verbatim.
    pub state: String,
    /// The PKCE S256 challenge, if sent.
    pub code_challenge: Option<String>,
    /// `MedMij-Request-ID` from the query, if any (a fresh UUID in place of one that is not a
    /// UUID).
    pub request_id: Option<String>,
    /// `X-Correlation-ID` from the query, if any (likewise).
    pub correlation_id: Option<String>,
}

impl AuthorizeRequest {
    /// The scope, written as MedMij does (`umcx~48 umcx~49`).
    pub fn scope(&self) -> String {
        self.data_services.iter().map(|id| format!("{}~{id}", self.provider)).collect::<Vec<_>>().join(" ")
    }
}

/// Why a request was refused, and how that may be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Show the person; do not redirect (the redirect target is not trusted).
    Shown(ShownError),
    /// Redirect to the (trusted) redirect URI with this error.
    Redirected {
        /// The redirect URI, checked.
        redirect_uri: url::Url,
        /// The error.
        error: FlowError,
        /// The `state`, if there was one.
        state: Option<String>,
    },
}

/// An error shown to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShownError {
    /// No `client_id`.
    #[error("client_id is missing")]
    ClientMissing,
    /// Not on the OAuth Client List.
    #[error("the client is not on the OAuth Client List")]
    UnknownClient,
    /// `client_id` or `redirect_uri` given twice.
    #[error("client_id or redirect_uri is repeated")]
    Repeated,
    /// The redirect URI breaks the rules.
    #[error("{0}")]
    RedirectUri(RedirectUriError),
}

/// Checks the query parameters `pairs` of an authorization request.
pub fn check(
    pairs: &[(String, String)],
    directory: &Directory,
    development: bool,
) -> Result<AuthorizeRequest, Refusal> {
    let mut params: HashMap<&str, Vec<&str>> = HashMap::new();
    for (name, value) in pairs {
        params.entry(name.as_str()).or_default().push(value.as_str());
    }
    let single = |name: &str| params.get(name).and_then(|values| values.first().copied());
    let repeated = |name: &str| params.get(name).is_some_and(|values| values.len() > 1);

    if repeated("client_id") || repeated("redirect_uri") {
        return Err(Refusal::Shown(ShownError::Repeated));
    }
    let client_id = single("client_id").filter(|id| !id.is_empty()).ok_or(Refusal::Shown(ShownError::ClientMissing))?;
    let client: &KnownClient = directory.client(client_id).ok_or(Refusal::Shown(ShownError::UnknownClient))?;
    let redirect_uri = redirect_uri::check(single("redirect_uri"), &client.hostname, development)
        .map_err(|error| Refusal::Shown(ShownError::RedirectUri(error)))?;

    // From here the redirect URI is trusted: errors go back to the PGO.
    let state = single("state").filter(|state| !state.is_empty()).map(str::to_owned);
    let refuse = |error: FlowError| Refusal::Redirected {
        redirect_uri: redirect_uri.clone(),
        error,
        state: if repeated("state") { None } else { state.clone() },
    };
    const SINGLE: [&str; 6] = ["response_type", "scope", "state", "code_challenge", "code_challenge_method", "nonce"];
    if SINGLE.iter().any(|name| repeated(name)) {
        return Err(refuse(FlowError::RepeatedParameter));
    }
    if single("response_type") != Some("code") {
        return Err(refuse(FlowError::ResponseType));
    }
    let state = state.clone().ok_or_else(|| refuse(FlowError::StateMissing))?;
    let scope_text =
        single("scope").filter(|scope| !scope.trim().is_empty()).ok_or_else(|| refuse(FlowError::ScopeMissing))?;
    let scope: Scope = scope_text.parse().map_err(|error| match error {
        ScopeError::SeveralProviders(..) => refuse(FlowError::ScopeProviders),
        ScopeError::Empty | ScopeError::Syntax(_) => refuse(FlowError::ScopeSyntax),
    })?;
    if scope.data_services.iter().any(|id| !client.may_use(id)) {
        // The id is not named: it comes from the query and matches nothing the service knows.
        tracing::info!(client = client_id, "a data service not allowed for this client was asked for");
        return Err(refuse(FlowError::ScopeNotAllowed));
    }
    let code_challenge = match (single("code_challenge"), single("code_challenge_method")) {
        (None, None) => None,
        (_, Some("plain")) => return Err(refuse(FlowError::PkcePlain)),
        // RFC 7636 §4.3: without a method the method is plain.
        (Some(_), None) => return Err(refuse(FlowError::PkcePlain)),
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => Some(challenge.to_owned()),
        _ => return Err(refuse(FlowError::PkceMalformed)),
    };
    Ok(AuthorizeRequest {
        client_id: client.hostname.clone(),
        // Kept as sent: the token request must repeat it character for character.
        redirect_uri: single("redirect_uri").unwrap_or_default().to_owned(),
        provider: scope.provider,
        data_services: scope.data_services,
        state,
        code_challenge,
        request_id: single("MedMij-Request-ID").map(|sent| kept_id("MedMij-Request-ID", sent)),
        correlation_id: single("X-Correlation-ID").map(|sent| kept_id("X-Correlation-ID", sent)),
    })
}

/// A sent MedMij id as it is kept and logged: as sent when it is a UUID, a fresh UUID in place of
/// anything else (which could carry a BSN). The replacement is said at debug level, never the
/// value sent.
fn kept_id(name: &str, sent: &str) -> String {
    let (used, replaced) = fhir_core::request_id::accept_or_replace(sent);
    if replaced {
        tracing::debug!(parameter = name, "a sent id that is not a UUID was replaced");
    }
    used
}

/// An S256 challenge is the unpadded base64url of a SHA-256: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests;
