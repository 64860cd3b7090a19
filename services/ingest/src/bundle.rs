//! Transaction and batch Bundles from providers (FHIR R4 §3.1.0.11, STU3 §2.21.0.17).
//!
//! A transaction succeeds or fails as a whole: every entry is checked before anything is
//! written, references to the `fullUrl` of other entries are rewritten to the ids assigned, and
//! all writes go to the store in one database transaction (deletes, then creates, then updates).
//! A batch handles each entry on its own and reports per entry.

use crate::IngestError;
use crate::owner::KnownPatients;
use crate::prepare::{Ingestor, Rejection, RejectionKind};
use fhir_core::date::format_instant;
use fhir_core::{IssueCode, OperationOutcome, Release, reference};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use store::{Provider, Store, Write, WriteKind, WriteOutcome};

/// The Bundle types a provider may post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// All or nothing.
    Transaction,
    /// Each entry on its own.
    Batch,
}

/// One entry's request, understood.
#[derive(Debug, Clone)]
enum EntryRequest {
    Put { resource_type: String, id: String, resource: Value },
    Post { resource_type: String, resource: Value },
    Delete { resource_type: String, id: String },
}

impl Ingestor {
    /// Processes a transaction or batch Bundle for `provider` and returns the response Bundle.
    pub async fn bundle(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        bundle: Value,
    ) -> Result<Value, IngestError> {
        let kind =
            match (bundle.get("resourceType").and_then(Value::as_str), bundle.get("type").and_then(Value::as_str)) {
                (Some("Bundle"), Some("transaction")) => BundleKind::Transaction,
                (Some("Bundle"), Some("batch")) => BundleKind::Batch,
                (Some("Bundle"), other) => {
                    return Err(IngestError::Rejected(Rejection::new(
                        RejectionKind::Invalid,
                        IssueCode::NotSupported,
                        format!(
                            "only transaction and batch Bundles can be posted here, not '{}'",
                            other.unwrap_or("(none)")
                        ),
                        Some("Bundle.type".into()),
                    )));
                }
                _ => {
                    return Err(IngestError::Rejected(Rejection::new(
                        RejectionKind::Invalid,
                        IssueCode::Structure,
                        "expected a Bundle resource",
                        None,
                    )));
                }
            };
        let entries = match bundle.get("entry") {
            None => Vec::new(),
            Some(Value::Array(entries)) => entries.clone(),
            Some(_) => {
                return Err(IngestError::Rejected(Rejection::new(
                    RejectionKind::Invalid,
                    IssueCode::Structure,
                    "Bundle.entry must be an array",
                    Some("Bundle.entry".into()),
                )));
            }
        };
        match kind {
            BundleKind::Transaction => self.transaction(store, provider, release, entries).await,
            BundleKind::Batch => self.batch(store, provider, release, entries).await,
        }
    }

    async fn transaction(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        entries: Vec<Value>,
    ) -> Result<Value, IngestError> {
        let mut requests = Vec::with_capacity(entries.len());
        let mut outcome = OperationOutcome::default();
        let mut worst = RejectionKind::Unprocessable;
        for (index, entry) in entries.iter().enumerate() {
            match parse_entry(entry, index) {
                Ok(request) => {
                    requests.push((index, entry.get("fullUrl").and_then(Value::as_str).map(str::to_owned), request))
                }
                Err(rejection) => {
                    worst = RejectionKind::Invalid;
                    outcome.issues.extend(rejection.outcome.issues);
                }
            }
        }
        if outcome.has_errors() {
            return Err(IngestError::Rejected(Rejection { kind: worst, outcome, awaits_patient: false }));
        }
        // Assign ids to creates and map every fullUrl to the identity it will have.
        let mut identities: HashMap<String, String> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        for (index, full_url, request) in &mut requests {
            let identity = match request {
                EntryRequest::Put { resource_type, id, .. } | EntryRequest::Delete { resource_type, id } => {
                    format!("{resource_type}/{id}")
                }
                EntryRequest::Post { resource_type, resource } => {
                    let id = uuid::Uuid::new_v4().to_string();
                    *resource = crate::with_id(std::mem::take(resource), &id);
                    format!("{resource_type}/{id}")
                }
            };
            if !seen.insert(identity.clone()) {
                return Err(IngestError::Rejected(Rejection::new(
                    RejectionKind::Invalid,
                    IssueCode::Duplicate,
                    format!("{identity} occurs more than once in the transaction"),
                    Some(format!("Bundle.entry[{index}]")),
                )));
            }
            if let Some(full_url) = full_url {
                identities.insert(full_url.clone(), identity);
            }
        }
        let mut prepared = Vec::with_capacity(requests.len());
        let mut warnings: HashMap<usize, Vec<fhir_core::outcome::Issue>> = HashMap::new();
        // Patients first: the other entries may name them by BSN.
        let mut known = KnownPatients::default();
        let (patients, others): (Vec<_>, Vec<_>) =
            requests.into_iter().partition(|(_, _, request)| request.resource_type() == "Patient");
        for (index, _, request) in patients.into_iter().chain(others) {
            let location = format!("Bundle.entry[{index}].resource");
            let write = match request {
                EntryRequest::Delete { resource_type, id } => (0, Write::Delete { release, resource_type, id }),
                request @ (EntryRequest::Put { .. } | EntryRequest::Post { .. }) => {
                    let (order, mut resource) = match request {
                        EntryRequest::Post { resource, .. } => (1, resource),
                        EntryRequest::Put { resource, .. } => (2, resource),
                        EntryRequest::Delete { .. } => continue,
                    };
                    rewrite_references(&mut resource, &identities);
                    match self.prepare(store, provider, release, resource, Some(&location), &known).await {
                        Ok(ready) => {
                            known.add(&ready.write);
                            if !ready.warnings.is_empty() {
                                warnings.insert(index, ready.warnings);
                            }
                            (order, Write::Put(Box::new(ready.write)))
                        }
                        Err(IngestError::Store(error)) => return Err(IngestError::Store(error)),
                        Err(IngestError::Rejected(rejection)) => {
                            if rejection.kind == RejectionKind::Invalid {
                                worst = RejectionKind::Invalid;
                            }
                            outcome.issues.extend(rejection.outcome.issues);
                            continue;
                        }
                    }
                }
            };
            prepared.push((index, write));
        }
        if outcome.has_errors() {
            return Err(IngestError::Rejected(Rejection { kind: worst, outcome, awaits_patient: false }));
        }
        // FHIR's processing order: deletes, then creates, then updates; answers in entry order.
        prepared.sort_by_key(|(index, (order, _))| (*order, *index));
        let order: Vec<usize> = prepared.iter().map(|(index, _)| *index).collect();
        let outcomes = store.write(provider.id, prepared.into_iter().map(|(_, (_, write))| write).collect()).await?;
        let mut responses: Vec<(usize, Value)> = order
            .into_iter()
            .zip(outcomes)
            .map(|(index, result)| (index, response_entry(&result, warnings.remove(&index))))
            .collect();
        responses.sort_by_key(|(index, _)| *index);
        Ok(response_bundle("transaction-response", responses.into_iter().map(|(_, entry)| entry).collect()))
    }

    async fn batch(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        entries: Vec<Value>,
    ) -> Result<Value, IngestError> {
        let mut responses = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let location = format!("Bundle.entry[{index}].resource");
            let write = match parse_entry(entry, index) {
                Err(rejection) => Err(rejection),
                Ok(EntryRequest::Delete { resource_type, id }) => {
                    Ok((Write::Delete { release, resource_type, id }, Vec::new()))
                }
                Ok(EntryRequest::Post { resource, .. }) => {
                    let resource = crate::with_id(resource, &uuid::Uuid::new_v4().to_string());
                    self.prepare_entry(store, provider, release, resource, &location).await?
                }
                Ok(EntryRequest::Put { resource, .. }) => {
                    self.prepare_entry(store, provider, release, resource, &location).await?
                }
            };
            let response = match write {
                Ok((write, warnings)) => {
                    let outcomes = store.write(provider.id, vec![write]).await?;
                    match outcomes.first() {
                        Some(result) => response_entry(result, Some(warnings)),
                        None => error_entry(
                            "500 Internal Server Error",
                            OperationOutcome::error(IssueCode::Exception, "no result"),
                        ),
                    }
                }
                Err(rejection) => error_entry(status_line(rejection.kind), rejection.outcome),
            };
            responses.push(response);
        }
        Ok(response_bundle("batch-response", responses))
    }
}

impl Ingestor {
    /// A batch entry's write: each entry on its own, so the Patients it may name by BSN are the
    /// ones held (earlier entries included, as they were written before it).
    async fn prepare_entry(
        &self,
        store: &Store,
        provider: &Provider,
        release: Release,
        resource: Value,
        location: &str,
    ) -> Result<Result<(Write, Vec<fhir_core::outcome::Issue>), Rejection>, IngestError> {
        match self.prepare(store, provider, release, resource, Some(location), &KnownPatients::default()).await {
            Ok(ready) => Ok(Ok((Write::Put(Box::new(ready.write)), ready.warnings))),
            Err(IngestError::Rejected(rejection)) => Ok(Err(rejection)),
            Err(IngestError::Store(error)) => Err(IngestError::Store(error)),
        }
    }
}

impl EntryRequest {
    fn resource_type(&self) -> &str {
        match self {
            EntryRequest::Put { resource_type, .. }
            | EntryRequest::Post { resource_type, .. }
            | EntryRequest::Delete { resource_type, .. } => resource_type,
        }
    }
}

fn status_line(kind: RejectionKind) -> &'static str {
    match kind {
        RejectionKind::Invalid => "400 Bad Request",
        RejectionKind::Unprocessable => "422 Unprocessable Entity",
    }
}

fn parse_entry(entry: &Value, index: usize) -> Result<EntryRequest, Rejection> {
    let at = |path: &str| Some(format!("Bundle.entry[{index}]{path}"));
    let invalid =
        |message: String, path: &str| Rejection::new(RejectionKind::Invalid, IssueCode::Invalid, message, at(path));
    let request = entry.get("request").ok_or_else(|| invalid("the entry has no request".into(), ""))?;
    let method = request.get("method").and_then(Value::as_str).unwrap_or_default();
    let url = request.get("url").and_then(Value::as_str).unwrap_or_default();
    if url.contains('?') || request.get("ifNoneExist").is_some() || request.get("ifMatch").is_some() {
        return Err(Rejection::new(
            RejectionKind::Invalid,
            IssueCode::NotSupported,
            "conditional operations are not supported; address resources by Type/id",
            at(".request"),
        ));
    }
    let segments: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    let resource = entry.get("resource").cloned();
    let resource_type_of = |resource: &Option<Value>| {
        resource.as_ref().and_then(|r| r.get("resourceType")).and_then(Value::as_str).map(str::to_owned)
    };
    match (method, segments.as_slice()) {
        ("PUT", [resource_type, id]) if reference::is_type_name(resource_type) && reference::is_valid_id(id) => {
            let resource = resource.ok_or_else(|| invalid("a PUT entry needs a resource".into(), ".resource"))?;
            if resource_type_of(&Some(resource.clone())).as_deref() != Some(*resource_type)
                || resource.get("id").and_then(Value::as_str) != Some(*id)
            {
                return Err(invalid(format!("the resource's type and id must match request.url {url}"), ".resource"));
            }
            Ok(EntryRequest::Put { resource_type: (*resource_type).to_owned(), id: (*id).to_owned(), resource })
        }
        ("POST", [resource_type]) if reference::is_type_name(resource_type) => {
            if resource_type_of(&resource).as_deref() != Some(*resource_type) {
                return Err(invalid(format!("the resource's type must match request.url {url}"), ".resource"));
            }
            let resource = resource.unwrap_or(Value::Null);
            Ok(EntryRequest::Post { resource_type: (*resource_type).to_owned(), resource })
        }
        ("DELETE", [resource_type, id]) if reference::is_type_name(resource_type) && reference::is_valid_id(id) => {
            Ok(EntryRequest::Delete { resource_type: (*resource_type).to_owned(), id: (*id).to_owned() })
        }
        ("PUT" | "POST" | "DELETE", _) => {
            Err(invalid(format!("request.url '{url}' is not Type or Type/id"), ".request.url"))
        }
        (other, _) => Err(Rejection::new(
            RejectionKind::Invalid,
            IssueCode::NotSupported,
            format!("the method '{other}' is not supported in Bundles posted here (use PUT, POST or DELETE)"),
            at(".request.method"),
        )),
    }
}

/// Rewrites every `reference` that names another entry's `fullUrl` to the identity it got.
fn rewrite_references(value: &mut Value, identities: &HashMap<String, String>) {
    match value {
        Value::Object(members) => {
            if let Some(Value::String(target)) = members.get_mut("reference")
                && let Some(identity) = identities.get(target.as_str())
            {
                *target = identity.clone();
            }
            for member in members.values_mut() {
                rewrite_references(member, identities);
            }
        }
        Value::Array(items) => {
            for item in items {
                rewrite_references(item, identities);
            }
        }
        _ => {}
    }
}

fn response_entry(result: &WriteOutcome, warnings: Option<Vec<fhir_core::outcome::Issue>>) -> Value {
    let status = match result.kind {
        WriteKind::Created => "201 Created",
        WriteKind::Updated | WriteKind::Unchanged => "200 OK",
        WriteKind::Deleted | WriteKind::NotFound => "204 No Content",
    };
    let mut response = Map::new();
    response.insert("status".into(), json!(status));
    if result.body.is_some() {
        response.insert(
            "location".into(),
            json!(format!("{}/{}/_history/{}", result.resource_type, result.id, result.version_id)),
        );
        response.insert("etag".into(), json!(format!("W/\"{}\"", result.version_id)));
        response.insert("lastModified".into(), json!(format_instant(result.last_updated)));
    }
    if let Some(warnings) = warnings.filter(|warnings| !warnings.is_empty()) {
        response.insert("outcome".into(), OperationOutcome { issues: warnings }.to_json());
    }
    json!({"response": Value::Object(response)})
}

fn error_entry(status: &str, outcome: OperationOutcome) -> Value {
    json!({"response": {"status": status, "outcome": outcome.to_json()}})
}

fn response_bundle(kind: &str, entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "id": uuid::Uuid::new_v4().to_string(), "type": kind, "entry": entries})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_to_entries_are_rewritten_everywhere() {
        let mut resource = json!({"subject": {"reference": "urn:uuid:1"}, "performer": [{"reference": "urn:uuid:2"}, {"reference": "Practitioner/x"}]});
        let identities = HashMap::from([
            ("urn:uuid:1".to_owned(), "Patient/a".to_owned()),
            ("urn:uuid:2".to_owned(), "Practitioner/b".to_owned()),
        ]);
        rewrite_references(&mut resource, &identities);
        assert_eq!(
            resource,
            json!({"subject": {"reference": "Patient/a"}, "performer": [{"reference": "Practitioner/b"}, {"reference": "Practitioner/x"}]})
        );
    }

    #[test]
    fn entries_need_a_supported_method_and_url() {
        let get = json!({"request": {"method": "GET", "url": "Patient/a"}});
        assert!(parse_entry(&get, 0).is_err());
        let conditional = json!({"request": {"method": "PUT", "url": "Patient?identifier=x"}, "resource": {"resourceType": "Patient"}});
        assert!(parse_entry(&conditional, 0).is_err());
        let mismatch = json!({"request": {"method": "PUT", "url": "Patient/a"}, "resource": {"resourceType": "Patient", "id": "b"}});
        assert!(parse_entry(&mismatch, 0).is_err());
        let delete = json!({"request": {"method": "DELETE", "url": "Patient/a"}});
        assert!(matches!(parse_entry(&delete, 0), Ok(EntryRequest::Delete { .. })));
    }
}
