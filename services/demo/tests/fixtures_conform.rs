//! The demo fixtures conform to the profiles they claim: every STU3 fixture to the Nictiz zib2017
//! package, every R4 fixture to nl-core (zib2020) and the Vaccination-Immunization package, as
//! published (`../shared/corpus/`; present in CI and required there through
//! `PGO_EXCHANGE_REQUIRE_CORPUS`). The fixtures are the project's example of good data: a PGO
//! that validates what it receives must find nothing wrong with them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fhir_core::Release;
use profile_validator::Validator;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;
use test_support::corpus;

/// Claimed profiles that no package of the corpus publishes, with the reason. Any other claimed
/// profile must be loaded, so that a fixture is never checked against its base definition alone
/// by mistake (a misspelt `meta.profile`).
const NOT_PUBLISHED_IN_CORPUS: &[(&str, &str)] = &[(
    "http://nictiz.nl/fhir/StructureDefinition/zib-Appointment",
    "published with the eAfspraak package, not with nictiz.fhir.nl.stu3.zib2017",
)];

/// Validates every demo fixture of `release` against the profiles it claims; panics with every
/// error finding (and every claimed profile that is neither loaded nor known to be unpublished).
fn assert_conform(release: Release, packages: &[PathBuf]) {
    let validator = Validator::load(release, packages).expect("the packages load");
    let fixtures = demo::fixtures(release);
    assert!(!fixtures.is_empty(), "no {release:?} fixtures");
    let mut failures = String::new();
    for (file, text) in fixtures {
        let resource: Value = serde_json::from_str(text).unwrap_or_else(|error| panic!("{file}: {error}"));
        let report = validator.validate_claimed(&resource);
        for finding in report.errors() {
            let _ = writeln!(failures, "{file}: {finding}");
        }
        for unknown in &report.unknown_profiles {
            match NOT_PUBLISHED_IN_CORPUS.iter().find(|(url, _)| url == unknown) {
                Some((_, reason)) => eprintln!("{file}: {unknown} is not loaded ({reason}); checked against the base"),
                None => {
                    let _ = writeln!(failures, "{file}: claims {unknown}, which no package loaded defines");
                }
            }
        }
        if !report.is_valid() {
            let _ = writeln!(failures, "{file}: INVALID");
        }
    }
    assert!(failures.is_empty(), "{release:?} demo fixtures break the profiles they claim:\n{failures}");
}

#[test]
fn stu3_fixtures_conform_to_the_zib2017_profiles_they_claim() {
    let Some(zib2017) = corpus("stu3-zib2017-package/profiles") else { return };
    assert_conform(Release::Stu3, &[zib2017]);
}

#[test]
fn r4_fixtures_conform_to_the_nl_core_and_immunization_profiles_they_claim() {
    let Some(nl_core) = corpus("r4-zib2020/nl-core") else { return };
    let Some(immunization) = corpus("r4-immunization-package/package") else { return };
    assert_conform(Release::R4, &[nl_core, immunization]);
}
