//! `pgo-exchange validate`, run as a user runs it: files checked against the profiles they claim
//! with the packages of the settings and of `--package`, each finding printed with its place, and
//! the exit status telling the worst (0 valid, 1 a rule broken, 2 a file unreadable). The package
//! is the project's own small one (`tests/e2e/fixtures/profiles/stu3`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn package() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/fixtures/profiles/stu3")
}

fn validate(data: &Path, args: &[&str], environment: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgo-exchange"))
        .args(["--data-dir", &data.display().to_string(), "validate"])
        .args(args)
        .envs(environment.iter().copied())
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn problem(code: bool) -> Value {
    let mut condition = json!({"resourceType": "Condition", "id": "c1",
        "meta": {"profile": ["http://nictiz.nl/fhir/StructureDefinition/zib-Problem"]},
        "clinicalStatus": "active", "verificationStatus": "confirmed",
        "code": {"text": "Hypertensie"}, "subject": {"reference": "Patient/p1"}});
    if !code {
        condition.as_object_mut().unwrap().remove("code");
    }
    condition
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_valid_file_exits_0_and_a_broken_one_exits_1_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.json", &problem(true).to_string());
    let bad = write(dir.path(), "bad.json", &problem(false).to_string());
    let package = package().display().to_string();

    let output = validate(&dir.path().join("data"), &["--package", &package, &good], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("good.json: valid (stu3; 0 errors, 0 warnings)"), "{}", stdout(&output));

    let output = validate(&dir.path().join("data"), &["--package", &package, &good, &bad], &[]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("bad.json: error at Condition.code: cardinality (http://nictiz.nl/fhir/StructureDefinition/zib-Problem#Condition.code): 0 present where at least 1 is required"),
        "{text}"
    );
    assert!(text.contains("2 files: 1 valid, 1 invalid, 0 unreadable"), "{text}");
}

#[test]
fn the_packages_of_the_settings_are_used_and_a_profile_can_be_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.json", &problem(false).to_string());
    let package = package().display().to_string();
    let settings = [("PGO_EXCHANGE__VALIDATION__PACKAGES__STU3", package.as_str())];
    let output = validate(&dir.path().join("data"), &[&bad], &settings);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));

    // Without any package the claim cannot be checked: said, and not an error.
    let output = validate(&dir.path().join("data"), &[&bad], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("claims http://nictiz.nl/fhir/StructureDefinition/zib-Problem, which is not loaded")
    );

    // `--profile` instead of the claims: the base Condition holds, whatever the file claims.
    let base = "http://hl7.org/fhir/StructureDefinition/Condition";
    let output = validate(&dir.path().join("data"), &["--profile", base, &bad], &settings);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn an_unreadable_file_exits_2_and_the_others_are_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let broken = write(dir.path(), "broken.json", "{ not json");
    let bad = write(dir.path(), "bad.json", &problem(false).to_string());
    let package = package().display().to_string();
    let output = validate(&dir.path().join("data"), &["--package", &package, &broken, &bad], &[]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("broken.json: not JSON or XML"), "{text}");
    assert!(text.contains("bad.json: INVALID"), "{text}");
}

#[test]
fn xml_written_out_of_order_is_read_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // `code` belongs before `subject` in Condition.
    let xml = r#"<Condition xmlns="http://hl7.org/fhir"><id value="c1"/><meta><profile value="http://nictiz.nl/fhir/StructureDefinition/zib-Problem"/></meta><clinicalStatus value="active"/><verificationStatus value="confirmed"/><subject><reference value="Patient/p1"/></subject><code><text value="Hypertensie"/></code></Condition>"#;
    let file = write(dir.path(), "unordered.xml", xml);
    let package = package().display().to_string();
    let output = validate(&dir.path().join("data"), &["--package", &package, &file], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("unordered.xml: warning: an XML element out of order"), "{text}");
    assert!(text.contains("unordered.xml: valid (stu3"), "{text}");
}
