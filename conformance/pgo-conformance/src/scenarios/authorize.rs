//! The authorization request: an ordinary one ends in a code and the state returned verbatim;
//! every refusal the rules name goes back as an RFC 6749 error redirect with the state, except
//! where the redirect target cannot be trusted (an unknown client, a foreign redirect URI),
//! which the person is shown and which is never redirected.

use crate::login::Reached;
use crate::pgo::{AuthorizationRequest, Callback};
use crate::scenario::{Probe, Scenario, Stop};
use crate::session::{Patient, Session};
use std::sync::Arc;

const GROUP: &str = "authorization";

/// A change made to the ordinary request, and who the person is there.
#[derive(Debug, Clone, Copy)]
enum Case {
    UnknownClient,
    ForeignRedirectUri,
    RedirectUriWithQuery,
    MissingState,
    ResponseTypeToken,
    PkcePlain,
    ScopeTwoProviders,
    ScopeNotOffered,
    ScopeNotAllowed,
    LoginCancelled,
    LoaTooLow,
    ConsentDeclined,
}

impl Case {
    const ALL: [Case; 12] = [
        Case::UnknownClient,
        Case::ForeignRedirectUri,
        Case::RedirectUriWithQuery,
        Case::MissingState,
        Case::ResponseTypeToken,
        Case::PkcePlain,
        Case::ScopeTwoProviders,
        Case::ScopeNotOffered,
        Case::ScopeNotAllowed,
        Case::LoginCancelled,
        Case::LoaTooLow,
        Case::ConsentDeclined,
    ];

    /// Id, title, rule.
    fn describe(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Case::UnknownClient => (
                "unknown-client",
                "a client_id not on the OAuth Client List is shown to the person, never redirected",
                "Flow 1 step 2; The lists: OAuth Client List; RFC 6749 §4.1.2.1",
            ),
            Case::ForeignRedirectUri => (
                "redirect-uri-foreign-host",
                "a redirect_uri on another host than the client's is shown to the person, never redirected",
                "Redirect URIs: on the PGO's own hostname from the OAuth Client List; RFC 6749 §4.1.2.1",
            ),
            Case::RedirectUriWithQuery => (
                "redirect-uri-with-fragment",
                "a redirect_uri with a fragment is shown to the person, never redirected",
                "Redirect URIs: no query and no fragment; RFC 6749 §3.1.2",
            ),
            Case::MissingState => (
                "state-missing",
                "a request without state is refused with invalid_request",
                "Flow 1 step 2: state is part of the request",
            ),
            Case::ResponseTypeToken => (
                "response-type-token",
                "response_type=token is refused with unsupported_response_type",
                "Flow 1 step 2: response_type=code",
            ),
            Case::PkcePlain => (
                "pkce-plain",
                "code_challenge_method=plain is refused with invalid_request",
                "PKCE: S256 supported, plain refused (we decide)",
            ),
            Case::ScopeTwoProviders => (
                "scope-two-providers",
                "a scope naming two providers is refused with invalid_scope",
                "Scope syntax: all for the same provider",
            ),
            Case::ScopeNotOffered => (
                "scope-data-service-not-offered",
                "a scope naming a data service the provider does not offer is refused with invalid_scope",
                "Scope syntax: <provider>~<data service id>",
            ),
            Case::ScopeNotAllowed => (
                "scope-data-service-not-allowed",
                "a scope naming a data service the OAuth Client List does not allow the client is refused with invalid_scope",
                "The authorization server checks each requested data service against the OAuth Client List",
            ),
            Case::LoginCancelled => (
                "login-cancelled",
                "a login cancelled at DigiD goes back as access_denied with the state",
                "Flow 1 step 4: on refusal or error an RFC 6749 error redirect with state",
            ),
            Case::LoaTooLow => (
                "loa-too-low",
                "a login below the required level of assurance goes back as access_denied",
                "DigiD / TVS: the DVA requires substantial by default",
            ),
            Case::ConsentDeclined => (
                "consent-declined",
                "consent declined goes back as access_denied with the state",
                "Flow 1 step 4: on refusal an error redirect; the DVA never reveals whether a person is a patient",
            ),
        }
    }
}

/// The authorization scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let mut list = Vec::new();
    let s = session.clone();
    list.push(Scenario::new(
        "authorization.ordinary-request",
        GROUP,
        "an ordinary request (PKCE S256, tracing ids, an unknown extra parameter) ends in a code with the state returned verbatim",
        "Flow 1 steps 2-4: code and state; unknown parameters are ignored",
        move |probe| ordinary(s.clone(), probe),
    ));
    for case in Case::ALL {
        let (id, title, rule) = case.describe();
        let s = session.clone();
        list.push(Scenario::new(format!("authorization.{id}"), GROUP, title, rule, move |probe| {
            refused(s.clone(), case, probe)
        }));
    }
    list
}

async fn ordinary(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let pgo = &session.config.pgo;
    // A state with characters that must survive encoding.
    let state = "st/ate+1=2&x y~é";
    let request = AuthorizationRequest::new(&pgo.client_id, &pgo.redirect_uri, &session.scope())
        .with("state", state)
        .with("unknown_extra", "ignored");
    let answers = session.answers(Patient::A, None, &[])?;
    match session.walk(&probe, &request, &answers).await? {
        Reached::Redirect(url) => {
            let callback = Callback::of(&url);
            probe.check(
                "redirected to the registered redirect URI",
                url.as_str().starts_with(&pgo.redirect_uri),
                url.as_str(),
            );
            probe.check(
                "a code",
                callback.get("code").is_some_and(|code| !code.is_empty()),
                format!("{:?}", callback.params),
            );
            probe.check(
                "the state returned verbatim",
                callback.get("state") == Some(state),
                format!("{:?}", callback.get("state")),
            );
            probe.check("no error", callback.get("error").is_none(), format!("{:?}", callback.get("error")));
            let bsns = session.config.bsns();
            probe.check(
                "the redirect holds no BSN",
                !bsns.iter().any(|bsn| url.as_str().contains(bsn.as_str())),
                "a BSN in the redirect",
            );
        }
        Reached::Page { status, url, .. } => {
            probe.check("redirected back with a code", false, format!("stopped at {status} {url}"));
        }
    }
    Ok(())
}

async fn refused(session: Arc<Session>, case: Case, probe: Probe) -> Result<(), Stop> {
    let pgo = &session.config.pgo;
    let request = AuthorizationRequest::new(&pgo.client_id, &pgo.redirect_uri, &session.scope());
    let form = session.login_form()?.clone();
    let mut answers = session.answers(Patient::A, None, &[])?;
    let (request, expected) = match case {
        Case::UnknownClient => (request.with("client_id", "unknown-pgo.conformance.invalid"), None),
        Case::ForeignRedirectUri => {
            (request.with("redirect_uri", "https://elsewhere.conformance.invalid/callback"), None)
        }
        Case::RedirectUriWithQuery => {
            let with_fragment = format!("{}#fragment", pgo.redirect_uri);
            (request.with("redirect_uri", &with_fragment), None)
        }
        Case::MissingState => (request.without("state"), Some("invalid_request")),
        Case::ResponseTypeToken => (request.with("response_type", "token"), Some("unsupported_response_type")),
        Case::PkcePlain => {
            let verifier = request.pkce.verifier.clone();
            (request.with("code_challenge_method", "plain").with("code_challenge", &verifier), Some("invalid_request"))
        }
        Case::ScopeTwoProviders => {
            let other = session.other_provider.as_ref().map_or("otherprovider".to_owned(), |other| other.name.clone());
            let scope = format!("{} {other}~{}", session.scope(), first(&session));
            (request.with("scope", &scope), Some("invalid_scope"))
        }
        Case::ScopeNotOffered => {
            let scope = format!("{}~99999", session.provider.name);
            (request.with("scope", &scope), Some("invalid_scope"))
        }
        Case::ScopeNotAllowed => {
            let Some(forbidden) = pgo.forbidden.clone() else {
                return Err(Stop::NotRun(
                    "needs a client the list does not allow a data service (--forbidden-client, --forbidden-data-service)".into(),
                ));
            };
            let scope = session.scope_of(&[forbidden.data_service.as_str()]);
            let request = request
                .with("client_id", &forbidden.client_id)
                .with("redirect_uri", &forbidden.redirect_uri)
                .with("scope", &scope);
            (request, Some("invalid_scope"))
        }
        Case::LoginCancelled => {
            answers = session.answers(Patient::A, None, std::slice::from_ref(&form.cancel))?;
            (request, Some("access_denied"))
        }
        Case::LoaTooLow => {
            answers = session.answers(Patient::A, Some(&form.loa_too_low), &[])?;
            (request, Some("access_denied"))
        }
        Case::ConsentDeclined => {
            answers = session.answers(Patient::A, None, std::slice::from_ref(&form.deny))?;
            (request, Some("access_denied"))
        }
    };
    let reached = session.walk(&probe, &request, &answers).await?;
    match expected {
        None => not_redirected(&probe, &reached, request.redirect_uri()),
        Some(error) => error_redirect(
            &probe,
            &reached,
            error,
            request.params.iter().any(|(name, _)| name == "state").then_some(request.state.as_str()),
        ),
    }
    Ok(())
}

fn first(session: &Session) -> String {
    session.config.data_services.first().cloned().unwrap_or_else(|| "48".into())
}

/// The person sees an error; nothing goes to the redirect URI.
fn not_redirected(probe: &Probe, reached: &Reached, redirect_uri: &str) {
    match reached {
        Reached::Redirect(url) => {
            probe.check("not redirected to the PGO", false, url.as_str());
        }
        Reached::Page { status, url, .. } => {
            probe.check("not redirected to the PGO", !url.starts_with(redirect_uri), url.as_str());
            probe.check("the person is shown an error (4xx)", (400..500).contains(status), status.to_string());
        }
    }
}

/// Sent back to the PGO with `error` and `state`, and no code.
fn error_redirect(probe: &Probe, reached: &Reached, error: &str, state: Option<&str>) {
    match reached {
        Reached::Redirect(url) => {
            let callback = Callback::of(url);
            probe.check(
                format!("error={error}"),
                callback.get("error") == Some(error),
                format!("{:?}", callback.get("error")),
            );
            probe.check("no code", callback.get("code").is_none(), "a code was given");
            if let Some(state) = state {
                probe.check(
                    "the state returned",
                    callback.get("state") == Some(state),
                    format!("{:?}", callback.get("state")),
                );
            }
        }
        Reached::Page { status, url, .. } => {
            probe.check(format!("redirected back with error={error}"), false, format!("stopped at {status} {url}"));
        }
    }
}
