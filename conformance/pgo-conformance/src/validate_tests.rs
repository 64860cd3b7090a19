//! Tests of `validate`: small files in a temporary folder, one test per exit status.

use super::*;
use serde_json::json;

/// A folder with `files` (name, content) written into it.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, content) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the subfolder");
        }
        std::fs::write(path, content).expect("written");
    }
    dir
}

/// The status, stdout and stderr of validating `files` of `dir`.
fn validated(dir: &tempfile::TempDir, files: &[&str], request: Request) -> (Status, String, String) {
    let files = files.iter().map(|name| dir.path().join(name)).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = run(&Request { files, ..request }, &mut out, &mut err);
    (status, String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

const PATIENT: &str = r#"{"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-02-01"}"#;

fn searchset(entry: serde_json::Value) -> String {
    json!({"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [entry]}).to_string()
}

#[test]
fn valid_files_exit_0_with_a_summary_line_each() {
    let bundle = searchset(
        json!({"fullUrl": "http://x/fhir/Patient/p1", "resource": serde_json::from_str::<Value>(PATIENT).unwrap(), "search": {"mode": "match"}}),
    );
    let dir = folder(&[("patient.json", PATIENT), ("bundle.json", &bundle)]);
    let (status, out, err) = validated(&dir, &["patient.json", "bundle.json"], Request::default());
    assert_eq!((status, status.code()), (Status::Valid, 0), "{out}{err}");
    let summaries: Vec<&str> = out.lines().filter(|line| line.contains(": valid (")).collect();
    assert_eq!(summaries.len(), 2, "{out}");
    assert!(out.contains("patient.json: valid (STU3 Patient against its base definition"), "{out}");
    assert!(err.is_empty(), "{err}");
}

#[test]
fn a_file_with_an_error_finding_exits_1_and_names_it() {
    let no_type =
        json!({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "gender": "female"}}]});
    let dir = folder(&[("patient.json", PATIENT), ("no-type.json", &no_type.to_string())]);
    let (status, out, _) = validated(&dir, &["patient.json", "no-type.json"], Request::default());
    assert_eq!((status, status.code()), (Status::Invalid, 1), "{out}");
    let finding = out.lines().find(|line| line.contains("no-type.json: error at Bundle")).unwrap_or_default();
    assert!(finding.contains("cardinality"), "the missing Bundle.type: {out}");
    assert!(out.contains("no-type.json: INVALID (STU3 Bundle"), "{out}");
    assert!(out.contains("patient.json: valid"), "the other file is still validated: {out}");
}

#[test]
fn a_file_that_cannot_be_read_exits_2_and_the_others_are_still_validated() {
    let dir = folder(&[("patient.json", PATIENT), ("broken.json", "{ not json"), ("plain.json", r#"{"a": 1}"#)]);
    let (status, out, err) =
        validated(&dir, &["broken.json", "missing.json", "plain.json", "patient.json"], Request::default());
    assert_eq!((status, status.code()), (Status::Unreadable, 2));
    assert!(err.contains("broken.json: not JSON or XML"), "{err}");
    assert!(err.contains("missing.json: cannot be read"), "{err}");
    assert!(err.contains("plain.json: not a FHIR resource"), "{err}");
    assert!(out.contains("patient.json: valid"), "{out}");
}

#[test]
fn a_profile_that_is_not_loaded_cannot_be_validated_against() {
    let dir = folder(&[("patient.json", PATIENT)]);
    let profiles = vec!["http://nictiz.nl/fhir/StructureDefinition/nl-core-Patient".to_owned()];
    let (status, _, err) = validated(&dir, &["patient.json"], Request { profiles, ..Request::default() });
    assert_eq!(status, Status::Unreadable);
    assert!(err.contains("nl-core-Patient is not loaded for STU3; give its package with --package"), "{err}");

    let base = vec!["http://hl7.org/fhir/StructureDefinition/Patient".to_owned()];
    let (status, out, _) = validated(&dir, &["patient.json"], Request { profiles: base, ..Request::default() });
    assert_eq!(status, Status::Valid, "a base definition is always known: {out}");
}

#[test]
fn claimed_profiles_that_are_not_loaded_are_listed_and_do_not_fail_the_file() {
    let claiming = r#"{"resourceType": "Patient", "meta": {"profile": ["http://fhir.nl/fhir/StructureDefinition/nl-core-patient"]}}"#;
    let dir = folder(&[("claiming.json", claiming)]);
    let (status, out, _) = validated(&dir, &["claiming.json"], Request { verbose: true, ..Request::default() });
    assert_eq!(status, Status::Valid, "{out}");
    assert!(
        out.contains(
            "claiming.json: claims profile http://fhir.nl/fhir/StructureDefinition/nl-core-patient, which is not loaded"
        ),
        "{out}"
    );
}

#[test]
fn xml_is_read_with_the_release_its_path_names_or_the_one_given() {
    let xml = r#"<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><gender value="male"/></Patient>"#;
    let dir = folder(&[("r4/patient.xml", xml), ("patient.xml", xml)]);
    let (status, out, _) = validated(&dir, &["r4/patient.xml", "patient.xml"], Request::default());
    assert_eq!(status, Status::Valid, "{out}");
    assert!(out.contains("patient.xml: valid (R4 Patient"), "{out}");
    assert!(out.contains("patient.xml: valid (STU3 Patient"), "{out}");
    let (_, out, _) = validated(&dir, &["patient.xml"], Request { release: Some(Release::R4), ..Request::default() });
    assert!(out.contains("valid (R4 Patient"), "{out}");
}

#[test]
fn a_package_is_loaded_once_and_counted_on_stderr() {
    let dir = folder(&[("patient.json", PATIENT), ("package/broken.json", "{")]);
    let request = Request { packages: vec![dir.path().join("package")], verbose: true, ..Request::default() };
    let (status, out, err) = validated(&dir, &["patient.json", "patient.json"], request);
    assert_eq!(status, Status::Valid, "{out}");
    assert!(err.contains("profiles for STU3: 0 loaded from 1 package(s), 1 load problem(s)"), "{err}");
    assert!(err.contains("load problem (STU3): ") && err.contains("broken.json"), "verbose lists each: {err}");
}
