//! Types: an element restricted to one type of its choice, and a type profile on a data type
//! (the data type's own profile then applies to the value, with its rules named as its own).

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::Rule;
use serde_json::{Value, json};

fn observation(value: (&str, Value)) -> Value {
    let mut observation = json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}});
    observation[value.0] = value.1;
    observation
}

#[test]
fn a_choice_restricted_to_quantity_refuses_a_string() {
    for release in [Release::Stu3, Release::R4] {
        let url = url("quantity-only");
        let definition = profile(
            &url,
            "Observation",
            &core("Observation"),
            vec![json!({"id": "Observation.value[x]", "path": "Observation.value[x]", "type": [{"code": "Quantity"}]})],
        );
        let validator = load_clean(release, &[definition]);

        let quantity = observation(("valueQuantity", json!({"value": 80, "unit": "kg"})));
        assert_valid(&check(&validator, &quantity, &url));
        let string = observation(("valueString", json!("80 kg")));
        assert_errors(
            &check(&validator, &string, &url),
            &[("Observation.valueString", Rule::Type, &format!("{url}#Observation.value[x]"))],
        );
    }
}

/// Our own HumanName profile that requires `family`.
fn family_required(url: &str) -> Value {
    profile(
        url,
        "HumanName",
        &core("HumanName"),
        vec![
            json!({"id": "HumanName", "path": "HumanName"}),
            json!({"id": "HumanName.family", "path": "HumanName.family", "min": 1}),
        ],
    )
}

/// STU3 writes a type's profile as one string, R4 as a list: both name the HumanName profile.
#[test]
fn a_type_profile_on_a_data_type_applies_to_every_value() {
    for (release, profile_field) in
        [(Release::Stu3, json!(url("family-required"))), (Release::R4, json!([url("family-required")]))]
    {
        let name_url = url("family-required");
        let patient_url = url("patient-with-family-names");
        let patient = profile(
            &patient_url,
            "Patient",
            &core("Patient"),
            vec![json!({"id": "Patient.name", "path": "Patient.name",
                "type": [{"code": "HumanName", "profile": profile_field}]})],
        );
        let validator = load_clean(release, &[family_required(&name_url), patient]);

        let good = json!({"resourceType": "Patient", "name": [{"family": "Jansen"}, {"family": "Bakker"}]});
        assert_valid(&check(&validator, &good, &patient_url));
        let bad = json!({"resourceType": "Patient", "name": [{"family": "Jansen"}, {"given": ["Piet"]}]});
        assert_errors(
            &check(&validator, &bad, &patient_url),
            &[("Patient.name[1].family", Rule::Cardinality, &format!("{name_url}#HumanName.family"))],
        );
    }
}

/// A type profile binds the element that names it: other values of the same data type elsewhere
/// in the resource are not held to it.
#[test]
fn a_type_profile_applies_only_where_the_profile_names_it() {
    let name_url = url("family-required");
    let patient_url = url("patient-with-family-names");
    let patient = profile(
        &patient_url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.name", "path": "Patient.name",
            "type": [{"code": "HumanName", "profile": [name_url]}]})],
    );
    let validator = load_clean(Release::R4, &[family_required(&name_url), patient]);

    // A contact's name is a HumanName as well, but the profile only constrains `Patient.name`.
    let contact = json!({"resourceType": "Patient", "name": [{"family": "Jansen"}],
        "contact": [{"name": {"given": ["Piet"]}}]});
    assert_valid(&check(&validator, &contact, &patient_url));
}
