//! The resource server's manners: the tracing ids echoed, errors as OperationOutcomes with the
//! right status (in the asked format). Each data service is asked with a search it offers
//! ([`offer::search`]: the first of its list the CapabilityStatement offers), so that 52 (no
//! Patient search) and 51 (no Observation) are asked what they serve. Isolation is in
//! `isolation.rs`.

use crate::queries;
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::offer;
use crate::scenarios::retrieval::{Format, TracingIds, body_as_json, pgo_request, pgo_request_with};
use crate::session::{Patient, Session};
use fhir_core::Release;
use std::sync::Arc;

type Body = fn(Arc<Session>, String, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;

/// The header and error scenarios, per tested data service.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let cases: [(&str, &str, &str, &str, Body); 7] = [
        (
            "headers",
            "request-ids-echoed",
            "MedMij-Request-ID and X-Correlation-ID are echoed on an answer",
            "Flow 1 step 6: headers MedMij-Request-ID and X-Correlation-ID",
            |s, d, p| Box::pin(ids_echoed(s, d, p)),
        ),
        (
            "headers",
            "request-ids-on-errors",
            "the tracing ids are echoed on an error too",
            "Flow 1 step 6: headers MedMij-Request-ID and X-Correlation-ID",
            |s, d, p| Box::pin(ids_on_errors(s, d, p)),
        ),
        (
            "errors",
            "no-token",
            "a search without a token is 401 with an OperationOutcome (security)",
            "Errors are an OperationOutcome (401 / 403 with issue code security)",
            |s, d, p| Box::pin(no_token(s, d, p)),
        ),
        (
            "errors",
            "forged-token",
            "a search with a forged token is 401 with an OperationOutcome (security)",
            "Errors are an OperationOutcome (401 / 403 with issue code security)",
            |s, d, p| Box::pin(forged_token(s, d, p)),
        ),
        (
            "errors",
            "unknown-type",
            "a search of a type the data service does not serve is an OperationOutcome with a 4xx",
            "Errors are an OperationOutcome",
            |s, d, p| Box::pin(unknown_type(s, d, p)),
        ),
        (
            "errors",
            "bad-parameter",
            "a malformed search value is 400 with an OperationOutcome",
            "Errors are an OperationOutcome",
            |s, d, p| Box::pin(bad_parameter(s, d, p)),
        ),
        (
            "errors",
            "error-in-xml",
            "an error asked for in XML is an OperationOutcome in XML",
            "Provider-side servers must answer in JSON and XML",
            |s, d, p| Box::pin(error_in_xml(s, d, p)),
        ),
    ];
    let mut list = Vec::new();
    for (group, id, title, rule, body) in cases {
        for data_service in &session.config.data_services {
            let (s, d) = (session.clone(), data_service.clone());
            let group: &'static str = group;
            list.push(Scenario::new(
                format!("{group}.{data_service}.{id}"),
                group,
                format!("{data_service}: {title}"),
                rule,
                move |probe| body(s.clone(), d.clone(), probe),
            ));
        }
    }
    list
}

pub(super) fn release(data_service: &str) -> Release {
    queries::release(data_service).unwrap_or(Release::Stu3)
}

/// The URL of `path` below the data service's base.
pub(super) fn url(session: &Session, data_service: &str, path: &str) -> Result<url::Url, Stop> {
    let base = session.base(data_service)?;
    url::Url::parse(&format!("{base}/{path}")).map_err(|error| Stop::Failed(error.to_string()))
}

/// Checks that `answer` is an OperationOutcome with `status` (one of), and, when given, an issue
/// with `code`.
pub(super) fn operation_outcome(
    probe: &Probe,
    answer: &crate::http::Answer,
    statuses: &[u16],
    code: Option<&str>,
    format: Format,
    release: Release,
) {
    let shown: Vec<String> = statuses.iter().map(u16::to_string).collect();
    probe.check(
        format!("answered {}", shown.join(" or ")),
        statuses.contains(&answer.status),
        answer.status.to_string(),
    );
    match body_as_json(answer, format, release) {
        Ok(outcome) => {
            probe.check(
                "an OperationOutcome",
                outcome["resourceType"] == "OperationOutcome",
                outcome["resourceType"].to_string(),
            );
            if let Some(code) = code {
                let codes: Vec<&str> = outcome["issue"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|issue| issue["code"].as_str())
                    .collect();
                probe.check(format!("an issue with code {code}"), codes.contains(&code), codes.join(", "));
            }
        }
        Err(why) => {
            probe.check("an OperationOutcome", false, why);
        }
    }
}

async fn ids_echoed(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let ids = TracingIds::new();
    let request =
        pgo_request_with(&session, url(&session, &data_service, &search.path)?, &token.access, Format::Json, &ids);
    let answer = probe.send(request).await?;
    probe.status(&answer, 200);
    echoed(&probe, &answer, &ids);
    Ok(())
}

async fn ids_on_errors(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let ids = TracingIds::new();
    let request = session
        .api
        .client()
        .get(url(&session, &data_service, &search.path)?)
        .header("Accept", "application/fhir+json")
        .header("MedMij-Request-ID", &ids.request_id)
        .header("X-Correlation-ID", &ids.correlation_id);
    let answer = probe.send(request).await?;
    probe.check("an error (no token)", answer.status >= 400, answer.status.to_string());
    echoed(&probe, &answer, &ids);
    Ok(())
}

/// Checks that `answer` carries the tracing ids of its request.
fn echoed(probe: &Probe, answer: &crate::http::Answer, ids: &TracingIds) {
    for (header, sent) in [("MedMij-Request-ID", &ids.request_id), ("X-Correlation-ID", &ids.correlation_id)] {
        let found = answer.header(header);
        probe.check(format!("{header} echoed"), found == Some(sent.as_str()), format!("{found:?}"));
    }
}

async fn no_token(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let request =
        session.api.client().get(url(&session, &data_service, &search.path)?).header("Accept", "application/fhir+json");
    let answer = probe.send(request).await?;
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Json, release(&data_service));
    Ok(())
}

async fn forged_token(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    // The real token with its signature's last characters changed.
    let mut forged = token.access.clone();
    let cut = forged.len().saturating_sub(6);
    forged.truncate(cut);
    forged.push_str(if token.access.ends_with("AAAAAA") { "BBBBBB" } else { "AAAAAA" });
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, &search.path)?, &forged, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Json, release(&data_service));
    Ok(())
}

async fn unknown_type(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let offered = offer::fetch(&session, &probe, &data_service).await?;
    let unserved = offer::unserved(offered.as_ref());
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, unserved)?, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[400, 403, 404], None, Format::Json, release(&data_service));
    Ok(())
}

async fn bad_parameter(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (kind, param) = offer::parameter_at(&session, &probe, &data_service, "date").await?;
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let path = format!("{kind}?{param}=not-a-date");
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, &path)?, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[400], None, Format::Json, release(&data_service));
    Ok(())
}

async fn error_in_xml(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let search = offer::search_at(&session, &probe, &data_service).await?;
    let request =
        session.api.client().get(url(&session, &data_service, &search.path)?).header("Accept", "application/fhir+xml");
    let answer = probe.send(request).await?;
    probe.check("answered as application/fhir+xml", answer.media_type() == "application/fhir+xml", answer.media_type());
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Xml, release(&data_service));
    Ok(())
}
