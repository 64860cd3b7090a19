//! The profile validators of a run (`validateProfileId` in TestScripts, `pgo-conformance
//! validate`): one per FHIR release, with the release's base definitions and the profiles, value
//! sets and code systems of the packages given (`--package`). Each is loaded at its first use,
//! because a run of STU3 scripts never needs R4's and loading a package takes a while, and then
//! kept for the rest of the run.

use fhir_core::Release;
use profile_validator::Validator;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A validator, or why the packages could not be loaded for it.
type Loaded = Result<Validator, String>;

/// The validators of one run, by release, loaded at first use from the same packages.
#[derive(Debug, Default)]
pub struct Profiles {
    packages: Vec<PathBuf>,
    stu3: OnceLock<Loaded>,
    r4: OnceLock<Loaded>,
}

impl Profiles {
    /// Validators with the base definitions only (no package given).
    pub const fn base_only() -> Profiles {
        Profiles { packages: Vec::new(), stu3: OnceLock::new(), r4: OnceLock::new() }
    }

    /// Validators with the base definitions and what the folders (or files) `packages` hold.
    pub fn with_packages(packages: Vec<PathBuf>) -> Profiles {
        Profiles { packages, ..Profiles::base_only() }
    }

    /// The packages given.
    pub fn packages(&self) -> &[PathBuf] {
        &self.packages
    }

    /// The validator of `release`, loaded now if it was not yet; why not when a package folder
    /// cannot be read at all (a definition that cannot be used is a load problem, not this).
    pub fn validator(&self, release: Release) -> Result<&Validator, &str> {
        let loaded = self.slot(release).get_or_init(|| {
            if self.packages.is_empty() {
                Ok(Validator::base(release))
            } else {
                Validator::load(release, &self.packages).map_err(|error| error.to_string())
            }
        });
        loaded.as_ref().map_err(String::as_str)
    }

    /// The validators loaded so far (or why one could not be), without loading any.
    pub fn loaded_validators(&self) -> Vec<(Release, Result<&Validator, &str>)> {
        let loaded =
            Release::ALL.into_iter().filter_map(|release| self.slot(release).get().map(|slot| (release, slot)));
        loaded.map(|(release, slot)| (release, slot.as_ref().map_err(String::as_str))).collect()
    }

    /// A line per validator loaded so far, for a verbose line on stderr: what it holds and how
    /// many load problems there were (a file or definition left out, a profile whose base is not
    /// loaded); not each: `pgo-conformance validate --verbose` lists them.
    pub fn loaded(&self) -> Vec<String> {
        let loaded =
            Release::ALL.into_iter().filter_map(|release| self.slot(release).get().map(|slot| (release, slot)));
        loaded.map(|(release, slot)| self.describe(release, slot)).collect()
    }

    fn slot(&self, release: Release) -> &OnceLock<Loaded> {
        match release {
            Release::Stu3 => &self.stu3,
            Release::R4 => &self.r4,
        }
    }

    fn describe(&self, release: Release, loaded: &Loaded) -> String {
        let release = release.as_str().to_uppercase();
        let packages = self.packages.len();
        match loaded {
            Err(why) => format!("profiles for {release}: the packages could not be loaded: {why}"),
            Ok(_) if packages == 0 => format!("profiles for {release}: the base definitions only (no --package)"),
            Ok(validator) => {
                let problems = validator.problems().len();
                let mut line = format!(
                    "profiles for {release}: {} loaded from {packages} package(s), {problems} load problem(s)",
                    validator.profile_count()
                );
                if problems > 0 {
                    line.push_str(" (pgo-conformance validate --verbose lists them)");
                }
                line
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_release_is_loaded_at_first_use_and_kept() {
        let profiles = Profiles::base_only();
        assert!(profiles.loaded().is_empty(), "nothing loaded before it is needed");
        let validator = profiles.validator(Release::R4).expect("the base definitions");
        assert_eq!(validator.release(), Release::R4);
        assert!(validator.knows("http://hl7.org/fhir/StructureDefinition/Bundle"));
        assert_eq!(profiles.loaded(), ["profiles for R4: the base definitions only (no --package)"]);
    }

    #[test]
    fn a_package_folder_that_cannot_be_read_is_the_reason_for_every_use() {
        let profiles = Profiles::with_packages(vec![PathBuf::from("/nonexistent/package")]);
        let why = profiles.validator(Release::Stu3).expect_err("no such folder");
        assert!(why.contains("/nonexistent/package"), "{why}");
        assert!(profiles.loaded()[0].contains("could not be loaded"), "{:?}", profiles.loaded());
    }

    #[test]
    fn a_package_is_counted_with_what_it_left_out() {
        let dir = tempfile::tempdir().expect("a folder");
        std::fs::write(dir.path().join("broken.json"), "{ not json").expect("written");
        let profiles = Profiles::with_packages(vec![dir.path().to_owned()]);
        let validator = profiles.validator(Release::Stu3).expect("the folder reads");
        assert_eq!(validator.profile_count(), 0);
        let line = &profiles.loaded()[0];
        assert!(line.starts_with("profiles for STU3: 0 loaded from 1 package(s)"), "{line}");
    }
}
