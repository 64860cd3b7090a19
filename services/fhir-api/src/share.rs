//! Delen at a FHIR base: `POST [base]` with the Bundle a PGO shares for the person of its token
//! (a batch or transaction, as the data service takes it; `ingest::Ingestor::share` says what is
//! taken), answered with the `batch-response` or `transaction-response` in the negotiated format.
//!
//! `Prefer: return=` (FHIR §3.1.0.4) applies to each entry: `representation` (the default) gives
//! each stored resource as stored, `minimal` none, `OperationOutcome` an outcome per entry. The
//! Bundle's Patient is answered with the location of the person's Patient, never its content (a
//! Patient carries the BSN, which no answer to a PGO holds); a stored resource is answered as a
//! PGO receives it, without a BSN (even one the PGO sent).

use crate::body;
use crate::error::ApiError;
use crate::operation::{Answer, Context};
use crate::prefer::{self, Return};
use crate::render;
use crate::request_ids::RequestIds;
use crate::state::ApiState;
use actix_web::{HttpRequest, HttpResponse, web};
use fhir_core::OperationOutcome;
use fhir_core::date::format_instant;
use fhir_core::outcome::{Issue, IssueCode, Severity};
use ingest::{RejectionKind, ShareRequest, Shared, SharedEntry};
use serde_json::{Map, Value, json};
use store::WriteOutcome;

/// Takes the shared Bundle in `payload`.
pub(crate) async fn share(
    context: &Context<'_>,
    state: &ApiState,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<Answer, ApiError> {
    let service = context.endpoint.service;
    let release = service.release;
    let (bundle, notes) = body::read_resource(request, payload, state.max_shared_bytes, release).await?;
    if !notes.is_empty() {
        tracing::info!(count = notes.len(), "a shared Bundle was read with elements out of their order");
    }
    let ids = RequestIds::of(request);
    let sharing = store::Sharing {
        share_id: uuid::Uuid::new_v4().to_string(),
        data_service: service.id.clone(),
        client_id: context.person.claims.client_id.clone(),
        at: fhir_core::date::now_millis(),
        request_id: ids.request_id,
        correlation_id: ids.correlation_id,
    };
    // The person's Patients as they are now: shared records join the first of them.
    let patient_ids = state.patients(context.endpoint.provider.id, release, &context.person.claims.sub).await?;
    let share_request = ShareRequest {
        provider: &context.endpoint.provider,
        service,
        person_key: &context.person.claims.sub,
        patient_ids: &patient_ids,
        sharing: &sharing,
    };
    let shared = state.ingestor.share(&state.store, share_request, bundle).await?;
    let returned = shared
        .entries
        .iter()
        .filter_map(|entry| match entry {
            SharedEntry::Stored { outcome, .. } => Some(format!("{}/{}", outcome.resource_type, outcome.id)),
            _ => None,
        })
        .collect();
    let answer = response_bundle(&shared, prefer::return_preference(request));
    let response = render::resource_response(&mut HttpResponse::Ok(), context.format, release, &answer.to_string());
    Ok(Answer { response, returned, metered: shared.stored() > 0 })
}

/// The response Bundle.
fn response_bundle(shared: &Shared, preference: Return) -> Value {
    let entries: Vec<Value> = shared
        .entries
        .iter()
        .map(|entry| match entry {
            SharedEntry::Person { patient_id } => {
                json!({"response": {"status": "200 OK", "location": format!("Patient/{patient_id}")}})
            }
            SharedEntry::Stored { outcome, warnings } => stored_entry(outcome, warnings, preference),
            SharedEntry::Refused(rejection) => {
                let status = match rejection.kind {
                    RejectionKind::Invalid => "400 Bad Request",
                    RejectionKind::Unprocessable => "422 Unprocessable Entity",
                };
                json!({"response": {"status": status, "outcome": rejection.outcome.to_json()}})
            }
        })
        .collect();
    json!({
        "resourceType": "Bundle",
        "id": uuid::Uuid::new_v4().to_string(),
        "type": shared.bundle.response_code(),
        "entry": entries,
    })
}

fn stored_entry(outcome: &WriteOutcome, warnings: &[Issue], preference: Return) -> Value {
    let mut response = Map::new();
    response.insert("status".into(), json!("201 Created"));
    response.insert(
        "location".into(),
        json!(format!("{}/{}/_history/{}", outcome.resource_type, outcome.id, outcome.version_id)),
    );
    response.insert("etag".into(), json!(format!("W/\"{}\"", outcome.version_id)));
    response.insert("lastModified".into(), json!(format_instant(outcome.last_updated)));
    let mut entry = Map::new();
    match preference {
        Return::Representation => {
            if let Some(resource) = outcome.body.as_deref().and_then(|body| serde_json::from_str::<Value>(body).ok()) {
                // As a PGO receives any resource: without a BSN, even one it sent itself.
                let served = ingest::served::without_bsn(&resource, None).unwrap_or(resource);
                entry.insert("resource".into(), served);
            }
            if !warnings.is_empty() {
                response.insert("outcome".into(), OperationOutcome { issues: warnings.to_vec() }.to_json());
            }
        }
        Return::OperationOutcome => {
            let mut issues = warnings.to_vec();
            if issues.is_empty() {
                issues.push(Issue {
                    severity: Severity::Information,
                    code: IssueCode::Informational,
                    diagnostics: format!("{}/{} was stored", outcome.resource_type, outcome.id),
                    expression: Vec::new(),
                });
            }
            response.insert("outcome".into(), OperationOutcome { issues }.to_json());
        }
        Return::Minimal => {}
    }
    entry.insert("response".into(), Value::Object(response));
    Value::Object(entry)
}
