//! Revocation takes effect at once: when a consent ends (a replayed code or refresh token, or the
//! PGO revoking a token at an RFC 7009 revocation endpoint), the access tokens already given
//! under it stop on the very next request, not when they expire.

use crate::http::Answer;
use crate::pgo;
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::retrieval::{Format, pgo_request};
use crate::session::{Patient, Session};
use std::sync::Arc;

const GROUP: &str = "revocation";

/// The revocation scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let s = session.clone();
    vec![Scenario::new(
        "revocation.rfc7009",
        GROUP,
        "a refresh token revoked at the revocation endpoint ends its consent: its access token is refused at once",
        "RFC 7009 §2; the person can revoke consent, which revokes the refresh token (Lifetimes)",
        move |probe| Box::pin(rfc7009(s.clone(), probe)),
    )]
}

/// Whether `access` is refused now at the first tested data service (401).
pub(crate) async fn check_refused_at_once(
    session: &Session,
    probe: &Probe,
    access: &str,
    what: &str,
) -> Result<(), Stop> {
    let data_service = session.config.data_services.first().ok_or_else(|| Stop::Failed("no data service".into()))?;
    let url = url::Url::parse(&format!("{}/Patient", session.base(data_service)?))
        .map_err(|error| Stop::Failed(error.to_string()))?;
    let answer = probe.send(pgo_request(session, url, access, Format::Json)).await?;
    probe.check(
        format!("{what}: the access token is refused at once (401)"),
        answer.status == 401,
        answer.status.to_string(),
    );
    Ok(())
}

async fn rfc7009(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let token = session.token_endpoint()?.to_owned();
    let origin = url::Url::parse(&token).map_err(|error| Stop::Failed(format!("token endpoint: {error}")))?;
    let metadata_url = format!("{}/.well-known/oauth-authorization-server", origin.origin().ascii_serialization());
    let metadata = probe.send(session.api.client().get(&metadata_url).header("Accept", "application/json")).await?;
    let Some(endpoint) = metadata.json().and_then(|json| json["revocation_endpoint"].as_str().map(str::to_owned))
    else {
        return Err(Stop::NotRun("the target's RFC 8414 metadata names no revocation_endpoint".into()));
    };
    let (request, code) = session.code(&probe, Patient::A).await?;
    let exchanged = session.exchange(&probe, &request, &code).await?;
    let Some(pgo::Tokens { access, refresh: Some(refresh) }) = pgo::tokens_of(&exchanged) else {
        return Err(Stop::Failed(format!("the code exchange answered {} without tokens", exchanged.status)));
    };
    let client_id = session.config.pgo.client_id.clone();
    let client = &session.token_client;
    let form = [("token", refresh.as_str()), ("token_type_hint", "refresh_token"), ("client_id", client_id.as_str())];
    let revoked: Answer = probe.send_with(client, pgo::token_request(client, &endpoint, &form)).await?;
    probe.check("the revocation is answered 200", revoked.status == 200, revoked.status.to_string());
    check_refused_at_once(&session, &probe, &access, "after the revocation").await?;
    let refreshed = probe
        .send_with(
            client,
            pgo::token_request(client, session.token_endpoint()?, &pgo::refresh_form(&client_id, &refresh)),
        )
        .await?;
    probe.check("the revoked refresh token is refused", refreshed.status == 400, refreshed.status.to_string());
    Ok(())
}
