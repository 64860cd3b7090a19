//! The token endpoint: a code gives tokens once, only to its client, only with its redirect URI
//! and PKCE verifier, and only within its lifetime; refresh tokens rotate, and a spent one used
//! again ends the family; every refusal is an RFC 6749 §5.2 error.

use crate::http::Answer;
use crate::pgo::{self, Tokens};
use crate::scenario::{Probe, Scenario, Stop};
use crate::session::{Patient, Session};
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;

const GROUP: &str = "token";

/// The token scenarios; `token.code-expired` waits out the code lifetime, so it comes last.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    type Body = fn(Arc<Session>, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;
    let cases: [(&str, &str, &str, Body); 11] = [
        (
            "code-exchange",
            "a code gives a Bearer access token of 900 s and a refresh token, not cached, holding no BSN",
            "Flow 1 step 5; Lifetimes: access token 15 minutes; RFC 6749 §5.1",
            |s, p| Box::pin(code_exchange(s, p)),
        ),
        (
            "code-replay",
            "a code works once: the second use is invalid_grant and the tokens of the first are revoked",
            "Flow 1 step 5: a code works once, then is void; RFC 6749 §4.1.2",
            |s, p| Box::pin(code_replay(s, p)),
        ),
        (
            "redirect-uri-mismatch",
            "a token request with another redirect_uri than the authorization request is invalid_grant",
            "Flow 1 step 5: redirect_uri must equal the one used in step 2",
            |s, p| Box::pin(redirect_uri_mismatch(s, p)),
        ),
        (
            "pkce-verifier-missing",
            "a code with a PKCE challenge and no code_verifier is refused",
            "PKCE S256 required when the client sends it (we decide); RFC 7636 §4.6",
            |s, p| Box::pin(verifier_missing(s, p)),
        ),
        (
            "pkce-verifier-wrong",
            "a code with a wrong code_verifier is invalid_grant",
            "PKCE (we decide); RFC 7636 §4.6",
            |s, p| Box::pin(verifier_wrong(s, p)),
        ),
        (
            "code-other-client",
            "a code presented by another client is invalid_grant",
            "The code is bound to the client; RFC 6749 §4.1.3",
            |s, p| Box::pin(other_client(s, p)),
        ),
        (
            "refresh-rotation",
            "a refresh token gives a new access token and a new refresh token",
            "Lifetimes: each use returns a new access token and a new refresh token",
            |s, p| Box::pin(refresh_rotation(s, p)),
        ),
        (
            "refresh-reuse",
            "a spent refresh token used again is invalid_grant and revokes its family",
            "We decide: refresh tokens rotate and reuse of an old one revokes the family",
            |s, p| Box::pin(refresh_reuse(s, p)),
        ),
        ("unsupported-grant-type", "grant_type=password is unsupported_grant_type", "RFC 6749 §5.2", |s, p| {
            Box::pin(unsupported_grant(s, p))
        }),
        (
            "unknown-client",
            "a client not on the OAuth Client List is invalid_client",
            "The lists: OAuth Client List, Whitelist; RFC 6749 §5.2",
            |s, p| Box::pin(unknown_client(s, p)),
        ),
        (
            "code-expired",
            "a code used after its lifetime is invalid_grant",
            "We decide: authorization codes live 60 seconds",
            |s, p| Box::pin(code_expired(s, p)),
        ),
    ];
    cases
        .into_iter()
        .map(|(id, title, rule, body)| {
            let s = session.clone();
            Scenario::new(format!("token.{id}"), GROUP, title, rule, move |probe| body(s.clone(), probe))
        })
        .collect()
}

/// The refusal `error` as RFC 6749 §5.2 writes it: 400 (401 for `invalid_client`), JSON, `error`.
fn refused(probe: &Probe, answer: &Answer, error: &str) {
    let statuses: &[u16] = if error == "invalid_client" { &[400, 401] } else { &[400] };
    probe.check(
        format!("answered {}", statuses.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")),
        statuses.contains(&answer.status),
        answer.status.to_string(),
    );
    let body = answer.json().unwrap_or_default();
    probe.check(format!("error={error}"), body["error"] == error, body["error"].to_string());
    probe.check("the error is JSON", answer.media_type() == "application/json", answer.media_type());
}

/// A fresh code, or why not.
async fn fresh(session: &Session, probe: &Probe) -> Result<(pgo::AuthorizationRequest, String), Stop> {
    session.code(probe, Patient::A).await
}

fn form_of(session: &Session, code: &str, verifier: &str) -> Vec<(String, String)> {
    let pgo = &session.config.pgo;
    pgo::code_form(&pgo.client_id, code, &pgo.redirect_uri, verifier)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

async fn post(session: &Session, probe: &Probe, form: &[(String, String)]) -> Result<Answer, Stop> {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let client = &session.token_client;
    probe.send_with(client, pgo::token_request(client, session.token_endpoint()?, &pairs)).await
}

async fn code_exchange(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code) = fresh(&session, &probe).await?;
    let answer = session.exchange(&probe, &request, &code).await?;
    probe.status(&answer, 200);
    let body = answer.json().unwrap_or_default();
    probe.check(
        "token_type Bearer",
        body["token_type"].as_str().is_some_and(|kind| kind.eq_ignore_ascii_case("bearer")),
        body["token_type"].to_string(),
    );
    probe.check("expires_in 900", body["expires_in"] == 900, body["expires_in"].to_string());
    probe.check("a refresh token", body["refresh_token"].as_str().is_some_and(|token| !token.is_empty()), "none");
    probe.check(
        "Cache-Control: no-store",
        answer.header("cache-control").is_some_and(|value| value.contains("no-store")),
        format!("{:?}", answer.header("cache-control")),
    );
    let access = body["access_token"].as_str().unwrap_or_default();
    probe.check("an access token", !access.is_empty(), "none");
    // A JWT's claims are readable by anyone holding it: they must not carry the BSN.
    let claims =
        access.split('.').nth(1).and_then(|part| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).ok());
    let readable = format!(
        "{} {}",
        answer.text(),
        claims.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
    );
    let bsns = session.config.bsns();
    probe.check(
        "no BSN in the answer or the token's claims",
        !bsns.iter().any(|bsn| readable.contains(bsn.as_str())),
        "a test patient's BSN",
    );
    Ok(())
}

async fn code_replay(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code) = fresh(&session, &probe).await?;
    let first = session.exchange(&probe, &request, &code).await?;
    probe.status(&first, 200);
    let tokens = pgo::tokens_of(&first);
    let second = session.exchange(&probe, &request, &code).await?;
    refused(&probe, &second, "invalid_grant");
    if let Some(Tokens { access, .. }) = &tokens {
        crate::scenarios::revocation::check_refused_at_once(&session, &probe, access, "after the replay").await?;
    }
    if let Some(Tokens { refresh: Some(refresh), .. }) = tokens {
        let form = pgo::refresh_form(&session.config.pgo.client_id, &refresh);
        let client = &session.token_client;
        let after = probe.send_with(client, pgo::token_request(client, session.token_endpoint()?, &form)).await?;
        probe.check("the first use's refresh token is revoked", after.status == 400, after.status.to_string());
    }
    Ok(())
}

async fn redirect_uri_mismatch(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code) = fresh(&session, &probe).await?;
    let mut form = form_of(&session, &code, &request.pkce.verifier);
    let other = format!("{}/other", session.config.pgo.redirect_uri.trim_end_matches('/'));
    for field in &mut form {
        if field.0 == "redirect_uri" {
            field.1 = other.clone();
        }
    }
    let answer = post(&session, &probe, &form).await?;
    refused(&probe, &answer, "invalid_grant");
    Ok(())
}

async fn verifier_missing(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code) = fresh(&session, &probe).await?;
    let mut form = form_of(&session, &code, &request.pkce.verifier);
    form.retain(|(name, _)| name != "code_verifier");
    let answer = post(&session, &probe, &form).await?;
    let error = answer.json().unwrap_or_default()["error"].as_str().unwrap_or_default().to_owned();
    probe.check("answered 400", answer.status == 400, answer.status.to_string());
    probe.check(
        "error=invalid_grant or invalid_request",
        matches!(error.as_str(), "invalid_grant" | "invalid_request"),
        error,
    );
    Ok(())
}

async fn verifier_wrong(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (_, code) = fresh(&session, &probe).await?;
    let wrong = pgo::Pkce::new().verifier;
    let answer = post(&session, &probe, &form_of(&session, &code, &wrong)).await?;
    refused(&probe, &answer, "invalid_grant");
    Ok(())
}

async fn other_client(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (Some(other), Some(client)) = (&session.config.pgo.other_client_id, &session.other_token_client) else {
        return Err(Stop::NotRun(
            "needs a second client on the OAuth Client List (--other-client-id, with its certificate under mTLS)"
                .into(),
        ));
    };
    let (request, code) = fresh(&session, &probe).await?;
    let pgo = &session.config.pgo;
    let form = pgo::code_form(other, &code, &pgo.redirect_uri, &request.pkce.verifier);
    let answer = probe.send_with(client, pgo::token_request(client, session.token_endpoint()?, &form)).await?;
    refused(&probe, &answer, "invalid_grant");
    Ok(())
}

/// A fresh refresh token (from a fresh code).
async fn refresh_token(session: &Session, probe: &Probe) -> Result<String, Stop> {
    let (request, code) = fresh(session, probe).await?;
    let answer = session.exchange(probe, &request, &code).await?;
    pgo::tokens_of(&answer)
        .and_then(|tokens| tokens.refresh)
        .ok_or_else(|| Stop::Failed(format!("the code exchange answered {} without a refresh token", answer.status)))
}

async fn refresh(session: &Session, probe: &Probe, token: &str) -> Result<Answer, Stop> {
    let form = pgo::refresh_form(&session.config.pgo.client_id, token);
    let client = &session.token_client;
    probe.send_with(client, pgo::token_request(client, session.token_endpoint()?, &form)).await
}

async fn refresh_rotation(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let first = refresh_token(&session, &probe).await?;
    let answer = refresh(&session, &probe, &first).await?;
    probe.status(&answer, 200);
    let tokens = pgo::tokens_of(&answer);
    probe.check("a new access token", tokens.is_some(), answer.text());
    let next = tokens.and_then(|tokens| tokens.refresh);
    probe.check(
        "a new refresh token, not the one spent",
        next.as_deref().is_some_and(|next| next != first),
        "none, or the same",
    );
    probe.check("expires_in 900", answer.json().unwrap_or_default()["expires_in"] == 900, answer.text());
    Ok(())
}

async fn refresh_reuse(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let first = refresh_token(&session, &probe).await?;
    let rotated = refresh(&session, &probe, &first).await?;
    let Some(Tokens { access, refresh: Some(successor) }) = pgo::tokens_of(&rotated) else {
        return Err(Stop::Failed(format!("the first refresh answered {}", rotated.status)));
    };
    let reused = refresh(&session, &probe, &first).await?;
    refused(&probe, &reused, "invalid_grant");
    crate::scenarios::revocation::check_refused_at_once(&session, &probe, &access, "after the reuse").await?;
    let after = refresh(&session, &probe, &successor).await?;
    probe.check(
        "the family is revoked: its newest refresh token is refused too",
        after.status == 400,
        after.status.to_string(),
    );
    Ok(())
}

async fn unsupported_grant(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let client_id = session.config.pgo.client_id.clone();
    let form = vec![("grant_type".to_owned(), "password".to_owned()), ("client_id".to_owned(), client_id)];
    let answer = post(&session, &probe, &form).await?;
    refused(&probe, &answer, "unsupported_grant_type");
    Ok(())
}

async fn unknown_client(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code) = fresh(&session, &probe).await?;
    let mut form = form_of(&session, &code, &request.pkce.verifier);
    for field in &mut form {
        if field.0 == "client_id" {
            field.1 = "unknown-pgo.conformance.invalid".into();
        }
    }
    let answer = post(&session, &probe, &form).await?;
    refused(&probe, &answer, "invalid_client");
    Ok(())
}

async fn code_expired(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (request, code, since) = session.aging_code(&probe).await?;
    let wait = Duration::from_secs(session.config.code_lifetime_seconds + 2).saturating_sub(since.elapsed());
    tokio::time::sleep(wait).await;
    let answer = session.exchange(&probe, &request, &code).await?;
    refused(&probe, &answer, "invalid_grant");
    Ok(())
}
