//! Reading a package folder: every StructureDefinition, ValueSet and CodeSystem in its FHIR XML
//! and JSON files (also inside Bundles), each file's fault named and the rest read.

use fhir_core::Release;
use fhir_xml::ReadLimits;
use serde_json::Value;
use std::fmt;
use std::path::{Path, PathBuf};

/// A package folder that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("the package folder {path} cannot be read: {reason}")]
pub struct LoadError {
    /// The folder.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Something in a package that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    /// The file, or the canonical URL of the definition.
    pub what: String,
    /// Why it was left out.
    pub reason: String,
}

impl LoadProblem {
    /// A problem with a definition, named by its URL (or id).
    pub(crate) fn about(resource: &Value, reason: impl Into<String>) -> LoadProblem {
        let name = resource
            .get("url")
            .or_else(|| resource.get("id"))
            .and_then(Value::as_str)
            .unwrap_or("a definition without url");
        LoadProblem { what: name.to_owned(), reason: reason.into() }
    }
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

/// The definitions read from the packages.
#[derive(Debug, Default)]
pub(crate) struct Definitions {
    /// StructureDefinitions.
    pub structures: Vec<Value>,
    /// ValueSets and CodeSystems.
    pub terminology: Vec<Value>,
}

/// Reads every file of the folders (or single files) in `packages`.
pub(crate) fn read(
    release: Release,
    packages: &[impl AsRef<Path>],
    problems: &mut Vec<LoadProblem>,
) -> Result<Definitions, LoadError> {
    let mut definitions = Definitions::default();
    for package in packages {
        let package = package.as_ref();
        if !package.exists() {
            return Err(LoadError { path: package.to_owned(), reason: "it does not exist".into() });
        }
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(package).sort_by_file_name() {
            let entry = entry.map_err(|error| LoadError { path: package.to_owned(), reason: error.to_string() })?;
            let path = entry.path();
            let is_definition = path.extension().is_some_and(|ext| ext == "xml" || ext == "json");
            // npm packages carry `package.json` and `.index.json`, which are not FHIR.
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            if entry.file_type().is_file() && is_definition && !name.starts_with('.') && name != "package.json" {
                files.push(path.to_owned());
            }
        }
        for file in files {
            match read_file(release, &file) {
                Ok(resource) => collect(resource, &mut definitions),
                Err(reason) => problems.push(LoadProblem { what: file.display().to_string(), reason }),
            }
        }
    }
    Ok(definitions)
}

fn read_file(release: Release, file: &Path) -> Result<Value, String> {
    let bytes = std::fs::read(file).map_err(|error| error.to_string())?;
    let is_xml = file.extension().is_some_and(|ext| ext == "xml");
    if is_xml {
        fhir_xml::from_xml(release, &bytes, ReadLimits { max_bytes: 64 * 1024 * 1024, max_depth: 64 })
            .map_err(|error| error.to_string())
    } else {
        serde_json::from_slice(&bytes).map_err(|error| format!("not JSON: {error}"))
    }
}

fn collect(resource: Value, definitions: &mut Definitions) {
    match resource.get("resourceType").and_then(Value::as_str) {
        Some("StructureDefinition") => definitions.structures.push(resource),
        Some("ValueSet" | "CodeSystem") => definitions.terminology.push(resource),
        Some("Bundle") => {
            let Value::Object(mut bundle) = resource else { return };
            if let Some(Value::Array(entries)) = bundle.remove("entry") {
                for mut entry in entries {
                    if let Some(inner) = entry.get_mut("resource").map(Value::take) {
                        collect(inner, definitions);
                    }
                }
            }
        }
        _ => {}
    }
}
