//! A primitive given by its extensions alone (FHIR allows a value to be absent when extensions
//! say why) is valid, also where fhir-sdk models the element as a required choice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_validate::{Release, check};
use serde_json::json;

fn immunization(occurrence: serde_json::Value) -> serde_json::Value {
    let mut resource = json!({"resourceType": "Immunization", "id": "i1", "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://snomed.info/sct", "code": "871878002"}]},
        "patient": {"reference": "Patient/p1"}});
    for (name, value) in occurrence.as_object().expect("members") {
        resource[name] = value.clone();
    }
    resource
}

fn data_absent() -> serde_json::Value {
    json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]})
}

#[test]
fn a_required_choice_given_only_by_its_extension_is_valid() {
    let resource = immunization(json!({"_occurrenceDateTime": data_absent()}));
    assert_eq!(check(Release::R4, &resource), Default::default());
}

#[test]
fn a_required_choice_given_by_neither_value_nor_extension_is_still_an_error() {
    let report = check(Release::R4, &immunization(json!({})));
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert!(report.errors[0].message.contains("ImmunizationOccurrence"), "{report:?}");
}

#[test]
fn a_broken_extension_of_a_value_less_choice_is_not_passed_silently() {
    // fhir-sdk drops an extension it cannot read; the comparison then names it as not understood.
    let broken = json!({"extension": [{"url": 7}]});
    let report = check(Release::R4, &immunization(json!({"_occurrenceDateTime": broken})));
    assert_ne!(report, Default::default());
}

#[test]
fn an_optional_primitive_given_only_by_its_extension_is_valid() {
    let patient = json!({"resourceType": "Patient", "id": "p1", "_birthDate": data_absent()});
    assert_eq!(check(Release::Stu3, &patient), Default::default());
}

#[test]
fn an_element_named_after_its_type_given_only_by_its_extension_is_valid() {
    // NutritionOrder.dateTime (the BgZ qualification's nutrition advice has only a
    // data-absent-reason): its name ends in `Time` too, which is not its type.
    let order = json!({"resourceType": "NutritionOrder", "id": "n1", "status": "active",
        "patient": {"reference": "Patient/p1"}, "_dateTime": data_absent()});
    assert_eq!(check(Release::Stu3, &order), Default::default());
}
