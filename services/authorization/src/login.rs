//! The person's login: this service is an OpenID Connect relying party of the OpenID Provider that
//! stands for DigiD (OIDC Core 1.0, authorization code flow with PKCE and a nonce).
//!
//! The provider is found by discovery on first use (not at start-up: in demo mode it is mounted in
//! this very server, which is not listening yet), and found again after a failure. The ID token is
//! checked for issuer, audience, signature (keys from the provider's JWKS), expiry and nonce by
//! openidconnect; the level of assurance comes from its `acr`; the BSN from the configured claim of
//! the ID token or, failing that, of the userinfo answer. The BSN is returned wrapped in
//! [`Bsn`], which never prints, and is dropped by the caller as soon as the keys are derived.
//!
//! The authorization request asks for the scope `openid` (once: openidconnect adds it itself) and
//! tells the provider what its page should say ([`LoginPageHints`]): the language of the
//! service's pages as `ui_locales` (OIDC Core §3.1.2.1), and whom the person logs in for (the
//! provider's display name) as the extension parameter [`ON_BEHALF_OF_PARAMETER`]. That name is
//! sent only to a provider whose discovery document says it shows it
//! (`on_behalf_of_supported: true`, as the DigiD simulator's does): which care provider a person
//! uses can say something about their health, and is no business of a provider that would not
//! even show it (the real DigiD).

use crate::http_client;
use crate::loa::Loa;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AdditionalProviderMetadata, AuthenticationContextClass, AuthorizationCode, Client, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IssuerUrl, LanguageTag, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, ProviderMetadata,
    RedirectUrl, StandardErrorResponse, StandardTokenResponse, TokenResponse, UserInfoClaims,
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

/// The extension parameter of the authorization request that names whom the person logs in for,
/// for the provider's page (OIDC has no standard parameter for it).
pub const ON_BEHALF_OF_PARAMETER: &str = "on_behalf_of";

/// What the provider's login page may tell the person.
#[derive(Debug, Clone, Copy)]
pub struct LoginPageHints<'a> {
    /// The language of the service's pages (a BCP 47 tag: `nl`, `en`), sent as `ui_locales`.
    pub ui_locale: &'a str,
    /// The display name of whom the person logs in for (the provider whose records a PGO asks
    /// for), sent as [`ON_BEHALF_OF_PARAMETER`] to a provider that shows it; `None` when the
    /// login is for the service itself (the consent-management page).
    pub on_behalf_of: Option<&'a str>,
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

/// What this service reads of a provider's discovery document beyond OIDC Discovery's fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ProviderExtensions {
    /// Whether the provider shows [`ON_BEHALF_OF_PARAMETER`] on its login page.
    #[serde(default)]
    on_behalf_of_supported: bool,
}

impl AdditionalProviderMetadata for ProviderExtensions {}

/// A provider's discovery document, with [`ProviderExtensions`].
type DiscoveredMetadata = ProviderMetadata<
    ProviderExtensions,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The relying party.
pub struct Login {
    config: LoginConfig,
    http: reqwest::Client,
    discovered: RwLock<Option<(DiscoveredMetadata, Vec<CoreJwsSigningAlgorithm>)>>,
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
    /// to `redirect_uri`. Asks for `loa` (as `acr_values`), and passes `hints` for the page.
    pub async fn begin(
        &self,
        redirect_uri: &str,
        loa: Loa,
        hints: &LoginPageHints<'_>,
    ) -> Result<(String, PendingLogin), LoginError> {
        let metadata = self.metadata().await?;
        let hints = hints_for(&metadata, hints);
        let client = self.client_of(metadata, redirect_uri)?;
        Ok(authorization_request(&client, redirect_uri, loa, &hints))
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
        self.client_of(metadata, redirect_uri)
    }

    /// The client for the provider `metadata` describes.
    fn client_of(&self, metadata: DiscoveredMetadata, redirect_uri: &str) -> Result<DiscoveredClient, LoginError> {
        let redirect =
            RedirectUrl::new(redirect_uri.to_owned()).map_err(|error| LoginError::Config(error.to_string()))?;
        Ok(DiscoveredClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(redirect))
    }

    async fn metadata(&self) -> Result<DiscoveredMetadata, LoginError> {
        if let Some((metadata, _)) = self.discovered.read().await.as_ref() {
            return Ok(metadata.clone());
        }
        let issuer =
            IssuerUrl::new(self.config.issuer.clone()).map_err(|error| LoginError::Config(error.to_string()))?;
        let send = |request| http_client::send(&self.http, request);
        let metadata = DiscoveredMetadata::discover_async(issuer, &send)
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

/// `hints` as the provider described by `metadata` may have them: without the name of whom the
/// person logs in for unless the provider says it shows it.
fn hints_for<'a>(metadata: &DiscoveredMetadata, hints: &LoginPageHints<'a>) -> LoginPageHints<'a> {
    let shows_name = metadata.additional_metadata().on_behalf_of_supported;
    LoginPageHints { on_behalf_of: hints.on_behalf_of.filter(|_| shows_name), ..*hints }
}

/// The authorization request to `client`'s provider, and what to remember of it.
fn authorization_request(
    client: &DiscoveredClient,
    redirect_uri: &str,
    loa: Loa,
    hints: &LoginPageHints<'_>,
) -> (String, PendingLogin) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    // No `add_scope("openid")`: openidconnect always asks for `openid` itself, and adding it
    // again made the request say `scope=openid openid`.
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_auth_context_value(AuthenticationContextClass::new(loa.uri().to_owned()))
        .add_ui_locale(LanguageTag::new(hints.ui_locale.to_owned()))
        .set_pkce_challenge(challenge);
    if let Some(name) = hints.on_behalf_of.filter(|name| !name.is_empty()) {
        request = request.add_extra_param(ON_BEHALF_OF_PARAMETER, name.to_owned());
    }
    let (url, state, nonce) = request.url();
    let pending = PendingLogin {
        state: state.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        redirect_uri: redirect_uri.to_owned(),
    };
    (url.to_string(), pending)
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

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::{AuthUrl, JsonWebKeySetUrl, ResponseTypes, TokenUrl};

    const REDIRECT_URI: &str = "https://pgo-exchange.example/oauth/login/callback";

    /// A provider described by hand, as discovery would have found it; `shows_name` is its
    /// `on_behalf_of_supported`.
    fn metadata(shows_name: bool) -> DiscoveredMetadata {
        DiscoveredMetadata::new(
            IssuerUrl::new("https://op.example".to_owned()).unwrap(),
            AuthUrl::new("https://op.example/authorize".to_owned()).unwrap(),
            JsonWebKeySetUrl::new("https://op.example/jwks".to_owned()).unwrap(),
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![CoreJwsSigningAlgorithm::EcdsaP256Sha256],
            ProviderExtensions { on_behalf_of_supported: shows_name },
        )
        .set_token_endpoint(Some(TokenUrl::new("https://op.example/token".to_owned()).unwrap()))
    }

    /// A client of the provider of [`metadata`].
    fn client() -> DiscoveredClient {
        DiscoveredClient::from_provider_metadata(
            metadata(true),
            ClientId::new("pgo-exchange".to_owned()),
            Some(ClientSecret::new("secret".to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(REDIRECT_URI.to_owned()).unwrap())
    }

    /// Every value of the parameter `name` in the query of `url`.
    fn values(url: &str, name: &str) -> Vec<String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .collect()
    }

    #[test]
    fn the_request_asks_for_openid_once() {
        let hints = LoginPageHints { ui_locale: "nl", on_behalf_of: None };
        let (url, _) = authorization_request(&client(), REDIRECT_URI, Loa::Substantial, &hints);
        assert_eq!(values(&url, "scope"), ["openid"], "{url}");
        assert_eq!(values(&url, "acr_values"), [Loa::Substantial.uri()], "{url}");
        assert_eq!(values(&url, "code_challenge_method"), ["S256"], "{url}");
    }

    #[test]
    fn the_page_hints_travel_as_ui_locales_and_the_extension_parameter() {
        let hints = LoginPageHints { ui_locale: "en", on_behalf_of: Some("Demo Ziekenhuis") };
        let (url, pending) = authorization_request(&client(), REDIRECT_URI, Loa::High, &hints);
        assert_eq!(values(&url, "ui_locales"), ["en"], "{url}");
        assert_eq!(values(&url, ON_BEHALF_OF_PARAMETER), ["Demo Ziekenhuis"], "{url}");
        assert_eq!(values(&url, "state"), [pending.state.as_str()]);
        assert_eq!(values(&url, "nonce"), [pending.nonce.as_str()]);
        assert_eq!(pending.redirect_uri, REDIRECT_URI);

        let for_the_service = LoginPageHints { ui_locale: "nl", on_behalf_of: None };
        let (url, _) = authorization_request(&client(), REDIRECT_URI, Loa::High, &for_the_service);
        assert_eq!(values(&url, "ui_locales"), ["nl"], "{url}");
        assert!(values(&url, ON_BEHALF_OF_PARAMETER).is_empty(), "{url}");
    }

    #[test]
    fn the_name_goes_only_to_a_provider_that_shows_it() {
        let hints = LoginPageHints { ui_locale: "en", on_behalf_of: Some("Demo Ziekenhuis") };
        let shown = hints_for(&metadata(true), &hints);
        assert_eq!(shown.on_behalf_of, Some("Demo Ziekenhuis"));
        let withheld = hints_for(&metadata(false), &hints);
        assert_eq!(withheld.on_behalf_of, None);
        assert_eq!(withheld.ui_locale, "en", "the language is every provider's to know");
    }

    #[test]
    fn the_extension_is_read_from_the_discovery_document() {
        let mut document = serde_json::to_value(metadata(false)).unwrap();
        assert_eq!(document["on_behalf_of_supported"], false);
        let read: DiscoveredMetadata = serde_json::from_value(document.clone()).unwrap();
        assert!(!read.additional_metadata().on_behalf_of_supported);
        document["on_behalf_of_supported"] = serde_json::Value::Bool(true);
        let read: DiscoveredMetadata = serde_json::from_value(document.clone()).unwrap();
        assert!(read.additional_metadata().on_behalf_of_supported);
        document.as_object_mut().unwrap().remove("on_behalf_of_supported");
        let read: DiscoveredMetadata = serde_json::from_value(document).unwrap();
        assert!(!read.additional_metadata().on_behalf_of_supported, "absent means no");
    }
}
