//! Each rule of the authorization request, on its own.

use super::*;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REQUEST_ID: &str = "0b6f7e2c-5d1a-4c3e-9f8b-2a7d6c5e4b3a";
const CORRELATION_ID: &str = "7C1D2E3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F";

fn directory() -> Directory {
    Directory::new(
        [
            KnownClient { hostname: "pgo.example.nl".into(), organisation: "PGO BV".into(), data_services: None },
            KnownClient {
                hostname: "limited.example.nl".into(),
                organisation: "Limited BV".into(),
                data_services: Some(vec!["48".into()]),
            },
        ],
        [],
        None,
    )
}

fn valid() -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", "pgo.example.nl"),
        ("redirect_uri", "https://pgo.example.nl/callback"),
        ("scope", "umcx~48 umcx~49"),
        ("state", "s-123"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("MedMij-Request-ID", REQUEST_ID),
        ("X-Correlation-ID", CORRELATION_ID),
        ("unknown", "ignored"),
    ]
    .iter()
    .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
    .collect()
}

/// Parameters to replace (`Some`) or remove (`None`).
type Changes<'a> = &'a [(&'a str, Option<&'a str>)];

fn with(changes: Changes<'_>) -> Vec<(String, String)> {
    let mut pairs = valid();
    for (name, value) in changes {
        pairs.retain(|(existing, _)| existing != name);
        if let Some(value) = value {
            pairs.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    pairs
}

fn redirected(pairs: &[(String, String)]) -> (FlowError, Option<String>) {
    match check(pairs, &directory(), false) {
        Err(Refusal::Redirected { error, state, redirect_uri }) => {
            assert_eq!(redirect_uri.as_str(), "https://pgo.example.nl/callback");
            (error, state)
        }
        other => panic!("expected a redirected error, got {other:?}"),
    }
}

fn shown(pairs: &[(String, String)]) -> ShownError {
    match check(pairs, &directory(), false) {
        Err(Refusal::Shown(error)) => error,
        other => panic!("expected a shown error, got {other:?}"),
    }
}

#[test]
fn a_valid_request_is_accepted_with_everything_it_carries() {
    let request = check(&valid(), &directory(), false).unwrap();
    assert_eq!(request.client_id, "pgo.example.nl");
    assert_eq!(request.provider, "umcx");
    assert_eq!(request.data_services, vec!["48", "49"]);
    assert_eq!(request.scope(), "umcx~48 umcx~49");
    assert_eq!(request.state, "s-123");
    assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(request.request_id.as_deref(), Some(REQUEST_ID));
    assert_eq!(request.correlation_id.as_deref(), Some(CORRELATION_ID));
}

#[test]
fn request_ids_that_are_not_uuids_are_replaced() {
    let pairs = with(&[("MedMij-Request-ID", Some("999946067")), ("X-Correlation-ID", Some("Anna de Vries"))]);
    let request = check(&pairs, &directory(), false).unwrap();
    let (request_id, correlation_id) = (request.request_id.unwrap(), request.correlation_id.unwrap());
    assert!(fhir_core::request_id::is_uuid(&request_id) && request_id != "999946067");
    assert!(fhir_core::request_id::is_uuid(&correlation_id));
    let absent = check(&with(&[("MedMij-Request-ID", None), ("X-Correlation-ID", None)]), &directory(), false);
    let absent = absent.unwrap();
    assert_eq!((absent.request_id, absent.correlation_id), (None, None));
}

#[test]
fn pkce_is_optional() {
    let request = check(&with(&[("code_challenge", None), ("code_challenge_method", None)]), &directory(), false);
    assert_eq!(request.unwrap().code_challenge, None);
}

#[test]
fn untrusted_targets_are_shown_not_redirected() {
    assert_eq!(shown(&with(&[("client_id", None)])), ShownError::ClientMissing);
    assert_eq!(shown(&with(&[("client_id", Some("unknown.example.nl"))])), ShownError::UnknownClient);
    assert_eq!(
        shown(&with(&[("redirect_uri", Some("https://evil.example.nl/callback"))])),
        ShownError::RedirectUri(RedirectUriError::OtherHost)
    );
    assert_eq!(shown(&with(&[("redirect_uri", None)])), ShownError::RedirectUri(RedirectUriError::Missing));
    let mut twice = valid();
    twice.push(("redirect_uri".into(), "https://pgo.example.nl/other".into()));
    assert_eq!(shown(&twice), ShownError::Repeated);
}

#[test]
fn errors_after_the_redirect_uri_is_trusted_go_back_with_the_state() {
    let cases: &[(Changes, FlowError)] = &[
        (&[("response_type", Some("token"))], FlowError::ResponseType),
        (&[("response_type", None)], FlowError::ResponseType),
        (&[("scope", None)], FlowError::ScopeMissing),
        (&[("scope", Some("umcx48"))], FlowError::ScopeSyntax),
        (&[("scope", Some("UMCX~48"))], FlowError::ScopeSyntax),
        (&[("scope", Some("umcx~48 umcy~49"))], FlowError::ScopeProviders),
        (&[("code_challenge_method", Some("plain"))], FlowError::PkcePlain),
        (&[("code_challenge_method", None)], FlowError::PkcePlain),
        (&[("code_challenge", Some("short"))], FlowError::PkceMalformed),
        (&[("code_challenge", None)], FlowError::PkceMalformed),
        (&[("code_challenge_method", Some("S512"))], FlowError::PkceMalformed),
    ];
    for (changes, expected) in cases {
        let (error, state) = redirected(&with(changes));
        assert_eq!(error, *expected, "{changes:?}");
        assert_eq!(state.as_deref(), Some("s-123"), "{changes:?}");
    }
}

#[test]
fn a_missing_state_is_an_error_without_a_state() {
    assert_eq!(redirected(&with(&[("state", None)])), (FlowError::StateMissing, None));
    assert_eq!(redirected(&with(&[("state", Some(""))])), (FlowError::StateMissing, None));
}

#[test]
fn a_repeated_parameter_is_refused() {
    let mut pairs = valid();
    pairs.push(("scope".into(), "umcx~51".into()));
    assert_eq!(redirected(&pairs).0, FlowError::RepeatedParameter);
}

#[test]
fn the_oauth_client_list_limits_the_data_services() {
    let limited =
        with(&[("client_id", Some("limited.example.nl")), ("redirect_uri", Some("https://limited.example.nl/cb"))]);
    let request = check(&with_scope(&limited, "umcx~48"), &directory(), false);
    assert!(request.is_ok());
    match check(&with_scope(&limited, "umcx~48 umcx~49"), &directory(), false) {
        Err(Refusal::Redirected { error, .. }) => assert_eq!(error, FlowError::ScopeNotAllowed),
        other => panic!("{other:?}"),
    }
}

fn with_scope(pairs: &[(String, String)], scope: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = pairs.iter().filter(|(name, _)| name != "scope").cloned().collect();
    pairs.push(("scope".into(), scope.into()));
    pairs
}

#[test]
fn the_redirect_uri_is_kept_exactly_as_sent() {
    let request =
        check(&with(&[("redirect_uri", Some("https://PGO.example.nl/callback"))]), &directory(), false).unwrap();
    assert_eq!(request.redirect_uri, "https://PGO.example.nl/callback");
}
