//! The errors the authorization endpoint sends back to a PGO (RFC 6749 §4.1.2.1), each with a
//! fixed `error_description` that tells the PGO's developers where the flow stopped. They are
//! part of the interface: PGOs may match on them, so they change only with a new release note.
//!
//! | error | error_description |
//! |---|---|
//! | `invalid_request` | `state is missing` |
//! | `invalid_request` | `a parameter is repeated` |
//! | `unsupported_response_type` | `response_type must be code` |
//! | `invalid_scope` | `scope is missing` |
//! | `invalid_scope` | `scope is malformed: expected items provider~dataservice` |
//! | `invalid_scope` | `scope names more than one provider` |
//! | `invalid_scope` | `scope names a provider or data service that is not offered here` |
//! | `invalid_scope` | `scope names a data service this client may not use` |
//! | `invalid_request` | `PKCE: code_challenge_method plain is not supported, use S256` |
//! | `invalid_request` | `PKCE: code_challenge is malformed` |
//! | `access_denied` | `the person cancelled the login` |
//! | `access_denied` | `the login's level of assurance is too low for this data service` |
//! | `access_denied` | `no authorization was given` |
//! | `access_denied` | `the session expired, start again` |
//! | `server_error` | `the login could not be completed` |
//! | `temporarily_unavailable` | `the login service is unavailable, try again later` |
//!
//! `no authorization was given` is sent both when the person declines and when the provider holds
//! no record of them: a PGO must not learn whether someone is a patient somewhere.
//!
//! Errors where the redirect URI itself cannot be trusted (unknown client, a redirect URI that
//! breaks the rules) are never redirected: the person is shown them (see `pages`).

/// Where a flow stopped, as told to the PGO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowError {
    /// No `state`.
    StateMissing,
    /// A parameter appears twice (RFC 6749 §3.1).
    RepeatedParameter,
    /// `response_type` is not `code`.
    ResponseType,
    /// No `scope`.
    ScopeMissing,
    /// `scope` breaks the `name~id` syntax.
    ScopeSyntax,
    /// `scope` names several providers.
    ScopeProviders,
    /// `scope` names a provider or data service not offered here.
    ScopeNotOffered,
    /// `scope` names a data service the OAuth Client List does not allow this client.
    ScopeNotAllowed,
    /// PKCE with `plain`.
    PkcePlain,
    /// A malformed PKCE challenge or an unknown method.
    PkceMalformed,
    /// The person cancelled at the login.
    LoginCancelled,
    /// The login's level of assurance is below what a requested data service needs.
    LoaTooLow,
    /// Declined, or no record of the person (deliberately the same).
    NotGranted,
    /// The browser session ended before the flow did.
    SessionExpired,
    /// The login failed (a refused ID token, a broken answer).
    LoginFailed,
    /// The login service could not be reached.
    LoginUnavailable,
}

impl FlowError {
    /// The RFC 6749 `error` code.
    pub fn code(self) -> &'static str {
        match self {
            FlowError::StateMissing
            | FlowError::RepeatedParameter
            | FlowError::PkcePlain
            | FlowError::PkceMalformed => "invalid_request",
            FlowError::ResponseType => "unsupported_response_type",
            FlowError::ScopeMissing
            | FlowError::ScopeSyntax
            | FlowError::ScopeProviders
            | FlowError::ScopeNotOffered
            | FlowError::ScopeNotAllowed => "invalid_scope",
            FlowError::LoginCancelled | FlowError::LoaTooLow | FlowError::NotGranted | FlowError::SessionExpired => {
                "access_denied"
            }
            FlowError::LoginFailed => "server_error",
            FlowError::LoginUnavailable => "temporarily_unavailable",
        }
    }

    /// The fixed `error_description`.
    pub fn description(self) -> &'static str {
        match self {
            FlowError::StateMissing => "state is missing",
            FlowError::RepeatedParameter => "a parameter is repeated",
            FlowError::ResponseType => "response_type must be code",
            FlowError::ScopeMissing => "scope is missing",
            FlowError::ScopeSyntax => "scope is malformed: expected items provider~dataservice",
            FlowError::ScopeProviders => "scope names more than one provider",
            FlowError::ScopeNotOffered => "scope names a provider or data service that is not offered here",
            FlowError::ScopeNotAllowed => "scope names a data service this client may not use",
            FlowError::PkcePlain => "PKCE: code_challenge_method plain is not supported, use S256",
            FlowError::PkceMalformed => "PKCE: code_challenge is malformed",
            FlowError::LoginCancelled => "the person cancelled the login",
            FlowError::LoaTooLow => "the login's level of assurance is too low for this data service",
            FlowError::NotGranted => "no authorization was given",
            FlowError::SessionExpired => "the session expired, start again",
            FlowError::LoginFailed => "the login could not be completed",
            FlowError::LoginUnavailable => "the login service is unavailable, try again later",
        }
    }
}

/// The URL that sends `error` back to the PGO: `redirect_uri?error=..&error_description=..&state=..`.
pub fn error_redirect(redirect_uri: &url::Url, error: FlowError, state: Option<&str>) -> String {
    let mut url = redirect_uri.clone();
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("error", error.code()).append_pair("error_description", error.description());
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    url.to_string()
}
