//! The FHIR releases the service speaks.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A FHIR release. Each data service is defined for exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Release {
    /// FHIR STU3, version 3.0.2.
    Stu3,
    /// FHIR R4, version 4.0.1.
    R4,
}

impl Release {
    /// Every release, in order.
    pub const ALL: [Release; 2] = [Release::Stu3, Release::R4];

    /// The short name used in paths, configuration and storage: `stu3`, `r4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::Stu3 => "stu3",
            Release::R4 => "r4",
        }
    }

    /// The full version, as in `CapabilityStatement.fhirVersion`.
    pub fn fhir_version(self) -> &'static str {
        match self {
            Release::Stu3 => "3.0.2",
            Release::R4 => "4.0.1",
        }
    }

    /// The value of the `fhirVersion` MIME-type parameter (FHIR R4 §3.1.0.1.6).
    pub fn mime_version(self) -> &'static str {
        match self {
            Release::Stu3 => "3.0",
            Release::R4 => "4.0",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not the name of a release the service speaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown FHIR release '{0}' (expected stu3 or r4)")]
pub struct UnknownRelease(pub String);

impl FromStr for Release {
    type Err = UnknownRelease;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "stu3" | "3.0" | "3.0.2" => Ok(Release::Stu3),
            "r4" | "4.0" | "4.0.1" => Ok(Release::R4),
            _ => Err(UnknownRelease(text.to_owned())),
        }
    }
}
