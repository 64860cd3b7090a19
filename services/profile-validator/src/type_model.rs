//! The FHIR structure of a release (`fhir-xml`'s tables, derived from the official definitions)
//! as the FHIRPath evaluator's [`TypeModel`]: the type of every element, choice elements with
//! their type suffix, backbone elements by their path. So `descendants().where($this.is(Coding))`
//! finds every Coding of a response, in STU3 as in R4.
//!
//! Type names in type specifiers are matched exactly, else without regard to case when that
//! names one type: the published qualification scripts write `is(coding)` and mean `Coding`, as
//! the engine they were written for reads it.

use fhir_core::Release;
use fhir_xml::{Kind, Structure};
use fhirpath::{TypeKind, TypeModel};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The type model of one release.
#[derive(Debug, Clone, Copy)]
pub struct StructureModel {
    structure: &'static Structure,
    folded: &'static HashMap<String, Option<&'static str>>,
}

impl StructureModel {
    /// The model of `release`.
    pub fn of(release: Release) -> StructureModel {
        static STU3: OnceLock<HashMap<String, Option<&'static str>>> = OnceLock::new();
        static R4: OnceLock<HashMap<String, Option<&'static str>>> = OnceLock::new();
        let structure = Structure::of(release);
        let cell = if release == Release::Stu3 { &STU3 } else { &R4 };
        StructureModel { structure, folded: cell.get_or_init(|| folded_names(structure)) }
    }
}

/// Every type name in lower case, with the one type it stands for (`None` when two types share
/// it in lower case, so that neither is guessed).
fn folded_names(structure: &'static Structure) -> HashMap<String, Option<&'static str>> {
    let mut folded: HashMap<String, Option<&'static str>> = HashMap::new();
    for name in structure.type_names() {
        folded.entry(name.to_ascii_lowercase()).and_modify(|known| *known = None).or_insert(Some(name));
    }
    folded
}

impl TypeModel for StructureModel {
    fn element_type(&self, parent: &str, element: &str) -> Option<&str> {
        let (definition, type_index) = self.structure.type_def(parent)?.element(element)?;
        definition.types.get(type_index).map(String::as_str)
    }

    fn kind(&self, type_name: &str) -> Option<TypeKind> {
        Some(match self.structure.type_def(type_name)?.kind {
            Kind::Primitive | Kind::Xhtml => TypeKind::Primitive,
            Kind::Complex => TypeKind::Complex,
            Kind::Backbone => TypeKind::Backbone,
            Kind::Resource => TypeKind::Resource,
        })
    }

    fn type_named(&self, written: &str) -> Option<&str> {
        match self.folded.get(&written.to_ascii_lowercase()) {
            Some(Some(name)) => Some(name),
            // Several types differ only in case: only the exact spelling names one.
            Some(None) => self.structure.type_names().find(|name| *name == written),
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirpath::{Environment, Expression};
    use serde_json::{Value, json};

    fn values(release: Release, text: &str, focus: &Value) -> Vec<String> {
        let model = StructureModel::of(release);
        let environment = Environment::new().with_model(&model);
        let items =
            Expression::parse(text).unwrap().evaluate(focus, &environment).unwrap_or_else(|e| panic!("{text}: {e}"));
        items.iter().map(ToString::to_string).collect()
    }

    fn stu3_bundle() -> Value {
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": "https://x/Observation/o", "resource": {"resourceType": "Observation", "id": "o",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
                "subject": {"reference": "Patient/p", "display": "P"},
                "valueQuantity": {"value": 1, "unit": "kg"},
                "component": [
                    {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
                     "valueCodeableConcept": {"coding": [{"code": "N"}]}}
                ],
                "extension": [{"url": "http://x/ext", "valueReference": {"reference": "Patient/p"}}]}},
            {"resource": {"resourceType": "Patient", "id": "p",
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "1"}],
                "contact": [{"relationship": [{"coding": [{"system": "s", "code": "c"}]}]}],
                "generalPractitioner": [{"reference": "Practitioner/x"}]}}
        ]})
    }

    #[test]
    fn stu3_descendants_are_found_by_type_in_choices_backbones_and_extensions() {
        let bundle = stu3_bundle();
        let count = |text: &str| values(Release::Stu3, &format!("{text}.count()"), &bundle);
        assert_eq!(count("Bundle.descendants().where($this.is(Coding))"), ["4"]);
        assert_eq!(count("Bundle.descendants().where($this.is(coding))"), ["4"], "any case names the type");
        assert_eq!(count("Bundle.descendants().where($this.is(CodeableConcept))"), ["4"]);
        assert_eq!(count("Bundle.descendants().where($this is Reference)"), ["3"], "subject, extension value, GP");
        assert_eq!(count("Bundle.descendants().where($this.is(Identifier))"), ["1"]);
        assert_eq!(
            count("Bundle.descendants().where($this.is(BackboneElement))"),
            ["4"],
            "entries, component, contact"
        );
        assert_eq!(count("Bundle.descendants().ofType(Quantity)"), ["1"]);
        assert_eq!(
            values(Release::Stu3, "Bundle.descendants().where($this.is(Reference)).all(display.exists())", &bundle),
            ["false"]
        );
        assert_eq!(values(Release::Stu3, "Bundle.entry.resource.as(Observation).status", &bundle), ["'final'"]);
        assert_eq!(values(Release::Stu3, "Bundle.entry.resource.as(Patient).id is string", &bundle), ["true"]);
    }

    #[test]
    fn r4_types_follow_the_r4_definitions() {
        let immunization = json!({"resourceType": "Immunization", "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://www.whocc.no/atc", "code": "J07BB02"}]},
            "patient": {"reference": "Patient/p", "type": "Patient"},
            "occurrenceDateTime": "2020-01-01",
            "protocolApplied": [{"targetDisease": [{"coding": [{"code": "6142004"}]}], "doseNumberPositiveInt": 1}]});
        let count = |text: &str| values(Release::R4, &format!("{text}.count()"), &immunization);
        assert_eq!(count("Immunization.descendants().where($this.is(Coding))"), ["2"]);
        assert_eq!(count("Immunization.descendants().where($this.is(Reference))"), ["1"]);
        assert_eq!(count("Immunization.descendants().where($this.is(positiveInt))"), ["1"]);
        assert_eq!(count("Immunization.descendants().where($this.is(integer))"), ["1"], "positiveInt is an integer");
        assert_eq!(values(Release::R4, "Immunization.occurrence is dateTime", &immunization), ["true"]);
        assert_eq!(
            values(Release::R4, "Immunization.protocolApplied.first() is BackboneElement", &immunization),
            ["true"]
        );
        assert_eq!(values(Release::R4, "Immunization.patient.type is uri", &immunization), ["true"]);
    }

    #[test]
    fn names_are_exact_first_then_folded() {
        let model = StructureModel::of(Release::R4);
        assert_eq!(model.type_named("Coding"), Some("Coding"));
        assert_eq!(model.type_named("coding"), Some("Coding"));
        assert_eq!(model.type_named("string"), Some("string"));
        assert_eq!(model.type_named("NoSuchType"), None);
        assert_eq!(model.kind("Observation.component"), Some(TypeKind::Backbone));
        assert_eq!(model.element_type("Observation", "valueQuantity"), Some("Quantity"));
        assert_eq!(model.element_type("Observation", "value"), None);
    }
}
