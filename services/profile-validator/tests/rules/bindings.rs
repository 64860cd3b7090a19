//! Bindings to a ValueSet of our own (listed concepts): a required binding on a code, a Coding
//! and a CodeableConcept, written in the R4 (`valueSet`) and STU3 (`valueSetReference`,
//! `valueSetUri`) shapes; an extensible binding never gives an error.

use crate::support::{assert_errors, assert_silent, assert_valid, check, core, load_clean, profile, url, value_set};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::{Value, json};

const COLOURS: &str = "http://example.org/fhir/ValueSet/colours";
const COLOUR_SYSTEM: &str = "http://example.org/fhir/CodeSystem/colours";
const GENDERS: &str = "http://example.org/fhir/ValueSet/two-genders";
const GENDER_SYSTEM: &str = "http://hl7.org/fhir/administrative-gender";

fn colours() -> Value {
    value_set(COLOURS, COLOUR_SYSTEM, &["red", "green"])
}

fn colour(code: &str) -> Value {
    json!({"system": COLOUR_SYSTEM, "code": code})
}

fn observation(code: Value) -> Value {
    json!({"resourceType": "Observation", "status": "final", "code": code})
}

/// A profile binding one element to the colours, with `binding` as written.
fn bound(release: Release, name: &str, path: &str, binding: Value) -> (Validator, String) {
    let url = url(name);
    let definition =
        profile(&url, "Observation", &core("Observation"), vec![json!({"id": path, "path": path, "binding": binding})]);
    (load_clean(release, &[colours(), definition]), url)
}

/// `Patient.gender` narrowed to `male` and `female`: `other` is in the base value set, so only
/// our binding refuses it.
#[test]
fn required_binding_on_a_code() {
    let url = url("two-genders");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.gender", "path": "Patient.gender",
            "binding": {"strength": "required", "valueSet": GENDERS}})],
    );
    let validator = load_clean(Release::R4, &[value_set(GENDERS, GENDER_SYSTEM, &["male", "female"]), definition]);

    assert_valid(&check(&validator, &json!({"resourceType": "Patient", "gender": "female"}), &url));
    assert_errors(
        &check(&validator, &json!({"resourceType": "Patient", "gender": "other"}), &url),
        &[("Patient.gender", Rule::Binding, &format!("{url}#Patient.gender"))],
    );
}

#[test]
fn required_binding_on_a_coding() {
    let binding = json!({"strength": "required", "valueSet": COLOURS});
    let (validator, url) = bound(Release::R4, "coloured-codings", "Observation.code.coding", binding);

    let good = observation(json!({"coding": [colour("red"), colour("green")]}));
    assert_valid(&check(&validator, &good, &url));
    // Each Coding is bound on its own: one outside the value set is an error where it is.
    let bad = observation(json!({"coding": [colour("red"), colour("blue")]}));
    assert_errors(
        &check(&validator, &bad, &url),
        &[("Observation.code.coding[1]", Rule::Binding, &format!("{url}#Observation.code.coding"))],
    );
}

#[test]
fn required_binding_on_a_codeable_concept_needs_one_coding_in_the_value_set() {
    let binding = json!({"strength": "required", "valueSet": COLOURS});
    let (validator, url) = bound(Release::R4, "coloured-code", "Observation.code", binding);
    let source = format!("{url}#Observation.code");

    // One coding from the value set is enough; the others may be translations.
    let good = observation(json!({"coding": [colour("blue"), colour("green")]}));
    assert_valid(&check(&validator, &good, &url));
    let outside = observation(json!({"coding": [colour("blue")]}));
    assert_errors(&check(&validator, &outside, &url), &[("Observation.code", Rule::Binding, &source)]);
    // The right code of another system is not in the value set.
    let other_system = observation(json!({"coding": [{"system": "http://example.org/other", "code": "red"}]}));
    assert_errors(&check(&validator, &other_system, &url), &[("Observation.code", Rule::Binding, &source)]);
    let text_only = observation(json!({"text": "red"}));
    assert_errors(&check(&validator, &text_only, &url), &[("Observation.code", Rule::Binding, &source)]);
}

/// STU3 names the value set as a Reference or as a URI; both bind.
#[test]
fn stu3_required_bindings_by_reference_and_by_uri() {
    for (name, binding) in [
        ("by-reference", json!({"strength": "required", "valueSetReference": {"reference": COLOURS}})),
        ("by-uri", json!({"strength": "required", "valueSetUri": COLOURS})),
    ] {
        let (validator, url) = bound(Release::Stu3, name, "Observation.code", binding);

        assert_valid(&check(&validator, &observation(json!({"coding": [colour("red")]})), &url));
        assert_errors(
            &check(&validator, &observation(json!({"coding": [colour("blue")]})), &url),
            &[("Observation.code", Rule::Binding, &format!("{url}#Observation.code"))],
        );
    }
}

#[test]
fn extensible_binding_never_gives_an_error() {
    for (release, binding) in [
        (Release::R4, json!({"strength": "extensible", "valueSet": COLOURS})),
        (Release::Stu3, json!({"strength": "extensible", "valueSetReference": {"reference": COLOURS}})),
    ] {
        let (validator, url) = bound(release, "extensibly-coloured", "Observation.code", binding);

        for code in [json!({"coding": [colour("red")]}), json!({"coding": [colour("blue")]}), json!({"text": "blue"})] {
            let report = check(&validator, &observation(code), &url);
            assert_valid(&report);
            assert_silent(&report, &Rule::Binding);
        }
    }
}
