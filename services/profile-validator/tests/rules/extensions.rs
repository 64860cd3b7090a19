//! Extensions: `Patient.extension` sliced by `url`, each slice typed with our own extension
//! definition, whose rules then apply and are named as the extension's; a complex extension with
//! nested extension slices; an extension on a primitive (`_birthDate`).

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url, value_set};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::{Value, json};

const COLOURS: &str = "http://example.org/fhir/ValueSet/colours";
const COLOUR_SYSTEM: &str = "http://example.org/fhir/CodeSystem/colours";

/// A simple extension: one `code` value bound (required) to the colours.
fn eye_colour(release: Release, url: &str) -> Value {
    let binding = match release {
        Release::Stu3 => json!({"strength": "required", "valueSetReference": {"reference": COLOURS}}),
        Release::R4 => json!({"strength": "required", "valueSet": COLOURS}),
    };
    profile(
        url,
        "Extension",
        &core("Extension"),
        vec![
            json!({"id": "Extension", "path": "Extension", "max": "1"}),
            json!({"id": "Extension.extension", "path": "Extension.extension", "max": "0"}),
            json!({"id": "Extension.url", "path": "Extension.url", "fixedUri": url}),
            json!({"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "code"}],
                "binding": binding}),
        ],
    )
}

/// A Patient profile with `Patient.extension` sliced by url and one slice typed `extension_url`.
fn patient_with(release: Release, url: &str, slice: &str, extension_url: &str, min: u32) -> Value {
    let type_profile = match release {
        Release::Stu3 => json!(extension_url),
        Release::R4 => json!([extension_url]),
    };
    profile(
        url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.extension", "path": "Patient.extension",
                "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}}),
            json!({"id": format!("Patient.extension:{slice}"), "path": "Patient.extension", "sliceName": slice,
                "min": min, "max": "1", "type": [{"code": "Extension", "profile": type_profile}]}),
        ],
    )
}

fn eye_colour_validator(release: Release) -> (Validator, String, String) {
    let extension_url = url("eye-colour");
    let patient_url = url("patient-with-eye-colour");
    let validator = load_clean(
        release,
        &[
            value_set(COLOURS, COLOUR_SYSTEM, &["red", "green"]),
            eye_colour(release, &extension_url),
            patient_with(release, &patient_url, "eyeColour", &extension_url, 1),
        ],
    );
    (validator, extension_url, patient_url)
}

fn patient(extensions: Value) -> Value {
    json!({"resourceType": "Patient", "extension": extensions})
}

#[test]
fn an_extension_value_must_have_the_type_its_definition_allows() {
    for release in [Release::Stu3, Release::R4] {
        let (validator, extension_url, url) = eye_colour_validator(release);

        let good = patient(json!([{"url": extension_url, "valueCode": "green"}]));
        assert_valid(&check(&validator, &good, &url));
        let string = patient(json!([{"url": extension_url, "valueString": "green"}]));
        assert_errors(
            &check(&validator, &string, &url),
            &[("Patient.extension[0].valueString", Rule::Type, &format!("{extension_url}#Extension.value[x]"))],
        );
    }
}

#[test]
fn an_extension_code_must_be_in_its_required_value_set() {
    for release in [Release::Stu3, Release::R4] {
        let (validator, extension_url, url) = eye_colour_validator(release);

        // Another extension before ours: the slice is found by url, not by position.
        let other = json!({"url": "http://example.org/other", "valueString": "x"});
        let blue = patient(json!([other, {"url": extension_url, "valueCode": "blue"}]));
        assert_errors(
            &check(&validator, &blue, &url),
            &[("Patient.extension[1].valueCode", Rule::Binding, &format!("{extension_url}#Extension.value[x]"))],
        );
    }
}

#[test]
fn an_extension_slice_min_requires_the_extension() {
    let (validator, _, url) = eye_colour_validator(Release::R4);

    let other = patient(json!([{"url": "http://example.org/other", "valueString": "x"}]));
    assert_errors(
        &check(&validator, &other, &url),
        &[("Patient.extension", Rule::Cardinality, &format!("{url}#Patient.extension:eyeColour"))],
    );
}

/// A complex extension: no value, two nested extensions told apart by their relative url.
fn nickname(url: &str) -> Value {
    profile(
        url,
        "Extension",
        &core("Extension"),
        vec![
            json!({"id": "Extension", "path": "Extension"}),
            json!({"id": "Extension.extension", "path": "Extension.extension",
                "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "closed"}}),
            json!({"id": "Extension.extension:name", "path": "Extension.extension", "sliceName": "name",
                "min": 1, "max": "1"}),
            json!({"id": "Extension.extension:name.url", "path": "Extension.extension.url", "fixedUri": "name"}),
            json!({"id": "Extension.extension:name.value[x]", "path": "Extension.extension.value[x]",
                "type": [{"code": "string"}]}),
            json!({"id": "Extension.extension:since", "path": "Extension.extension", "sliceName": "since",
                "max": "1"}),
            json!({"id": "Extension.extension:since.url", "path": "Extension.extension.url", "fixedUri": "since"}),
            json!({"id": "Extension.extension:since.value[x]", "path": "Extension.extension.value[x]",
                "type": [{"code": "date"}]}),
            json!({"id": "Extension.url", "path": "Extension.url", "fixedUri": url}),
            json!({"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"}),
        ],
    )
}

#[test]
fn a_complex_extension_checks_its_nested_extensions() {
    let extension_url = url("nickname");
    let url = url("patient-with-nickname");
    let validator = load_clean(
        Release::R4,
        &[nickname(&extension_url), patient_with(Release::R4, &url, "nickname", &extension_url, 0)],
    );
    let with = |nested: Value| patient(json!([{"url": extension_url, "extension": nested}]));

    let good = with(json!([{"url": "since", "valueDate": "2001-02-03"}, {"url": "name", "valueString": "Jantje"}]));
    assert_valid(&check(&validator, &good, &url));

    let missing_name = with(json!([{"url": "since", "valueDate": "2001-02-03"}]));
    assert_errors(
        &check(&validator, &missing_name, &url),
        &[("Patient.extension[0].extension", Rule::Cardinality, &format!("{extension_url}#Extension.extension:name"))],
    );

    let wrong_type = with(json!([{"url": "name", "valueString": "Jantje"}, {"url": "since", "valueInteger": 2001}]));
    assert_errors(
        &check(&validator, &wrong_type, &url),
        &[(
            "Patient.extension[0].extension[1].valueInteger",
            Rule::Type,
            &format!("{extension_url}#Extension.extension:since.value[x]"),
        )],
    );

    let unknown = with(json!([{"url": "name", "valueString": "Jantje"}, {"url": "shoe-size", "valueInteger": 44}]));
    assert_errors(
        &check(&validator, &unknown, &url),
        &[("Patient.extension[0].extension[1]", Rule::Slicing, &format!("{extension_url}#Extension.extension"))],
    );
}

/// A dateTime extension for a birth time.
fn birth_time(url: &str) -> Value {
    profile(
        url,
        "Extension",
        &core("Extension"),
        vec![
            json!({"id": "Extension.url", "path": "Extension.url", "fixedUri": url}),
            json!({"id": "Extension.value[x]", "path": "Extension.value[x]", "type": [{"code": "dateTime"}]}),
        ],
    )
}

/// `Patient.birthDate.extension` sliced by url; the slice `birthTime` (1..1) is our extension.
fn birth_time_validator() -> (Validator, String, String) {
    let extension_url = url("birth-time");
    let url = url("patient-with-birth-time");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.birthDate.extension", "path": "Patient.birthDate.extension",
                "slicing": {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}}),
            json!({"id": "Patient.birthDate.extension:birthTime", "path": "Patient.birthDate.extension",
                "sliceName": "birthTime", "min": 1, "max": "1",
                "type": [{"code": "Extension", "profile": [extension_url]}]}),
        ],
    );
    (load_clean(Release::R4, &[birth_time(&extension_url), definition]), extension_url, url)
}

#[test]
fn an_extension_on_a_primitive_is_checked_against_its_definition() {
    let (validator, extension_url, url) = birth_time_validator();
    let born = |extension: Value| json!({"resourceType": "Patient", "birthDate": "2001-02-03", "_birthDate": {"extension": [extension]}});

    assert_valid(&check(
        &validator,
        &born(json!({"url": extension_url, "valueDateTime": "2001-02-03T04:05:06+01:00"})),
        &url,
    ));
    assert_errors(
        &check(&validator, &born(json!({"url": extension_url, "valueString": "04:05"})), &url),
        &[("Patient.birthDate.extension[0].valueString", Rule::Type, &format!("{extension_url}#Extension.value[x]"))],
    );
}

#[test]
fn an_extension_required_on_a_primitive_must_be_there() {
    let (validator, _, url) = birth_time_validator();

    let other = json!({"resourceType": "Patient", "birthDate": "2001-02-03",
        "_birthDate": {"extension": [{"url": "http://example.org/other", "valueString": "x"}]}});
    assert_errors(
        &check(&validator, &other, &url),
        &[("Patient.birthDate.extension", Rule::Cardinality, &format!("{url}#Patient.birthDate.extension:birthTime"))],
    );
}

/// A primitive without its `_name` member has no extensions at all: a required one is missing
/// all the same. (Without `birthDate`, the profile asks nothing of its extensions.)
#[test]
fn an_extension_required_on_a_primitive_without_its_underscore_member() {
    let (validator, _, url) = birth_time_validator();

    assert_valid(&check(&validator, &json!({"resourceType": "Patient", "active": true}), &url));
    let bare = json!({"resourceType": "Patient", "birthDate": "2001-02-03"});
    assert_errors(
        &check(&validator, &bare, &url),
        &[("Patient.birthDate.extension", Rule::Cardinality, &format!("{url}#Patient.birthDate.extension:birthTime"))],
    );
}
