//! Shares the target must take: the person's measurements as a batch (JSON and XML) and a
//! document as a transaction, each answered with a `batch-response` or `transaction-response`
//! whose entries say, in order, what became of each entry: the Patient entry is the token's
//! person (`200 OK`, its location, never its content), every other entry is created (`201`).

use super::bundles::{self, HEART_RATE, PatientUrl, Shared, TEMPERATURE, WEIGHT};
use super::{Body, DOCUMENTS, Kind, MEASUREMENTS, RELEASE, encoded, no_bsn, share_request, share_token, type_and_id};
use crate::http::Answer;
use crate::scenario::{Probe, Stop};
use crate::scenarios::retrieval::{Format, body_as_json};
use crate::session::{Patient, Session};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The rule every accepted share checks.
const FLOW_2: &str = "Flow 2 (Delen): the same OAuth flow with one scope, a confirmation instead of consent; the PGO \
     POSTs a batch Bundle with Prefer: return=representation and the DVA answers a batch-response; FHIR STU3 \
     §2.21.0.17 (a response entry per entry, in order); no BSN in anything a PGO receives";

/// The accepted shares.
pub(super) const CASES: [(&str, &str, &str, Body); 3] = [
    (
        "batch.json",
        "52: a batch of the person's measurements (JSON, the Patient with the person's own BSN), with a token for \
         52 alone, is a 200 batch-response: the Patient entry 200 as the person's Patient, every Observation 201 and \
         referring to it; no BSN; the token answer had no refresh token",
        FLOW_2,
        |s, p| Box::pin(batch(s, p, Format::Json)),
    ),
    (
        "batch.xml",
        "52: the same batch in XML (application/fhir+xml, a urn:oid Patient without a BSN) is answered with an \
         XML batch-response",
        "Flow 2 (Delen); provider-side servers must answer in JSON and XML; FHIR STU3 §2.21.0.17",
        |s, p| Box::pin(batch(s, p, Format::Xml)),
    ),
    (
        "transaction.documents",
        "51: a transaction of a DocumentManifest, a DocumentReference and a Binary (a PDF), with Prefer: \
         return=representation, is a 200 transaction-response: every resource 201 and returned, every link \
         between entries resolved to what they became; no BSN",
        "Delen of documents (51): a transaction Bundle with the Patient, a DocumentManifest, DocumentReferences \
         and Binaries; FHIR STU3 §2.21.0.17.2 (transaction processing: links to entries' fullUrls replaced); \
         §3.1.0.4 (Prefer: return=representation); no BSN in anything a PGO receives",
        |s, p| Box::pin(transaction(s, p)),
    ),
];

async fn batch(session: Arc<Session>, probe: Probe, format: Format) -> Result<(), Stop> {
    let base = super::sharing_base(&session, &probe, MEASUREMENTS).await?;
    let token = share_token(&session, &probe, MEASUREMENTS.data_service, true).await?;
    let shared = match format {
        // The person's own BSN on the Patient: matched, and never repeated.
        Format::Json => bundles::measurements(PatientUrl::Uuid, session.bsn(Patient::A), &[WEIGHT, HEART_RATE]),
        Format::Xml => bundles::measurements(PatientUrl::Oid, None, &[WEIGHT, HEART_RATE, TEMPERATURE]),
    };
    let body = encoded(&shared.bundle, format)?;
    let request = share_request(&session, &base, &token, body, format, Some("return=representation"));
    let answer = probe.send(request).await?;
    taken(&probe, &session, &answer, format, &shared, Kind::Batch);
    Ok(())
}

async fn transaction(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let base = super::sharing_base(&session, &probe, DOCUMENTS).await?;
    let token = share_token(&session, &probe, DOCUMENTS.data_service, true).await?;
    let shared = bundles::documents(PatientUrl::Uuid, None);
    let body = encoded(&shared.bundle, Format::Json)?;
    let request = share_request(&session, &base, &token, body, Format::Json, Some("return=representation"));
    let answer = probe.send(request).await?;
    taken(&probe, &session, &answer, Format::Json, &shared, Kind::Transaction);
    Ok(())
}

/// Checks the answer to a share the target must take whole, sent with `return=representation`.
fn taken(probe: &Probe, session: &Session, answer: &Answer, format: Format, shared: &Shared, kind: Kind) {
    probe.status(answer, 200);
    let media = answer.media_type();
    probe.check(format!("answered as {}", format.media_type()), media == format.media_type(), media);
    let bundle = match body_as_json(answer, format, RELEASE) {
        Ok(bundle) => bundle,
        Err(why) => {
            probe.check(format!("a {} Bundle", kind.response()), false, why);
            return;
        }
    };
    no_bsn(probe, session, answer, Some(&bundle));
    probe.check(
        format!("a {} Bundle", kind.response()),
        bundle["resourceType"] == "Bundle" && bundle["type"] == kind.response(),
        format!("{} of type {}", bundle["resourceType"], bundle["type"]),
    );
    let entries = bundle["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
    let sent = shared.entries();
    if !probe.check(
        "an entry per entry sent",
        entries.len() == sent.len(),
        format!("{} entries for {}", entries.len(), sent.len()),
    ) {
        return;
    }
    // What each entry became: its fullUrl to `Type/id`.
    let mut became: HashMap<String, String> = HashMap::new();
    for (index, (answered, sent)) in entries.iter().zip(sent).enumerate() {
        let kind = shared.entry_type(index);
        let status = answered["response"]["status"].as_str().unwrap_or_default();
        let location = answered["response"]["location"].as_str().and_then(type_and_id);
        if kind == "Patient" {
            probe.check(
                format!("entry {index} (the Patient) is 200 OK with the location of the person's Patient"),
                status.starts_with("200") && location.as_deref().is_some_and(|at| at.starts_with("Patient/")),
                format!("{status}, location {location:?}"),
            );
            probe.check(
                format!("entry {index} (the Patient) is answered without the Patient's content"),
                answered.get("resource").is_none(),
                "the Patient is in the answer",
            );
        } else {
            probe.check(
                format!("entry {index} ({kind}) is 201 Created with a location of its type"),
                status.starts_with("201") && location.as_deref().is_some_and(|at| at.starts_with(&format!("{kind}/"))),
                format!("{status}, location {location:?}"),
            );
            let resource = &answered["resource"];
            probe.check(
                format!("entry {index} ({kind}) returns the stored resource (return=representation)"),
                resource["resourceType"] == kind && resource["id"].is_string(),
                format!("{}", resource["resourceType"]),
            );
        }
        if let (Some(full_url), Some(location)) = (sent["fullUrl"].as_str(), location) {
            became.insert(full_url.to_owned(), location);
        }
    }
    let mut wrong = Vec::new();
    for (index, (answered, sent)) in entries.iter().zip(sent).enumerate() {
        if answered.get("resource").is_none() {
            continue;
        }
        for (path, target) in links(&sent["resource"], "") {
            let expected = became.get(&target);
            let found = value_at(&answered["resource"], &path).and_then(Value::as_str);
            if expected.is_none() || found.and_then(type_and_id).as_ref() != expected {
                wrong.push(format!("entry {index} {path}: {}", found.unwrap_or("(none)")));
            }
        }
    }
    probe.check(
        "every link to another entry's fullUrl names what that entry became (the Patient: the person's)",
        wrong.is_empty(),
        wrong.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
    );
}

/// Every string in `value` that is a `urn:` (another entry's fullUrl), with its path.
fn links(value: &Value, path: &str) -> Vec<(String, String)> {
    match value {
        Value::String(text) if text.starts_with("urn:uuid:") || text.starts_with("urn:oid:") => {
            vec![(path.to_owned(), text.clone())]
        }
        Value::Object(members) => members
            .iter()
            .filter(|(name, _)| !matches!(name.as_str(), "identifier" | "masterIdentifier"))
            .flat_map(|(name, member)| {
                links(member, &if path.is_empty() { name.clone() } else { format!("{path}.{name}") })
            })
            .collect(),
        Value::Array(items) => {
            items.iter().enumerate().flat_map(|(index, item)| links(item, &format!("{path}[{index}]"))).collect()
        }
        _ => Vec::new(),
    }
}

/// The value at `path` (as [`links`] writes it) in `value`.
fn value_at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |at, step| {
        let (name, indexes) = step.split_once('[').map_or((step, ""), |(name, rest)| (name, rest));
        let mut at = at.get(name)?;
        for index in indexes.split('[').filter(|index| !index.is_empty()) {
            at = at.get(index.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
        Some(at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn links_to_entries_are_found_by_path_and_read_back() {
        let resource = json!({"subject": {"reference": "urn:oid:2.25.1"},
            "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:not-a-link"}],
            "content": [{"attachment": {"url": "urn:uuid:b"}}, {"pReference": {"reference": "Binary/x"}}]});
        let found = links(&resource, "");
        assert_eq!(
            found,
            [
                ("subject.reference".to_owned(), "urn:oid:2.25.1".to_owned()),
                ("content[0].attachment.url".to_owned(), "urn:uuid:b".to_owned())
            ]
        );
        assert_eq!(value_at(&resource, "content[0].attachment.url"), Some(&json!("urn:uuid:b")));
        assert_eq!(value_at(&resource, "content[1].pReference.reference"), Some(&json!("Binary/x")));
        assert_eq!(value_at(&resource, "content[2].attachment"), None);
    }
}
