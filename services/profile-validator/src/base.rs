//! The rules of the release's base definitions (FHIR 3.0.1 and 4.0.1) that the structure tables
//! do not carry: minimum cardinality, required bindings, invariants and reference targets, by
//! element path, derived into `profiles/fhir/base/` (see `examples/derive_base.rs`).
//!
//! An invariant that the root of a type has is kept there only (`ext-1` on `Extension`, not on
//! `Observation.extension`), so it is evaluated once, where a value has that type; a resource's
//! root keeps the `dom-*` invariants it inherits. `ele-1`, which every element has, is left out,
//! and so are the abstract roots (`Element`, `Resource`, `DomainResource`, ...), whose rules every
//! concrete type repeats. A target profile `http://hl7.org/fhir/StructureDefinition/Resource`
//! stands for any resource. The codes of a bound value set are here only when the definitions
//! name them all; a value set that uses a filter or an external code system (UCUM, mime types,
//! currencies) is not, and a binding to it cannot be decided from these rules alone.

use crate::model::{Binding, Constraint};
use fhir_core::Release;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// The base rules of one element path (`Observation.status`, or a type's root `Quantity`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct BaseElement {
    /// Minimum cardinality.
    #[serde(default)]
    pub min: u32,
    /// A required binding, if any.
    #[serde(default)]
    pub binding: Option<Binding>,
    /// Invariants with a FHIRPath expression.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// For references, the profiles (types) the target must have.
    #[serde(default, rename = "targetProfiles")]
    pub target_profiles: Vec<String>,
}

/// The base rules of one release.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BaseRules {
    #[serde(default, rename = "fhirVersion")]
    fhir_version: String,
    #[serde(default)]
    elements: HashMap<String, BaseElement>,
    #[serde(default, rename = "valueSets")]
    value_sets: BTreeMap<String, Vec<(String, String)>>,
}

impl BaseRules {
    /// The rules of `release`, parsed once per process.
    pub fn of(release: Release) -> &'static BaseRules {
        static STU3: OnceLock<BaseRules> = OnceLock::new();
        static R4: OnceLock<BaseRules> = OnceLock::new();
        match release {
            Release::Stu3 => {
                STU3.get_or_init(|| BaseRules::parse(include_str!("../../../profiles/fhir/base/stu3.json"), "3.0.1"))
            }
            Release::R4 => {
                R4.get_or_init(|| BaseRules::parse(include_str!("../../../profiles/fhir/base/r4.json"), "4.0.1"))
            }
        }
    }

    fn parse(text: &str, fhir_version: &str) -> BaseRules {
        // The tables are part of the build and checked by this module's tests; an unreadable one,
        // or one of another FHIR version, leaves no base rules rather than stopping the process.
        let rules: BaseRules = serde_json::from_str(text).unwrap_or_default();
        if rules.fhir_version == fhir_version { rules } else { BaseRules::default() }
    }

    /// The rules of one element path, if it has any.
    pub fn element(&self, path: &str) -> Option<&BaseElement> {
        self.elements.get(path)
    }

    /// The codes of the base value sets the rules bind: (URL, [(system, code)]).
    pub fn value_sets(&self) -> impl Iterator<Item = (&str, &[(String, String)])> {
        self.value_sets.iter().map(|(url, codes)| (url.as_str(), codes.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::model::Strength;

    const RELEASES: [Release; 2] = [Release::Stu3, Release::R4];

    fn codes<'a>(rules: &'a BaseRules, url: &str) -> &'a [(String, String)] {
        rules.value_sets().find(|(known, _)| *known == url).map(|(_, codes)| codes).unwrap_or_default()
    }

    #[test]
    fn both_tables_load_for_their_release() {
        for (release, version) in [(Release::Stu3, "3.0.1"), (Release::R4, "4.0.1")] {
            let rules = BaseRules::of(release);
            assert_eq!(rules.fhir_version, version);
            assert!(rules.elements.len() > 1000, "{release:?}: {}", rules.elements.len());
            assert!(rules.value_sets.len() > 150, "{release:?}: {}", rules.value_sets.len());
        }
    }

    #[test]
    fn an_unreadable_table_or_one_of_another_version_gives_no_rules() {
        let stu3 = include_str!("../../../profiles/fhir/base/stu3.json");
        for rules in [BaseRules::parse("{not json", "3.0.1"), BaseRules::parse(stu3, "4.0.1")] {
            assert!(rules.element("Observation.status").is_none());
            assert_eq!(rules.value_sets().count(), 0);
        }
    }

    #[test]
    fn observation_status_is_mandatory_and_bound_to_observation_status() {
        for release in RELEASES {
            let rules = BaseRules::of(release);
            let status = rules.element("Observation.status").unwrap();
            assert_eq!(status.min, 1, "{release:?}");
            let binding = status.binding.as_ref().unwrap();
            assert_eq!(binding.strength, Strength::Required);
            assert_eq!(binding.value_set, "http://hl7.org/fhir/ValueSet/observation-status");
            let wanted = ("http://hl7.org/fhir/observation-status".to_owned(), "final".to_owned());
            assert!(codes(rules, &binding.value_set).contains(&wanted), "{release:?}");
        }
    }

    #[test]
    fn bundle_root_has_the_bundle_invariants() {
        for release in RELEASES {
            let bundle = BaseRules::of(release).element("Bundle").unwrap();
            let keys: Vec<&str> = bundle.constraints.iter().map(|c| c.key.as_str()).collect();
            for key in ["bdl-1", "bdl-2", "bdl-3", "bdl-4", "bdl-7"] {
                assert!(keys.contains(&key), "{release:?}: {keys:?}");
            }
        }
    }

    #[test]
    fn observation_subject_may_refer_to_a_patient() {
        for release in RELEASES {
            let subject = BaseRules::of(release).element("Observation.subject").unwrap();
            assert!(
                subject.target_profiles.iter().any(|p| p == "http://hl7.org/fhir/StructureDefinition/Patient"),
                "{release:?}: {:?}",
                subject.target_profiles
            );
        }
    }

    #[test]
    fn no_element_keeps_ele_1() {
        for release in RELEASES {
            for (path, element) in &BaseRules::of(release).elements {
                assert!(element.constraints.iter().all(|c| c.key != "ele-1"), "{release:?} {path}");
            }
        }
    }

    #[test]
    fn a_type_root_invariant_is_kept_on_the_type_root_only() {
        for release in RELEASES {
            let rules = BaseRules::of(release);
            assert!(rules.element("Extension").unwrap().constraints.iter().any(|c| c.key == "ext-1"));
            for (path, element) in &rules.elements {
                if path != "Extension" {
                    assert!(element.constraints.iter().all(|c| c.key != "ext-1"), "{release:?} {path}");
                }
            }
        }
    }

    #[test]
    fn resource_roots_keep_the_inherited_dom_invariants_and_abstract_roots_have_none() {
        for release in RELEASES {
            let rules = BaseRules::of(release);
            let observation = rules.element("Observation").unwrap();
            assert!(observation.constraints.iter().any(|c| c.key == "dom-2"), "{release:?}");
            for path in rules.elements.keys() {
                let root = path.split('.').next().unwrap_or_default();
                assert!(
                    !matches!(root, "Element" | "BackboneElement" | "Resource" | "DomainResource"),
                    "{release:?} {path}"
                );
            }
        }
    }

    #[test]
    fn every_binding_is_required_and_every_value_set_is_bound() {
        for release in RELEASES {
            let rules = BaseRules::of(release);
            let bound: Vec<&str> =
                rules.elements.values().filter_map(|e| e.binding.as_ref()).map(|b| b.value_set.as_str()).collect();
            for binding in rules.elements.values().filter_map(|e| e.binding.as_ref()) {
                assert_eq!(binding.strength, Strength::Required);
                assert!(!binding.value_set.contains('|'), "{}", binding.value_set);
            }
            for (url, codes) in rules.value_sets() {
                assert!(bound.contains(&url), "{release:?} {url}");
                assert!(!codes.is_empty(), "{release:?} {url}");
            }
        }
    }

    /// The derivation leaves out expressions the `fhirpath` crate cannot parse, and prints them;
    /// with 3.0.1 and 4.0.1 it parses them all, so none is left out.
    #[test]
    fn every_constraint_expression_parses() {
        let mut count = 0;
        for release in RELEASES {
            for (path, element) in &BaseRules::of(release).elements {
                for constraint in &element.constraints {
                    let parsed = fhirpath::Expression::parse(&constraint.expression);
                    assert!(parsed.is_ok(), "{release:?} {path} {}: {parsed:?}", constraint.key);
                    count += 1;
                }
            }
        }
        assert!(count > 1500, "{count}");
    }
}
