//! The deployment's profile validation, loaded once from the packages its settings name.

use anyhow::Context as _;
use fhir_core::Release;
use ingest::{ProfilePolicy, ProfileValidation};
use settings::ValidationSettings;

/// Loads the packages of both releases and says what was loaded (and, at debug level, each
/// definition that could not be used).
pub fn load(settings: &ValidationSettings) -> anyhow::Result<ProfileValidation> {
    let policy = match settings.profiles {
        settings::ProfilePolicy::Warn => ProfilePolicy::Warn,
        settings::ProfilePolicy::Reject => ProfilePolicy::Reject,
    };
    let started = std::time::Instant::now();
    let validation = ProfileValidation::load(&settings.packages.stu3, &settings.packages.r4, policy)
        .context("loading the validation packages")?;
    for release in Release::ALL {
        let validator = validation.validator(release);
        if validator.profile_count() == 0 && validator.problems().is_empty() {
            continue;
        }
        for problem in validator.problems() {
            tracing::debug!(release = release.as_str(), %problem, "a definition of the packages is not used");
        }
        tracing::info!(
            release = release.as_str(),
            profiles = validator.profile_count(),
            problems = validator.problems().len(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "profiles loaded for validation"
        );
    }
    Ok(validation)
}
