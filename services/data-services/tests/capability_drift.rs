//! Every data-service definition names the published server CapabilityStatement it follows;
//! where a copy of that statement is in the public corpus (`../shared/corpus/`), the definition
//! must differ from it only as its listed deviations say, each named. Run with
//! `PGO_EXCHANGE_REQUIRE_CORPUS=1` (as CI does) a missing corpus fails instead of skipping.
//!
//! An STU3 statement lists its profiles at the root without their resource types; those types
//! are read from the StructureDefinitions of the package the statement comes with (the corpus
//! folder its `file` starts with), and every root profile must be found there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use data_services::{Catalog, drift};
use fhir_core::Release;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use test_support::corpus;

fn read_xml(release: Release, path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let limits = fhir_xml::ReadLimits { max_bytes: usize::MAX, ..fhir_xml::ReadLimits::default() };
    fhir_xml::from_xml(release, &bytes, limits).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Every `.xml` file under `dir`.
fn xml_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display())).flatten() {
        let path = entry.path();
        if path.is_dir() {
            xml_files(&path, files);
        } else if path.extension().is_some_and(|extension| extension == "xml") {
            files.push(path);
        }
    }
}

/// The resource type of each of `profiles`, from the StructureDefinition in `package` whose
/// `url` it is. Only the files naming one of them are read as FHIR.
fn profile_types(release: Release, package: &Path, profiles: &[String]) -> BTreeMap<String, String> {
    let mut files = Vec::new();
    xml_files(package, &mut files);
    let mut types = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if !text.contains("<StructureDefinition")
            || !profiles.iter().any(|profile| text.contains(&format!("<url value=\"{profile}\"")))
        {
            continue;
        }
        let definition = read_xml(release, &file);
        if let (Some(url), Some(kind)) = (definition["url"].as_str(), definition["type"].as_str())
            && profiles.iter().any(|profile| profile == url)
        {
            types.insert(url.to_owned(), kind.to_owned());
        }
    }
    types
}

#[test]
fn every_definition_names_its_capability_statement() {
    let catalog = Catalog::embedded().expect("definitions");
    for service in catalog.data_services() {
        let source = service.source.as_ref().unwrap_or_else(|| panic!("data service {} names no source", service.id));
        assert!(source.capability_statement.starts_with("http"), "{}: {}", service.id, source.capability_statement);
        for deviation in &source.deviations {
            assert!(!deviation.why.trim().is_empty(), "{}: a deviation without its reason", service.id);
        }
    }
}

#[test]
fn definitions_follow_their_published_capability_statements() {
    let Some(corpus) = corpus("") else { return };
    let catalog = Catalog::embedded().expect("definitions");
    let mut compared = Vec::new();
    // Every drifted definition is named, not only the first.
    let mut drifted = Vec::new();
    for service in catalog.data_services() {
        let Some(file) = service.source.as_ref().and_then(|source| source.file.as_ref()) else { continue };
        let statement = read_xml(service.release, &corpus.join(file));
        let root_profiles: Vec<String> = statement["profile"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|profile| profile["reference"].as_str())
            .map(|profile| data_services::canonical_without_version(profile).to_owned())
            .collect();
        let package = corpus.join(file.split('/').next().unwrap_or_default());
        let types = profile_types(service.release, &package, &root_profiles);
        let unknown: Vec<&String> = root_profiles.iter().filter(|profile| !types.contains_key(*profile)).collect();
        assert!(
            unknown.is_empty(),
            "data service {}: no StructureDefinition in {file}'s package for {unknown:?}",
            service.id
        );
        let differences = drift::differences(service, &statement, &|profile| types.get(profile).cloned());
        let undocumented = drift::undocumented(service, &differences);
        if !undocumented.is_empty() {
            drifted.push(format!("data service {} drifted from {file}:\n  {}", service.id, undocumented.join("\n  ")));
        }
        compared.push(service.id.clone());
    }
    assert!(drifted.is_empty(), "{}", drifted.join("\n"));
    // The STU3 statement with its profiles at the root, and the R4 one with them per resource.
    for id in ["52", "63"] {
        assert!(compared.iter().any(|compared| compared == id), "data service {id} was not compared: {compared:?}");
    }
}
