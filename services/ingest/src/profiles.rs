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
            diagnostics: format!("{} ({}): {}", finding.rule, finding.source, finding.message),
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
