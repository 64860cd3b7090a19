//! FHIR XML for STU3 and R4, both ways: FHIR JSON (as `serde_json::Value`) to XML and XML to
//! JSON. The structure of every type (element order, types, repetition, attributes) comes from
//! tables derived from the official FHIR definitions (`profiles/fhir/structure/`), never from
//! lists written per resource. Decimals keep their text both ways (serde_json's
//! `arbitrary_precision`). No HTTP here.

mod definitions;
mod read;
mod write;
mod xhtml;

pub use definitions::{ElementDef, JsonKind, Kind, Structure, TypeDef, XmlForm};
pub use read::{ReadLimits, from_xml, from_xml_noting_order};
pub use write::{UnknownMembers, check_writable, to_xml, write_resource};

/// The FHIR XML namespace.
pub const FHIR_NAMESPACE: &str = "http://hl7.org/fhir";
/// The XHTML namespace of the narrative.
pub const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// FHIR JSON that cannot be written as XML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WriteError {
    /// The FHIR path of the element (e.g. `Observation.valueQuantity.value`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

/// XML that is not a FHIR resource the service accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", if path.is_empty() { String::new() } else { format!(", {path}") })]
pub struct ReadError {
    /// The line the problem was found on (0: before reading).
    pub line: usize,
    /// The FHIR path of the element being read.
    pub path: String,
    /// What is wrong.
    pub message: String,
}
