//! The index extraction of whole resources: every kind's values read along the definitions'
//! paths, the references no parameter covers, compartment, profiles and BSNs.

use super::*;
use crate::kinds::date::DateEntry;
use crate::kinds::quantity::QuantityEntry;
use crate::kinds::string::StringEntry;
use crate::kinds::token::TokenEntry;
use data_services::Catalog;
use fhir_core::Release;
use serde_json::json;

const ZONE: Tz = chrono_tz::Europe::Amsterdam;

fn definition_in(release: Release, resource_type: &str) -> TypeDefinition {
    let catalog = Catalog::embedded().expect("definitions");
    catalog.release(release).and_then(|release| release.type_definition(resource_type)).cloned().expect("type")
}

fn definition(resource_type: &str) -> TypeDefinition {
    definition_in(Release::Stu3, resource_type)
}

fn reference(param: Option<&str>, target_type: &str, target_id: &str) -> IndexEntry {
    IndexEntry {
        param: param.map(str::to_owned),
        value: IndexValue::Reference(ReferenceEntry { target_type: target_type.into(), target_id: target_id.into() }),
    }
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
    let code = TokenEntry { system: Some("http://loinc.org".into()), code: "85354-9".into() };
    assert!(index.values_of("code").any(|value| *value == IndexValue::Token(code.clone())));
    let status = TokenEntry { system: None, code: "final".into() };
    assert!(index.values_of("status").any(|value| *value == IndexValue::Token(status.clone())));
    assert_eq!(index.values_of("date").count(), 1);
    // Whose record it is, is for ingest to decide (it may need the store).
    assert!(index.compartment.is_empty());
    assert_eq!(index.profiles, ["http://nictiz.nl/fhir/StructureDefinition/zib-BloodPressure"]);
    assert!(index.entries.contains(&reference(None, "Practitioner", "dr")));
    assert!(index.entries.contains(&reference(Some("subject"), "Patient", "p1")));
    // A reference a parameter covers is not also kept without one.
    assert!(!index.entries.contains(&reference(None, "Patient", "p1")));
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
    let index = extract(&definition("DocumentReference"), &reference, ZONE);
    let targets: Vec<(&str, &str)> = index
        .entries
        .iter()
        .filter_map(|entry| match &entry.value {
            IndexValue::Reference(reference) => Some((reference.target_type.as_str(), reference.target_id.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(targets, [("Binary", "doc-1")]);
}

#[test]
fn open_periods_are_unbounded_and_reference_targets_are_filtered() {
    let coverage = json!({"resourceType": "Coverage", "beneficiary": {"reference": "Patient/p1"},
        "payor": [{"reference": "Organization/o1"}, {"reference": "Device/d1"}]});
    let index = extract(&definition("Coverage"), &coverage, ZONE);
    let payors: Vec<&IndexValue> = index.values_of("payor").collect();
    let o1 = IndexValue::Reference(ReferenceEntry { target_type: "Organization".into(), target_id: "o1".into() });
    assert_eq!(payors, [&o1]);
    let encounter = json!({"resourceType": "Encounter", "period": {"start": "2020-01-01"}});
    let index = extract(&definition("Encounter"), &encounter, ZONE);
    let dates: Vec<&IndexValue> = index.values_of("date").collect();
    assert!(matches!(dates.as_slice(), [IndexValue::Date(DateEntry { high: i64::MAX, .. })]));
}

#[test]
fn patients_are_indexed_by_their_names_and_addresses_in_both_releases() {
    let patient = json!({"resourceType": "Patient", "id": "p1",
        "name": [{"family": "Müller", "given": ["Anna"], "text": "Anna Müller"}],
        "address": [{"line": ["Hoofdstraat 1"], "city": "'s-Hertogenbosch", "postalCode": "5211 AA"}]});
    for release in [Release::Stu3, Release::R4] {
        let index = extract(&definition_in(release, "Patient"), &patient, ZONE);
        let texts = |param: &str| -> Vec<String> {
            index
                .values_of(param)
                .filter_map(|value| match value {
                    IndexValue::String(StringEntry { value, .. }) => Some(value.clone()),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(texts("family"), ["Müller"], "{release:?}");
        assert_eq!(texts("given"), ["Anna"], "{release:?}");
        assert_eq!(texts("name"), ["Anna", "Anna Müller", "Müller"], "{release:?}");
        assert_eq!(texts("address-city"), ["'s-Hertogenbosch"], "{release:?}");
    }
}

#[test]
fn observations_are_indexed_by_their_quantity_value_in_both_releases() {
    let observation = json!({"resourceType": "Observation", "status": "final", "code": {"text": "weight"},
        "valueQuantity": {"value": 72.50, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}});
    for release in [Release::Stu3, Release::R4] {
        let index = extract(&definition_in(release, "Observation"), &observation, ZONE);
        let quantities: Vec<&IndexValue> = index.values_of("value-quantity").collect();
        let [IndexValue::Quantity(QuantityEntry { value, code, .. })] = quantities.as_slice() else {
            panic!("one quantity in {release:?}: {quantities:?}")
        };
        assert_eq!((value.0, code.as_deref()), (72.5, Some("kg")));
    }
}
