//! What one request may cost a DVA: a search that repeats a parameter a thousand times, or pages
//! past any real record, is answered promptly, with a result or a 400 OperationOutcome, never
//! with a server error or not at all; so no PGO can tie up the service for others. Each data
//! service is asked on a type and a token parameter its CapabilityStatement offers
//! ([`offer::parameter`]).

use crate::queries;
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::offer;
use crate::scenarios::retrieval::{Format, body_as_json, pgo_request};
use crate::session::{Patient, Session};
use fhir_core::Release;
use std::sync::Arc;
use std::time::Instant;

type Body = fn(Arc<Session>, String, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;

/// How long an answer may take: the rules' service level for a resource response.
const SERVICE_LEVEL_SECONDS: u64 = 60;

/// The limit scenarios, per tested data service.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let cases: [(&str, &str, &str, Body); 2] = [
        (
            "repeated-parameters",
            "a search repeating a parameter 1,000 times is answered promptly with a result or a 400 OperationOutcome",
            "Service levels: resource response within 60 s; errors are an OperationOutcome",
            |s, d, p| Box::pin(repeated_parameters(s, d, p)),
        ),
        (
            "paging-out-of-range",
            "_offset beyond a 64-bit integer and a negative _count are 400 OperationOutcomes, not server errors",
            "Errors are an OperationOutcome",
            |s, d, p| Box::pin(paging_out_of_range(s, d, p)),
        ),
    ];
    let mut list = Vec::new();
    for (id, title, rule, body) in cases {
        for data_service in &session.config.data_services {
            let (s, d) = (session.clone(), data_service.clone());
            list.push(Scenario::new(
                format!("errors.{data_service}.{id}"),
                "errors",
                format!("{data_service}: {title}"),
                rule,
                move |probe| body(s.clone(), d.clone(), probe),
            ));
        }
    }
    list
}

fn release(data_service: &str) -> Release {
    queries::release(data_service).unwrap_or(Release::Stu3)
}

/// Sends `path` with patient A's token: the answer and how long it took.
async fn timed(
    session: &Session,
    probe: &Probe,
    data_service: &str,
    path: &str,
) -> Result<(crate::http::Answer, u64), Stop> {
    let token = session.tokens(probe, Patient::A, data_service).await?;
    let url = url::Url::parse(&format!("{}/{path}", session.base(data_service)?))
        .map_err(|error| Stop::Failed(error.to_string()))?;
    let started = Instant::now();
    let answer = probe.send(pgo_request(session, url, &token.access, Format::Json)).await?;
    Ok((answer, started.elapsed().as_secs()))
}

/// A 400 OperationOutcome, or (when `result_allowed`) a 200 searchset.
fn result_or_outcome(probe: &Probe, answer: &crate::http::Answer, data_service: &str, result_allowed: bool) {
    let allowed: &[u16] = if result_allowed { &[200, 400] } else { &[400] };
    probe.check(
        format!("answered {}", allowed.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")),
        allowed.contains(&answer.status),
        answer.status.to_string(),
    );
    let expected = if answer.status == 200 { "Bundle" } else { "OperationOutcome" };
    let (found, detail) = match body_as_json(answer, Format::Json, release(data_service)) {
        Ok(body) => (body["resourceType"] == expected, body["resourceType"].to_string()),
        Err(why) => (false, why),
    };
    probe.check(format!("a {expected}"), found, detail);
}

async fn repeated_parameters(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (resource_type, param) = offer::parameter_at(&session, &probe, &data_service, "token").await?;
    let query = (0..1000).map(|n| format!("{param}=c{n}")).collect::<Vec<_>>().join("&");
    let (answer, seconds) = timed(&session, &probe, &data_service, &format!("{resource_type}?{query}")).await?;
    probe.check(
        format!("answered within {SERVICE_LEVEL_SECONDS} s"),
        seconds < SERVICE_LEVEL_SECONDS,
        format!("{seconds} s"),
    );
    result_or_outcome(&probe, &answer, &data_service, true);
    Ok(())
}

async fn paging_out_of_range(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let resource_type = offer::search_at(&session, &probe, &data_service).await?.kind;
    for paging in ["_offset=9223372036854775808", "_count=-1"] {
        let (answer, _) = timed(&session, &probe, &data_service, &format!("{resource_type}?{paging}")).await?;
        result_or_outcome(&probe, &answer, &data_service, false);
    }
    Ok(())
}
