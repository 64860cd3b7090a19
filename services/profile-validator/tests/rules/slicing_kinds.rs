//! Slicing by the other discriminator kinds: pattern (`Observation.code.coding`), type
//! (`Observation.value[x]` on `$this`) and profile (`$this`, an entry's `resource`, and a
//! reference's `resolve()`).

use crate::support::{assert_errors, assert_valid, check, core, load_clean, profile, url};
use fhir_core::Release;
use profile_validator::{Rule, Validator};
use serde_json::{Value, json};

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";

fn observation(codings: Value) -> Value {
    json!({"resourceType": "Observation", "status": "final", "code": {"coding": codings}})
}

fn check_loinc_slice(validator: &Validator, url: &str) {
    let source = format!("{url}#Observation.code.coding:loinc");
    let good = json!([{"system": SNOMED, "code": "27113001"}, {"system": LOINC, "code": "29463-7", "display": "W"}]);
    assert_valid(&check(validator, &observation(good), url));
    let other_code = json!([{"system": LOINC, "code": "8302-2"}]);
    assert_errors(
        &check(validator, &observation(other_code), url),
        &[("Observation.code.coding", Rule::Cardinality, &source)],
    );
    let two = json!([{"system": LOINC, "code": "29463-7"}, {"system": LOINC, "code": "29463-7", "display": "W"}]);
    assert_errors(
        &check(validator, &observation(two), url),
        &[("Observation.code.coding", Rule::Cardinality, &source)],
    );
}

/// R4: one pattern discriminator on `$this`, the slice states a `patternCoding`.
#[test]
fn pattern_slicing_on_this_with_a_pattern_coding() {
    let url = url("loinc-coding-this");
    let definition = profile(
        &url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.code.coding", "path": "Observation.code.coding",
                "slicing": {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"}}),
            json!({"id": "Observation.code.coding:loinc", "path": "Observation.code.coding", "sliceName": "loinc",
                "min": 1, "max": "1", "patternCoding": {"system": LOINC, "code": "29463-7"}}),
        ],
    );
    check_loinc_slice(&load_clean(Release::R4, &[definition]), &url);
}

/// STU3: two pattern discriminators, on `code` and on `system`, each stated by the slice's child.
#[test]
fn pattern_slicing_on_code_and_system() {
    let url = url("loinc-coding-parts");
    let definition = profile(
        &url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.code.coding", "path": "Observation.code.coding",
                "slicing": {"discriminator": [{"type": "pattern", "path": "code"}, {"type": "pattern", "path": "system"}],
                    "rules": "open"}}),
            json!({"id": "Observation.code.coding:loinc", "path": "Observation.code.coding", "sliceName": "loinc",
                "min": 1, "max": "1"}),
            json!({"id": "Observation.code.coding:loinc.system", "path": "Observation.code.coding.system",
                "patternUri": LOINC}),
            json!({"id": "Observation.code.coding:loinc.code", "path": "Observation.code.coding.code",
                "patternCode": "29463-7"}),
        ],
    );
    check_loinc_slice(&load_clean(Release::Stu3, &[definition]), &url);
}

/// `Observation.value[x]` sliced by type on `$this`, with `rules`, and a slice `valueQuantity`
/// whose system is fixed to UCUM.
fn value_type_slicing(rules: &str) -> (Validator, String) {
    let url = url(&format!("value-type-{rules}"));
    let definition = profile(
        &url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.value[x]", "path": "Observation.value[x]",
                "slicing": {"discriminator": [{"type": "type", "path": "$this"}], "rules": rules}}),
            json!({"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]",
                "sliceName": "valueQuantity", "type": [{"code": "Quantity"}]}),
            json!({"id": "Observation.value[x]:valueQuantity.system", "path": "Observation.value[x].system",
                "fixedUri": UCUM}),
        ],
    );
    (load_clean(Release::R4, &[definition]), url)
}

fn valued(member: &str, value: Value) -> Value {
    let mut observation = observation(json!([{"system": LOINC, "code": "29463-7"}]));
    observation[member] = value;
    observation
}

#[test]
fn type_slice_rules_apply_to_a_value_of_that_type() {
    let (validator, url) = value_type_slicing("open");

    let ucum = valued("valueQuantity", json!({"value": 80, "system": UCUM, "code": "kg"}));
    assert_valid(&check(&validator, &ucum, &url));
    // Open: a value of another type is allowed, and the Quantity slice's rules do not touch it.
    assert_valid(&check(&validator, &valued("valueString", json!("80 kg")), &url));
    let other_system =
        valued("valueQuantity", json!({"value": 80, "system": "http://example.org/units", "code": "kg"}));
    assert_errors(
        &check(&validator, &other_system, &url),
        &[(
            "Observation.valueQuantity.system",
            Rule::Fixed,
            &format!("{url}#Observation.value[x]:valueQuantity.system"),
        )],
    );
}

#[test]
fn closed_type_slicing_refuses_a_value_of_another_type() {
    let (validator, url) = value_type_slicing("closed");

    assert_valid(&check(
        &validator,
        &valued("valueQuantity", json!({"value": 80, "system": UCUM, "code": "kg"})),
        &url,
    ));
    assert_errors(
        &check(&validator, &valued("valueString", json!("80 kg")), &url),
        &[("Observation.valueString", Rule::Slicing, &format!("{url}#Observation.value[x]"))],
    );
}

/// Our own HumanName profile that requires `family`.
fn family_required(url: &str) -> Value {
    profile(
        url,
        "HumanName",
        &core("HumanName"),
        vec![json!({"id": "HumanName.family", "path": "HumanName.family", "min": 1})],
    )
}

/// `Patient.name` sliced by profile on `$this`, closed: every name must conform to the slice's
/// HumanName profile.
#[test]
fn profile_slicing_on_this() {
    let name_url = url("family-required");
    let url = url("names-by-profile");
    let definition = profile(
        &url,
        "Patient",
        &core("Patient"),
        vec![
            json!({"id": "Patient.name", "path": "Patient.name",
                "slicing": {"discriminator": [{"type": "profile", "path": "$this"}], "rules": "closed"}}),
            json!({"id": "Patient.name:official", "path": "Patient.name", "sliceName": "official",
                "type": [{"code": "HumanName", "profile": [name_url]}]}),
        ],
    );
    let validator = load_clean(Release::R4, &[family_required(&name_url), definition]);

    let good = json!({"resourceType": "Patient", "name": [{"family": "Jansen"}, {"family": "Bakker"}]});
    assert_valid(&check(&validator, &good, &url));
    let bad = json!({"resourceType": "Patient", "name": [{"family": "Jansen"}, {"given": ["Piet"]}]});
    assert_errors(
        &check(&validator, &bad, &url),
        &[("Patient.name[1]", Rule::Slicing, &format!("{url}#Patient.name"))],
    );
}

/// A Patient profile that requires an identifier.
fn identified_patient(url: &str) -> Value {
    profile(
        url,
        "Patient",
        &core("Patient"),
        vec![json!({"id": "Patient.identifier", "path": "Patient.identifier", "min": 1})],
    )
}

/// `Bundle.entry` sliced by profile on `resource`, closed, with one slice `patient` (1..1) whose
/// resource must conform to our Patient profile.
#[test]
fn profile_slicing_on_a_bundle_entry_resource() {
    let patient_url = url("identified-patient");
    let url = url("bundle-of-one-patient");
    let definition = profile(
        &url,
        "Bundle",
        &core("Bundle"),
        vec![
            json!({"id": "Bundle.entry", "path": "Bundle.entry",
                "slicing": {"discriminator": [{"type": "profile", "path": "resource"}], "rules": "closed"}}),
            json!({"id": "Bundle.entry:patient", "path": "Bundle.entry", "sliceName": "patient", "min": 1, "max": "1"}),
            json!({"id": "Bundle.entry:patient.resource", "path": "Bundle.entry.resource",
                "type": [{"code": "Patient", "profile": [patient_url]}]}),
        ],
    );
    let validator = load_clean(Release::R4, &[identified_patient(&patient_url), definition]);
    let bundle = |patient: Value| {
        json!({"resourceType": "Bundle", "type": "collection",
            "entry": [{"fullUrl": "urn:uuid:5a4a9a5e-0c47-4f1c-9b7e-9f3d0c1e2a10", "resource": patient}]})
    };

    let identified =
        json!({"resourceType": "Patient", "identifier": [{"system": "http://example.org/ids", "value": "1"}]});
    assert_valid(&check(&validator, &bundle(identified), &url));
    let anonymous = json!({"resourceType": "Patient", "active": true});
    assert_errors(
        &check(&validator, &bundle(anonymous), &url),
        &[
            ("Bundle.entry[0]", Rule::Slicing, &format!("{url}#Bundle.entry")),
            ("Bundle.entry", Rule::Cardinality, &format!("{url}#Bundle.entry:patient")),
        ],
    );
}

/// R4 `Observation.hasMember` sliced by profile on `resolve()`: the slice names the profile its
/// target must conform to as `targetProfile`, the way a Reference states it.
#[test]
fn profile_slicing_on_a_resolved_reference() {
    let weight_url = url("body-weight");
    let panel_url = url("weight-panel");
    let weight = profile(
        &weight_url,
        "Observation",
        &core("Observation"),
        vec![json!({"id": "Observation.code", "path": "Observation.code",
            "patternCodeableConcept": {"coding": [{"system": LOINC, "code": "29463-7"}]}})],
    );
    let panel = profile(
        &panel_url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.hasMember", "path": "Observation.hasMember",
                "slicing": {"discriminator": [{"type": "profile", "path": "resolve()"}], "rules": "closed"}}),
            json!({"id": "Observation.hasMember:weight", "path": "Observation.hasMember", "sliceName": "weight",
                "type": [{"code": "Reference", "targetProfile": [weight_url]}]}),
        ],
    );
    let validator = load_clean(Release::R4, &[weight, panel]);
    let bundle = |member_code: &str| {
        let mut panel = observation(json!([{"system": LOINC, "code": "85353-1"}]));
        panel["id"] = json!("panel");
        panel["meta"] = json!({"profile": [panel_url]});
        panel["hasMember"] = json!([{"reference": "Observation/member"}]);
        let mut member = observation(json!([{"system": LOINC, "code": member_code}]));
        member["id"] = json!("member");
        json!({"resourceType": "Bundle", "type": "collection", "entry": [
            {"fullUrl": "https://example.org/fhir/Observation/panel", "resource": panel},
            {"fullUrl": "https://example.org/fhir/Observation/member", "resource": member}
        ]})
    };

    assert_valid(&validator.validate(&bundle("29463-7"), &[]));
    assert_errors(
        &validator.validate(&bundle("8302-2"), &[]),
        &[("Bundle.entry[0].resource.hasMember[0]", Rule::Slicing, &format!("{panel_url}#Observation.hasMember"))],
    );
}

/// Slices by the profile of the resolved target, one per target type: a target is never taken
/// for a profile of another type (a PractitionerRole is no Organization, however few rules the
/// Organization profile states).
#[test]
fn profile_slicing_on_resolved_targets_of_several_types() {
    let organization_url = url("any-organization");
    let role_url = url("any-role");
    let panel_url = url("performed-by");
    let organization = profile(&organization_url, "Organization", &core("Organization"), vec![]);
    let role = profile(&role_url, "PractitionerRole", &core("PractitionerRole"), vec![]);
    let panel = profile(
        &panel_url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.performer", "path": "Observation.performer",
                "slicing": {"discriminator": [{"type": "profile", "path": "resolve()"}], "rules": "open"}}),
            json!({"id": "Observation.performer:organization", "path": "Observation.performer",
                "sliceName": "organization", "max": "1",
                "type": [{"code": "Reference", "targetProfile": [organization_url]}]}),
            json!({"id": "Observation.performer:role", "path": "Observation.performer", "sliceName": "role",
                "max": "1", "type": [{"code": "Reference", "targetProfile": [role_url]}]}),
        ],
    );
    let validator = load_clean(Release::R4, &[organization, role, panel]);
    let mut observed = observation(json!([{"system": LOINC, "code": "29463-7"}]));
    observed["meta"] = json!({"profile": [panel_url]});
    observed["performer"] = json!([{"reference": "PractitionerRole/r1"}, {"reference": "Organization/o1"}]);
    let bundle = json!({"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "https://example.org/fhir/Observation/o", "resource": observed},
        {"fullUrl": "https://example.org/fhir/PractitionerRole/r1",
         "resource": {"resourceType": "PractitionerRole", "id": "r1"}},
        {"fullUrl": "https://example.org/fhir/Organization/o1", "resource": {"resourceType": "Organization", "id": "o1", "name": "Lab"}}
    ]});
    assert_valid(&validator.validate(&bundle, &[]));
}

/// `Observation.component` sliced by the type of its `value[x]`, closed: a component whose value
/// is a Quantity (a complex type, written `valueQuantity`) fits the slice, one with a string does not.
#[test]
fn type_slicing_on_a_child_choice_tells_complex_types_by_name() {
    let url = url("components-by-value-type");
    let definition = profile(
        &url,
        "Observation",
        &core("Observation"),
        vec![
            json!({"id": "Observation.component", "path": "Observation.component",
                "slicing": {"discriminator": [{"type": "type", "path": "value[x]"}], "rules": "closed"}}),
            json!({"id": "Observation.component:measured", "path": "Observation.component", "sliceName": "measured"}),
            json!({"id": "Observation.component:measured.value[x]", "path": "Observation.component.value[x]",
                "type": [{"code": "Quantity"}]}),
        ],
    );
    let validator = load_clean(Release::R4, &[definition]);
    let with = |value: Value| {
        let mut observed = observation(json!([{"system": LOINC, "code": "85354-9"}]));
        observed["component"] = json!([{"code": {"text": "systolic"}}]);
        for (name, member) in value.as_object().unwrap() {
            observed["component"][0][name] = member.clone();
        }
        observed
    };
    assert_valid(&check(&validator, &with(json!({"valueQuantity": {"value": 120, "unit": "mmHg"}})), &url));
    assert_errors(
        &check(&validator, &with(json!({"valueString": "high"})), &url),
        &[("Observation.component[0]", Rule::Slicing, &format!("{url}#Observation.component"))],
    );
}
