//! Validates FHIR resources (JSON) against StructureDefinitions: the base definitions of the
//! release and the profiles of the packages a deployment configures (Nictiz zib2017 for STU3,
//! nl-core and the Vaccination-Immunization package for R4), with the value sets they ship.
//!
//! ```text
//! let validator = Validator::load(Release::Stu3, &["packages/nictiz.fhir.nl.stu3.zib2017"])?;
//! let report = validator.validate(&resource, &["http://nictiz.nl/fhir/StructureDefinition/zib-Problem"]);
//! for finding in &report.findings { println!("{finding}"); }
//! ```
//!
//! Profiles are published as differentials. Loading compiles each into a tree of element rules
//! by element id, merged onto the tree of its base profile (a snapshot in all but name), once;
//! validation then walks a resource's JSON with the release's structure tables (`fhir-xml`) for
//! types, and checks at each element: cardinality, types and type profiles, fixed and pattern
//! values, required bindings, slicing (value, pattern, type, profile and exists discriminators;
//! open, closed and open at end), extensions against their own definitions, invariants
//! (FHIRPath, with the `fhirpath` crate) and reference targets. See `validate` for what is and is
//! not checked.

mod base;
mod checks;
mod compile;
mod files;
mod model;
mod package;
mod paths;
mod primitives;
mod slicing;
mod terminology;
mod type_model;
mod validate;

pub use base::{BaseElement, BaseRules};
pub use files::{FileOutcome, Validators, read_file};
pub use model::{Binding, Constraint, Finding, Rule, Severity, Strength};
pub use package::{LoadError, LoadProblem};
pub use terminology::{Membership, Terminology};
pub use type_model::StructureModel;
pub use validate::Report;

use compile::{Invariant, Profile};
use fhir_core::Release;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// A validator for one release: its base definitions and the profiles and terminology of the
/// packages it was loaded with. Cheap to share (`Arc`) and safe to use from many threads.
#[derive(Debug)]
pub struct Validator {
    release: Release,
    profiles: HashMap<String, Arc<Profile>>,
    terminology: Terminology,
    problems: Vec<LoadProblem>,
    /// The base definitions' invariants, parsed at first use (by key and expression).
    base_invariants: RwLock<HashMap<(String, String), Arc<Invariant>>>,
}

impl Validator {
    /// A validator with the base definitions of `release` only.
    pub fn base(release: Release) -> Validator {
        let mut terminology = Terminology::default();
        for (url, codes) in BaseRules::of(release).value_sets() {
            terminology.add_codes(url, codes);
        }
        Validator {
            release,
            profiles: HashMap::new(),
            terminology,
            problems: Vec::new(),
            base_invariants: RwLock::default(),
        }
    }

    /// A validator with the base definitions of `release` and every StructureDefinition,
    /// ValueSet and CodeSystem found (in FHIR XML or JSON, in folders and their subfolders) in
    /// `packages`. Files that cannot be read as such, and profiles that cannot be compiled (an
    /// unknown base, an element path the type does not have), are listed in `problems()`; the
    /// rest is used. Fails only when a folder cannot be read at all.
    pub fn load(release: Release, packages: &[impl AsRef<Path>]) -> Result<Validator, LoadError> {
        let mut validator = Validator::base(release);
        let definitions = package::read(release, packages, &mut validator.problems)?;
        for resource in &definitions.terminology {
            if let Err(message) = validator.terminology.add(resource) {
                validator.problems.push(LoadProblem::about(resource, message));
            }
        }
        validator.profiles = compile::all(release, &definitions.structures, &mut validator.problems);
        Ok(validator)
    }

    /// The release this validator validates.
    pub fn release(&self) -> Release {
        self.release
    }

    /// What could not be loaded, and why.
    pub fn problems(&self) -> &[LoadProblem] {
        &self.problems
    }

    /// Whether the profile of this canonical URL (a `|version` is ignored) is loaded. Base
    /// definitions (`http://hl7.org/fhir/StructureDefinition/Patient`) are always known.
    pub fn knows(&self, profile: &str) -> bool {
        let url = compile::canonical(profile);
        self.profiles.contains_key(url) || compile::base_type(self.release, url).is_some()
    }

    /// How many profiles (including extension and data-type profiles) are loaded.
    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    /// Validates `resource` against the base definition of its type and each of `profiles`.
    /// Resources inside it (Bundle entries, contained resources) are validated against their base
    /// definitions and the loaded profiles they claim in `meta.profile`. A profile that is not
    /// loaded is an error finding of rule `Profile`.
    pub fn validate(&self, resource: &Value, profiles: &[&str]) -> Report {
        validate::run(self, resource, profiles)
    }

    /// Validates `resource` against its base definition and the loaded profiles it claims in
    /// `meta.profile`; claimed profiles that are not loaded are listed in
    /// `Report::unknown_profiles`, not as findings.
    pub fn validate_claimed(&self, resource: &Value) -> Report {
        let claimed = validate::claimed_profiles(resource);
        let (known, unknown): (Vec<&str>, Vec<&str>) = claimed.into_iter().partition(|url| self.knows(url));
        let mut report = self.validate(resource, &known);
        report.unknown_profiles = unknown.into_iter().map(str::to_owned).collect();
        report
    }

    fn profile(&self, url: &str) -> Option<&Profile> {
        self.profiles.get(compile::canonical(url)).map(|profile| &**profile)
    }

    fn terminology(&self) -> &Terminology {
        &self.terminology
    }

    /// A base invariant, parsed once.
    fn base_invariant(&self, constraint: &Constraint) -> Arc<Invariant> {
        let key = (constraint.key.clone(), constraint.expression.clone());
        if let Ok(known) = self.base_invariants.read()
            && let Some(invariant) = known.get(&key)
        {
            return invariant.clone();
        }
        let invariant = Arc::new(Invariant::new(constraint.clone()));
        if let Ok(mut known) = self.base_invariants.write() {
            known.insert(key, invariant.clone());
        }
        invariant
    }
}
