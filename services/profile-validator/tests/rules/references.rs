//! References: the type a reference's target must have, and, for a target in the same Bundle,
//! the profile it must conform to.

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::Rule;
use serde_json::{Value, json};

/// A Patient profile that requires an identifier.
fn identified_patient(url: &str) -> Value {
    profile(
        url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.identifier", "path": "Patient.identifier", "min": 1})],
    )
}

/// An Observation profile whose subject must be one of our Patients; `target_profile` is written
/// as the release writes it (STU3 one string, R4 a list).
fn patient_observation(url: &str, target_profile: Value) -> Value {
    profile(
        url,
        "Observation",
        &core("Observation"),
        vec![json!({"id": "Observation.subject", "path": "Observation.subject", "min": 1,
            "type": [{"code": "Reference", "targetProfile": target_profile}]})],
    )
}

fn observation(subject: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": subject}})
}

/// The base allows a Group as subject; the profile does not.
#[test]
fn a_reference_must_name_a_target_type_the_profile_allows() {
    let patient_url = url("identified-patient");
    let url = url("observation-of-a-patient");
    for (release, target_profile) in [(Release::Stu3, json!(patient_url)), (Release::R4, json!([patient_url]))] {
        let validator =
            load_clean(release, &[identified_patient(&patient_url), patient_observation(&url, target_profile)]);

        assert_valid(&check(&validator, &observation("Patient/1"), &url));
        assert_valid(&check(&validator, &observation("https://example.org/fhir/Patient/1"), &url));
        assert_errors(
            &check(&validator, &observation("Group/1"), &url),
            &[("Observation.subject.reference", Rule::Type, &format!("{url}#Observation.subject"))],
        );
    }
}

/// An R4 collection Bundle: the Observation (claiming our profile) refers to the Patient entry
/// by its `fullUrl`; that Patient must conform to the target profile.
#[test]
fn a_target_in_the_bundle_must_conform_to_the_target_profile() {
    let patient_url = url("identified-patient");
    let url = url("observation-of-a-patient");
    let validator =
        load_clean(Release::R4, &[identified_patient(&patient_url), patient_observation(&url, json!([patient_url]))]);
    let patient_full_url = "urn:uuid:0d0a3b4e-6f0e-4f4b-8f0a-1b2c3d4e5f60";
    let bundle = |patient: Value| {
        let mut observation = observation(patient_full_url);
        observation["meta"] = json!({"profile": [url]});
        json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7", "resource": observation},
            {"fullUrl": patient_full_url, "resource": patient}
        ]})
    };

    let identified =
        json!({"resourceType": "Patient", "identifier": [{"system": "http://example.org/ids", "value": "1"}]});
    assert_valid(&check(&validator, &bundle(identified), &core("Bundle")));
    let anonymous = json!({"resourceType": "Patient", "active": true});
    assert_errors(
        &check(&validator, &bundle(anonymous), &core("Bundle")),
        &[("Bundle.entry[0].resource.subject.reference", Rule::Reference, &format!("{url}#Observation.subject"))],
    );
}

/// The referenced entry's type is read from the entry itself, not only from the reference text.
#[test]
fn a_target_in_the_bundle_is_typed_by_its_resource() {
    let patient_url = url("identified-patient");
    let url = url("observation-of-a-patient");
    let validator =
        load_clean(Release::R4, &[identified_patient(&patient_url), patient_observation(&url, json!([patient_url]))]);
    let group_full_url = "urn:uuid:1f0e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
    let mut subject_of_a_group = observation(group_full_url);
    subject_of_a_group["meta"] = json!({"profile": [url]});
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7", "resource": subject_of_a_group},
        {"fullUrl": group_full_url, "resource": {"resourceType": "Group", "type": "person", "actual": true}}
    ]});

    assert_errors(
        &validator.validate(&bundle, &[]),
        &[("Bundle.entry[0].resource.subject.reference", Rule::Type, &format!("{url}#Observation.subject"))],
    );
}
