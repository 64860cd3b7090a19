//! The public R4 corpus (`../shared/corpus/r4-zib2020/examples`, XML only; present in CI, and
//! required there through `PGO_EXCHANGE_REQUIRE_CORPUS`): every example is read from XML and
//! checked against the FHIR rules ingest applies. None is refused; faults put into them are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine;
use data_services::Catalog;
use fhir_core::Release;
use ingest::{Ingestor, UnknownElements};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn every_r4_example_reads_from_xml_and_passes_the_ingest_checks() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/r4-zib2020/examples");
    if !dir.is_dir() {
        assert!(std::env::var_os("PGO_EXCHANGE_REQUIRE_CORPUS").is_none(), "{} is missing", dir.display());
        eprintln!("skipped: the corpus is not at {}", dir.display());
        return;
    }
    let secret = identity::DeploymentSecret::from_base64(&base64::engine::general_purpose::STANDARD.encode([3_u8; 32]))
        .expect("secret");
    let ingestor = Ingestor::new(
        Arc::new(Catalog::embedded().expect("definitions")),
        Arc::new(secret),
        chrono_tz::Europe::Amsterdam,
        UnknownElements::Warn,
    );
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).expect("dir").map(|entry| entry.expect("entry").path()).collect();
    files.sort();
    let mut findings = BTreeMap::new();
    let mut warnings = 0;
    for path in &files {
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let resource =
            fhir_xml::from_xml(Release::R4, &std::fs::read(path).expect("read"), fhir_xml::ReadLimits::default())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
        match ingestor.validate(Release::R4, &resource, None) {
            Ok(found) => warnings += found.len(),
            Err(rejection) => {
                findings.insert(name, rejection.summary());
            }
        }
    }
    eprintln!("{} examples, {} refused, {warnings} warnings", files.len(), findings.len());
    for (name, finding) in &findings {
        eprintln!("{name}: {finding}");
    }
    assert_eq!(files.len(), 271);
    // Every example is valid R4: nothing is refused.
    assert_eq!(findings, BTreeMap::new());
    // The check is not vacuous: the same examples with a fault are refused, naming it.
    let broken = |path: &PathBuf, member: &str, value: serde_json::Value| {
        let mut resource =
            fhir_xml::from_xml(Release::R4, &std::fs::read(path).expect("read"), fhir_xml::ReadLimits::default())
                .expect("reads");
        resource[member] = value;
        ingestor.validate(Release::R4, &resource, None).expect_err("refused").summary()
    };
    let immunization = dir.join("nl-core-Vaccination-event-02.xml");
    let finding = broken(&immunization, "status", serde_json::json!(5));
    assert!(finding.starts_with("Immunization.status"), "{finding}");
    // A malformed date is refused too, though the typed models name only the resource for it.
    let finding = broken(&immunization, "occurrenceDateTime", serde_json::json!("yesterday"));
    assert!(finding.starts_with("Immunization"), "{finding}");
}
