//! What the store indexes for one resource: the values of every search parameter of its type,
//! every reference it makes, the patients whose compartment it is in, the profiles it claims and
//! (for a Patient) its BSNs.

use crate::path::select;
use chrono_tz::Tz;
use data_services::{ParamKind, TypeDefinition, canonical_without_version};
use fhir_core::{BSN_SYSTEM, date, reference};
use serde_json::Value;
use std::collections::BTreeSet;

/// A token value of a search parameter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TokenEntry {
    /// The parameter.
    pub param: String,
    /// The code system, if the element has one.
    pub system: Option<String>,
    /// The code (or identifier value).
    pub code: String,
}

/// A date value of a search parameter, as a range of milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateEntry {
    /// The parameter.
    pub param: String,
    /// First millisecond (`i64::MIN` for an open start).
    pub low: i64,
    /// Last millisecond (`i64::MAX` for an open end).
    pub high: i64,
}

/// A reference the resource makes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReferenceEntry {
    /// The search parameter it is a value of, or `None` for a reference no parameter covers
    /// (kept so that a PGO may read what its patient's records point at).
    pub param: Option<String>,
    /// The type of the target.
    pub target_type: String,
    /// The logical id of the target.
    pub target_id: String,
}

/// Everything the store indexes for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceIndex {
    /// Token values.
    pub tokens: Vec<TokenEntry>,
    /// Date values.
    pub dates: Vec<DateEntry>,
    /// References.
    pub references: Vec<ReferenceEntry>,
    /// Ids of the Patients whose compartment the resource is in. `extract` fills it for a
    /// Patient (its own); for other types ingest fills it once it has resolved whose record the
    /// resource is (`patient_link.rs` reads the references, ingest ties them to Patients).
    pub compartment: Vec<String>,
    /// The profiles it claims, without version.
    pub profiles: Vec<String>,
    /// For a Patient: its BSNs.
    pub bsns: Vec<String>,
}

/// Extracts the index of `resource`, of the type `definition` describes. Values that cannot be
/// read as their parameter's type (a malformed date, say) are left out: validation has already
/// refused resources whose elements do not fit their types.
pub fn extract(definition: &TypeDefinition, resource: &Value, zone: Tz) -> ResourceIndex {
    let mut tokens = BTreeSet::new();
    let mut dates = BTreeSet::new();
    let mut references = BTreeSet::new();
    for param in definition.params.values() {
        for path in &param.paths {
            for value in select(resource, path) {
                match param.kind {
                    ParamKind::Token => {
                        for (system, code) in token_values(value) {
                            tokens.insert(TokenEntry { param: param.name.clone(), system, code });
                        }
                    }
                    ParamKind::Date => {
                        if let Some((low, high)) = date_range(value, zone) {
                            dates.insert(DateEntry { param: param.name.clone(), low, high });
                        }
                    }
                    ParamKind::Reference => {
                        if let Some((target_type, target_id)) = reference_target(value)
                            && (param.targets.is_empty() || param.targets.iter().any(|target| target == target_type))
                        {
                            references.insert(ReferenceEntry {
                                param: Some(param.name.clone()),
                                target_type: target_type.to_owned(),
                                target_id: target_id.to_owned(),
                            });
                        }
                    }
                    ParamKind::Id | ParamKind::LastUpdated => {}
                }
            }
        }
    }
    let mut other_references = BTreeSet::new();
    collect_references(resource, &mut other_references);
    for (target_type, target_id) in other_references {
        let covered = references.iter().any(|entry| entry.target_type == target_type && entry.target_id == target_id);
        if !covered {
            references.insert(ReferenceEntry { param: None, target_type, target_id });
        }
    }
    let compartment = if definition.name == "Patient" {
        resource.get("id").and_then(Value::as_str).map(str::to_owned).into_iter().collect()
    } else {
        Vec::new()
    };
    ResourceIndex {
        tokens: tokens.into_iter().collect(),
        dates: dates.into_iter().collect(),
        references: references.into_iter().collect(),
        compartment,
        profiles: claimed_profiles(resource),
        bsns: if definition.name == "Patient" { bsns(resource) } else { Vec::new() },
    }
}

/// The profiles `resource` claims in `meta.profile`, without their version suffix.
pub fn claimed_profiles(resource: &Value) -> Vec<String> {
    select(resource, "meta.profile")
        .into_iter()
        .filter_map(Value::as_str)
        .map(|profile| canonical_without_version(profile).to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn bsns(patient: &Value) -> Vec<String> {
    select(patient, "identifier")
        .into_iter()
        .filter(|identifier| identifier.get("system").and_then(Value::as_str) == Some(BSN_SYSTEM))
        .filter_map(|identifier| identifier.get("value").and_then(Value::as_str))
        .map(|value| value.trim().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The (system, code) pairs a token parameter finds in an element: CodeableConcept, Coding,
/// Identifier or ContactPoint, code, string or boolean.
fn token_values(value: &Value) -> Vec<(Option<String>, String)> {
    let pair = |object: &Value, code_key: &str| -> Option<(Option<String>, String)> {
        let code = object.get(code_key)?.as_str()?;
        let system = object.get("system").and_then(Value::as_str).map(str::to_owned);
        Some((system, code.to_owned()))
    };
    match value {
        Value::String(code) => vec![(None, code.clone())],
        Value::Bool(flag) => vec![(None, flag.to_string())],
        Value::Object(members) => {
            if let Some(Value::Array(codings)) = members.get("coding") {
                codings.iter().filter_map(|coding| pair(coding, "code")).collect()
            } else if members.contains_key("code") {
                pair(value, "code").into_iter().collect()
            } else {
                pair(value, "value").into_iter().collect()
            }
        }
        _ => Vec::new(),
    }
}

/// The range of a date, dateTime, instant or Period element; open Period ends are unbounded.
fn date_range(value: &Value, zone: Tz) -> Option<(i64, i64)> {
    match value {
        Value::String(text) => date::parse_range(text, zone).ok().map(|range| (range.low, range.high)),
        Value::Object(period) => {
            let start = period.get("start").and_then(Value::as_str).and_then(|text| date::parse_range(text, zone).ok());
            let end = period.get("end").and_then(Value::as_str).and_then(|text| date::parse_range(text, zone).ok());
            if start.is_none() && end.is_none() {
                return None;
            }
            Some((start.map_or(i64::MIN, |range| range.low), end.map_or(i64::MAX, |range| range.high)))
        }
        _ => None,
    }
}

fn reference_target(value: &Value) -> Option<(&str, &str)> {
    reference::parse(value.get("reference")?.as_str()?)
}

/// The Binary a document's Attachment points to by a relative `url` (`Binary/{id}`): a reference
/// like any other to the index, so that the one rule for what a person may read (the records
/// that are theirs point to it) covers a document's content too. Only the relative form: an
/// absolute URL may name another server's Binary that happens to share an id with one here.
fn attachment_binary(value: &Value) -> Option<&str> {
    let id = value.get("url")?.as_str()?.strip_prefix("Binary/")?;
    reference::is_valid_id(id).then_some(id)
}

/// Every literal reference anywhere in the resource, and every Binary an Attachment points to.
fn collect_references(value: &Value, into: &mut BTreeSet<(String, String)>) {
    match value {
        Value::Object(members) => {
            if let Some((target_type, target_id)) = reference_target(value) {
                into.insert((target_type.to_owned(), target_id.to_owned()));
            }
            if let Some(binary) = attachment_binary(value) {
                into.insert(("Binary".to_owned(), binary.to_owned()));
            }
            for member in members.values() {
                collect_references(member, into);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_references(item, into);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use data_services::Catalog;
    use fhir_core::Release;
    use serde_json::json;

    const ZONE: Tz = chrono_tz::Europe::Amsterdam;

    fn definition(resource_type: &str) -> TypeDefinition {
        let catalog = Catalog::embedded().expect("definitions");
        catalog
            .release(Release::Stu3)
            .and_then(|release| release.type_definition(resource_type))
            .cloned()
            .expect("type")
    }

    #[test]
    fn indexes_codes_dates_references_and_compartment() {
        let observation = json!({
            "resourceType": "Observation", "id": "bp-1",
            "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure|3.0"]},
            "status": "final",
            "category": [{"coding": [{"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs"}]}],
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
            "subject": {"reference": "Patient/p1"},
            "performer": [{"reference": "Practitioner/dr"}],
            "effectiveDateTime": "2013-02-01T08:53:00+01:00"
        });
        let index = extract(&definition("Observation"), &observation, ZONE);
        assert!(index.tokens.contains(&TokenEntry {
            param: "code".into(),
            system: Some("http://loinc.org".into()),
            code: "85354-9".into()
        }));
        assert!(index.tokens.contains(&TokenEntry { param: "status".into(), system: None, code: "final".into() }));
        assert_eq!(index.dates.len(), 1);
        // Whose record it is, is for ingest to decide (it may need the store).
        assert!(index.compartment.is_empty());
        assert_eq!(index.profiles, ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]);
        assert!(index.references.contains(&ReferenceEntry {
            param: None,
            target_type: "Practitioner".into(),
            target_id: "dr".into()
        }));
        assert!(index.references.contains(&ReferenceEntry {
            param: Some("subject".into()),
            target_type: "Patient".into(),
            target_id: "p1".into()
        }));
    }

    #[test]
    fn a_performer_patient_is_no_link_to_the_owner() {
        let observation = json!({"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
            "performer": [{"reference": "Patient/p2"}], "status": "final", "code": {"text": "x"}});
        let links = crate::patient_links(&definition("Observation"), &observation, None);
        let targets: Vec<_> = links.links.iter().map(|link| link.target.clone()).collect();
        assert_eq!(targets, [crate::PatientTarget::Id("p1".into())]);
    }

    #[test]
    fn patients_are_their_own_compartment_and_carry_bsns() {
        let patient = json!({"resourceType": "Patient", "id": "p1", "identifier": [
            {"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "999911120"},
            {"system": "urn:oid:1.2.3", "value": "local-7"}]});
        let index = extract(&definition("Patient"), &patient, ZONE);
        assert_eq!(index.compartment, ["p1"]);
        assert_eq!(index.bsns, ["999911120"]);
    }

    #[test]
    fn a_document_points_at_its_binary_by_a_relative_url_only() {
        let reference = serde_json::json!({
            "resourceType": "DocumentReference",
            "extension": [{"url": "http://example.org/Binary/ext"}],
            "content": [
                {"attachment": {"contentType": "application/pdf", "url": "Binary/doc-1"}},
                {"attachment": {"url": "https://elsewhere.example/fhir/Binary/doc-2"}},
                {"attachment": {"url": "Binary/not an id"}}
            ]
        });
        let index = extract(&definition("DocumentReference"), &reference, chrono_tz::Europe::Amsterdam);
        let targets: Vec<(&str, &str)> =
            index.references.iter().map(|entry| (entry.target_type.as_str(), entry.target_id.as_str())).collect();
        assert_eq!(targets, [("Binary", "doc-1")]);
    }

    #[test]
    fn open_periods_are_unbounded_and_reference_targets_are_filtered() {
        let coverage = json!({"resourceType": "Coverage", "beneficiary": {"reference": "Patient/p1"},
            "payor": [{"reference": "Organization/o1"}, {"reference": "Device/d1"}]});
        let index = extract(&definition("Coverage"), &coverage, ZONE);
        let payors: Vec<&str> = index
            .references
            .iter()
            .filter(|entry| entry.param.as_deref() == Some("payor"))
            .map(|entry| entry.target_id.as_str())
            .collect();
        assert_eq!(payors, ["o1"]);
        let encounter = json!({"resourceType": "Encounter", "period": {"start": "2020-01-01"}});
        let dates = extract(&definition("Encounter"), &encounter, ZONE).dates;
        assert_eq!(dates.first().map(|entry| entry.high), Some(i64::MAX));
    }
}
