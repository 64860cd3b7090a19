//! `pgo-conformance validate FILE...`: FHIR resources in files (JSON or XML) validated against
//! the base definitions of their release and the profiles of the packages given, as
//! `validateProfileId` validates responses. Each finding is printed as `file: finding`, then a
//! summary line per file. The exit status tells the worst: 2 when a file (or a package, or a
//! `--profile`) could not be used, 1 when a file has an error finding, 0 when every file is valid.
//!
//! The release is `--release`, else told from the file as the TestScript runner tells a script's:
//! XML that only one release reads, then a release token in the path (`stu3`, `r4`, ...), then
//! STU3. Not from the profiles a resource claims: `--package` gives its folders to both releases'
//! validators, and both mostly compile them, so both would know the claimed profiles.

use crate::profiles::Profiles;
use crate::testscript::release;
use fhir_core::Release;
use profile_validator::{Report, Severity, Validator};
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to validate, and with what.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The files.
    pub files: Vec<PathBuf>,
    /// Their release, when not told from each file.
    pub release: Option<Release>,
    /// Package folders (or files) of profiles, value sets and code systems.
    pub packages: Vec<PathBuf>,
    /// Profiles to validate against; without any, those each resource claims.
    pub profiles: Vec<String>,
    /// Also the rules that could not be checked, and each problem loading the packages.
    pub verbose: bool,
}

/// How a run of `validate` ended, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// A file, a package or a profile could not be used.
    Unreadable,
    /// A file has an error finding.
    Invalid,
    /// Every file is valid.
    Valid,
}

impl Status {
    /// The exit status: 2, 1 or 0.
    pub fn code(self) -> u8 {
        match self {
            Status::Unreadable => 2,
            Status::Invalid => 1,
            Status::Valid => 0,
        }
    }
}

/// Validates every file of `request`, findings and summaries to `out`, what could not be used and
/// what was loaded to `err`.
pub fn run(request: &Request, out: &mut dyn Write, err: &mut dyn Write) -> Status {
    let profiles = Profiles::with_packages(request.packages.clone());
    let mut status = Status::Valid;
    for file in &request.files {
        let outcome = file_status(file, request, &profiles, out);
        let file_status = outcome.unwrap_or_else(|why| {
            let _ = writeln!(err, "{}: {why}", file.display());
            Status::Unreadable
        });
        status = status.min(file_status);
    }
    if !request.packages.is_empty() {
        for line in profiles.loaded() {
            let _ = writeln!(err, "{line}");
        }
    }
    if request.verbose {
        for (release, validator) in profiles.loaded_validators() {
            for problem in validator.map(Validator::problems).unwrap_or_default() {
                let _ = writeln!(err, "load problem ({}): {problem}", upper(release));
            }
        }
    }
    status
}

/// Validates one file; why not when it (or what it needs) cannot be used.
fn file_status(file: &Path, request: &Request, profiles: &Profiles, out: &mut dyn Write) -> Result<Status, String> {
    let (resource, release, notes) = read(file, request.release)?;
    let validator = profiles.validator(release).map_err(|why| format!("no validator for {}: {why}", upper(release)))?;
    let report = validate(validator, &resource, &request.profiles)?;
    let name = file.display();
    for note in notes {
        let _ = writeln!(out, "{name}: warning: XML element out of order: {note}");
    }
    for finding in &report.findings {
        let _ = writeln!(out, "{name}: {finding}");
    }
    for unknown in &report.unknown_profiles {
        let _ = writeln!(out, "{name}: claims profile {unknown}, which is not loaded; give its package with --package");
    }
    if request.verbose {
        for line in &report.not_checked {
            let _ = writeln!(out, "{name}: not checked: {line}");
        }
    }
    let _ = writeln!(out, "{name}: {}", summary(&resource, release, request, &report));
    Ok(if report.is_valid() { Status::Valid } else { Status::Invalid })
}

/// `resource` validated against `profiles`, or against those it claims when none are given.
fn validate(validator: &Validator, resource: &Value, profiles: &[String]) -> Result<Report, String> {
    if profiles.is_empty() {
        return Ok(validator.validate_claimed(resource));
    }
    if let Some(unknown) = profiles.iter().find(|url| !validator.knows(url)) {
        let release = upper(validator.release());
        return Err(format!("profile {unknown} is not loaded for {release}; give its package with --package"));
    }
    let profiles: Vec<&str> = profiles.iter().map(String::as_str).collect();
    Ok(validator.validate(resource, &profiles))
}

/// `valid`/`INVALID`, the type and release, against what, and the counts by severity.
fn summary(resource: &Value, release: Release, request: &Request, report: &Report) -> String {
    let count = |severity| report.findings.iter().filter(|finding| finding.severity == severity).count();
    let verdict = if report.is_valid() { "valid" } else { "INVALID" };
    let type_name = resource["resourceType"].as_str().unwrap_or("?");
    let against = if request.profiles.is_empty() {
        "its base definition and the loaded profiles it claims".to_owned()
    } else {
        format!("its base definition and {}", request.profiles.join(", "))
    };
    format!(
        "{verdict} ({} {type_name} against {against}): {} error(s), {} warning(s), {} information",
        upper(release),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Information),
    )
}

/// The resource in `file` as FHIR JSON, its release and notes on the XML's element order: the
/// release given, else the path's, else STU3 (XML that only the other release reads is read so).
fn read(file: &Path, given: Option<Release>) -> Result<(Value, Release, Vec<String>), String> {
    let preferred = release::from_path(file).unwrap_or(Release::Stu3);
    let (release, resource, notes) = profile_validator::read_file(file, given, preferred, &|_| None)?;
    if resource.get("resourceType").and_then(Value::as_str).is_none() {
        return Err("not a FHIR resource: no resourceType".into());
    }
    Ok((resource, release, notes))
}

/// `STU3`, `R4`.
fn upper(release: Release) -> String {
    release.as_str().to_uppercase()
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
