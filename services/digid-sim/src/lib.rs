//! A DigiD stand-in for development and tests: an OpenID Provider (OpenID Connect Core 1.0,
//! authorization code flow with PKCE S256) that a relying party talks to exactly as to the real
//! DigiD OIDC bridge. The person "logs in" by typing a test BSN and picking a level of assurance;
//! the ID token (ES256) carries an opaque `sub`, the `acr` and, if configured, the `bsn`, and the
//! userinfo endpoint gives the BSN.
//!
//! Endpoints, relative to the issuer URL (wherever [`configure`] is mounted):
//! `/.well-known/openid-configuration`, `/jwks`, `/authorize` (GET: the login page, POST: the
//! form), `/token` and `/userinfo`. State lives in memory only: codes and tokens die with the
//! process. The standalone binary also answers `/favicon.ico` ([`favicon`]).
//!
//! The login page speaks the language of the request's `ui_locales` (Dutch or English; Dutch
//! when neither is asked for), lists the scopes asked for (each once), and says whom the person
//! logs in for: the display name in the extension parameter [`ON_BEHALF_OF`] (`on_behalf_of`,
//! for a relying party that logs people in for someone else, as pgo-exchange does for a care
//! provider), or else the client id. The discovery document announces the extension as
//! `on_behalf_of_supported: true`, so that a relying party can send the name only where it is
//! shown: the real DigiD knows no such parameter (and would ignore it, RFC 6749 §3.1).

mod authorize;
mod client_auth;
mod codes;
mod discovery;
mod favicon;
mod keys;
mod page;
mod params;
mod texts;
mod token;
mod userinfo;

pub use authorize::ON_BEHALF_OF;
pub use favicon::favicon;
pub use keys::KeyError;

use actix_web::web;
use aws_lc_rs::{digest, hmac};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keys::SigningKey;
use serde::Deserialize;
use std::collections::HashSet;

/// The eIDAS level of assurance "low" (an `acr` value).
pub const LOA_LOW: &str = "http://eidas.europa.eu/LoA/low";
/// The eIDAS level of assurance "substantial" (an `acr` value; the page's default).
pub const LOA_SUBSTANTIAL: &str = "http://eidas.europa.eu/LoA/substantial";
/// The eIDAS level of assurance "high" (an `acr` value).
pub const LOA_HIGH: &str = "http://eidas.europa.eu/LoA/high";
/// The levels a person can pick, lowest first.
pub const LEVELS_OF_ASSURANCE: [&str; 3] = [LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH];

/// How the simulator is set up.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// The full public URL where the simulator is mounted, without a trailing slash, e.g.
    /// `http://127.0.0.1:8080/digid-sim`. It is the `iss` of every ID token.
    pub issuer: String,
    /// The relying parties allowed to log people in.
    pub clients: Vec<SimClient>,
    /// Whether the ID token carries a `bsn` claim (the userinfo endpoint always does).
    #[serde(default)]
    pub bsn_in_id_token: bool,
    /// Deliberate misbehaviour in every ID token, for testing a relying party's checks.
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// A relying party registered at the simulator.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimClient {
    /// Its `client_id`.
    pub client_id: String,
    /// Its secret, for `client_secret_basic` or `client_secret_post`.
    pub client_secret: String,
    /// The redirect URIs it may use, compared exactly.
    pub redirect_uris: Vec<String>,
}

impl std::fmt::Debug for SimClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

/// A deliberate defect in the ID tokens, so that a relying party's verification can be tested.
/// Set only through configuration, never through the web pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Signed by a key that is not in the JWK Set (the header still names the published `kid`).
    BadSignature,
    /// `aud` names another party (`another-client.invalid`), not the client that asked.
    WrongAudience,
    /// `nonce` differs from the one in the authorization request.
    WrongNonce,
    /// `iss` is `https://wrong-issuer.invalid`, not the simulator's issuer.
    WrongIssuer,
    /// `exp` (and `iat`) lie in the past.
    Expired,
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 5] =
        [Fault::BadSignature, Fault::WrongAudience, Fault::WrongNonce, Fault::WrongIssuer, Fault::Expired];

    /// Its configuration name, e.g. `bad-signature`.
    pub fn name(self) -> &'static str {
        match self {
            Fault::BadSignature => "bad-signature",
            Fault::WrongAudience => "wrong-audience",
            Fault::WrongNonce => "wrong-nonce",
            Fault::WrongIssuer => "wrong-issuer",
            Fault::Expired => "expired",
        }
    }
}

/// A fault name that is not one of [`Fault::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown fault {0:?} (known: bad-signature, wrong-audience, wrong-nonce, wrong-issuer, expired)")]
pub struct UnknownFault(String);

impl std::str::FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(text: &str) -> Result<Fault, UnknownFault> {
        Fault::ALL.into_iter().find(|fault| fault.name() == text).ok_or_else(|| UnknownFault(text.to_owned()))
    }
}

/// The configuration cannot work, or the key cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The issuer is not an absolute http(s) URL without query, fragment and trailing slash.
    #[error("issuer {0:?}: must be an absolute http(s) URL without query, fragment or trailing slash")]
    InvalidIssuer(String),
    /// A client is configured twice.
    #[error("client {0:?} is configured more than once")]
    DuplicateClient(String),
    /// A client's configuration is unusable.
    #[error("client {client:?}: {reason}")]
    InvalidClient {
        /// The client id.
        client: String,
        /// What is wrong.
        reason: String,
    },
    /// The signing key.
    #[error(transparent)]
    Key(#[from] KeyError),
}

/// The simulated OpenID Provider: its configuration, keys and in-memory state. Share it between
/// actix workers as one `web::Data<Simulator>`.
pub struct Simulator {
    config: SimulatorConfig,
    key: SigningKey,
    /// The key that signs when the fault is [`Fault::BadSignature`]: never published.
    rogue_key: Option<SigningKey>,
    /// Keys the hash that makes `sub` from a BSN.
    subject_key: hmac::Key,
    store: codes::Store,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").field("config", &self.config).field("kid", &self.key.kid()).finish_non_exhaustive()
    }
}

impl Simulator {
    /// A simulator with a fresh random ES256 signing key (and so fresh subject values).
    pub fn new(config: SimulatorConfig) -> Result<Simulator, SimulatorError> {
        Simulator::build(config, keys::generate()?)
    }

    /// A simulator signing with the P-256 key in `pem` (PKCS#8, `-----BEGIN PRIVATE KEY-----`,
    /// e.g. from `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`). The subject
    /// values derive from the key, so they stay the same across restarts with the same key.
    pub fn with_key_pem(config: SimulatorConfig, pem: &str) -> Result<Simulator, SimulatorError> {
        Simulator::build(config, keys::from_pem(pem)?)
    }

    fn build(config: SimulatorConfig, key: SigningKey) -> Result<Simulator, SimulatorError> {
        validate(&config)?;
        let rogue_key = match config.fault {
            Some(Fault::BadSignature) => Some(keys::generate()?),
            _ => None,
        };
        let mut seed = digest::Context::new(&digest::SHA256);
        seed.update(b"digid-sim subject key\0");
        seed.update(key.to_pem().as_bytes());
        let subject_key = hmac::Key::new(hmac::HMAC_SHA256, seed.finish().as_ref());
        Ok(Simulator { config, key, rogue_key, subject_key, store: codes::Store::new() })
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The configuration.
    pub fn config(&self) -> &SimulatorConfig {
        &self.config
    }

    /// The key id of the signing key.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// The JWK Set the `/jwks` endpoint serves.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": [self.key.public_jwk()] })
    }

    /// The `sub` of the person with `bsn`: a keyed hash, stable for this simulator's key, from
    /// which the BSN cannot be recovered.
    pub fn subject(&self, bsn: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.subject_key, bsn.as_bytes()).as_ref())
    }

    pub(crate) fn client(&self, client_id: &str) -> Option<&SimClient> {
        self.config.clients.iter().find(|client| client.client_id == client_id)
    }

    /// The absolute URL of the endpoint at `path` (starting with `/`).
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.config.issuer)
    }
}

fn validate(config: &SimulatorConfig) -> Result<(), SimulatorError> {
    let issuer_ok = url::Url::parse(&config.issuer).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && !config.issuer.ends_with('/')
    });
    if !issuer_ok {
        return Err(SimulatorError::InvalidIssuer(config.issuer.clone()));
    }
    let mut seen = HashSet::new();
    for client in &config.clients {
        let invalid = |reason: &str| SimulatorError::InvalidClient {
            client: client.client_id.clone(),
            reason: reason.to_owned(),
        };
        if client.client_id.is_empty() {
            return Err(invalid("the client id is empty"));
        }
        if !seen.insert(client.client_id.as_str()) {
            return Err(SimulatorError::DuplicateClient(client.client_id.clone()));
        }
        if client.client_secret.is_empty() {
            return Err(invalid("the client secret is empty"));
        }
        if client.redirect_uris.is_empty() {
            return Err(invalid("no redirect URI"));
        }
        for uri in &client.redirect_uris {
            // OIDC Core §3.1.2.1: an absolute URI without fragment.
            if !url::Url::parse(uri).is_ok_and(|url| url.fragment().is_none() && !url.cannot_be_a_base()) {
                return Err(invalid(&format!("redirect URI {uri:?} is not an absolute URL without fragment")));
            }
        }
    }
    Ok(())
}

/// Registers the simulator's routes, relative to wherever the caller mounts them:
/// `App::new().service(web::scope("/digid-sim").configure(digid_sim::configure(data)))`, or
/// `App::new().configure(...)` at the root. The issuer in the configuration must be the public
/// URL of that mount point.
pub fn configure(sim: web::Data<Simulator>) -> impl Fn(&mut web::ServiceConfig) + Clone {
    move |config: &mut web::ServiceConfig| {
        config
            .app_data(sim.clone())
            .route("/.well-known/openid-configuration", web::get().to(discovery::configuration))
            .route("/jwks", web::get().to(discovery::jwks))
            .route("/authorize", web::get().to(authorize::start))
            .route("/authorize", web::post().to(authorize::submit))
            .route("/token", web::post().to(token::exchange))
            .route("/userinfo", web::get().to(userinfo::claims))
            .route("/userinfo", web::post().to(userinfo::claims));
    }
}

#[cfg(test)]
mod tests;
