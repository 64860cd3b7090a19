//! The service's settings, one typed structure built from, in rising precedence: the embedded
//! defaults (`defaults.toml`), an optional config file, `PGO_EXCHANGE__...` environment
//! variables, and command-line overrides. Unknown keys are refused and values are checked at
//! start-up, so a typo stops the service with a message instead of being ignored.

use config::{Config, Environment, File, FileFormat};
use secrecy::SecretString;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

mod metering;
mod metrics;
mod throttling;
mod validation;

pub use metering::{AccessLogSettings, AuditorSettings, Auditors, MeteringSettings, TariffSettings};
pub use metrics::MetricsSettings;
pub use throttling::ThrottlingSettings;
pub use validation::{ProfilePackages, ProfilePolicy, UnknownElementsPolicy, ValidationSettings};

const DEFAULTS: &str = include_str!("../defaults.toml");

/// `server.public_url` in `defaults.toml`.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The public URL of a service listening at `listen` on this machine: `http://` and the address,
/// with an unspecified host (`0.0.0.0`, `[::]`) as the loopback one; none for port 0, whose port
/// is known only once bound.
fn public_url_of(listen: &str) -> Option<String> {
    let address: SocketAddr = listen.parse().ok()?;
    if address.port() == 0 {
        return None;
    }
    let host = match address.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    Some(format!("http://{host}:{}", address.port()))
}

/// The most `search.max_repeats` may allow.
pub const MAX_REPEATS_CAP: usize = 100;
/// The most `search.max_values` may allow.
pub const MAX_VALUES_CAP: usize = 200;

/// Every setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Folder for the SQLite database, keys and secrets.
    pub data_dir: PathBuf,
    /// Definitions folder instead of the embedded `profiles/` (empty: embedded).
    pub definitions_dir: PathBuf,
    /// The HTTP server.
    pub server: ServerSettings,
    /// The database.
    pub database: DatabaseSettings,
    /// Access tokens.
    pub tokens: TokenSettings,
    /// Secrets.
    pub secrets: SecretSettings,
    /// Search.
    pub search: SearchSettings,
    /// Validation of ingested resources.
    pub validation: ValidationSettings,
    /// Logging.
    pub log: LogSettings,
    /// OpenTelemetry export.
    pub telemetry: TelemetrySettings,
    /// What the ZAL publishes.
    pub zal: ZalSettings,
    /// The authorization server.
    pub authorization: AuthorizationSettings,
    /// The person's login (OpenID Connect).
    pub login: LoginSettings,
    /// TLS.
    pub tls: TlsSettings,
    /// A TLS-terminating proxy in front.
    pub trusted_proxy: TrustedProxySettings,
    /// Throttling of failed attempts at credentials.
    pub throttling: ThrottlingSettings,
    /// The MedMij lists.
    pub lists: ListsSettings,
    /// Metering of exchanges and the fee.
    pub metering: MeteringSettings,
    /// The access log.
    pub access_log: AccessLogSettings,
    /// Who may read `/metrics`.
    pub metrics: MetricsSettings,
    /// Auditors, by client id.
    #[serde(default)]
    pub auditors: Auditors,
    /// The demo.
    pub demo: DemoSettings,
    /// Providers declared in configuration (others are added with `providers add`).
    #[serde(default)]
    pub providers: Vec<ProviderSettings>,
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on, `host:port` (port 0: any free port).
    pub listen: String,
    /// The public base URL.
    pub public_url: String,
    /// Worker threads (0: one per core).
    pub workers: usize,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// Largest Bundle a PGO may share (Delen) in bytes: its documents come base64-encoded, a
    /// third larger than the files.
    pub max_shared_body_bytes: usize,
    /// Longest request target (path and query) in bytes.
    pub max_request_target_bytes: usize,
}

/// The database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://...` or `sqlite://...`; empty: SQLite under the data folder.
    pub url: String,
    /// PostgreSQL's pooled connections (SQLite has one write connection and read-only ones as
    /// needed).
    pub max_connections: u32,
    /// The longest one statement may run, in milliseconds (0: no limit).
    pub statement_timeout_ms: u64,
    /// The memory kept collections may take in all, in MiB (0: none are kept).
    pub collection_cache_mib: u64,
}

/// Access tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// An operator's signing key file, added to the keys in the database once (empty: none).
    pub signing_key_file: PathBuf,
    /// Token lifetime.
    pub lifetime_seconds: u64,
    /// How often the revocations other instances made are read (ms): the bound on how long a
    /// revoked consent's tokens still work on another instance.
    pub revocation_poll_ms: u64,
}

/// Secrets.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSettings {
    /// The deployment secret itself (base64), if given here.
    pub deployment_secret: SecretString,
    /// Its file (empty: under the data folder).
    pub deployment_secret_file: PathBuf,
}

/// Search.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    /// Page size without `_count`.
    pub default_count: usize,
    /// Largest page size.
    pub max_count: usize,
    /// IANA zone for dates without a zone.
    pub timezone: String,
    /// Occurrences of one search parameter in one request.
    pub max_repeats: usize,
    /// Comma-separated values of one search parameter.
    pub max_values: usize,
    /// `_include` parameters in one request.
    pub max_includes: usize,
    /// The largest `_offset`.
    pub max_offset: usize,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// Filter directives.
    pub level: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// OpenTelemetry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// OTLP/HTTP endpoint (empty: none).
    pub otlp_endpoint: String,
    /// `service.name` of the exported spans.
    pub service_name: String,
}

/// What the ZAL publishes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZalSettings {
    /// `Aanbiedertype` (ZA: zorgaanbieder).
    pub aanbiedertype: String,
    /// `InterfaceversieId`.
    pub interface_version: String,
}

/// The authorization server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizationSettings {
    /// How PGO servers authenticate at the token endpoint.
    pub client_authentication: ClientAuthentication,
    /// Lifetime of an authorization code.
    pub code_lifetime_seconds: u64,
    /// Lifetime of a refresh token.
    pub refresh_token_lifetime_seconds: u64,
    /// Lifetime of a login/consent session.
    pub session_lifetime_seconds: u64,
    /// Level of assurance needed by default.
    pub default_loa: String,
    /// Level of assurance per data service.
    #[serde(default)]
    pub loa: std::collections::HashMap<String, String>,
}

/// How PGO servers authenticate at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientAuthentication {
    /// No TLS, loopback only.
    Development,
    /// The service terminates TLS and checks client certificates.
    Mtls,
    /// A proxy terminates TLS and passes the client certificate.
    TrustedProxy,
}

/// The person's login.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSettings {
    /// The OpenID Provider's issuer URL (empty: the simulator in demo mode).
    pub issuer: String,
    /// Client id at the provider.
    pub client_id: String,
    /// Client secret at the provider.
    pub client_secret: SecretString,
    /// `bsn` or `sub`.
    pub bsn_claim: String,
}

/// TLS files.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// The server's certificate chain (PEM).
    pub certificate_file: PathBuf,
    /// The server's private key (PEM).
    pub key_file: PathBuf,
    /// CA certificates for client certificates (PEM).
    pub client_ca_file: PathBuf,
}

/// A TLS-terminating proxy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedProxySettings {
    /// The header carrying the client certificate.
    pub header: String,
    /// The proxy's addresses (IPs or CIDRs).
    pub addresses: Vec<String>,
}

/// The MedMij lists.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListsSettings {
    /// Files imported at start-up (a TOML array, or one variable with the paths separated by
    /// commas).
    #[serde(deserialize_with = "validation::paths")]
    pub files: Vec<PathBuf>,
}

/// The demo.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Seed the demo provider at start.
    pub enabled: bool,
    /// Its name.
    pub provider: String,
}

/// A provider declared in configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// MedMij name without `@medmij`.
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// Data-service ids offered.
    pub data_services: Vec<String>,
    /// The key its systems present to the ingest endpoint (stored only as a hash).
    #[serde(default)]
    pub ingest_key: Option<SecretString>,
}

/// Command-line values that override every other source.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--listen`.
    pub listen: Option<String>,
    /// `--public-url`.
    pub public_url: Option<String>,
}

/// Settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A source could not be read or does not fit the structure (unknown key, wrong type).
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    /// Values that do not make sense.
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl Settings {
    /// Builds the settings from the defaults, `file` (if any), the environment and `overrides`.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Settings, SettingsError> {
        let environment: Vec<(String, String)> = std::env::vars().collect();
        Settings::load_with_environment(file, overrides, environment)
    }

    /// As `load`, with the environment given (for tests).
    pub fn load_with_environment(
        file: Option<&Path>,
        overrides: &Overrides,
        environment: Vec<(String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(File::from(file).required(true));
        }
        builder = builder.add_source(
            Environment::with_prefix("PGO_EXCHANGE")
                .prefix_separator("__")
                .separator("__")
                .source(Some(environment.into_iter().collect())),
        );
        if let Some(data_dir) = &overrides.data_dir {
            builder = builder.set_override("data_dir", data_dir.display().to_string())?;
        }
        if let Some(url) = &overrides.database_url {
            builder = builder.set_override("database.url", url.clone())?;
        }
        if let Some(listen) = &overrides.listen {
            builder = builder.set_override("server.listen", listen.clone())?;
        }
        if let Some(public_url) = &overrides.public_url {
            builder = builder.set_override("server.public_url", public_url.clone())?;
        }
        let mut settings: Settings = builder.build()?.try_deserialize()?;
        settings.server.public_url = settings.server.public_url.trim_end_matches('/').to_owned();
        // `serve --listen 127.0.0.1:9090` alone: the links the service hands out (issuer, ZAL,
        // redirects) must lead to where it listens, not to the default port.
        if let (Some(listen), None) = (&overrides.listen, &overrides.public_url)
            && settings.server.public_url == DEFAULT_PUBLIC_URL
            && let Some(url) = public_url_of(listen)
        {
            settings.server.public_url = url;
        }
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        if self.server.listen.parse::<SocketAddr>().is_err() {
            problems.push(format!("server.listen '{}' is not host:port (e.g. 127.0.0.1:8080)", self.server.listen));
        }
        match url::Url::parse(&self.server.public_url) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https") && url.query().is_none() && url.fragment().is_none() => {}
            _ => problems.push(format!(
                "server.public_url '{}' must be an http(s) URL without query or fragment",
                self.server.public_url
            )),
        }
        if self.server.max_body_bytes < 1024 {
            problems.push("server.max_body_bytes must be at least 1024".to_owned());
        }
        if self.server.max_shared_body_bytes < 1024 {
            problems.push("server.max_shared_body_bytes must be at least 1024".to_owned());
        }
        // Above 65,534 bytes the HTTP layer refuses a target itself (the `http` crate's URI limit).
        if !(1024..=65_534).contains(&self.server.max_request_target_bytes) {
            problems.push("server.max_request_target_bytes must be between 1024 and 65534".to_owned());
        }
        let url = &self.database.url;
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres:")
            || url.starts_with("postgresql:"))
        {
            problems.push(
                "database.url must be empty (SQLite in the data folder), sqlite://... or postgres://...".to_owned(),
            );
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".to_owned());
        }
        if !(100..=60_000).contains(&self.tokens.revocation_poll_ms) {
            problems.push("tokens.revocation_poll_ms must be between 100 and 60000".to_owned());
        }
        if self.tokens.lifetime_seconds == 0 || self.tokens.lifetime_seconds > 3600 {
            problems.push("tokens.lifetime_seconds must be between 1 and 3600".to_owned());
        }
        if self.search.default_count == 0 || self.search.max_count < self.search.default_count {
            problems.push("search.default_count must be at least 1 and at most search.max_count".to_owned());
        }
        // The upper bounds keep every search statement within SQLite's expression depth (1,000).
        if !(1..=MAX_REPEATS_CAP).contains(&self.search.max_repeats) {
            problems.push(format!("search.max_repeats must be between 1 and {MAX_REPEATS_CAP}"));
        }
        if !(1..=MAX_VALUES_CAP).contains(&self.search.max_values) {
            problems.push(format!("search.max_values must be between 1 and {MAX_VALUES_CAP}"));
        }
        if i64::try_from(self.search.max_offset).is_err() {
            problems.push("search.max_offset must fit a 64-bit signed integer".to_owned());
        }
        if self.search.timezone.parse::<chrono_tz::Tz>().is_err() {
            problems.push(format!(
                "search.timezone '{}' is not an IANA zone such as Europe/Amsterdam",
                self.search.timezone
            ));
        }
        problems.extend(self.authorization_problems());
        problems.extend(metering::problems(&self.metering, &self.access_log, &self.auditors));
        problems.extend(throttling::problems(&self.throttling));
        for provider in &self.providers {
            if provider.data_services.is_empty() {
                problems.push(format!("provider '{}' offers no data services", provider.name));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(SettingsError::Invalid(problems)) }
    }

    fn authorization_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let authorization = &self.authorization;
        let levels = ["low", "substantial", "high"];
        if !levels.contains(&authorization.default_loa.as_str()) {
            problems.push("authorization.default_loa must be low, substantial or high".to_owned());
        }
        for (service, level) in &authorization.loa {
            if !levels.contains(&level.as_str()) {
                problems.push(format!("authorization.loa.{service} must be low, substantial or high"));
            }
        }
        if authorization.code_lifetime_seconds == 0 || authorization.code_lifetime_seconds > 600 {
            problems.push("authorization.code_lifetime_seconds must be between 1 and 600".to_owned());
        }
        if authorization.refresh_token_lifetime_seconds < 60 {
            problems.push("authorization.refresh_token_lifetime_seconds must be at least 60".to_owned());
        }
        if authorization.session_lifetime_seconds < 60 {
            problems.push("authorization.session_lifetime_seconds must be at least 60".to_owned());
        }
        if !matches!(self.login.bsn_claim.as_str(), "bsn" | "sub") {
            problems.push("login.bsn_claim must be bsn or sub".to_owned());
        }
        if !self.login.issuer.is_empty() && self.login.client_id.is_empty() {
            problems.push("login.client_id is needed with login.issuer".to_owned());
        }
        let tls = &self.tls;
        match authorization.client_authentication {
            ClientAuthentication::Mtls => {
                for (name, path) in [
                    ("certificate_file", &tls.certificate_file),
                    ("key_file", &tls.key_file),
                    ("client_ca_file", &tls.client_ca_file),
                ] {
                    if path.as_os_str().is_empty() {
                        problems.push(format!("tls.{name} is needed with client_authentication = \"mtls\""));
                    }
                }
                if !self.server.public_url.starts_with("https://") {
                    problems.push("server.public_url must be https with client_authentication = \"mtls\"".to_owned());
                }
            }
            ClientAuthentication::TrustedProxy => {
                if self.trusted_proxy.addresses.is_empty() {
                    problems.push(
                        "trusted_proxy.addresses is needed with client_authentication = \"trusted-proxy\"".to_owned(),
                    );
                }
                if tls.client_ca_file.as_os_str().is_empty() {
                    problems
                        .push("tls.client_ca_file is needed with client_authentication = \"trusted-proxy\"".to_owned());
                }
            }
            ClientAuthentication::Development => {}
        }
        problems
    }

    /// Whether the service runs in development mode (no client certificates; loopback only).
    pub fn development(&self) -> bool {
        self.authorization.client_authentication == ClientAuthentication::Development
    }

    /// The database URL: the configured one, or a SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("pgo-exchange.db").display())
        } else {
            self.database.url.clone()
        }
    }

    /// The operator's signing key file, or where earlier versions kept the key.
    pub fn signing_key_path(&self) -> PathBuf {
        or_in_data_dir(&self.tokens.signing_key_file, &self.data_dir, "keys/signing-key.pem")
    }

    /// The deployment secret file.
    pub fn deployment_secret_path(&self) -> PathBuf {
        or_in_data_dir(&self.secrets.deployment_secret_file, &self.data_dir, "secrets/deployment-secret")
    }

    /// The zone for dates without one (checked at load).
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.search.timezone.parse().unwrap_or(chrono_tz::Europe::Amsterdam)
    }

    /// The definitions folder, if one is configured.
    pub fn definitions_dir(&self) -> Option<&Path> {
        (!self.definitions_dir.as_os_str().is_empty()).then_some(self.definitions_dir.as_path())
    }
}

fn or_in_data_dir(configured: &Path, data_dir: &Path, default: &str) -> PathBuf {
    if configured.as_os_str().is_empty() { data_dir.join(default) } else { configured.to_path_buf() }
}

#[cfg(test)]
mod tests;
