//! Profile chains: a profile based on another holds its base's rules and its own; a profile whose
//! base is not loaded is a load problem, and its own rules still apply.

use crate::support::{assert_errors, assert_valid, check, core, load, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::Rule;
use serde_json::{Value, json};

fn identifier() -> Value {
    json!({"system": "http://example.org/ids", "value": "1"})
}

/// A: `Patient.identifier` 1..*. B (on A): `Patient.identifier` at most 1 and `Patient.name` 1..*.
#[test]
fn a_profile_holds_the_rules_of_its_base_profile_and_its_own() {
    for release in [Release::Stu3, Release::R4] {
        let a = url("identified");
        let b = url("identified-and-named");
        let validator = load_clean(
            release,
            &[
                profile(
                    &a,
                    "Patient",
                    &core("Patient"),
                    vec![json!({"id": "Patient.identifier", "path": "Patient.identifier", "min": 1})],
                ),
                profile(
                    &b,
                    "Patient",
                    &a,
                    vec![
                        json!({"id": "Patient.identifier", "path": "Patient.identifier", "max": "1"}),
                        json!({"id": "Patient.name", "path": "Patient.name", "min": 1}),
                    ],
                ),
            ],
        );

        let good = json!({"resourceType": "Patient", "identifier": [identifier()], "name": [{"family": "Jansen"}]});
        assert_valid(&check(&validator, &good, &b));
        // The snapshot of B states A's rule: findings name B, the profile validated against.
        let neither = json!({"resourceType": "Patient", "active": true});
        assert_errors(
            &check(&validator, &neither, &b),
            &[
                ("Patient.identifier", Rule::Cardinality, &format!("{b}#Patient.identifier")),
                ("Patient.name", Rule::Cardinality, &format!("{b}#Patient.name")),
            ],
        );
        let two =
            json!({"resourceType": "Patient", "identifier": [identifier(), identifier()], "name": [{"family": "J"}]});
        assert_errors(
            &check(&validator, &two, &b),
            &[("Patient.identifier", Rule::Cardinality, &format!("{b}#Patient.identifier"))],
        );
        // A itself does not have B's rules.
        assert_valid(&check(&validator, &json!({"resourceType": "Patient", "identifier": [identifier()]}), &a));
    }
}

/// The base of the chain may be listed after the profile on it: the order of files does not
/// matter.
#[test]
fn a_chain_compiles_whatever_the_order_of_its_files() {
    let a = url("identified");
    let b = url("identified-and-named");
    let validator = load_clean(
        Release::R4,
        &[
            profile(&b, "Patient", &a, vec![json!({"id": "Patient.name", "path": "Patient.name", "min": 1})]),
            profile(
                &a,
                "Patient",
                &core("Patient"),
                vec![json!({"id": "Patient.identifier", "path": "Patient.identifier", "min": 1})],
            ),
        ],
    );

    assert_errors(
        &check(&validator, &json!({"resourceType": "Patient", "name": [{"family": "Jansen"}]}), &b),
        &[("Patient.identifier", Rule::Cardinality, &format!("{b}#Patient.identifier"))],
    );
}

#[test]
fn a_base_that_is_not_loaded_is_a_problem_and_the_own_rules_still_apply() {
    let missing = url("not-in-this-package");
    let b = url("named-on-a-missing-base");
    let validator = load(
        Release::R4,
        &[profile(&b, "Patient", &missing, vec![json!({"id": "Patient.name", "path": "Patient.name", "min": 1})])],
    );

    let problems = validator.problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].what, b);
    assert!(problems[0].reason.contains(&missing), "{}", problems[0]);
    assert!(validator.knows(&b));

    assert_valid(&check(&validator, &json!({"resourceType": "Patient", "name": [{"family": "Jansen"}]}), &b));
    assert_errors(
        &check(&validator, &json!({"resourceType": "Patient", "active": true}), &b),
        &[("Patient.name", Rule::Cardinality, &format!("{b}#Patient.name"))],
    );
}

/// A base of another type cannot be built on: the profile is left out, and asking for it is a
/// Profile error.
#[test]
fn a_base_of_another_type_leaves_the_profile_out() {
    let a = url("an-observation");
    let b = url("patient-on-an-observation");
    let validator = load(
        Release::R4,
        &[
            profile(&a, "Observation", &core("Observation"), vec![json!({"id": "Observation", "path": "Observation"})]),
            profile(&b, "Patient", &a, vec![json!({"id": "Patient.name", "path": "Patient.name", "min": 1})]),
        ],
    );

    assert!(validator.problems().iter().any(|problem| problem.what == b), "{:?}", validator.problems());
    assert!(!validator.knows(&b));
    assert_errors(
        &check(&validator, &json!({"resourceType": "Patient", "name": [{"family": "Jansen"}]}), &b),
        &[("Patient", Rule::Profile, &b)],
    );
}
