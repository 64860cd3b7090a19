//! The rules a definition states about an element, in the form the validator uses them: shared by
//! the base definitions (`base`), the compiled profiles (`compile`) and the engine (`validate`).

use serde::Deserialize;
use std::fmt;

/// How bad a finding is. Only errors make a resource invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The resource breaks a rule.
    Error,
    /// Something a reader should look at; the resource conforms.
    Warning,
    /// A remark (a rule that could not be checked, and why).
    Information,
}

impl Severity {
    /// The FHIR spelling (`IssueSeverity`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "information",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How strongly a value set binds an element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// The code must come from the value set.
    Required,
    /// A code from the value set where one fits.
    Extensible,
    /// Encouraged.
    Preferred,
    /// An example only.
    Example,
}

impl Strength {
    /// Reads the FHIR code.
    pub fn parse(code: &str) -> Option<Strength> {
        Some(match code {
            "required" => Strength::Required,
            "extensible" => Strength::Extensible,
            "preferred" => Strength::Preferred,
            "example" => Strength::Example,
            _ => return None,
        })
    }
}

/// A value-set binding.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Binding {
    /// How strongly.
    pub strength: Strength,
    /// The value set's canonical URL, without a `|version`.
    #[serde(rename = "valueSet")]
    pub value_set: String,
}

/// A constraint (invariant) with its FHIRPath expression.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Constraint {
    /// Its key (`obs-7`, `nl-core-address-1`).
    pub key: String,
    /// `error` or `warning` as the definition says.
    pub severity: Severity,
    /// What it says, in words.
    #[serde(default)]
    pub human: String,
    /// The FHIRPath expression, evaluated with the element as focus.
    pub expression: String,
}

/// The kind of rule a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `min`/`max` of an element or a slice.
    Cardinality,
    /// The type of a value (an element's types, a reference's target type).
    Type,
    /// A `fixed[x]` value.
    Fixed,
    /// A `pattern[x]` value.
    Pattern,
    /// A required binding.
    Binding,
    /// Slicing: a value matching no slice of closed slicing, or slices out of order.
    Slicing,
    /// An invariant, by key.
    Invariant(String),
    /// A reference whose target (in the same Bundle) conforms to none of the target profiles.
    Reference,
    /// A profile that cannot be used (unknown, or its definition is broken).
    Profile,
    /// A member the type does not have, or a value of the wrong JSON kind.
    Structure,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Cardinality => f.write_str("cardinality"),
            Rule::Type => f.write_str("type"),
            Rule::Fixed => f.write_str("fixed value"),
            Rule::Pattern => f.write_str("pattern"),
            Rule::Binding => f.write_str("binding"),
            Rule::Slicing => f.write_str("slicing"),
            Rule::Invariant(key) => write!(f, "invariant {key}"),
            Rule::Reference => f.write_str("reference target"),
            Rule::Profile => f.write_str("profile"),
            Rule::Structure => f.write_str("structure"),
        }
    }
}

/// One finding: where, how bad, which rule of which definition, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad.
    pub severity: Severity,
    /// Where in the resource, as a FHIRPath location (`Patient.identifier[1].system`).
    pub path: String,
    /// The kind of rule.
    pub rule: Rule,
    /// The definition that states the rule: a profile's URL and element id
    /// (`http://fhir.nl/fhir/StructureDefinition/nl-core-patient#Patient.identifier:BSN`), or
    /// `base#Observation.status` for the release's base definitions.
    pub source: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {} ({}): {}", self.severity, self.path, self.rule, self.source, self.message)
    }
}
