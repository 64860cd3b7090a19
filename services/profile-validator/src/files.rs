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

    /// Reads a file as FHIR JSON or XML, in `release` or the one its claims tell; with notes on
    /// XML elements out of the order of their definition (read all the same, as exports write
    /// them so).
    pub fn read(&self, file: &Path, release: Option<Release>) -> Result<(Release, Value, Vec<String>), String> {
        let bytes = std::fs::read(file).map_err(|error| error.to_string())?;
        let is_xml = file.extension().is_some_and(|ext| ext == "xml")
            || bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'<');
        let limits = ReadLimits { max_bytes: 256 * 1024 * 1024, max_depth: 64 };
        if !is_xml {
            let value: Value = serde_json::from_slice(&bytes).map_err(|error| format!("not JSON: {error}"))?;
            let release = release.or_else(|| self.release_claimed(&value)).unwrap_or(Release::Stu3);
            return Ok((release, value, Vec::new()));
        }
        let read = |release| {
            fhir_xml::from_xml_noting_order(release, &bytes, limits).map(|(value, notes)| (release, value, notes))
        };
        if let Some(release) = release {
            return read(release).map_err(|error| error.to_string());
        }
        // XML needs its release to be read: STU3 first, R4 when its claims (or only R4) say so.
        match read(Release::Stu3) {
            Ok(stu3) if self.release_claimed(&stu3.1) != Some(Release::R4) => Ok(stu3),
            stu3 => match read(Release::R4) {
                Ok(r4) => Ok(r4),
                Err(error) => stu3.map_err(|_| error.to_string()),
            },
        }
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
