//! The resource server's manners: the tracing ids echoed, errors as OperationOutcomes with the
//! right status (in the asked format), and isolation: patient A's token never reaches patient
//! B's data, nor another provider's.

use crate::queries;
use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::retrieval::{Format, TracingIds, body_as_json, pgo_request, pgo_request_with};
use crate::session::{Patient, Session};
use fhir_core::Release;
use serde_json::Value;
use std::sync::Arc;

type Body = fn(Arc<Session>, String, Probe) -> futures::future::BoxFuture<'static, Result<(), Stop>>;

/// The header, error and isolation scenarios, per tested data service.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let cases: [(&str, &str, &str, &str, Body); 11] = [
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
        (
            "isolation",
            "patient-parameter-ignored",
            "patient A's token with patient B's id as patient or _id parameter returns none of B's data",
            "Flow 1 step 6: requests carry no patient parameter; the patient comes from the token",
            |s, d, p| Box::pin(patient_parameter(s, d, p)),
        ),
        (
            "isolation",
            "read-other-patient",
            "patient A's token cannot read patient B's Patient",
            "The patient comes from the token",
            |s, d, p| Box::pin(read_other(s, d, p)),
        ),
        (
            "isolation",
            "token-of-other-patient-differs",
            "patient B's token returns B's own Patient, not A's",
            "The patient comes from the token",
            |s, d, p| Box::pin(tokens_differ(s, d, p)),
        ),
        (
            "isolation",
            "other-provider",
            "a token for this provider is refused at another provider's FHIR base",
            "A token binds the PGO to one person at one provider",
            |s, d, p| Box::pin(other_provider(s, d, p)),
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

fn release(data_service: &str) -> Release {
    queries::release(data_service).unwrap_or(Release::Stu3)
}

/// The URL of `path` below the data service's base.
fn url(session: &Session, data_service: &str, path: &str) -> Result<url::Url, Stop> {
    let base = session.base(data_service)?;
    url::Url::parse(&format!("{base}/{path}")).map_err(|error| Stop::Failed(error.to_string()))
}

/// Checks that `answer` is an OperationOutcome with `status` (one of), and, when given, an issue
/// with `code`.
fn operation_outcome(
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
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let ids = TracingIds::new();
    let request =
        pgo_request_with(&session, url(&session, &data_service, "Patient")?, &token.access, Format::Json, &ids);
    let answer = probe.send(request).await?;
    probe.status(&answer, 200);
    echoed(&probe, &answer, &ids);
    Ok(())
}

async fn ids_on_errors(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let ids = TracingIds::new();
    let request = session
        .api
        .client()
        .get(url(&session, &data_service, "Patient")?)
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
    let request =
        session.api.client().get(url(&session, &data_service, "Patient")?).header("Accept", "application/fhir+json");
    let answer = probe.send(request).await?;
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Json, release(&data_service));
    Ok(())
}

async fn forged_token(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    // The real token with its signature's last characters changed.
    let mut forged = token.access.clone();
    let cut = forged.len().saturating_sub(6);
    forged.truncate(cut);
    forged.push_str(if token.access.ends_with("AAAAAA") { "BBBBBB" } else { "AAAAAA" });
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, "Patient")?, &forged, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Json, release(&data_service));
    Ok(())
}

async fn unknown_type(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, "Basic")?, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[400, 403, 404], None, Format::Json, release(&data_service));
    Ok(())
}

async fn bad_parameter(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let path = if data_service == "63" { "Immunization?date=not-a-date" } else { "Observation?date=not-a-date" };
    let answer =
        probe.send(pgo_request(&session, url(&session, &data_service, path)?, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[400], None, Format::Json, release(&data_service));
    Ok(())
}

async fn error_in_xml(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let request =
        session.api.client().get(url(&session, &data_service, "Patient")?).header("Accept", "application/fhir+xml");
    let answer = probe.send(request).await?;
    probe.check("answered as application/fhir+xml", answer.media_type() == "application/fhir+xml", answer.media_type());
    operation_outcome(&probe, &answer, &[401], Some("security"), Format::Xml, release(&data_service));
    Ok(())
}

/// The Patient ids a token's own Patient search returns.
async fn patient_ids(session: &Session, probe: &Probe, data_service: &str, token: &str) -> Result<Vec<String>, Stop> {
    let answer = probe.send(pgo_request(session, url(session, data_service, "Patient")?, token, Format::Json)).await?;
    if answer.status != 200 {
        return Err(Stop::Failed(format!("the Patient search answered {}", answer.status)));
    }
    Ok(ids(&answer.json().unwrap_or_default(), "Patient"))
}

fn ids(bundle: &Value, kind: &str) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["resource"]["resourceType"] == kind)
        .filter_map(|entry| entry["resource"]["id"].as_str().map(str::to_owned))
        .collect()
}

/// Patient A's tokens and the ids of patient B's Patients (found with B's token).
async fn a_token_and_b_patients(
    session: &Session,
    probe: &Probe,
    data_service: &str,
) -> Result<(crate::pgo::Tokens, Vec<String>), Stop> {
    let a = session.tokens(probe, Patient::A, data_service).await?;
    let b = session.tokens(probe, Patient::B, data_service).await?;
    let b_ids = patient_ids(session, probe, data_service, &b.access).await?;
    if b_ids.is_empty() {
        return Err(Stop::Failed("patient B's token found no Patient".into()));
    }
    Ok((a, b_ids))
}

async fn patient_parameter(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (a, b_ids) = a_token_and_b_patients(&session, &probe, &data_service).await?;
    for b_id in &b_ids {
        for path in [format!("Patient?_id={b_id}"), format!("Patient?patient={b_id}")] {
            let answer = probe
                .send(pgo_request(&session, url(&session, &data_service, &path)?, &a.access, Format::Json))
                .await?;
            let returned = ids(&answer.json().unwrap_or_default(), "Patient");
            probe.check(
                format!("{path} with A's token returns none of B's Patients"),
                !returned.contains(b_id),
                returned.join(", "),
            );
        }
    }
    Ok(())
}

async fn read_other(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let (a, b_ids) = a_token_and_b_patients(&session, &probe, &data_service).await?;
    for b_id in b_ids {
        let answer = probe
            .send(pgo_request(
                &session,
                url(&session, &data_service, &format!("Patient/{b_id}"))?,
                &a.access,
                Format::Json,
            ))
            .await?;
        probe.check(
            format!("reading Patient/{b_id} with A's token is refused (403 or 404)"),
            matches!(answer.status, 403 | 404),
            answer.status.to_string(),
        );
        probe.check(
            "and shows none of it",
            !answer.text().contains(&format!("\"id\":\"{b_id}\"")),
            "B's Patient in the answer",
        );
    }
    Ok(())
}

async fn tokens_differ(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let a = session.tokens(&probe, Patient::A, &data_service).await?;
    let b = session.tokens(&probe, Patient::B, &data_service).await?;
    let a_ids = patient_ids(&session, &probe, &data_service, &a.access).await?;
    let b_ids = patient_ids(&session, &probe, &data_service, &b.access).await?;
    probe.check("A's token finds a Patient", !a_ids.is_empty(), "none");
    probe.check("B's token finds a Patient", !b_ids.is_empty(), "none");
    probe.check(
        "no Patient is in both answers",
        !a_ids.iter().any(|id| b_ids.contains(id)),
        format!("A {a_ids:?}, B {b_ids:?}"),
    );
    Ok(())
}

async fn other_provider(session: Arc<Session>, data_service: String, probe: Probe) -> Result<(), Stop> {
    let Some(other) = &session.other_provider else {
        return Err(Stop::NotRun("needs a second provider of the target (--other-provider)".into()));
    };
    let Some(base) = other.service(&data_service).map(|service| service.base.clone()) else {
        return Err(Stop::NotRun(format!("the other provider does not offer {data_service}")));
    };
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let url = url::Url::parse(&format!("{base}/Patient")).map_err(|error| Stop::Failed(error.to_string()))?;
    let answer = probe.send(pgo_request(&session, url, &token.access, Format::Json)).await?;
    operation_outcome(&probe, &answer, &[401, 403], None, Format::Json, release(&data_service));
    Ok(())
}
