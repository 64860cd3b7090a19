//! Holding a resource to the profiles it claims: those a data service of the provider lists and
//! the deployment's packages define are validated (`profile-validator`), and what breaks them is
//! refused or kept with warnings, as the deployment's policy says.

use crate::prepare::{Rejection, RejectionKind};
use fhir_core::outcome::Issue;
use fhir_core::{IssueCode, OperationOutcome, Release, Severity};
use profile_validator::{Finding, LoadError, Validator, Validators};
use serde_json::Value;
use std::path::PathBuf;

/// What to do with a resource that breaks a profile it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfilePolicy {
    /// Keep it; each finding becomes a warning.
    Warn,
    /// Refuse it, naming each finding.
    Reject,
}

/// The validators of a deployment, one per release, and its policy.
#[derive(Debug)]
pub struct ProfileValidation {
    validators: Validators,
    policy: ProfilePolicy,
}

impl ProfileValidation {
    /// Loads the packages of each release once (see `profile_validator::Validator::load`).
    pub fn load(stu3: &[PathBuf], r4: &[PathBuf], policy: ProfilePolicy) -> Result<ProfileValidation, LoadError> {
        Ok(ProfileValidation { validators: Validators::load(stu3, r4)?, policy })
    }

    /// The validator of `release`.
    pub fn validator(&self, release: Release) -> &Validator {
        self.validators.of(release)
    }

    /// The validators of both releases.
    pub fn validators(&self) -> &Validators {
        &self.validators
    }

    /// Validates `resource` against those of `profiles` that are loaded; returns the warnings,
    /// or the refusal with an issue per error finding (as the policy says).
    pub(crate) fn check(
        &self,
        release: Release,
        resource: &Value,
        profiles: &[&str],
        at: &dyn Fn(&str) -> String,
    ) -> Result<Vec<Issue>, Rejection> {
        let validator = self.validator(release);
        let loaded: Vec<&str> = profiles.iter().copied().filter(|url| validator.knows(url)).collect();
        if loaded.is_empty() {
            return Ok(Vec::new());
        }
        let report = validator.validate(resource, &loaded);
        let issue = |finding: &Finding, severity: Severity| Issue {
            severity,
            code: IssueCode::Processing,
            // A message may quote the value that broke the rule, an identifier's BSN among them.
            diagnostics: crate::served::text_without_bsn(&format!(
                "{} ({}): {}",
                finding.rule, finding.source, finding.message
            )),
            expression: vec![at(&finding.path)],
        };
        let mut warnings: Vec<Issue> = report
            .findings
            .iter()
            .filter(|finding| finding.severity == profile_validator::Severity::Warning)
            .map(|finding| issue(finding, Severity::Warning))
            .collect();
        let errors: Vec<&Finding> = report.errors().collect();
        if errors.is_empty() {
            return Ok(warnings);
        }
        match self.policy {
            ProfilePolicy::Warn => {
                warnings.extend(errors.into_iter().map(|finding| issue(finding, Severity::Warning)));
                Ok(warnings)
            }
            ProfilePolicy::Reject => {
                let outcome = OperationOutcome {
                    issues: errors.into_iter().map(|finding| issue(finding, Severity::Error)).collect(),
                };
                Err(Rejection { kind: RejectionKind::Unprocessable, outcome, awaits_patient: false })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn a_finding_that_quotes_a_bsn_is_refused_with_the_bsn_masked() {
        let package = std::env::temp_dir().join(format!("pgx-profiles-{}", std::process::id()));
        std::fs::create_dir_all(&package).unwrap();
        let profile = json!({"resourceType": "StructureDefinition", "url": "http://example.org/p", "name": "P",
            "status": "draft", "kind": "resource", "abstract": false, "type": "Patient",
            "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
            "differential": {"element": [{"id": "Patient.identifier", "path": "Patient.identifier",
                "patternIdentifier": {"system": "http://example.org/mrn"}}]}});
        std::fs::write(package.join("p.json"), profile.to_string()).unwrap();
        let validation = ProfileValidation::load(std::slice::from_ref(&package), &[], ProfilePolicy::Reject).unwrap();
        let _ = std::fs::remove_dir_all(&package);
        let patient = json!({"resourceType": "Patient", "id": "p1",
            "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": "123456782"}]});
        let refusal = validation.check(Release::Stu3, &patient, &["http://example.org/p"], &|path| path.to_owned());
        let outcome = refusal.expect_err("refused").outcome;
        let text = serde_json::to_string(&outcome.to_json()).unwrap();
        assert!(text.contains("pattern"), "{text}");
        assert!(!text.contains("123456782"), "{text}");
        assert!(text.contains("*********"), "{text}");
    }
}
