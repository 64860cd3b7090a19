//! What a run is told: the target, the PGO the suite acts as, how a person logs in (an OIDC login
//! page driven automatically, or pre-issued test tokens), the data services to test, and the
//! optional extras some scenarios need (a second client, a second provider, an auditor).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the target's endpoints come from.
#[derive(Debug, Clone)]
pub enum TargetSpec {
    /// A ZAL (an `http(s)` URL or a file) and the provider's name in it (`umcx@medmij`, or
    /// without `@medmij`).
    Zal {
        /// URL or path.
        source: String,
        /// The provider.
        provider: String,
    },
    /// Endpoints given one by one.
    Explicit {
        /// The provider's name (`umcx`, as in scopes).
        provider: String,
        /// The authorization endpoint.
        authorization: String,
        /// The token endpoint.
        token: String,
        /// Per data-service id, its FHIR base.
        bases: BTreeMap<String, String>,
    },
}

/// The PGO the suite acts as; it must be on the target's OAuth Client List (and Whitelist) with
/// the redirect URI on its hostname.
#[derive(Debug, Clone)]
pub struct PgoClient {
    /// The client id (the PGO's hostname).
    pub client_id: String,
    /// Its redirect URI; the suite never needs it to answer, it reads the redirects.
    pub redirect_uri: String,
    /// A second client on the list, for "a code used by another client".
    pub other_client_id: Option<String>,
    /// A client on the list with a data service the list does not allow it, for the scope
    /// check.
    pub forbidden: Option<ForbiddenScope>,
    /// A PEM file with the client certificate and key for mutual TLS at the token endpoint.
    pub identity: Option<PathBuf>,
    /// A PEM file with the second client's certificate and key.
    pub other_identity: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for the target.
    pub ca: Option<PathBuf>,
}

/// A client that the OAuth Client List does not allow a data service.
#[derive(Debug, Clone)]
pub struct ForbiddenScope {
    /// The client.
    pub client_id: String,
    /// Its redirect URI.
    pub redirect_uri: String,
    /// The data service it may not use (offered by the provider).
    pub data_service: String,
}

/// How the suite gets a person's authorization.
#[derive(Debug, Clone)]
pub enum Persons {
    /// The suite walks the login pages itself (the target's pages and its OpenID Provider's),
    /// filling in forms as [`LoginForm`] says, for two test patients.
    Login {
        /// The form answers.
        form: LoginForm,
        /// Patient A's BSN (must be known at the provider).
        patient_a: String,
        /// Patient B's BSN (another patient known there).
        patient_b: String,
    },
    /// Tokens issued beforehand (as qualification runs do), per data service, for patient A and
    /// patient B. Scenarios that need the authorization flow are not run.
    Tokens {
        /// Patient A's tokens per data-service id.
        patient_a: BTreeMap<String, String>,
        /// Patient B's tokens per data-service id.
        patient_b: BTreeMap<String, String>,
    },
}

/// How to fill in the login and consent pages. A field's value may hold `{bsn}` and `{loa}`;
/// a submit button is pressed when its name and value are among the answers.
#[derive(Debug, Clone)]
pub struct LoginForm {
    /// The answers of an ordinary login with consent.
    pub answers: Vec<(String, String)>,
    /// The answer that cancels the login (replaces the one with the same name).
    pub cancel: (String, String),
    /// The answer that declines consent.
    pub deny: (String, String),
    /// The level of assurance that suffices.
    pub loa: String,
    /// A level of assurance below what the data services need.
    pub loa_too_low: String,
    /// The `id` of the link that starts the login on a landing page without a form.
    pub start_link_id: String,
}

impl Default for LoginForm {
    /// The DigiD simulator's login page and the consent page of pgo-exchange.
    fn default() -> LoginForm {
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        LoginForm {
            answers: vec![
                pair("bsn", "{bsn}"),
                pair("loa", "{loa}"),
                pair("action", "login"),
                pair("decision", "allow"),
            ],
            cancel: pair("action", "cancel"),
            deny: pair("decision", "deny"),
            loa: "http://eidas.europa.eu/LoA/substantial".into(),
            loa_too_low: "http://eidas.europa.eu/LoA/low".into(),
            start_link_id: "login".into(),
        }
    }
}

/// An auditor's access, for the metering scenarios.
#[derive(Debug, Clone)]
pub struct Auditor {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// The usage-report endpoint (`.../audit/usage`).
    pub usage_url: String,
    /// The access-log endpoint (`.../audit/AuditEvent`), if offered.
    pub access_log_url: Option<String>,
}

/// Everything a suite run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The target.
    pub target: TargetSpec,
    /// A second provider of the same target (same ZAL), for cross-provider isolation.
    pub other_provider: Option<String>,
    /// The PGO.
    pub pgo: PgoClient,
    /// The persons.
    pub persons: Persons,
    /// The data services to test (`48`, `63`).
    pub data_services: Vec<String>,
    /// An auditor, when the target offers usage reports.
    pub auditor: Option<Auditor>,
    /// Whether the run may write to the target: the share scenarios (Delen) store the test
    /// person's data in the provider's records, and are not run without it.
    pub allow_writes: bool,
    /// The largest Bundle (bytes) the target takes from a PGO sharing data (Delen); the oversized
    /// share scenario sends just over it, and is not run without it.
    pub share_body_limit: Option<u64>,
    /// How long the target's codes live (s); the expiry scenario waits a little longer.
    pub code_lifetime_seconds: u64,
    /// Time allowed for one answer (s).
    pub timeout_seconds: u64,
    /// Only the scenarios whose id starts with one of these (all when empty).
    pub only: Vec<String>,
}

impl Config {
    /// The BSNs the reports must never show.
    pub fn bsns(&self) -> Vec<String> {
        match &self.persons {
            Persons::Login { patient_a, patient_b, .. } => vec![patient_a.clone(), patient_b.clone()],
            Persons::Tokens { .. } => Vec::new(),
        }
    }

    /// What the target is, in a line.
    pub fn describe_target(&self) -> String {
        match &self.target {
            TargetSpec::Zal { source, provider } => format!("{provider} in {source}"),
            TargetSpec::Explicit { provider, token, .. } => format!("{provider} at {token}"),
        }
    }
}
