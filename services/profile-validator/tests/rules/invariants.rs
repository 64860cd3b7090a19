//! Invariants: a profile's constraints (FHIRPath) on the root and on an element, with the
//! severity they state, and the base definitions' own invariants.

use crate::support::{assert_errors, assert_finding, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::{Rule, Severity, Validator};
use serde_json::{Value, json};

const NAMED: &str = "name.family.exists() or name.text.exists()";

/// A Patient profile with one root constraint of `severity`.
fn named_patient(release: Release, severity: &str) -> (Validator, String) {
    let url = url(&format!("named-patient-{severity}"));
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient", "path": "Patient", "constraint": [{"key": "ex-named", "severity": severity,
            "human": "A family name or a name text", "expression": NAMED, "xpath": "f:name"}]})],
    );
    (load_clean(release, &[definition]), url)
}

fn patient(name: Value) -> Value {
    json!({"resourceType": "Patient", "name": [name]})
}

#[test]
fn a_root_constraint_of_severity_error() {
    for release in [Release::Stu3, Release::R4] {
        let (validator, url) = named_patient(release, "error");

        assert_valid(&check(&validator, &patient(json!({"family": "Jansen"})), &url));
        assert_valid(&check(&validator, &patient(json!({"text": "Jan Jansen"})), &url));
        assert_errors(
            &check(&validator, &patient(json!({"given": ["Jan"]})), &url),
            &[("Patient", Rule::Invariant("ex-named".into()), &format!("{url}#Patient"))],
        );
    }
}

#[test]
fn a_root_constraint_of_severity_warning_is_a_warning() {
    let (validator, url) = named_patient(Release::R4, "warning");

    let good = check(&validator, &patient(json!({"family": "Jansen"})), &url);
    assert!(good.findings.iter().all(|finding| finding.rule != Rule::Invariant("ex-named".into())), "{good:?}");
    let report = check(&validator, &patient(json!({"given": ["Jan"]})), &url);
    assert_valid(&report);
    assert_finding(
        &report,
        Severity::Warning,
        "Patient",
        Rule::Invariant("ex-named".into()),
        &format!("{url}#Patient"),
    );
}

/// A constraint on `Patient.telecom`, evaluated with each telecom as focus.
#[test]
fn an_element_constraint_is_evaluated_per_occurrence() {
    let url = url("phone-numbers");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.telecom", "path": "Patient.telecom", "constraint": [{"key": "ex-phone",
            "severity": "error", "human": "A phone number has digits only",
            "expression": "system = 'phone' implies value.matches('^[0-9]+$')"}]})],
    );
    let validator = load_clean(Release::R4, &[definition]);
    let telecom = |telecom: Value| json!({"resourceType": "Patient", "telecom": telecom});

    let good = telecom(json!([{"system": "phone", "value": "0612345678"}, {"system": "email", "value": "a@b.nl"}]));
    assert_valid(&check(&validator, &good, &url));
    let bad = telecom(json!([{"system": "email", "value": "a@b.nl"}, {"system": "phone", "value": "06-12345678"}]));
    assert_errors(
        &check(&validator, &bad, &url),
        &[("Patient.telecom[1]", Rule::Invariant("ex-phone".into()), &format!("{url}#Patient.telecom"))],
    );
}

/// obs-6 (both releases): no value where the data-absent reason says there is none.
#[test]
fn a_base_invariant_applies_without_a_profile() {
    for release in [Release::Stu3, Release::R4] {
        let validator = Validator::base(release);
        let mut observation = json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
            "valueQuantity": {"value": 80, "unit": "kg"}});
        assert_valid(&validator.validate(&observation, &[]));

        observation["dataAbsentReason"] = json!({"text": "not measured"});
        assert_errors(
            &validator.validate(&observation, &[]),
            &[("Observation", Rule::Invariant("obs-6".into()), "base#Observation")],
        );
    }
}

/// A base invariant of a data type applies where a value of it is (`qty-3` on a Quantity in R4:
/// a code needs a system).
#[test]
fn a_base_data_type_invariant_applies_where_the_value_is() {
    let validator = Validator::base(Release::R4);
    let observation = |quantity: Value| {
        json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]}, "valueQuantity": quantity})
    };

    assert_valid(
        &validator
            .validate(&observation(json!({"value": 80, "system": "http://unitsofmeasure.org", "code": "kg"})), &[]),
    );
    assert_errors(
        &validator.validate(&observation(json!({"value": 80, "code": "kg"})), &[]),
        &[("Observation.valueQuantity", Rule::Invariant("qty-3".into()), "base#Quantity")],
    );
}
