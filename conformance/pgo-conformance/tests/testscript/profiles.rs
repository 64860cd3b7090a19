//! `validateProfileId` against the stand-in's Patient with profiles from a package given to the
//! run (`--package`): a profile the Patient meets passes, one it breaks fails naming the rule,
//! and without the package both are not run, saying which package is missing.

use super::{Recorder, TOKEN, assert_action, counts, r4_operation, scenario, spawn, write};
use pgo_conformance::outcome::{RunReport, Verdict};
use pgo_conformance::profiles::Profiles;
use pgo_conformance::testscript::{self, TestScriptTarget};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MET: &str = "http://example.org/fhir/StructureDefinition/patient-with-birth-date";
const BROKEN: &str = "http://example.org/fhir/StructureDefinition/patient-deceased-known";

/// An STU3 Patient profile whose differential makes `element` required.
fn profile(url: &str, element: &str) -> Value {
    json!({
        "resourceType": "StructureDefinition", "url": url, "name": "P", "status": "active", "kind": "resource",
        "abstract": false, "type": "Patient", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient", "path": "Patient"}, {"id": element, "path": element, "min": 1}]},
    })
}

/// A package of the two profiles, and a script reading the stand-in's Patient and validating it
/// against both and against the base Patient.
fn package_and_script(dir: &Path) -> PathBuf {
    let package = dir.join("package");
    std::fs::create_dir_all(&package).unwrap();
    write(&package, "met.json", &profile(MET, "Patient.birthDate"));
    write(&package, "broken.json", &profile(BROKEN, "Patient.deceased[x]"));
    let scripts = dir.join("scripts");
    std::fs::create_dir_all(&scripts).unwrap();
    let script = json!({
        "resourceType": "TestScript", "id": "profiles", "name": "profiles", "status": "active",
        "url": "http://q.example/TestScript/profiles",
        "profile": [
            {"id": "met", "reference": MET},
            {"id": "broken", "reference": BROKEN},
            {"id": "base", "reference": "http://hl7.org/fhir/StructureDefinition/Patient"},
        ],
        "test": [{"name": "anna", "action": [
            r4_operation("read", json!({"resource": "Patient", "params": "/anna", "accept": "application/fhir+xml"})),
            assert_action(json!({"response": "okay"})),
            assert_action(json!({"validateProfileId": "base"})),
            assert_action(json!({"validateProfileId": "met"})),
            assert_action(json!({"validateProfileId": "broken"})),
        ]}],
    });
    write(&scripts, "profiles.json", &script);
    package
}

async fn run(scripts: &Path, base: &str, packages: Vec<PathBuf>) -> RunReport {
    let mut target = TestScriptTarget::new(base, Some(TOKEN), &[]).unwrap();
    target.profiles = Arc::new(Profiles::with_packages(packages));
    testscript::run_with_load(scripts, &target, None, &super::http(), &Recorder::default()).await.unwrap()
}

/// (passed, failed, not run) of the profile validations.
fn profile_validations(report: &RunReport) -> (usize, usize, usize) {
    let totals = &report.totals;
    (totals.profile_validations_passed, totals.profile_validations_failed, totals.profile_validations_not_run)
}

#[tokio::test]
async fn profiles_of_a_package_given_to_the_run_are_validated_against() {
    let address = spawn(super::Fault::None);
    let dir = tempfile::tempdir().unwrap();
    let package = package_and_script(dir.path());
    let base = format!("{address}/48/fhir");

    let report = run(&dir.path().join("scripts"), &base, vec![package]).await;
    assert_eq!(counts(&report), (4, 3, 1, 0), "{report:#?}");
    assert_eq!(profile_validations(&report), (2, 1, 0));
    let anna = scenario(&report, "profiles.anna");
    let Verdict::Failed(why) = &anna.verdict else { panic!("{anna:#?}") };
    assert!(why.starts_with("valid against profile broken (found: 1 error: Patient"), "{why}");
    assert!(why.contains("cardinality") && why.contains("deceased"), "{why}");

    // Without the package: the base definition is still known, the two profiles are not.
    let report = run(&dir.path().join("scripts"), &base, Vec::new()).await;
    assert_eq!(profile_validations(&report), (1, 0, 2), "{report:#?}");
    let anna = scenario(&report, "profiles.anna");
    assert_eq!(anna.verdict, Verdict::Passed, "profiles not loaded do not decide when other checks held");
    let reasons: Vec<&str> =
        anna.checks.iter().filter(|check| check.not_run).map(|check| check.found.as_str()).collect();
    assert_eq!(
        reasons,
        [
            format!("profile {MET} is not loaded; give its package with --package"),
            format!("profile {BROKEN} is not loaded; give its package with --package"),
        ]
    );
}
