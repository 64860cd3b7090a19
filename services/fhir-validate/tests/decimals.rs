//! Decimals written with trailing zeros must not make elements disappear from the typed model.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_validate::{Release, check};

#[test]
fn decimals_with_trailing_zeros_are_understood() {
    let text = r#"{"resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "component": [{"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
            "valueQuantity": {"value": 108.50, "unit": "mmHg"}}]}"#;
    let resource: serde_json::Value = serde_json::from_str(text).expect("json");
    assert_eq!(check(Release::Stu3, &resource), Default::default());
}

#[test]
fn a_fraction_in_an_integer_element_is_an_error() {
    let text = r#"{"resourceType": "ImmunizationRecommendation", "id": "r", "patient": {"reference": "Patient/p"},
        "recommendation": [{"date": "2020-01-01", "vaccineCode": {"text": "x"}, "forecastStatus": {"text": "due"},
        "doseNumber": 1.50}]}"#;
    let resource: serde_json::Value = serde_json::from_str(text).expect("json");
    let report = check(Release::Stu3, &resource);
    assert_eq!(report.errors.len(), 1, "{report:?}");
    assert_eq!(report.errors[0].path, "ImmunizationRecommendation.recommendation[0].doseNumber");
}
