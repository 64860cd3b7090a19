//! The person's login: this service is an OpenID Connect relying party of the OpenID Provider that
//! stands for DigiD (OIDC Core 1.0, authorization code flow with PKCE and a nonce).
//!
//! The provider is found by discovery on first use (not at start-up: in demo mode it is mounted in
//! this very server, which is not listening yet), and found again after a failure. The ID token is
//! checked for issuer, audience, signature (keys from the provider's JWKS), expiry and nonce by
//! openidconnect; the level of assurance comes from its `acr`; the BSN from the configured claim of
//! the ID token or, failing that, of the userinfo answer. The BSN is returned wrapped in
//! [`Bsn`], which never prints, and is dropped by the caller as soon as the keys are derived.

use crate::http_client;
use crate::loa::Loa;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationContextClass, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse, UserInfoClaims,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

/// A BSN, held only as long as it takes to derive the person's keys. It never prints.
pub struct Bsn(SecretString);

impl Bsn {
    /// The number itself.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Bsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bsn(***)")
    }
}

/// Where the BSN is in what the provider returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BsnClaim {
    /// A claim called `bsn` (ID token, or userinfo).
    Bsn,
    /// The subject (`sub`) is the BSN, as some government bridges do.
    Subject,
}

/// How to reach and use the OpenID Provider.
#[derive(Debug, Clone)]
pub struct LoginConfig {
    /// The provider's issuer URL (discovery is at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// This service's client id there.
    pub client_id: String,
    /// Its client secret there.
    pub client_secret: SecretString,
    /// Where the BSN is.
    pub bsn_claim: BsnClaim,
}

/// What a login in progress must remember (kept in the browser session, server-side).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The `state` sent to the provider.
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier of the code.
    pub pkce_verifier: String,
    /// Where the provider sends the person back.
    pub redirect_uri: String,
}

/// The person, as the provider vouched for them.
#[derive(Debug)]
pub struct LoggedIn {
    /// The BSN.
    pub bsn: Bsn,
    /// The level of assurance of the login.
    pub loa: Option<Loa>,
}

/// A login failed. The text is for logs; the person and the PGO see fixed messages.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The provider could not be reached or its discovery document or keys not read.
    #[error("the OpenID Provider could not be discovered: {0}")]
    Discovery(String),
    /// The code exchange failed.
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    /// The ID token did not verify (signature, issuer, audience, expiry or nonce).
    #[error("the ID token was refused: {0}")]
    IdToken(String),
    /// Neither the ID token nor userinfo carried a well-formed BSN.
    #[error("no BSN in the ID token or userinfo")]
    NoBsn,
    /// The userinfo request failed.
    #[error("the userinfo request failed: {0}")]
    UserInfo(String),
    /// The settings are unusable (an URL does not parse).
    #[error("login is misconfigured: {0}")]
    Config(String),
}

impl LoginError {
    /// Whether the provider was unreachable (worth "try again later") rather than wrong.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, LoginError::Discovery(_))
    }
}

/// The claims beyond the standard ones that this service reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PersonClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bsn: Option<String>,
}

impl AdditionalClaims for PersonClaims {}

type PersonIdTokenFields = IdTokenFields<
    PersonClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type PersonTokenResponse = StandardTokenResponse<PersonIdTokenFields, CoreTokenType>;
type DiscoveredClient = Client<
    PersonClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    PersonTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The relying party.
pub struct Login {
    config: LoginConfig,
    http: reqwest::Client,
    discovered: RwLock<Option<(CoreProviderMetadata, Vec<CoreJwsSigningAlgorithm>)>>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

impl Login {
    /// A relying party of the provider `config` names.
    pub fn new(config: LoginConfig) -> Result<Login, LoginError> {
        IssuerUrl::new(config.issuer.clone()).map_err(|error| LoginError::Config(error.to_string()))?;
        let http = http_client::client().map_err(|error| LoginError::Config(error.to_string()))?;
        Ok(Login { config, http, discovered: RwLock::new(None) })
    }

    /// Starts a login: the URL to send the person to, and what to remember until they come back
    /// to `redirect_uri`. Asks for `loa` (as `acr_values`).
    pub async fn begin(&self, redirect_uri: &str, loa: Loa) -> Result<(String, PendingLogin), LoginError> {
        let client = self.client(redirect_uri).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("openid".to_owned()))
            .add_auth_context_value(AuthenticationContextClass::new(loa.uri().to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            redirect_uri: redirect_uri.to_owned(),
        };
        Ok((url.to_string(), pending))
    }

    /// Finishes a login with the `code` the provider sent back.
    pub async fn finish(&self, pending: &PendingLogin, code: &str) -> Result<LoggedIn, LoginError> {
        let client = self.client(&pending.redirect_uri).await?;
        let send = |request| http_client::send(&self.http, request);
        let response: PersonTokenResponse = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|error| LoginError::Config(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&send)
            .await
            .map_err(|error| LoginError::Exchange(describe(&error)))?;
        let id_token = response.id_token().ok_or_else(|| LoginError::IdToken("no id_token in the answer".into()))?;
        let algorithms = self.algorithms().await;
        let verifier = client.id_token_verifier().set_allowed_algs(algorithms);
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce.clone()))
            .map_err(|error| LoginError::IdToken(error.to_string()))?;
        let loa = claims.auth_context_ref().and_then(|acr| Loa::from_uri(acr.as_str()));
        let from_token = match self.config.bsn_claim {
            BsnClaim::Bsn => claims.additional_claims().bsn.clone(),
            BsnClaim::Subject => Some(claims.subject().as_str().to_owned()),
        };
        let bsn = match from_token {
            Some(bsn) => bsn,
            None => {
                let info: UserInfoClaims<PersonClaims, CoreGenderClaim> = client
                    .user_info(response.access_token().clone(), Some(claims.subject().clone()))
                    .map_err(|error| LoginError::UserInfo(error.to_string()))?
                    .request_async(&send)
                    .await
                    .map_err(|error| LoginError::UserInfo(describe(&error)))?;
                info.additional_claims().bsn.clone().ok_or(LoginError::NoBsn)?
            }
        };
        if !identity::is_valid_bsn(&bsn) {
            return Err(LoginError::NoBsn);
        }
        Ok(LoggedIn { bsn: Bsn(SecretString::from(bsn)), loa })
    }

    /// The client for the discovered provider, discovering it first when needed.
    async fn client(&self, redirect_uri: &str) -> Result<DiscoveredClient, LoginError> {
        let metadata = self.metadata().await?;
        let redirect =
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|error| LoginError::Config(error.to_string()))?;
        Ok(DiscoveredClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, LoginError> {
        if let Some((metadata, _)) = self.discovered.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|error| LoginError::Config(error.to_string()))?;
        let send = |request| http_client::send(&self.http, request);
        let metadata = CoreProviderMetadata::discover_async(issuer, &send)
            .await
            .map_err(|error| LoginError::Discovery(describe(&error)))?;
        // Only asymmetric signatures: a token signed with the client secret (HS256) or not at all
        // proves nothing about the provider.
        let algorithms: Vec<CoreJwsSigningAlgorithm> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|algorithm| {
                !matches!(
                    algorithm,
                    CoreJwsSigningAlgorithm::None
                        | CoreJwsSigningAlgorithm::HmacSha256
                        | CoreJwsSigningAlgorithm::HmacSha384
                        | CoreJwsSigningAlgorithm::HmacSha512
                )
            })
            .cloned()
            .collect();
        *self.discovered.write().await = Some((metadata.clone(), algorithms));
        Ok(metadata)
    }

    async fn algorithms(&self) -> Vec<CoreJwsSigningAlgorithm> {
        self.discovered.read().await.as_ref().map(|(_, algorithms)| algorithms.clone()).unwrap_or_default()
    }

    /// Forgets the discovered provider (after a failure, so that the next login discovers again:
    /// the provider may have rotated its keys).
    pub async fn forget(&self) {
        *self.discovered.write().await = None;
    }
}

/// An error with its causes, on one line (openidconnect's errors keep the useful part in their
/// sources).
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
