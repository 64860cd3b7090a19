//! Settings of what ingest checks (unknown elements, the profiles resources claim, the packages
//! they come from), and the reading of a list of paths that a variable can give as one string.

use serde::Deserialize;
use std::path::PathBuf;

/// Validation of ingested resources.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSettings {
    /// Unknown elements: warn or reject.
    pub unknown_elements: UnknownElementsPolicy,
    /// A resource that breaks a profile it claims (and a data service lists): warn or reject.
    pub profiles: ProfilePolicy,
    /// The packages (folders of StructureDefinitions, ValueSets and CodeSystems, in FHIR XML or
    /// JSON) to validate against, per release.
    pub packages: ProfilePackages,
}

/// What to do with a resource that breaks a profile it claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfilePolicy {
    /// Keep it, with each finding as a warning.
    Warn,
    /// Refuse it, naming each finding.
    Reject,
}

/// Package folders per release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePackages {
    /// For STU3 data services (e.g. the Nictiz zib2017 package).
    #[serde(default, deserialize_with = "paths")]
    pub stu3: Vec<PathBuf>,
    /// For R4 data services (e.g. nl-core and the Vaccination-Immunization package).
    #[serde(default, deserialize_with = "paths")]
    pub r4: Vec<PathBuf>,
}

/// A list of paths: a TOML array, or (as an environment variable gives it) one string with the
/// paths separated by commas.
pub(crate) fn paths<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        List(Vec<PathBuf>),
        Joined(String),
    }
    Ok(match Written::deserialize(deserializer)? {
        Written::List(paths) => paths,
        Written::Joined(text) => {
            text.split(',').map(str::trim).filter(|path| !path.is_empty()).map(PathBuf::from).collect()
        }
    })
}

/// What to do with unknown elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownElementsPolicy {
    /// Keep and warn.
    Warn,
    /// Refuse the resource.
    Reject,
}
