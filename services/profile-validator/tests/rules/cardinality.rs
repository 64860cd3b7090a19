//! Cardinality: a profile's `min` and `max` on an element of the resource, on an element nested
//! in a backbone element or a data type, and the base definitions' own minimum.

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::{Value, json};

fn identifier(value: &str) -> Value {
    json!({"system": "http://example.org/ids", "value": value})
}

/// R4: `Patient.identifier` 1..2.
fn identifiers_one_or_two() -> (Validator, String) {
    let url = url("identifiers-one-or-two");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.identifier", "path": "Patient.identifier", "min": 1, "max": "2"})],
    );
    (load_clean(Release::R4, &[definition]), url)
}

#[test]
fn min_on_an_element_requires_it() {
    let (validator, url) = identifiers_one_or_two();
    let source = format!("{url}#Patient.identifier");

    assert_valid(&check(&validator, &json!({"resourceType": "Patient", "identifier": [identifier("1")]}), &url));
    let none = check(&validator, &json!({"resourceType": "Patient", "active": true}), &url);
    assert_errors(&none, &[("Patient.identifier", Rule::Cardinality, &source)]);
}

#[test]
fn max_on_an_element_limits_it() {
    let (validator, url) = identifiers_one_or_two();
    let source = format!("{url}#Patient.identifier");

    let two = json!({"resourceType": "Patient", "identifier": [identifier("1"), identifier("2")]});
    assert_valid(&check(&validator, &two, &url));
    let three = json!({"resourceType": "Patient", "identifier": [identifier("1"), identifier("2"), identifier("3")]});
    assert_errors(&check(&validator, &three, &url), &[("Patient.identifier", Rule::Cardinality, &source)]);
}

/// STU3: `Patient.contact.name` 1..1 (in a backbone element) and `Patient.name.given` 0..1 (in
/// a data type).
#[test]
fn min_and_max_on_nested_elements_apply_to_each_occurrence() {
    let url = url("nested-cardinality");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.name.given", "path": "Patient.name.given", "max": "1"}),
            json!({"id": "Patient.contact.name", "path": "Patient.contact.name", "min": 1}),
        ],
    );
    let validator = load_clean(Release::Stu3, &[definition]);
    // pat-1 wants some detail in a contact: a telecom keeps the base invariant out of the way.
    let phone = json!([{"system": "phone", "value": "0612345678"}]);

    let good = json!({"resourceType": "Patient",
        "name": [{"family": "Jansen", "given": ["Jan"]}, {"given": ["Piet"]}],
        "contact": [{"name": {"family": "Jansen"}, "telecom": phone}]});
    assert_valid(&check(&validator, &good, &url));

    let bad = json!({"resourceType": "Patient",
        "name": [{"family": "Jansen", "given": ["Jan"]}, {"given": ["Piet", "Klaas"]}],
        "contact": [{"name": {"family": "Jansen"}, "telecom": phone}, {"telecom": phone}]});
    assert_errors(
        &check(&validator, &bad, &url),
        &[
            ("Patient.name[1].given", Rule::Cardinality, &format!("{url}#Patient.name.given")),
            ("Patient.contact[1].name", Rule::Cardinality, &format!("{url}#Patient.contact.name")),
        ],
    );
}

/// `Observation.status` is 1..1 in the base definition of both releases: no profile needed.
#[test]
fn base_min_applies_without_a_profile() {
    for release in [Release::Stu3, Release::R4] {
        let validator = Validator::base(release);
        let code = json!({"coding": [{"system": "http://loinc.org", "code": "29463-7"}]});

        let with_status = json!({"resourceType": "Observation", "status": "final", "code": code});
        assert_valid(&validator.validate(&with_status, &[]));
        let without = json!({"resourceType": "Observation", "code": code});
        assert_errors(
            &validator.validate(&without, &[]),
            &[("Observation.status", Rule::Cardinality, "base#Observation.status")],
        );
    }
}

/// A base minimum holds under a profile too, and is named as the base's rule.
#[test]
fn base_min_applies_under_a_profile_that_does_not_restate_it() {
    let url = url("any-observation");
    let definition =
        profile(&url, "Observation", &core("Observation"), vec![json!({"id": "Observation", "path": "Observation"})]);
    let validator = load_clean(Release::R4, &[definition]);

    let without = json!({"resourceType": "Observation", "status": "final"});
    assert_errors(
        &check(&validator, &without, &url),
        &[("Observation.code", Rule::Cardinality, "base#Observation.code")],
    );
}
