//! What the store indexes for one resource: the values of every search parameter of its type
//! (each kind's module reads its own, `kinds/`), every reference it makes, the patients whose
//! compartment it is in, the profiles it claims and (for a Patient) its BSNs.

use crate::kinds::reference::{self, ReferenceEntry};
use crate::kinds::{self, IndexValue};
use crate::path::select;
use chrono_tz::Tz;
use data_services::{TypeDefinition, canonical_without_version};
use fhir_core::BSN_SYSTEM;
use serde_json::Value;
use std::collections::BTreeSet;

/// One value a resource is indexed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexEntry {
    /// The search parameter it is a value of, or `None` for a reference no parameter covers
    /// (kept so that a PGO may read what its patient's records point at).
    pub param: Option<String>,
    /// The value, of the parameter's kind.
    pub value: IndexValue,
}

/// Everything the store indexes for one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceIndex {
    /// The values of its search parameters, of every kind, and its other references.
    pub entries: Vec<IndexEntry>,
    /// Ids of the Patients whose compartment the resource is in. `extract` fills it for a
    /// Patient (its own); for other types ingest fills it once it has resolved whose record the
    /// resource is (`patient_link.rs` reads the references, ingest ties them to Patients).
    pub compartment: Vec<String>,
    /// The profiles it claims, without version.
    pub profiles: Vec<String>,
    /// For a Patient: its BSNs.
    pub bsns: Vec<String>,
}

impl ResourceIndex {
    /// The values of the parameter `param`.
    pub fn values_of<'a>(&'a self, param: &'a str) -> impl Iterator<Item = &'a IndexValue> + 'a {
        self.entries.iter().filter(move |entry| entry.param.as_deref() == Some(param)).map(|entry| &entry.value)
    }
}

/// The search-parameter values and references of `resource`, of the type `definition`
/// describes: what the kinds' index tables hold for it. Values that cannot be read as their
/// parameter's kind (a malformed date, say) are left out: validation has already refused
/// resources whose elements do not fit their types.
pub fn entries(definition: &TypeDefinition, resource: &Value, zone: Tz) -> Vec<IndexEntry> {
    let mut entries = BTreeSet::new();
    for param in definition.params.values() {
        for path in &param.paths {
            for element in select(resource, path) {
                for value in kinds::extract(param, element, zone) {
                    entries.insert(IndexEntry { param: Some(param.name.clone()), value });
                }
            }
        }
    }
    let covered: BTreeSet<ReferenceEntry> = entries
        .iter()
        .filter_map(|entry| match &entry.value {
            IndexValue::Reference(reference) => Some(reference.clone()),
            _ => None,
        })
        .collect();
    for other in reference::every_reference(resource) {
        if !covered.contains(&other) {
            entries.insert(IndexEntry { param: None, value: IndexValue::Reference(other) });
        }
    }
    entries.into_iter().collect()
}

/// Extracts the index of `resource`, of the type `definition` describes.
pub fn extract(definition: &TypeDefinition, resource: &Value, zone: Tz) -> ResourceIndex {
    let compartment = if definition.name == "Patient" {
        resource.get("id").and_then(Value::as_str).map(str::to_owned).into_iter().collect()
    } else {
        Vec::new()
    };
    ResourceIndex {
        entries: entries(definition, resource, zone),
        compartment,
        profiles: claimed_profiles(resource),
        bsns: if definition.name == "Patient" { bsns(resource) } else { Vec::new() },
    }
}

/// The profiles `resource` claims in `meta.profile`, without their version suffix.
pub fn claimed_profiles(resource: &Value) -> Vec<String> {
    select(resource, "meta.profile")
        .into_iter()
        .filter_map(Value::as_str)
        .map(|profile| canonical_without_version(profile).to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn bsns(patient: &Value) -> Vec<String> {
    select(patient, "identifier")
        .into_iter()
        .filter(|identifier| identifier.get("system").and_then(Value::as_str) == Some(BSN_SYSTEM))
        .filter_map(|identifier| identifier.get("value").and_then(Value::as_str))
        .map(|value| value.trim().to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests;
