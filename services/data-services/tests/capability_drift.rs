//! Every data-service definition names the published server CapabilityStatement it follows;
//! where a copy of that statement is in the public corpus (`../shared/corpus/`), the definition
//! must differ from it only as its listed deviations say, each named. Run with
//! `PGO_EXCHANGE_REQUIRE_CORPUS=1` (as CI does) a missing corpus fails instead of skipping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use data_services::{Catalog, drift};
use std::path::PathBuf;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("PGO_EXCHANGE_REQUIRE_CORPUS").is_none(),
        "the public corpus is missing at {}",
        dir.display()
    );
    eprintln!("skipped: no public corpus at {}", dir.display());
    None
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
    let Some(corpus) = corpus() else { return };
    let catalog = Catalog::embedded().expect("definitions");
    let mut compared = 0;
    for service in catalog.data_services() {
        let Some(file) = service.source.as_ref().and_then(|source| source.file.as_ref()) else { continue };
        let bytes = std::fs::read(corpus.join(file)).unwrap_or_else(|error| panic!("{file}: {error}"));
        let limits = fhir_xml::ReadLimits { max_bytes: usize::MAX, ..fhir_xml::ReadLimits::default() };
        let statement =
            fhir_xml::from_xml(service.release, &bytes, limits).unwrap_or_else(|error| panic!("{file}: {error}"));
        let differences = drift::differences(service, &statement, &|_| None);
        let undocumented = drift::undocumented(service, &differences);
        assert!(
            undocumented.is_empty(),
            "data service {} drifted from {file}:\n  {}",
            service.id,
            undocumented.join("\n  ")
        );
        compared += 1;
    }
    assert!(compared >= 1, "no definition was compared with its CapabilityStatement");
}
