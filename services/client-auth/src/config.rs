//! The settings that choose and configure a mode, as they appear in the service's configuration
//! file (file paths, a header name, a proxy list), and how they become a [`ClientAuthMode`].

use crate::error::{ClientAuthError, ConfigError};
use crate::mode::{
    ClientAuthMode, DEFAULT_CERTIFICATE_HEADER, TrustedCas, TrustedProxies, parse_header_name, read_file,
};
use serde::Deserialize;
use std::path::PathBuf;

/// Client authentication as configured, e.g. in TOML:
///
/// ```toml
/// [client_auth]
/// mode = "mutual_tls"
/// trusted_cas = "/etc/pgo-exchange/pgo-client-cas.pem"
/// certificate_chain = "/etc/pgo-exchange/server-chain.pem"
/// private_key = "/etc/pgo-exchange/server-key.pem"
/// ```
///
/// ```toml
/// [client_auth]
/// mode = "trusted_proxy"
/// header = "X-Client-Cert"          # the default
/// proxies = ["127.0.0.1", "10.20.0.0/16"]
/// trusted_cas = "/etc/pgo-exchange/pgo-client-cas.pem"
/// # verify_chain = false          # only if the proxy verifies against exactly these CAs
/// ```
///
/// ```toml
/// [client_auth]
/// mode = "development"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientAuthConfig {
    /// The service terminates TLS and verifies client certificates itself.
    MutualTls {
        /// PEM bundle of the CAs client certificates must chain to.
        trusted_cas: PathBuf,
        /// PEM file with the service's own certificate, followed by its intermediates.
        certificate_chain: PathBuf,
        /// PEM file with the service's private key (PKCS#8, SEC1 or PKCS#1).
        private_key: PathBuf,
    },
    /// A TLS-terminating proxy passes the client certificate in a header.
    TrustedProxy {
        /// The header carrying the certificate.
        #[serde(default = "default_header")]
        header: String,
        /// The proxy's addresses or networks (`127.0.0.1`, `10.0.0.0/8`).
        proxies: Vec<String>,
        /// PEM bundle of the CAs the forwarded certificate must chain to.
        #[serde(default)]
        trusted_cas: Option<PathBuf>,
        /// Whether the service verifies the forwarded chain itself (default: yes).
        #[serde(default = "verify_by_default")]
        verify_chain: bool,
    },
    /// Loopback callers only, no certificate. (A struct variant so that stray keys next to
    /// `mode = "development"` are refused like everywhere else.)
    Development {},
}

fn default_header() -> String {
    DEFAULT_CERTIFICATE_HEADER.to_owned()
}

fn verify_by_default() -> bool {
    true
}

impl ClientAuthConfig {
    /// Reads the files and checks the values, giving the mode to pass to
    /// [`authenticate`](crate::authenticate).
    pub fn mode(&self) -> Result<ClientAuthMode, ConfigError> {
        match self {
            ClientAuthConfig::MutualTls { trusted_cas, .. } => {
                Ok(ClientAuthMode::MutualTls { trusted_cas: TrustedCas::from_file(trusted_cas)? })
            }
            ClientAuthConfig::TrustedProxy { header, proxies, trusted_cas, verify_chain } => {
                let trusted_cas = match (verify_chain, trusted_cas) {
                    (true, Some(path)) => Some(TrustedCas::from_file(path)?),
                    (true, None) => return Err(ConfigError::MissingTrustedCas),
                    (false, _) => None,
                };
                Ok(ClientAuthMode::TrustedProxy {
                    header: parse_header_name(header)?,
                    proxies: TrustedProxies::parse(proxies)?,
                    trusted_cas,
                })
            }
            ClientAuthConfig::Development {} => Ok(ClientAuthMode::Development),
        }
    }

    /// The TLS configuration to listen with (`HttpServer::listen_rustls_0_23`) in mutual-TLS
    /// mode; `None` in the other modes, where the service listens on plain HTTP.
    pub fn server_config(&self) -> Result<Option<rustls::ServerConfig>, ClientAuthError> {
        let ClientAuthConfig::MutualTls { trusted_cas, certificate_chain, private_key } = self else {
            return Ok(None);
        };
        let config = crate::tls::server_config(
            &read_file(certificate_chain)?,
            &read_file(private_key)?,
            &read_file(trusted_cas)?,
        )?;
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ClientAuthConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn trusted_proxy_settings_default_the_header_and_chain_verification() {
        let config = parse("mode = \"trusted_proxy\"\nproxies = [\"127.0.0.1\"]\ntrusted_cas = \"cas.pem\"").unwrap();
        assert_eq!(
            config,
            ClientAuthConfig::TrustedProxy {
                header: "X-Client-Cert".to_owned(),
                proxies: vec!["127.0.0.1".to_owned()],
                trusted_cas: Some(PathBuf::from("cas.pem")),
                verify_chain: true,
            }
        );
    }

    #[test]
    fn unknown_keys_and_modes_are_refused() {
        assert!(parse("mode = \"development\"\nproxies = []").is_err());
        assert!(parse("mode = \"mtls\"").is_err());
        assert!(parse("mode = \"mutual_tls\"\ntrusted_cas = \"cas.pem\"").is_err());
    }

    #[test]
    fn trusted_proxy_without_cas_needs_an_explicit_opt_out() {
        let config = parse("mode = \"trusted_proxy\"\nproxies = [\"127.0.0.1\"]").unwrap();
        assert!(matches!(config.mode(), Err(ConfigError::MissingTrustedCas)));

        let config = parse("mode = \"trusted_proxy\"\nproxies = [\"127.0.0.1\"]\nverify_chain = false").unwrap();
        assert!(matches!(config.mode(), Ok(ClientAuthMode::TrustedProxy { trusted_cas: None, .. })));
    }

    #[test]
    fn a_missing_ca_file_is_reported_with_its_path() {
        let config = parse("mode = \"mutual_tls\"\ntrusted_cas = \"/nonexistent/cas.pem\"\ncertificate_chain = \"c\"\nprivate_key = \"k\"").unwrap();
        let error = config.mode().unwrap_err();
        assert!(error.to_string().contains("/nonexistent/cas.pem"), "{error}");
    }

    #[test]
    fn development_mode_takes_no_other_keys() {
        assert_eq!(parse("mode = \"development\"").unwrap(), ClientAuthConfig::Development {});
        assert!(matches!(ClientAuthConfig::Development {}.mode(), Ok(ClientAuthMode::Development)));
    }

    #[test]
    fn only_mutual_tls_terminates_tls() {
        assert!(ClientAuthConfig::Development {}.server_config().unwrap().is_none());
    }
}
