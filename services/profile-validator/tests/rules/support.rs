//! What every rule test shares: definitions written into a temporary package folder and loaded
//! from there (the way a deployment loads its packages), and assertions that compare a report's
//! errors with the expected ones exactly, so that an extra or a misplaced finding fails too.

use fhir_core::Release;
use profile_validator::{Finding, Report, Rule, Severity, Validator};
use serde_json::{Value, json};

/// The URL prefix of the base definitions.
pub const CORE: &str = "http://hl7.org/fhir/StructureDefinition/";

/// The URL prefix of our own definitions.
const EXAMPLE: &str = "http://example.org/fhir/StructureDefinition/";

/// The base definition of a type.
pub fn core(type_name: &str) -> String {
    format!("{CORE}{type_name}")
}

/// The URL of one of our own definitions.
pub fn url(name: &str) -> String {
    format!("{EXAMPLE}{name}")
}

/// A constraint StructureDefinition on `type_name`, based on `base`, with these differential
/// elements. The fields that differ between STU3 and R4 are all in the elements, which each test
/// writes in its release's shape.
pub fn profile(url: &str, type_name: &str, base: &str, elements: Vec<Value>) -> Value {
    let name = url.rsplit('/').next().unwrap_or(url);
    // The compiler does not read `kind`; it is here so that the definitions are well formed.
    let kind = if matches!(type_name, "Extension" | "HumanName") { "complex-type" } else { "resource" };
    json!({
        "resourceType": "StructureDefinition",
        "id": name,
        "url": url,
        "name": name,
        "status": "draft",
        "kind": kind,
        "abstract": false,
        "type": type_name,
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": elements}
    })
}

/// A ValueSet of the listed codes of one code system (`compose.include.concept`).
pub fn value_set(url: &str, system: &str, codes: &[&str]) -> Value {
    let concepts: Vec<Value> = codes.iter().map(|code| json!({"code": code})).collect();
    json!({
        "resourceType": "ValueSet",
        "id": url.rsplit('/').next().unwrap_or(url),
        "url": url,
        "status": "active",
        "compose": {"include": [{"system": system, "concept": concepts}]}
    })
}

/// A validator loaded from a package folder holding `definitions`, one JSON file each.
pub fn load(release: Release, definitions: &[Value]) -> Validator {
    let dir = tempfile::TempDir::new().unwrap();
    for (index, definition) in definitions.iter().enumerate() {
        let id = definition.get("id").and_then(Value::as_str).unwrap_or("definition");
        let file = dir.path().join(format!("{index:02}-{id}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(definition).unwrap()).unwrap();
    }
    Validator::load(release, &[dir.path()]).unwrap()
}

/// As `load`, and every definition must have loaded without a problem.
pub fn load_clean(release: Release, definitions: &[Value]) -> Validator {
    let validator = load(release, definitions);
    let problems: Vec<String> = validator.problems().iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "load problems: {problems:#?}");
    validator
}

/// Validates `resource` against the one profile `url`.
pub fn check(validator: &Validator, resource: &Value, url: &str) -> Report {
    validator.validate(resource, &[url])
}

fn shown(report: &Report) -> String {
    let lines: Vec<String> = report.findings.iter().map(Finding::to_string).collect();
    format!("findings:\n  {}\nnot checked: {:#?}", lines.join("\n  "), report.not_checked)
}

/// The resource conforms: no error findings (warnings, such as the base `dom-6` asking for a
/// narrative, are allowed).
#[track_caller]
pub fn assert_valid(report: &Report) {
    assert!(report.is_valid(), "expected no errors; {}", shown(report));
}

/// The report's errors are exactly these (path, rule, source), in any order.
#[track_caller]
pub fn assert_errors(report: &Report, expected: &[(&str, Rule, &str)]) {
    let mut actual: Vec<(String, Rule, String)> =
        report.errors().map(|finding| (finding.path.clone(), finding.rule.clone(), finding.source.clone())).collect();
    let mut wanted: Vec<(String, Rule, String)> =
        expected.iter().map(|(path, rule, source)| ((*path).to_owned(), rule.clone(), (*source).to_owned())).collect();
    actual.sort();
    wanted.sort();
    assert_eq!(actual, wanted, "{}", shown(report));
}

/// The report has a finding of this severity, path, rule and source.
#[track_caller]
pub fn assert_finding(report: &Report, severity: Severity, path: &str, rule: Rule, source: &str) {
    let found = report.findings.iter().any(|finding| {
        finding.severity == severity && finding.path == path && finding.rule == rule && finding.source == source
    });
    assert!(found, "expected {severity} at {path}: {rule} ({source}); {}", shown(report));
}

/// No finding, of any severity, of this rule kind (a rule that must stay silent).
#[track_caller]
pub fn assert_silent(report: &Report, rule: &Rule) {
    let found: Vec<&Finding> = report.findings.iter().filter(|finding| finding.rule == *rule).collect();
    assert!(found.is_empty(), "expected no {rule} finding; {}", shown(report));
}
