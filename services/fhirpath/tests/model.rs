#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Type tests with a caller's FHIR model: navigation, `children()` and `descendants()` type every
//! node reached from a resource, so `is`, `as` and `ofType` are decided for complex types,
//! backbone elements, choice elements and primitives; what the model does not know stays
//! unsupported. The model here is a small hand-written table.

use fhirpath::{Environment, EvalErrorKind, Expression, TypeKind, TypeModel};
use serde_json::Value;
use std::collections::HashMap;

/// A few types of a FHIR-like model, enough for the Observation fixture.
struct Table {
    elements: HashMap<(&'static str, &'static str), &'static str>,
    kinds: HashMap<&'static str, TypeKind>,
}

impl Table {
    fn new() -> Table {
        let elements = [
            (("Observation", "status"), "code"),
            (("Observation", "category"), "CodeableConcept"),
            (("Observation", "code"), "CodeableConcept"),
            (("Observation", "subject"), "Reference"),
            (("Observation", "effectiveDateTime"), "dateTime"),
            (("Observation", "issued"), "instant"),
            (("Observation", "valueQuantity"), "Quantity"),
            (("Observation", "interpretation"), "CodeableConcept"),
            (("Observation", "component"), "Observation.component"),
            (("Observation", "meta"), "Meta"),
            (("Observation", "id"), "id"),
            (("Meta", "profile"), "uri"),
            (("Observation.component", "code"), "CodeableConcept"),
            (("Observation.component", "valueQuantity"), "Quantity"),
            (("Observation.component", "valueString"), "string"),
            (("CodeableConcept", "coding"), "Coding"),
            (("CodeableConcept", "text"), "string"),
            (("Coding", "system"), "uri"),
            (("Coding", "code"), "code"),
            (("Coding", "display"), "string"),
            (("Reference", "reference"), "string"),
            (("Quantity", "value"), "decimal"),
            (("Quantity", "unit"), "string"),
            (("Quantity", "system"), "uri"),
            (("Quantity", "code"), "code"),
        ]
        .into_iter()
        .collect();
        let kinds = [
            ("Observation", TypeKind::Resource),
            ("Bundle", TypeKind::Resource),
            ("Observation.component", TypeKind::Backbone),
            ("CodeableConcept", TypeKind::Complex),
            ("Coding", TypeKind::Complex),
            ("Reference", TypeKind::Complex),
            ("Quantity", TypeKind::Complex),
            ("Meta", TypeKind::Complex),
            ("code", TypeKind::Primitive),
            ("string", TypeKind::Primitive),
            ("uri", TypeKind::Primitive),
            ("id", TypeKind::Primitive),
            ("dateTime", TypeKind::Primitive),
            ("instant", TypeKind::Primitive),
            ("decimal", TypeKind::Primitive),
        ]
        .into_iter()
        .collect();
        Table { elements, kinds }
    }
}

impl TypeModel for Table {
    fn element_type(&self, parent: &str, element: &str) -> Option<&str> {
        self.elements.iter().find(|((p, e), _)| *p == parent && *e == element).map(|(_, t)| *t)
    }

    fn kind(&self, type_name: &str) -> Option<TypeKind> {
        self.kinds.get(type_name).copied()
    }

    fn type_named(&self, written: &str) -> Option<&str> {
        self.kinds.keys().find(|name| name.eq_ignore_ascii_case(written)).copied()
    }
}

fn observation() -> Value {
    serde_json::from_str(include_str!("fixtures/observation.json")).unwrap()
}

fn values(text: &str, focus: &Value, model: &Table) -> Result<Vec<String>, fhirpath::EvalError> {
    let environment = Environment::new().with_model(model);
    let items = Expression::parse(text).unwrap().evaluate(focus, &environment)?;
    Ok(items.iter().map(ToString::to_string).collect())
}

fn one(text: &str, focus: &Value, model: &Table) -> String {
    let found = values(text, focus, model).unwrap_or_else(|error| panic!("{text}: {error}"));
    assert_eq!(found.len(), 1, "{text}: {found:?}");
    found[0].clone()
}

#[test]
fn descendants_are_typed_so_codings_and_references_are_found_by_type() {
    let model = Table::new();
    let observation = observation();
    // Codings in category, code (two), interpretation and the three components' codes, less the
    // one component code that has only text.
    assert_eq!(one("Observation.descendants().where($this.is(Coding)).count()", &observation, &model), "6");
    assert_eq!(one("Observation.descendants().where($this is Reference).count()", &observation, &model), "1");
    assert_eq!(
        one("Observation.descendants().where($this as Reference).reference", &observation, &model),
        "'Patient/pat-1'"
    );
    assert_eq!(one("Observation.descendants().ofType(CodeableConcept).count()", &observation, &model), "6");
    assert_eq!(
        one(
            "Observation.descendants().where($this.is(Coding)).all(system.exists() and code.exists())",
            &observation,
            &model
        ),
        "false",
        "the interpretation's coding has no system"
    );
}

#[test]
fn choice_backbone_and_primitive_types_follow_the_fhir_hierarchy() {
    let model = Table::new();
    let observation = observation();
    assert_eq!(one("Observation.value is Quantity", &observation, &model), "true");
    assert_eq!(one("Observation.component.value.ofType(string)", &observation, &model), "'left arm'");
    assert_eq!(one("Observation.component.value.ofType(Quantity).count()", &observation, &model), "2");
    assert_eq!(one("Observation.component.first() is BackboneElement", &observation, &model), "true");
    assert_eq!(one("Observation.component.first() is Element", &observation, &model), "true");
    assert_eq!(one("Observation.component.first() is Quantity", &observation, &model), "false");
    assert_eq!(one("Observation.status is code", &observation, &model), "true");
    assert_eq!(one("Observation.status is string", &observation, &model), "true", "code derives from string");
    assert_eq!(one("Observation.status is uri", &observation, &model), "false");
    assert_eq!(one("Observation.code is CodeableConcept", &observation, &model), "true");
    assert_eq!(one("Observation is DomainResource", &observation, &model), "true");
    assert_eq!(one("Observation.subject.is(Resource)", &observation, &model), "false");
}

#[test]
fn type_names_are_resolved_by_the_model_and_as_filters_several_items() {
    let model = Table::new();
    let observation = observation();
    // This model accepts any case, as the qualification's engine does.
    assert_eq!(one("Observation.descendants().where($this.is(coding)).count()", &observation, &model), "6");
    let bundle: Value = serde_json::json!({"resourceType": "Bundle", "entry": [
        {"resource": observation.clone()}, {"resource": {"resourceType": "Patient"}}, {"resource": observation}
    ]});
    assert_eq!(one("Bundle.entry.resource.as(Observation).count()", &bundle, &model), "2");
    let singleton = Expression::parse("Bundle.entry.resource as Observation").unwrap();
    let error = singleton.evaluate(&bundle, &Environment::new().with_model(&model)).unwrap_err();
    assert!(matches!(error.kind(), EvalErrorKind::NotSingleton { .. }), "the operator keeps the singleton rule");
}

#[test]
fn what_the_model_does_not_know_stays_unsupported() {
    let model = Table::new();
    let mut observation = observation();
    observation["valueCodableConcept"] = serde_json::json!({"text": "misspelt"});
    let error = values("Observation.valueCodableConcept.is(CodeableConcept)", &observation, &model).unwrap_err();
    assert!(matches!(error.kind(), EvalErrorKind::Unsupported { .. }), "{error}");
    // Without a model, objects are still undecidable.
    let plain = Expression::parse("Observation.code.is(CodeableConcept)").unwrap();
    let error = plain.evaluate(&observation, &Environment::new()).unwrap_err();
    assert!(matches!(error.kind(), EvalErrorKind::Unsupported { .. }), "{error}");
}

#[test]
fn primitive_extensions_are_reached_through_the_primitive() {
    let model = Table::new();
    let patient = serde_json::json!({"resourceType": "Patient",
        "name": [{"family": "Vries", "_family": {"extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "de"}]},
            "given": ["Anna", "Maria"], "_given": [null, {"id": "g2"}]}],
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn",
            "_value": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "masked"}]}}]});
    let eval = |text: &str| one(text, &patient, &model);
    assert_eq!(
        eval(
            "Patient.name.family.extension('http://hl7.org/fhir/StructureDefinition/humanname-own-prefix').value.ofType(string).hasValue()"
        ),
        "true"
    );
    assert_eq!(eval("Patient.name.family.where($this.hasValue() and extension.exists()).count()"), "1");
    assert_eq!(eval("Patient.name.given[1].id"), "'g2'");
    assert_eq!(eval("Patient.name.given.count()"), "2");
    // A value given only by an extension: there, without a value.
    assert_eq!(eval("Patient.identifier.value.exists()"), "true");
    assert_eq!(eval("Patient.identifier.value.hasValue()"), "false");
    assert_eq!(eval("Patient.identifier.where(value.empty().not() and value.extension.exists().not()).count()"), "0");
    assert_eq!(
        eval("Patient.descendants().where(url.exists()).count()"),
        "2",
        "extensions of primitives are descendants"
    );
}
