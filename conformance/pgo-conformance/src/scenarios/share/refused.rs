//! Shares the target must refuse, each with an OperationOutcome and no BSN: a token for two data
//! services, a Patient entry naming someone else, an entry of a profile the data service does not
//! take (in a batch that entry alone, in a transaction all of it), and a Bundle over the target's
//! limit. Where nothing may be stored, a collection afterwards looks for it.

use super::bundles::{self, HEART_RATE, PatientUrl, Shared, WEIGHT};
use super::{
    Body, DOCUMENTS, MEASUREMENTS, Receiving, encoded, first_sharing, no_bsn, nothing_stored, refusal, share_request,
    share_token,
};
use crate::scenario::{Probe, Stop};
use crate::scenarios::retrieval::{Format, body_as_json};
use crate::session::{Patient, Session};
use serde_json::json;
use std::sync::Arc;

/// The largest body the suite sends to find the target's limit.
const MAX_SENT_BYTES: u64 = 64 * 1024 * 1024;

/// A profile no data service takes.
const UNKNOWN_PROFILE: &str = "https://pgo-conformance.example/StructureDefinition/not-a-profile-of-this-data-service";

/// The refused shares.
pub(super) const CASES: [(&str, &str, &str, Body); 5] = [
    (
        "two-scopes",
        "a share with a token for the receiving data service and another is refused 403 with an OperationOutcome \
         (insufficient_scope)",
        "Scope syntax: Delen exactly one data service; RFC 6750 §3.1 (insufficient_scope: 403); errors are an \
         OperationOutcome",
        |s, p| Box::pin(two_scopes(s, p)),
    ),
    (
        "other-person",
        "a Bundle whose Patient carries another person's BSN is refused 422 with an OperationOutcome that does not \
         repeat it, and nothing of it is stored",
        "The patient comes from the token (Flow 1 step 6, and so for Delen); FHIR STU3 HTTP 422 (business rules); \
         no BSN in anything a PGO receives",
        |s, p| Box::pin(other_person(s, p)),
    ),
    (
        "batch.entry-refused",
        "52: in a batch, a measurement claiming a profile the data service does not take is answered 422 with an \
         outcome in its own entry, while the others are 201",
        "FHIR STU3 §2.21.0.17.2 (a batch's entries succeed or fail on their own, a failure with an \
         OperationOutcome); HTTP 422: a resource violating the profiles the server takes",
        |s, p| Box::pin(batch_entry_refused(s, p)),
    ),
    (
        "transaction.unknown-profile",
        "51: a transaction with a DocumentReference of a profile the data service does not take is refused whole \
         (400 or 422 with an OperationOutcome) and nothing of it is stored",
        "FHIR STU3 §2.21.0.17.2 (a transaction succeeds or fails as a whole); Delen of documents (51)",
        |s, p| Box::pin(transaction_unknown_profile(s, p)),
    ),
    (
        "oversized",
        "a Bundle just over the target's limit for a share is refused 413 with an OperationOutcome",
        "HTTP 413; errors are an OperationOutcome (a DVA bounds what one request may cost it)",
        |s, p| Box::pin(oversized(s, p)),
    ),
];

/// A small Bundle of `receiving`'s kind.
fn small(receiving: Receiving, bsn: Option<&str>) -> Shared {
    if receiving == DOCUMENTS {
        bundles::documents(PatientUrl::Uuid, bsn)
    } else {
        bundles::measurements(PatientUrl::Uuid, bsn, &[WEIGHT])
    }
}

async fn two_scopes(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let (receiving, base) = first_sharing(&session, &probe, &[MEASUREMENTS, DOCUMENTS]).await?;
    let (token, scope) = super::two_service_token(&session, &probe, receiving).await?;
    let shared = small(receiving, None);
    let body = encoded(&shared.bundle, Format::Json)?;
    let answer = probe.send(share_request(&session, &base, &token, body, Format::Json, None)).await?;
    let outcome = refusal(&probe, &answer, &[403]);
    let challenge = answer.header("www-authenticate").unwrap_or_default().to_owned();
    let told = challenge.contains("insufficient_scope")
        || outcome.as_ref().is_some_and(|outcome| outcome.to_string().contains("insufficient_scope"));
    probe.check(
        format!("the refusal says insufficient_scope (a token of {scope})"),
        told,
        format!("WWW-Authenticate: {challenge}"),
    );
    no_bsn(&probe, &session, &answer, outcome.as_ref());
    Ok(())
}

async fn other_person(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let Some(other) = session.bsn(Patient::B).map(str::to_owned) else {
        return Err(Stop::NotRun("needs a second test person's BSN (--patient-b, with the suite logging in)".into()));
    };
    let (receiving, base) = first_sharing(&session, &probe, &[MEASUREMENTS, DOCUMENTS]).await?;
    let token = share_token(&session, &probe, receiving.data_service, false).await?;
    let shared = small(receiving, Some(&other));
    let body = encoded(&shared.bundle, Format::Json)?;
    let answer = probe.send(share_request(&session, &base, &token, body, Format::Json, None)).await?;
    let outcome = refusal(&probe, &answer, &[422]);
    no_bsn(&probe, &session, &answer, outcome.as_ref());
    nothing_stored(&session, &probe, receiving, &base, &shared).await
}

async fn batch_entry_refused(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let base = super::sharing_base(&session, &probe, MEASUREMENTS).await?;
    let token = share_token(&session, &probe, MEASUREMENTS.data_service, false).await?;
    let mut shared = bundles::measurements(PatientUrl::Uuid, None, &[WEIGHT, HEART_RATE, WEIGHT]);
    let refused = 2;
    shared.bundle["entry"][refused]["resource"]["meta"]["profile"] = json!([UNKNOWN_PROFILE]);
    let body = encoded(&shared.bundle, Format::Json)?;
    let answer = probe.send(share_request(&session, &base, &token, body, Format::Json, None)).await?;
    probe.status(&answer, 200);
    let bundle = match body_as_json(&answer, Format::Json, super::RELEASE) {
        Ok(bundle) => bundle,
        Err(why) => {
            probe.check("a batch-response Bundle", false, why);
            return Ok(());
        }
    };
    no_bsn(&probe, &session, &answer, Some(&bundle));
    probe.check("a batch-response Bundle", bundle["type"] == "batch-response", bundle["type"].to_string());
    let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    let statuses: Vec<&str> =
        entries.iter().map(|entry| entry["response"]["status"].as_str().unwrap_or_default()).collect();
    let expected = |index: usize| match index {
        0 => "200",
        _ if index == refused => "422",
        _ => "201",
    };
    probe.check(
        format!("entry {refused} (an unknown profile) is 422, the Patient 200, the other measurements 201"),
        statuses.len() == shared.entries().len()
            && statuses.iter().enumerate().all(|(index, status)| status.starts_with(expected(index))),
        statuses.join(", "),
    );
    let outcome = entries.get(refused).map(|entry| &entry["response"]["outcome"]);
    probe.check(
        format!("entry {refused} carries an OperationOutcome saying why"),
        outcome.is_some_and(|outcome| outcome["resourceType"] == "OperationOutcome"),
        "no response.outcome",
    );
    Ok(())
}

async fn transaction_unknown_profile(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let base = super::sharing_base(&session, &probe, DOCUMENTS).await?;
    let token = share_token(&session, &probe, DOCUMENTS.data_service, false).await?;
    let mut shared = bundles::documents(PatientUrl::Uuid, None);
    let at = (0..shared.entries().len()).find(|index| shared.entry_type(*index) == "DocumentReference");
    let Some(at) = at else { return Err(Stop::Failed("the suite's document Bundle has no DocumentReference".into())) };
    shared.bundle["entry"][at]["resource"]["meta"]["profile"] = json!([UNKNOWN_PROFILE]);
    let body = encoded(&shared.bundle, Format::Json)?;
    let answer = probe.send(share_request(&session, &base, &token, body, Format::Json, None)).await?;
    let outcome = refusal(&probe, &answer, &[400, 422]);
    no_bsn(&probe, &session, &answer, outcome.as_ref());
    nothing_stored(&session, &probe, DOCUMENTS, &base, &shared).await
}

async fn oversized(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let Some(limit) = session.config.share_body_limit else {
        return Err(Stop::NotRun("needs the target's limit for a shared Bundle (--share-body-limit BYTES)".into()));
    };
    if limit >= MAX_SENT_BYTES {
        return Err(Stop::NotRun(format!(
            "the target's limit ({limit} bytes) is more than the suite sends ({MAX_SENT_BYTES} bytes)"
        )));
    }
    let (receiving, base) = first_sharing(&session, &probe, &[MEASUREMENTS, DOCUMENTS]).await?;
    let token = share_token(&session, &probe, receiving.data_service, false).await?;
    let size = usize::try_from(limit).map_err(|error| Stop::Failed(error.to_string()))?;
    let body = small(receiving, None).padded_past(size);
    let sent = body.len();
    let answer = probe.send(share_request(&session, &base, &token, body, Format::Json, None)).await?;
    probe.check(format!("{sent} bytes were sent, over the limit of {limit}"), sent as u64 > limit, sent.to_string());
    let outcome = refusal(&probe, &answer, &[413]);
    no_bsn(&probe, &session, &answer, outcome.as_ref());
    Ok(())
}
