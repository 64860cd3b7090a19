//! The forms the published qualification scripts use, each on a small answer of this project's
//! own, evaluated as the runner evaluates an assert (variables, the release's type model): every
//! one is decided, none is left unsupported. Samples are STU3 for the BgZ (48) forms and R4 for
//! the Vaccinaties (63) forms.

#![cfg(test)]

use super::expressions::{truth, values};
use super::load::Script;
use super::model::{TestScript, Variable};
use super::release::Detected;
use super::state::{Response, State};
use fhir_core::Release;
use serde_json::{Value, json};

const BSN: &str = "http://fhir.nl/fhir/NamingSystem/bsn";

fn script(release: Release, variables: &[(&str, &str)]) -> Script {
    let variable = variables
        .iter()
        .map(|(name, default)| Variable {
            name: (*name).into(),
            default_value: Some((*default).into()),
            ..Variable::default()
        })
        .collect();
    let detected = Detected { release, why: String::new() };
    Script::new("published", detected, TestScript { variable, ..TestScript::default() })
}

/// A BgZ answer: a Patient (its BSN masked) with its general practitioner, in STU3.
fn bgz_answer() -> Value {
    json!({"resourceType": "Bundle", "type": "searchset", "total": 1,
    "link": [{"relation": "self", "url": "https://dva.example/umcx/48/fhir/Patient?_include=Patient:general-practitioner"}],
    "entry": [
        {"fullUrl": "https://dva.example/umcx/48/fhir/Patient/p1", "search": {"mode": "match"},
         "resource": {"resourceType": "Patient", "id": "p1",
            "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]},
            "identifier": [{"system": BSN, "_value": {"extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}]}}],
            "name": [{"use": "official", "text": "A. de Vries", "family": "de Vries", "_family": {"extension": [
                {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": "Vries"}]}}],
            "maritalStatus": {"coding": [{"system": "http://hl7.org/fhir/v3/MaritalStatus", "code": "M", "display": "Married"}]},
            "generalPractitioner": [{"reference": "Practitioner/gp", "display": "Dr. Huisarts"}]}},
        {"fullUrl": "https://dva.example/umcx/48/fhir/Practitioner/gp", "search": {"mode": "include"},
         "resource": {"resourceType": "Practitioner", "id": "gp",
            "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-practitioner"]},
            "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/uzi-nr-pers", "value": "12345"}],
            "telecom": [{"system": "phone", "_system": {"extension": [{"url": "http://nictiz.nl/fhir/StructureDefinition/code-specification",
                "valueCodeableConcept": {"coding": [{"system": "http://hl7.org/fhir/v3/AddressUse", "code": "MC", "display": "mobile"}]}}]},
                "value": "0612345678"}]}}
    ]})
}

/// A Vaccinaties answer: two vaccinations with their product extension, and the patient, in R4.
fn vaccination_answer() -> Value {
    let product = |id: &str| {
        json!([{"url": "http://nictiz.nl/fhir/StructureDefinition/ext-imm-Vaccination.PharmaceuticalProduct",
            "valueReference": {"reference": format!("Medication/{id}"), "type": "Medication", "display": id}}])
    };
    json!({"resourceType": "Bundle", "type": "searchset", "total": 2,
    "link": [{"relation": "self", "url": "https://dva.example/umcx/63/fhir/Immunization?_include=Immunization:patient"}],
    "entry": [
        {"fullUrl": "https://dva.example/umcx/63/fhir/Immunization/i1", "search": {"mode": "match"},
         "resource": {"resourceType": "Immunization", "id": "i1", "extension": product("m1"), "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://snomed.info/sct", "code": "836398006", "display": "vaccine"}]},
            "patient": {"reference": "Patient/p1", "display": "Patient"}, "occurrenceDateTime": "2023-12-05"}},
        {"fullUrl": "https://dva.example/umcx/63/fhir/Immunization/i2", "search": {"mode": "match"},
         "resource": {"resourceType": "Immunization", "id": "i2", "extension": product("m2"), "status": "completed",
            "vaccineCode": {"text": "HEPATITIS-A-VACCIN"},
            "patient": {"reference": "Patient/p1", "display": "Patient"}, "occurrenceDateTime": "2026-11-05"}},
        {"fullUrl": "https://dva.example/umcx/63/fhir/Patient/p1", "search": {"mode": "include"},
         "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "2009-12-05"}}
    ]})
}

fn holds(release: Release, answer: &Value, text: &str) -> bool {
    let script = script(release, &[("T", "2026-12-05"), ("p1-id", "p1")]);
    let state = State::new(&script);
    match truth(text, answer, &state) {
        Ok(Some(answer)) => answer,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn full_urls_ids_and_profiles_of_the_entries() {
    let answer = bgz_answer();
    for text in [
        r"Bundle.entry.all( $this.fullUrl.matches('^urn:oid:[0-2](\\.(0|[1-9]\\d*))*$') or $this.fullUrl.matches('^urn:uuid:[A-Fa-f\\d]{8}-[A-Fa-f\\d]{4}-[A-Fa-f\\d]{4}-[A-Fa-f\\d]{4}-[A-Fa-f\\d]{12}$') or $this.resource.id.exists())",
        "Bundle.entry.resource.where(is(OperationOutcome).not()).where(is(Binary).not()).where(meta.profile.empty()).empty()",
        "Bundle.entry.where(fullUrl.exists() and resource.id.exists()).all($this.fullUrl.endsWith($this.resource.id))",
        "Bundle.entry.all($this.fullUrl.endsWith($this.resource.id) or $this.fullUrl.startsWith('urn:'))",
        r"Bundle.entry.fullUrl.all( startsWith('http://') or startsWith('https://') or matches('^urn:oid:[0-2](\\.(0|[1-9]\\d*))*$') )",
    ] {
        assert!(holds(Release::Stu3, &answer, text), "{text}");
    }
}

#[test]
fn references_codings_concepts_and_identifiers_found_by_type() {
    let answer = bgz_answer();
    for text in [
        "Bundle.descendants().where($this as Reference).reference.all( startsWith('http://') or startsWith('https://') or startsWith('#') or (startsWith('urn:').not() and startsWith('#').not() and matches('^[A-Za-z]{3,}/[^/]+$')) )",
        "Bundle.descendants().reference.all( startsWith('http') or matches('^[A-Za-z]{3,}/[^/]+$'))",
        "Bundle.descendants().where($this.is(coding)).all(system.exists() and code.exists())",
        "Bundle.descendants().where($this.is(CodeableConcept)) .all(coding.display.exists() or text.exists() or extension.exists())",
        "Bundle.descendants().where($this.is(CodeableConcept)) .all((coding.display.exists() or (coding.exists().not() and text.exists())) or extension.exists())",
        "Bundle.descendants().where($this.is(Reference)).all(display.exists())",
        // The masked BSN has a value element (with its extension), though no value.
        "Bundle.descendants().where($this.is(Identifier)).all((system.exists() or type.exists()) and value.exists())",
        "Bundle.descendants().where($this.is(coding)).system.startsWith('urn:oid:2.16.840.1.113883.2.4.3.11.60.40.2').not()",
    ] {
        assert!(holds(Release::Stu3, &answer, text), "{text}");
    }
    // Two Codings: the marital status, and the one in the extension of the telecom's system.
    let script = script(Release::Stu3, &[]);
    let state = State::new(&script);
    assert_eq!(
        values("Bundle.descendants().where($this.is(Coding)).count()", &answer, &state),
        Ok(vec!["2".to_owned()])
    );
}

#[test]
fn the_bsn_check_counts_only_bsns_with_a_value() {
    let masked = bgz_answer();
    let text = format!(
        "Bundle.descendants().select(identifier.where(system = '{BSN}').where(value.empty().not() and value.extension.exists().not())).count() = 0"
    );
    assert!(holds(Release::Stu3, &masked, &text));
    let mut shown = masked.clone();
    shown["entry"][0]["resource"]["identifier"][0] = json!({"system": BSN, "value": "999911120"});
    assert!(!holds(Release::Stu3, &shown, &text));
    assert!(holds(Release::Stu3, &masked, &format!("Bundle.link.url.contains('{BSN}') = false")));
}

#[test]
fn totals_self_links_and_counts_of_resource_types() {
    let answer = bgz_answer();
    for text in [
        "Bundle.type = 'searchset'",
        "Bundle.total.toInteger() <= Bundle.entry.where(search.empty() or search.mode = 'match').count()",
        "Bundle.link.where(relation = 'self' and url.exists()).exists()",
        "Bundle.entry.where(resource.is(Patient)).count() = 1",
        "Bundle.entry.resource.ofType(Patient).count() = 1",
    ] {
        assert!(holds(Release::Stu3, &answer, text), "{text}");
    }
}

#[test]
fn content_checks_through_primitive_extensions_and_nested_wheres() {
    let answer = bgz_answer();
    for text in [
        "Bundle.entry.resource.ofType(Patient).where(id = '${p1-id}').name.where(use = 'official' and text.hasValue() and family.where($this.hasValue() and extension('http://hl7.org/fhir/StructureDefinition/humanname-own-name').value.ofType(string).hasValue())).exists()",
        "Bundle.entry.resource.ofType(Patient).where(id = '${p1-id}').meta.profile.where($this = 'http://fhir.nl/fhir/StructureDefinition/nl-core-patient').exists()",
        "Bundle.entry.resource.ofType(Practitioner).identifier.where(system and value).exists()",
        "Bundle.entry.resource.ofType(Practitioner).telecom.where(system.where($this = 'phone' and extension('http://nictiz.nl/fhir/StructureDefinition/code-specification').value.ofType(CodeableConcept).coding.where(system = 'http://hl7.org/fhir/v3/AddressUse' and code = 'MC' and display)) and value.hasValue()).exists()",
    ] {
        assert!(holds(Release::Stu3, &answer, text), "{text}");
    }
}

#[test]
fn vaccination_forms_with_as_choices_iif_and_dates_from_t() {
    let answer = vaccination_answer();
    for text in [
        "Bundle.entry.resource.as(Immunization).extension.where(url = 'http://nictiz.nl/fhir/StructureDefinition/ext-imm-Vaccination.PharmaceuticalProduct').count() = 2",
        "Bundle.entry.resource.as(Immunization).extension.value.where(type = 'Medication').reference.count() = 2",
        "Bundle.entry.resource.ofType(Immunization).where(vaccineCode.where(coding.where(code = '836398006'))).count() = 1",
        "Bundle.entry.resource.ofType(Immunization).where(vaccineCode.where(text = 'HEPATITIS-A-VACCIN')).id = 'i2'",
        "Bundle.entry.resource.as(Immunization).where(occurrence.toString() = '${DATE, T, Y, -3}').exists()",
        "Bundle.entry.resource.as(Immunization).occurrence.all($this is dateTime)",
        "Bundle.entry.resource.ofType(Patient).birthDate = '${DATE, T, Y, -17}'",
        "Bundle.descendants().where($this.is(Coding)).all(system.exists() and code.exists())",
    ] {
        assert!(holds(Release::R4, &answer, text), "{text}");
    }
    let url = "iif(Bundle.entry.where(resource.is(Immunization)).resource[0].extension.where(url = 'http://nictiz.nl/fhir/StructureDefinition/ext-imm-Vaccination.PharmaceuticalProduct').value.reference.startsWith('Medication/'),             Bundle.link.where(relation='self').url.replaceMatches('Immunization[/?].*$','') + Bundle.entry.where(resource.is(Immunization)).resource[0].extension.where(url = 'http://nictiz.nl/fhir/StructureDefinition/ext-imm-Vaccination.PharmaceuticalProduct').value.reference,             Bundle.entry.where(resource.is(Immunization)).resource[0].extension.where(url = 'http://nictiz.nl/fhir/StructureDefinition/ext-imm-Vaccination.PharmaceuticalProduct').value.reference)";
    let script = script(Release::R4, &[]);
    let state = State::new(&script);
    assert_eq!(values(url, &answer, &state), Ok(vec!["https://dva.example/umcx/63/fhir/Medication/m1".to_owned()]));
}

#[test]
fn a_test_of_asserts_only_checks_the_answer_of_the_test_before() {
    // The content-check scripts follow a search with tests that hold asserts only: the state, and
    // so the last answer, is the script's.
    let script = script(Release::R4, &[]);
    let mut state = State::new(&script);
    let response = Response {
        status: 200,
        headers: Vec::new(),
        media_type: "application/fhir+json".into(),
        body: Ok(Some(vaccination_answer())),
    };
    state.record(None, Ok(response), None, Some("fixture-immunization-search-response"));
    let source = state.source(Some("fixture-immunization-search-response")).and_then(super::state::Source::body);
    assert!(source.is_ok_and(|body| body["total"] == 2));
    assert!(state.source(None).is_ok(), "the last answer, for an assert without sourceId");
}
