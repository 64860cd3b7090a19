//! Structure and profile use: members a type does not have, a profile of another type, and a
//! profile that is not loaded.

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::json;

#[test]
fn an_unknown_member_is_a_structure_error() {
    for release in [Release::Stu3, Release::R4] {
        let validator = Validator::base(release);

        assert_valid(&validator.validate(&json!({"resourceType": "Patient", "active": true}), &[]));
        let unknown =
            json!({"resourceType": "Patient", "active": true, "foo": 1, "name": [{"family": "J", "bar": "x"}]});
        assert_errors(
            &validator.validate(&unknown, &[]),
            &[("Patient.foo", Rule::Structure, "base"), ("Patient.name[0].bar", Rule::Structure, "base")],
        );
    }
}

/// A member of another release is unknown in this one (`Observation.hasMember` is R4 only).
#[test]
fn a_member_is_known_by_the_release() {
    let observation = json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85353-1"}]},
        "hasMember": [{"reference": "Observation/1"}]});

    assert_valid(&Validator::base(Release::R4).validate(&observation, &[]));
    assert_errors(
        &Validator::base(Release::Stu3).validate(&observation, &[]),
        &[("Observation.hasMember", Rule::Structure, "base")],
    );
}

#[test]
fn a_profile_of_another_type_is_a_profile_error() {
    let url = url("an-observation");
    let validator = load_clean(
        Release::R4,
        &[profile(
            &url,
            "Observation",
            &core("Observation"),
            vec![json!({"id": "Observation", "path": "Observation"})],
        )],
    );

    assert_errors(&check(&validator, &json!({"resourceType": "Patient"}), &url), &[("Patient", Rule::Profile, &url)]);
}

#[test]
fn an_unknown_profile_is_a_profile_error() {
    let validator = Validator::base(Release::R4);
    let url = url("never-loaded");

    assert_errors(&check(&validator, &json!({"resourceType": "Patient"}), &url), &[("Patient", Rule::Profile, &url)]);
    // A `|version` is not part of the profile's name.
    assert_errors(
        &check(&validator, &json!({"resourceType": "Patient"}), &format!("{url}|1.0.0")),
        &[("Patient", Rule::Profile, &url)],
    );
    // The base definition of the resource's own type is always known.
    assert_valid(&check(&validator, &json!({"resourceType": "Patient"}), &core("Patient")));
}
