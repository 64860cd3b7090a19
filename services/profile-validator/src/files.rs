//! Validating files (the `validate` commands of `pgo-exchange` and `pgo-conformance`): FHIR JSON
//! or XML, each in the release given or, without one, the release whose loaded profiles its
//! resources claim (STU3 when that cannot be told).

use crate::{Report, Validator};
use fhir_core::Release;
use fhir_xml::ReadLimits;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A validator per release.
#[derive(Debug)]
pub struct Validators {
    /// For STU3.
    pub stu3: Validator,
    /// For R4.
    pub r4: Validator,
}

impl Validators {
    /// Both releases, each with its packages.
    pub fn load(stu3: &[PathBuf], r4: &[PathBuf]) -> Result<Validators, crate::LoadError> {
        Ok(Validators { stu3: Validator::load(Release::Stu3, stu3)?, r4: Validator::load(Release::R4, r4)? })
    }

    /// The validator of `release`.
    pub fn of(&self, release: Release) -> &Validator {
        match release {
            Release::Stu3 => &self.stu3,
            Release::R4 => &self.r4,
        }
    }

    /// The release whose loaded profiles `resource` (or a Bundle's entries) claims.
    fn release_claimed(&self, resource: &Value) -> Option<Release> {
        let mut claimed: Vec<&str> = crate::validate::claimed_profiles(resource);
        for entry in resource.get("entry").and_then(Value::as_array).into_iter().flatten() {
            if let Some(inner) = entry.get("resource") {
                claimed.extend(crate::validate::claimed_profiles(inner));
            }
        }
        let loaded = |validator: &Validator| claimed.iter().any(|url| validator.profile(url).is_some());
        match (loaded(&self.stu3), loaded(&self.r4)) {
            (false, true) => Some(Release::R4),
            (true, _) => Some(Release::Stu3),
            (false, false) => None,
        }
    }

    /// Reads a file as FHIR JSON or XML, in `release` or the one its claims tell (`read_file`).
    pub fn read(&self, file: &Path, release: Option<Release>) -> Result<(Release, Value, Vec<String>), String> {
        read_file(file, release, Release::Stu3, &|resource| self.release_claimed(resource))
    }

    /// Validates one file against `profiles`, or (without any) against what it claims.
    pub fn validate_file(&self, file: &Path, release: Option<Release>, profiles: &[String]) -> FileOutcome {
        let mut notes = Vec::new();
        let outcome = self.read(file, release).map(|(release, resource, order_notes)| {
            notes = order_notes;
            let validator = self.of(release);
            let report = if profiles.is_empty() {
                validator.validate_claimed(&resource)
            } else {
                let profiles: Vec<&str> = profiles.iter().map(String::as_str).collect();
                validator.validate(&resource, &profiles)
            };
            (release, report)
        });
        FileOutcome { file: file.to_owned(), outcome, notes }
    }
}

/// Reads a FHIR JSON or XML file in `given` release, else in the one `from_content` tells from
/// what was read, else in `preferred` (XML, which needs its release to be read, is tried in
/// `preferred` first, then in the other release); with notes on XML elements out of the order of
/// their definition (read all the same, as exports write them so).
pub fn read_file(
    file: &Path,
    given: Option<Release>,
    preferred: Release,
    from_content: &dyn Fn(&Value) -> Option<Release>,
) -> Result<(Release, Value, Vec<String>), String> {
    let bytes = std::fs::read(file).map_err(|error| format!("cannot be read: {error}"))?;
    let is_xml = bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'<');
    if !is_xml {
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| format!("not JSON or XML: {error}"))?;
        let release = given.or_else(|| from_content(&value)).unwrap_or(preferred);
        return Ok((release, value, Vec::new()));
    }
    let limits = ReadLimits { max_bytes: 256 * 1024 * 1024, max_depth: 64 };
    let read = |release| {
        fhir_xml::from_xml_noting_order(release, &bytes, limits).map(|(value, notes)| (release, value, notes))
    };
    if let Some(release) = given {
        return read(release).map_err(|error| format!("not FHIR XML of {}: {error}", release.as_str().to_uppercase()));
    }
    let other = if preferred == Release::Stu3 { Release::R4 } else { Release::Stu3 };
    match read(preferred) {
        Ok(first) if from_content(&first.1) != Some(other) => Ok(first),
        first => match (read(other), first) {
            (Ok(second), _) => Ok(second),
            (Err(_), Ok(first)) => Ok(first),
            (Err(_), Err(error)) => Err(format!("not FHIR XML: {error}")),
        },
    }
}

/// One file's outcome: its release and report, or why it could not be read.
#[derive(Debug)]
pub struct FileOutcome {
    /// The file.
    pub file: PathBuf,
    /// The release it was read in and the report, or why it could not be read.
    pub outcome: Result<(Release, Report), String>,
    /// XML elements out of the order of their definition (the file was read all the same).
    pub notes: Vec<String>,
}
