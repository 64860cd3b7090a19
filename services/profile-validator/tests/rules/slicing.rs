//! Slicing by value (`Patient.identifier` on `system`): each slice's cardinality, and the
//! slicing's rules for occurrences in no slice (open, closed, open at the end).

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::{Value, json};

const BSN: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
const AGB: &str = "http://fhir.nl/fhir/NamingSystem/agb-z";

fn bsn(value: &str) -> Value {
    json!({"system": BSN, "value": value})
}

fn agb(value: &str) -> Value {
    json!({"system": AGB, "value": value})
}

fn patient(identifiers: &[Value]) -> Value {
    json!({"resourceType": "Patient", "identifier": identifiers})
}

/// R4, with element ids: `Patient.identifier` sliced by value on `system` with `rules`, and one
/// slice `BSN` 1..1 whose system is fixed.
fn bsn_slicing(rules: &str) -> (Validator, String) {
    let url = url(&format!("bsn-{rules}"));
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.identifier", "path": "Patient.identifier",
                "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": rules}}),
            json!({"id": "Patient.identifier:BSN", "path": "Patient.identifier", "sliceName": "BSN",
                "min": 1, "max": "1"}),
            json!({"id": "Patient.identifier:BSN.system", "path": "Patient.identifier.system", "min": 1,
                "fixedUri": BSN}),
        ],
    );
    (load_clean(Release::R4, &[definition]), url)
}

#[test]
fn value_slice_max_refuses_a_second_occurrence() {
    let (validator, url) = bsn_slicing("open");

    assert_valid(&check(&validator, &patient(&[bsn("999911120")]), &url));
    let two = patient(&[bsn("999911120"), bsn("999911132")]);
    assert_errors(
        &check(&validator, &two, &url),
        &[("Patient.identifier", Rule::Cardinality, &format!("{url}#Patient.identifier:BSN"))],
    );
}

#[test]
fn value_slice_min_requires_an_occurrence() {
    let (validator, url) = bsn_slicing("open");

    // The AGB identifier is in no slice: it does not count for `BSN`.
    let none = patient(&[agb("1")]);
    assert_errors(
        &check(&validator, &none, &url),
        &[("Patient.identifier", Rule::Cardinality, &format!("{url}#Patient.identifier:BSN"))],
    );
}

#[test]
fn open_slicing_allows_an_occurrence_in_no_slice() {
    let (validator, url) = bsn_slicing("open");

    assert_valid(&check(&validator, &patient(&[agb("1"), bsn("999911120"), agb("2")]), &url));
}

#[test]
fn closed_slicing_refuses_an_occurrence_in_no_slice_where_it_is() {
    let (validator, url) = bsn_slicing("closed");

    assert_valid(&check(&validator, &patient(&[bsn("999911120")]), &url));
    let extra = patient(&[bsn("999911120"), agb("1")]);
    assert_errors(
        &check(&validator, &extra, &url),
        &[("Patient.identifier[1]", Rule::Slicing, &format!("{url}#Patient.identifier"))],
    );
}

#[test]
fn open_at_end_slicing_allows_other_occurrences_after_the_slices_only() {
    let (validator, url) = bsn_slicing("openAtEnd");

    assert_valid(&check(&validator, &patient(&[bsn("999911120"), agb("1"), agb("2")]), &url));
    let before = patient(&[agb("1"), bsn("999911120"), agb("2")]);
    assert_errors(
        &check(&validator, &before, &url),
        &[("Patient.identifier[0]", Rule::Slicing, &format!("{url}#Patient.identifier"))],
    );
}

/// A slice's own rules apply to the occurrences in it: `BSN` requires a `value` too.
#[test]
fn a_slice_rules_apply_to_its_occurrences_only() {
    let url = url("bsn-with-value");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.identifier", "path": "Patient.identifier",
                "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}}),
            json!({"id": "Patient.identifier:BSN", "path": "Patient.identifier", "sliceName": "BSN"}),
            json!({"id": "Patient.identifier:BSN.system", "path": "Patient.identifier.system", "fixedUri": BSN}),
            json!({"id": "Patient.identifier:BSN.value", "path": "Patient.identifier.value", "min": 1}),
        ],
    );
    let validator = load_clean(Release::R4, &[definition]);

    // The AGB identifier has no value, but it is not a BSN.
    assert_valid(&check(&validator, &patient(&[bsn("999911120"), json!({"system": AGB})]), &url));
    let bad = patient(&[agb("1"), json!({"system": BSN})]);
    assert_errors(
        &check(&validator, &bad, &url),
        &[("Patient.identifier[1].value", Rule::Cardinality, &format!("{url}#Patient.identifier:BSN.value"))],
    );
}

/// STU3 definitions without element ids: the slice is named by `sliceName`, and the elements
/// that follow it with a longer path are its children. The slicing is written as STU3 allows.
#[test]
fn stu3_value_slicing_without_element_ids() {
    let url = url("stu3-bsn");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"path": "Patient.identifier",
                "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "closed"}}),
            json!({"path": "Patient.identifier", "sliceName": "BSN", "min": 1, "max": "1"}),
            json!({"path": "Patient.identifier.system", "fixedUri": BSN}),
            json!({"path": "Patient.identifier", "sliceName": "AGB", "max": "1"}),
            json!({"path": "Patient.identifier.system", "fixedUri": AGB}),
        ],
    );
    let validator = load_clean(Release::Stu3, &[definition]);

    assert_valid(&check(&validator, &patient(&[agb("1"), bsn("999911120")]), &url));
    let bad = patient(&[agb("1"), agb("2"), json!({"system": "http://example.org/other", "value": "x"})]);
    assert_errors(
        &check(&validator, &bad, &url),
        &[
            ("Patient.identifier[2]", Rule::Slicing, &format!("{url}#Patient.identifier")),
            ("Patient.identifier", Rule::Cardinality, &format!("{url}#Patient.identifier:BSN")),
            ("Patient.identifier", Rule::Cardinality, &format!("{url}#Patient.identifier:AGB")),
        ],
    );
}
