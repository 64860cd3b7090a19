//! The published examples, validated against the profiles they claim with the published packages
//! (`../shared/corpus/`; present in CI and required there through `PGO_EXCHANGE_REQUIRE_CORPUS`):
//! every finding must be listed, with the reason the example really breaks that rule, in the
//! expectation file of its set (`tests/expected/`), and every listed one must still be found.
//! Real data breaks rules; a finding that is not in the file is a fault of the validator or news
//! about the data, and either way someone must look.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_core::Release;
use profile_validator::{Severity, Validator};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use test_support::corpus;

/// Every `.xml` and `.json` file under `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|entry| entry.file_type().is_file())
        .map(|entry| entry.path().to_owned())
        .filter(|path| path.extension().is_some_and(|ext| ext == "xml" || ext == "json"))
        .collect();
    files.sort();
    files
}

/// Validates every file against its claimed profiles; one line per finding (errors and
/// warnings), per claimed profile that is not loaded, and per FHIR XML ordering fault (the
/// file is read in spite of it).
fn findings(release: Release, validator: &Validator, files: &[PathBuf]) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let resource = if name.ends_with(".xml") {
            let (resource, notes) = fhir_xml::from_xml_noting_order(release, &bytes, fhir_xml::ReadLimits::default())
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            for note in notes {
                lines.insert(format!("{name} | xml | {note}"));
            }
            resource
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        let report = validator.validate_claimed(&resource);
        for finding in &report.findings {
            assert!(!finding.path.is_empty(), "{name}: a finding without a path: {finding}");
            if finding.severity == Severity::Information {
                continue;
            }
            lines.insert(format!(
                "{name} | {} | {} | {} | {}",
                finding.severity, finding.path, finding.rule, finding.source
            ));
        }
        for unknown in &report.unknown_profiles {
            lines.insert(format!("{name} | unknown profile | {unknown}"));
        }
    }
    lines
}

/// The listed findings of an expectation file; each must follow a `#` line giving the reason.
fn expected(file: &str) -> BTreeSet<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/expected").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut lines = BTreeSet::new();
    let mut reason_given = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            reason_given = false;
        } else if line.starts_with('#') {
            reason_given = true;
        } else {
            assert!(reason_given, "{file}: {line:?} is listed without a reason (a # line above its group)");
            lines.insert(line.to_owned());
        }
    }
    lines
}

fn compare(file: &str, found: &BTreeSet<String>) {
    let wanted = expected(file);
    let new: Vec<&String> = found.difference(&wanted).collect();
    let gone: Vec<&String> = wanted.difference(found).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "{file}:\nfound but not listed:\n{}\nlisted but not found:\n{}",
        new.iter().map(|line| format!("  {line}")).collect::<Vec<_>>().join("\n"),
        gone.iter().map(|line| format!("  {line}")).collect::<Vec<_>>().join("\n"),
    );
}

#[test]
fn the_208_examples_of_the_stu3_zib2017_package_break_only_the_listed_rules() {
    let Some(package) = corpus("stu3-zib2017-package") else { return };
    let validator = Validator::load(Release::Stu3, &[package.join("profiles")]).unwrap();
    let examples = files(&package.join("examples"));
    assert_eq!(examples.len(), 208);
    let started = std::time::Instant::now();
    let found = findings(Release::Stu3, &validator, &examples);
    eprintln!("{} examples validated in {:?}: {} findings", examples.len(), started.elapsed(), found.len());
    compare("stu3-zib2017-package-examples.txt", &found);
}

#[test]
fn the_54_resources_of_the_stu3_dva_set_break_only_the_listed_rules() {
    let (Some(package), Some(resources)) = (corpus("stu3-zib2017-package"), corpus("stu3-zib2017")) else { return };
    let validator = Validator::load(Release::Stu3, &[package.join("profiles")]).unwrap();
    let files = files(&resources);
    assert_eq!(files.len(), 54);
    compare("stu3-zib2017-dva-set.txt", &findings(Release::Stu3, &validator, &files));
}

#[test]
fn the_r4_vaccination_examples_break_only_the_listed_rules() {
    let (Some(immunization), Some(zib2020)) = (corpus("r4-immunization-package"), corpus("r4-zib2020")) else {
        return;
    };
    let validator = Validator::load(Release::R4, &[zib2020.join("nl-core"), immunization.join("package")]).unwrap();
    let examples = files(&immunization.join("package/examples"));
    compare("r4-immunization-package-examples.txt", &findings(Release::R4, &validator, &examples));
}
