//! Fixed and pattern values: a fixed value must be the value exactly; a pattern must be contained
//! in the value (a CodeableConcept with more codings than the pattern states still matches).

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::Rule;
use serde_json::{Value, json};

const BSN: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";

#[test]
fn fixed_uri_must_be_the_value_exactly() {
    let url = url("bsn-only");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.identifier.system", "path": "Patient.identifier.system", "fixedUri": BSN})],
    );
    let validator = load_clean(Release::R4, &[definition]);

    let good = json!({"resourceType": "Patient", "identifier": [{"system": BSN, "value": "999911120"}]});
    assert_valid(&check(&validator, &good, &url));
    let bad = json!({"resourceType": "Patient", "identifier": [
        {"system": BSN, "value": "999911120"},
        {"system": "http://fhir.nl/fhir/NamingSystem/agb-z", "value": "1"}
    ]});
    assert_errors(
        &check(&validator, &bad, &url),
        &[("Patient.identifier[1].system", Rule::Fixed, &format!("{url}#Patient.identifier.system"))],
    );
}

#[test]
fn fixed_code_must_be_the_value_exactly() {
    for release in [Release::Stu3, Release::R4] {
        let url = url("final-only");
        let definition = profile(
            &url,
            "Observation",
            &core("Observation"),
            vec![json!({"id": "Observation.status", "path": "Observation.status", "fixedCode": "final"})],
        );
        let validator = load_clean(release, &[definition]);
        let observation = |status: &str| {
            json!({"resourceType": "Observation", "status": status,
                "code": {"coding": [{"system": LOINC, "code": "29463-7"}]}})
        };

        assert_valid(&check(&validator, &observation("final"), &url));
        // `amended` is in the base value set: only the fixed value refuses it.
        assert_errors(
            &check(&validator, &observation("amended"), &url),
            &[("Observation.status", Rule::Fixed, &format!("{url}#Observation.status"))],
        );
    }
}

fn body_weight_pattern(release: Release) -> (profile_validator::Validator, String) {
    let url = url("body-weight-code");
    let definition = profile(
        &url,
        "Observation",
        &core("Observation"),
        vec![json!({"id": "Observation.code", "path": "Observation.code",
            "patternCodeableConcept": {"coding": [{"system": LOINC, "code": "29463-7"}]}})],
    );
    (load_clean(release, &[definition]), url)
}

fn observation_coded(codings: Value) -> Value {
    json!({"resourceType": "Observation", "status": "final", "code": {"coding": codings, "text": "weight"},
        "valueQuantity": {"value": 80, "unit": "kg"}})
}

#[test]
fn pattern_codeable_concept_allows_extra_codings_and_members() {
    for release in [Release::Stu3, Release::R4] {
        let (validator, url) = body_weight_pattern(release);
        let codings = json!([
            {"system": SNOMED, "code": "27113001"},
            {"system": LOINC, "code": "29463-7", "display": "Body weight"}
        ]);
        assert_valid(&check(&validator, &observation_coded(codings), &url));
    }
}

#[test]
fn pattern_codeable_concept_refuses_another_code() {
    for release in [Release::Stu3, Release::R4] {
        let (validator, url) = body_weight_pattern(release);
        let source = format!("{url}#Observation.code");

        let other_code = json!([{"system": LOINC, "code": "8302-2"}]);
        assert_errors(
            &check(&validator, &observation_coded(other_code), &url),
            &[("Observation.code", Rule::Pattern, &source)],
        );
        // The right code in another system is another concept.
        let other_system = json!([{"system": SNOMED, "code": "29463-7"}]);
        assert_errors(
            &check(&validator, &observation_coded(other_system), &url),
            &[("Observation.code", Rule::Pattern, &source)],
        );
    }
}
