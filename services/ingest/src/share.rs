//! Delen: a Bundle a PGO shares for the person of its access token, taken into the provider's
//! records (FHIR STU3 §2.21.0.17 batch and transaction, as MedMij's receiving systems take them).
//!
//! - The Bundle's type is the one the data service takes (`[sharing] bundle`): a batch stores or
//!   refuses each entry on its own, a transaction all of them or none. What is stored of either is
//!   written in one database transaction, after every entry was checked.
//! - A Patient entry is the token's person. It is never stored: it is matched to the person's
//!   Patient at the provider, and every reference to it (its `fullUrl`, `urn:uuid:`/`urn:oid:`
//!   included, or `Patient/{its id}`) is rewritten to that Patient. A Patient entry carrying the
//!   BSN of someone else refuses the whole Bundle.
//! - Every other entry is a `POST` of a type the data service receives (`create`), claiming one
//!   of its profiles, passing the checks ingest makes of a provider's resource, and in no
//!   compartment but the person's. It gets a new id; references to it within the Bundle (by
//!   `fullUrl` or `Type/{its id}`, and a DocumentReference's attachment URL naming its Binary)
//!   are rewritten to it.
//! - What is stored is stored by the store's `share`: creates only, with the provenance of the
//!   share (which PGO, when, the request ids).

use crate::prepare::{Ingestor, Rejection, RejectionKind};
use crate::{IngestError, KnownPatients};
use data_services::{DataService, Interaction, SharedBundle};
use fhir_core::outcome::Issue;
use fhir_core::{BSN_SYSTEM, IssueCode, OperationOutcome, reference};
use serde_json::Value;
use std::collections::HashMap;
use store::{Provider, Sharing, Store, Write, WriteOutcome};

/// Who shares what, where.
#[derive(Debug, Clone, Copy)]
pub struct ShareRequest<'a> {
    /// The provider shared with.
    pub provider: &'a Provider,
    /// The data service shared under.
    pub service: &'a DataService,
    /// The token's person key (`sub`).
    pub person_key: &'a str,
    /// The person's Patients at the provider (from the token's person key).
    pub patient_ids: &'a [String],
    /// The provenance the stored resources get.
    pub sharing: &'a Sharing,
}

/// What came of one entry.
#[derive(Debug, Clone)]
pub enum SharedEntry {
    /// The Bundle's Patient: the person's own Patient at the provider, not stored.
    Person {
        /// Its id at the provider.
        patient_id: String,
    },
    /// Stored.
    Stored {
        /// The write.
        outcome: WriteOutcome,
        /// Warnings it earned (unknown elements kept, ...).
        warnings: Vec<Issue>,
    },
    /// Refused (a batch's entry).
    Refused(Rejection),
}

/// What came of a shared Bundle, entry by entry in the Bundle's order.
#[derive(Debug, Clone)]
pub struct Shared {
    /// The Bundle's type.
    pub bundle: SharedBundle,
    /// Per entry.
    pub entries: Vec<SharedEntry>,
}

impl Shared {
    /// How many resources were stored.
    pub fn stored(&self) -> usize {
        self.entries.iter().filter(|entry| matches!(entry, SharedEntry::Stored { .. })).count()
    }
}

/// One entry, read.
struct Entry {
    index: usize,
    resource_type: String,
    resource: Value,
    /// The names the Bundle may use for it: its `fullUrl`, and `Type/{id}` when it has an id.
    names: Vec<String>,
}

impl Ingestor {
    /// Takes the Bundle `bundle` that `request`'s PGO shares; refuses it whole when it is not a
    /// Bundle of the data service's type, names someone else, or (a transaction) has any entry
    /// that cannot be stored.
    pub async fn share(&self, store: &Store, request: ShareRequest<'_>, bundle: Value) -> Result<Shared, IngestError> {
        let refuse =
            |kind, code, text: String, at: Option<String>| IngestError::Rejected(Rejection::new(kind, code, text, at));
        let Some(sharing) = &request.service.sharing else {
            return Err(refuse(
                RejectionKind::Unprocessable,
                IssueCode::NotSupported,
                format!("data service {} receives nothing: PGOs collect it", request.service.id),
                None,
            ));
        };
        let kind = sharing.bundle;
        match (bundle.get("resourceType").and_then(Value::as_str), bundle.get("type").and_then(Value::as_str)) {
            (Some("Bundle"), Some(found)) if found == kind.code() => {}
            (Some("Bundle"), found) => {
                return Err(refuse(
                    RejectionKind::Invalid,
                    IssueCode::NotSupported,
                    format!(
                        "data service {} takes a {} Bundle, not '{}'",
                        request.service.id,
                        kind.code(),
                        found.unwrap_or("(no type)")
                    ),
                    Some("Bundle.type".into()),
                ));
            }
            _ => {
                return Err(refuse(
                    RejectionKind::Invalid,
                    IssueCode::Structure,
                    format!("a {} Bundle is expected at the FHIR base", kind.code()),
                    None,
                ));
            }
        }
        let raw_entries = match bundle.get("entry") {
            Some(Value::Array(entries)) if !entries.is_empty() => entries,
            Some(Value::Array(_)) | None => {
                return Err(refuse(
                    RejectionKind::Invalid,
                    IssueCode::Required,
                    "the Bundle has no entries".into(),
                    Some("Bundle.entry".into()),
                ));
            }
            Some(_) => {
                return Err(refuse(
                    RejectionKind::Invalid,
                    IssueCode::Structure,
                    "Bundle.entry must be an array".into(),
                    Some("Bundle.entry".into()),
                ));
            }
        };
        let Some(patient_id) = request.patient_ids.first() else {
            return Err(refuse(
                RejectionKind::Unprocessable,
                IssueCode::NotFound,
                "the provider holds no record of the person; a share is taken into the person's record".into(),
                None,
            ));
        };
        let person_reference = format!("Patient/{patient_id}");
        // Read every entry; a Patient entry is checked to be the person before anything else.
        let mut results: Vec<Option<SharedEntry>> = vec![None; raw_entries.len()];
        let mut entries = Vec::new();
        let mut identities: HashMap<String, String> = HashMap::new();
        for (index, raw) in raw_entries.iter().enumerate() {
            let entry = read_entry(raw, index);
            // A name two entries share would make references to it ambiguous (FHIR: a fullUrl is
            // unique within a Bundle).
            if let Ok(entry) = &entry
                && let Some(name) = entry.names.iter().find(|name| identities.contains_key(*name))
            {
                return Err(refuse(
                    RejectionKind::Invalid,
                    IssueCode::Duplicate,
                    format!("{name} names more than one entry of the Bundle"),
                    Some(format!("Bundle.entry[{index}]")),
                ));
            }
            match entry {
                Ok(entry) if entry.resource_type == "Patient" => {
                    self.check_person(&request, &entry)?;
                    for name in &entry.names {
                        identities.insert(name.clone(), person_reference.clone());
                    }
                    results[index] = Some(SharedEntry::Person { patient_id: patient_id.clone() });
                }
                Ok(mut entry) => {
                    let id = uuid::Uuid::new_v4().to_string();
                    for name in &entry.names {
                        identities.insert(name.clone(), format!("{}/{id}", entry.resource_type));
                    }
                    entry.resource = crate::with_id(std::mem::take(&mut entry.resource), &id);
                    entries.push(entry);
                }
                Err(rejection) => results[index] = Some(SharedEntry::Refused(rejection)),
            }
        }
        let mut writes = Vec::new();
        for mut entry in entries {
            rewrite(&mut entry.resource, &identities);
            let index = entry.index;
            match self.received(store, &request, entry).await? {
                Ok((write, warnings)) => writes.push((index, write, warnings)),
                Err(rejection) => results[index] = Some(SharedEntry::Refused(rejection)),
            }
        }
        // A transaction stores nothing when any entry is refused; a batch stores the entries that
        // passed. Either way what is stored goes in one database transaction: every refusal was
        // decided above, so no entry's write depends on another's, and one commit serves them all.
        if kind == SharedBundle::Transaction {
            let mut outcome = OperationOutcome::default();
            let mut worst = RejectionKind::Unprocessable;
            for refused in results.iter().flatten() {
                if let SharedEntry::Refused(rejection) = refused {
                    if rejection.kind == RejectionKind::Invalid {
                        worst = RejectionKind::Invalid;
                    }
                    outcome.issues.extend(rejection.outcome.issues.iter().cloned());
                }
            }
            if !outcome.issues.is_empty() {
                return Err(IngestError::Rejected(Rejection { kind: worst, outcome, awaits_patient: false }));
            }
        }
        if !writes.is_empty() {
            let mut puts = Vec::with_capacity(writes.len());
            let mut placed = Vec::with_capacity(writes.len());
            for (index, write, warnings) in writes {
                puts.push(write);
                placed.push((index, warnings));
            }
            let outcomes = store.share(request.provider.id, request.sharing, puts).await?;
            for ((index, warnings), outcome) in placed.into_iter().zip(outcomes) {
                results[index] = Some(SharedEntry::Stored { outcome, warnings });
            }
        }
        let entries = results
            .into_iter()
            .map(|result| {
                result.unwrap_or_else(|| {
                    SharedEntry::Refused(Rejection::new(
                        RejectionKind::Unprocessable,
                        IssueCode::Exception,
                        "the entry was not processed",
                        None,
                    ))
                })
            })
            .collect();
        Ok(Shared { bundle: kind, entries })
    }

    /// Refuses the Bundle when its Patient carries a BSN that is not the token's person's. (A
    /// Patient without a BSN, as the qualification's fixtures send, is the person by the token.)
    fn check_person(&self, request: &ShareRequest<'_>, entry: &Entry) -> Result<(), IngestError> {
        let identifiers = entry.resource.get("identifier").and_then(Value::as_array).into_iter().flatten();
        let bsns = identifiers
            .filter(|identifier| identifier.get("system").and_then(Value::as_str) == Some(BSN_SYSTEM))
            .filter_map(|identifier| identifier.get("value").and_then(Value::as_str));
        for bsn in bsns {
            if self.secret.person_key(&request.provider.name, bsn) != request.person_key {
                // The message never repeats the number.
                return Err(IngestError::Rejected(Rejection::new(
                    RejectionKind::Unprocessable,
                    IssueCode::Forbidden,
                    "the Bundle's Patient is not the person the access token is for",
                    Some(format!("Bundle.entry[{}].resource.identifier", entry.index)),
                )));
            }
        }
        Ok(())
    }

    /// One entry checked as the data service receives it and as ingest checks a provider's
    /// resource, tied to the person's record only.
    async fn received(
        &self,
        store: &Store,
        request: &ShareRequest<'_>,
        entry: Entry,
    ) -> Result<Result<(Write, Vec<Issue>), Rejection>, IngestError> {
        let location = format!("Bundle.entry[{}].resource", entry.index);
        let service = request.service;
        let received = service.served(&entry.resource_type).filter(|served| served.allows(Interaction::Create));
        let Some(received) = received else {
            return Ok(Err(Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::NotSupported,
                format!("data service {} does not receive {}", service.id, entry.resource_type),
                Some(location),
            )));
        };
        let claimed = fhir_search::index::claimed_profiles(&entry.resource);
        if !received.claims_profile(claimed.iter().map(String::as_str)) {
            return Ok(Err(Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::Invalid,
                format!("meta.profile must claim one of: {}", received.profiles.join(", ")),
                Some(format!("{location}.meta.profile")),
            )));
        }
        let prepared = match self
            .prepare(
                store,
                request.provider,
                service.release,
                entry.resource,
                Some(&location),
                &KnownPatients::default(),
            )
            .await
        {
            Ok(prepared) => prepared,
            Err(IngestError::Rejected(rejection)) => return Ok(Err(rejection)),
            Err(error) => return Err(error),
        };
        if prepared.write.index.compartment.iter().any(|patient| !request.patient_ids.contains(patient)) {
            tracing::info!(entry = entry.index, "a shared resource names a Patient that is not the token's person");
            return Ok(Err(Rejection::new(
                RejectionKind::Unprocessable,
                IssueCode::Forbidden,
                "the resource is of a Patient that is not the person the access token is for",
                Some(location),
            )));
        }
        Ok(Ok((Write::Put(Box::new(prepared.write)), prepared.warnings)))
    }
}

/// Reads entry `index`: a `POST` of a resource of the type its URL names (a Patient entry may be
/// a `PUT`, as it is matched, never written).
fn read_entry(raw: &Value, index: usize) -> Result<Entry, Rejection> {
    let at = |path: &str| Some(format!("Bundle.entry[{index}]{path}"));
    let invalid = |code, message: String, path: &str| Rejection::new(RejectionKind::Invalid, code, message, at(path));
    let resource = raw
        .get("resource")
        .filter(|resource| resource.is_object())
        .cloned()
        .ok_or_else(|| invalid(IssueCode::Required, "the entry has no resource".into(), ""))?;
    let resource_type = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .filter(|name| reference::is_type_name(name))
        .map(str::to_owned)
        .ok_or_else(|| invalid(IssueCode::Structure, "the entry's resource has no resourceType".into(), ".resource"))?;
    let request =
        raw.get("request").ok_or_else(|| invalid(IssueCode::Required, "the entry has no request".into(), ""))?;
    let method = request.get("method").and_then(Value::as_str).unwrap_or_default();
    let url = request.get("url").and_then(Value::as_str).unwrap_or_default();
    let patient = resource_type == "Patient";
    match method {
        "POST" => {
            if url.trim_matches('/') != resource_type {
                return Err(invalid(
                    IssueCode::Invalid,
                    format!("request.url '{url}' must name the resource's type, {resource_type}"),
                    ".request.url",
                ));
            }
        }
        "PUT" if patient => {}
        _ => {
            return Err(invalid(
                IssueCode::NotSupported,
                format!(
                    "a shared Bundle only adds to the person's record: {} is not taken (use POST)",
                    if method.is_empty() { "an entry without a method" } else { method }
                ),
                ".request.method",
            ));
        }
    }
    let mut names = Vec::new();
    if let Some(full_url) = raw.get("fullUrl").and_then(Value::as_str) {
        names.push(full_url.to_owned());
    }
    if let Some(id) = resource.get("id").and_then(Value::as_str).filter(|id| reference::is_valid_id(id)) {
        names.push(format!("{resource_type}/{id}"));
    }
    Ok(Entry { index, resource_type, resource, names })
}

/// Rewrites every reference to another entry of the Bundle (`reference`) and every attachment
/// URL naming one (`url` of an object holding `contentType`, as a DocumentReference names its
/// Binary) to the identity it got.
fn rewrite(value: &mut Value, identities: &HashMap<String, String>) {
    match value {
        Value::Object(members) => {
            let attachment = members.contains_key("contentType");
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(target) if name == "reference" || (attachment && name == "url") => {
                        if let Some(identity) = identities.get(target.as_str()) {
                            *target = identity.clone();
                        }
                    }
                    _ => rewrite(member, identities),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite(item, identities)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_and_attachment_urls_to_entries_are_rewritten() {
        let identities = HashMap::from([
            ("urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.1".to_owned(), "Patient/p1".to_owned()),
            ("Binary/b-1".to_owned(), "Binary/new".to_owned()),
        ]);
        let mut resource = json!({
            "subject": {"reference": "urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.1"},
            "performer": [{"reference": "urn:oid:2.16.840.1.113883.2.4.3.11.999.9999.1"}, {"reference": "Practitioner/x"}],
            "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/b-1"}}],
            "related": [{"url": "Binary/b-1"}]
        });
        rewrite(&mut resource, &identities);
        assert_eq!(resource["subject"]["reference"], "Patient/p1");
        assert_eq!(resource["performer"][0]["reference"], "Patient/p1");
        assert_eq!(resource["performer"][1]["reference"], "Practitioner/x", "not an entry: left alone");
        assert_eq!(resource["content"][0]["attachment"]["url"], "Binary/new");
        assert_eq!(resource["related"][0]["url"], "Binary/b-1", "a url outside an attachment is not a reference");
    }

    #[test]
    fn an_entry_is_a_post_of_its_type_or_the_persons_patient_named_by_its_full_url_and_id() {
        let post = json!({"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Observation", "id": "a"}, "request": {"method": "POST", "url": "Observation"}});
        let entry = read_entry(&post, 0).expect("a create");
        assert_eq!(entry.names, ["urn:uuid:1", "Observation/a"]);
        let put = json!({"resource": {"resourceType": "Observation", "id": "a"}, "request": {"method": "PUT", "url": "Observation/a"}});
        let refused = read_entry(&put, 3).err().expect("a PGO never updates");
        assert_eq!(refused.outcome.issues[0].expression, ["Bundle.entry[3].request.method"]);
        let patient = json!({"resource": {"resourceType": "Patient", "id": "p"}, "request": {"method": "PUT", "url": "Patient/p"}});
        assert!(read_entry(&patient, 0).is_ok(), "the Patient is matched, never written");
        let wrong_url =
            json!({"resource": {"resourceType": "Observation"}, "request": {"method": "POST", "url": "Condition"}});
        assert!(read_entry(&wrong_url, 0).is_err());
        let delete = json!({"request": {"method": "DELETE", "url": "Observation/a"}});
        assert!(read_entry(&delete, 0).is_err());
    }
}
