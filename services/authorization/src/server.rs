//! The authorization server's state: settings, the store, the definitions, the person login, the
//! access-token issuer and the MedMij lists as held (reloaded from the store every few seconds,
//! so that an import by another process takes effect without a restart).

use crate::directory::Directory;
use crate::loa::Loa;
use crate::login::{LoggedIn, Login, LoginError, LoginPageHints, PendingLogin};
use access_token::{Revocations, TokenIssuer};
use actix_web::HttpRequest;
use data_services::Catalog;
use identity::DeploymentSecret;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;
use tokio::sync::RwLock;

/// How long the lists are reused before they are read from the store again.
const DIRECTORY_SECONDS: u64 = 10;

/// Authenticates the PGO server calling the token endpoint as `client_id` (mutual TLS, a trusted
/// proxy's header, or development mode); the error text is for logs.
pub type ClientAuthenticator = Arc<dyn Fn(&HttpRequest, &str) -> Result<(), String> + Send + Sync>;

/// The settings of the authorization server.
#[derive(Debug, Clone)]
pub struct AuthorizationConfig {
    /// The service's public base URL (the issuer).
    pub public_url: String,
    /// Development mode: loopback `http` redirect URIs are accepted.
    pub development: bool,
    /// Whether PGOs authenticate at the token endpoint with a client certificate (published in
    /// the metadata as `tls_client_auth`).
    pub mutual_tls: bool,
    /// How long an authorization code works (MedMij decision: 60 s).
    pub code_lifetime_seconds: u64,
    /// How long a refresh token (and an unused consent) lives: 6 months.
    pub refresh_lifetime_seconds: u64,
    /// How long a browser session lives.
    pub session_lifetime_seconds: u64,
    /// The level of assurance a login needs unless a data service says otherwise.
    pub default_loa: Loa,
    /// Levels of assurance per data service.
    pub loa_per_service: HashMap<String, Loa>,
    /// The zone dates are shown in.
    pub zone: chrono_tz::Tz,
    /// The auditors, who get client-credentials tokens for the audit API.
    pub auditors: metering::Auditors,
}

/// Everything the endpoints share.
pub struct AuthorizationServer {
    pub(crate) config: AuthorizationConfig,
    pub(crate) store: Store,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) secret: Arc<DeploymentSecret>,
    pub(crate) issuer: TokenIssuer,
    login: Option<Arc<Login>>,
    pub(crate) authenticate_client: ClientAuthenticator,
    pub(crate) jwks: access_token::KeyRing,
    /// Failed attempts at the token endpoint, shared with the other doors of the service.
    pub(crate) throttle: throttle::Throttle,
    directory: RwLock<(Arc<Directory>, Option<Instant>)>,
    /// The consents revoked while their access tokens may live (shared with the resource server).
    pub(crate) revocations: Arc<Revocations>,
}

impl std::fmt::Debug for AuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationServer").field("config", &self.config).finish_non_exhaustive()
    }
}

impl AuthorizationServer {
    /// The server. `jwks` holds the access-token issuer's keys (their public halves are published); without `login`
    /// nobody can log in (the flow ends with `temporarily_unavailable`).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut config: AuthorizationConfig,
        store: Store,
        catalog: Arc<Catalog>,
        secret: Arc<DeploymentSecret>,
        issuer: TokenIssuer,
        jwks: access_token::KeyRing,
        login: Option<Arc<Login>>,
        authenticate_client: ClientAuthenticator,
        throttle: throttle::Throttle,
    ) -> AuthorizationServer {
        config.public_url = config.public_url.trim_end_matches('/').to_owned();
        AuthorizationServer {
            config,
            store,
            catalog,
            secret,
            issuer,
            login,
            authenticate_client,
            jwks,
            throttle,
            directory: RwLock::new((Arc::new(Directory::default()), None)),
            revocations: Arc::new(Revocations::new(Duration::from_secs(access_token::DEFAULT_LIFETIME_SECONDS))),
        }
    }

    /// Notes revocations in `revocations`, the list the resource server checks tokens against.
    pub fn with_revocations(mut self, revocations: Arc<Revocations>) -> AuthorizationServer {
        self.revocations = revocations;
        self
    }

    /// Ends, at once, every access token given under the consent with `handle` (already
    /// revoked in the store): on this instance now, on the others when they next look
    /// (`revocation_watch.rs`).
    pub(crate) fn revoked(&self, handle: &str) {
        if !handle.is_empty() {
            self.revocations.revoke(handle);
        }
    }

    fn login(&self) -> Result<&Login, LoginError> {
        self.login
            .as_deref()
            .ok_or_else(|| LoginError::Config("no OpenID Provider is configured (login.issuer)".into()))
    }

    /// Starts a person's login (see [`Login::begin`]).
    pub(crate) async fn begin_login(
        &self,
        callback: &str,
        loa: Loa,
        hints: &LoginPageHints<'_>,
    ) -> Result<(String, PendingLogin), LoginError> {
        self.login()?.begin(callback, loa, hints).await
    }

    /// Finishes a person's login (see [`Login::finish`]).
    pub(crate) async fn finish_login(&self, pending: &PendingLogin, code: &str) -> Result<LoggedIn, LoginError> {
        self.login()?.finish(pending, code).await
    }

    /// After a failed login: discover the provider again next time.
    pub(crate) async fn forget_login(&self) {
        if let Some(login) = &self.login {
            login.forget().await;
        }
    }

    /// The lists as held now.
    pub async fn directory(&self) -> Arc<Directory> {
        {
            let held = self.directory.read().await;
            if held.1.is_some_and(|loaded| loaded.elapsed() < Duration::from_secs(DIRECTORY_SECONDS)) {
                return held.0.clone();
            }
        }
        match crate::lists::load_directory(&self.store).await {
            Ok(directory) => {
                let directory = Arc::new(directory);
                *self.directory.write().await = (directory.clone(), Some(Instant::now()));
                directory
            }
            Err(error) => {
                // Keep serving with what was held; the next request tries again.
                tracing::error!(error = %error, "the MedMij lists could not be read");
                self.directory.read().await.0.clone()
            }
        }
    }

    /// Makes the next request read the lists again (after an import).
    pub async fn reload_directory(&self) {
        self.directory.write().await.1 = None;
    }

    /// The level of assurance a login for `data_services` needs: the highest any of them asks.
    pub(crate) fn required_loa(&self, data_services: &[String]) -> Loa {
        data_services
            .iter()
            .map(|id| self.config.loa_per_service.get(id).copied().unwrap_or(self.config.default_loa))
            .max()
            .unwrap_or(self.config.default_loa)
    }

    /// The resource endpoint (FHIR base) of a provider's data service: a token's audience.
    pub(crate) fn resource_endpoint(&self, provider: &str, service: &str) -> String {
        format!("{}/{provider}/{service}/fhir", self.config.public_url)
    }

    /// The display name of data service `id`: the data-service name list's, else the definition's.
    pub(crate) fn service_name(&self, directory: &Directory, id: &str) -> String {
        directory
            .service_name(id)
            .map(str::to_owned)
            .or_else(|| self.catalog.data_service(id).map(|service| service.name.clone()))
            .unwrap_or_else(|| id.to_owned())
    }

    /// Whether clients authenticate with certificates.
    pub(crate) fn mutual_tls(&self) -> bool {
        self.config.mutual_tls
    }

    /// Whether the service is served over https (cookies are then `Secure`).
    pub(crate) fn https(&self) -> bool {
        self.config.public_url.starts_with("https://")
    }
}

/// Now, in milliseconds since the epoch.
pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
