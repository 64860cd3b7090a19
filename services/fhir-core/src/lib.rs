//! FHIR vocabulary shared by every service crate: the releases the service speaks, wire formats
//! and content negotiation, OperationOutcome, FHIR date ranges and reference parsing, MedMij's
//! request ids. No HTTP and no storage here.

pub mod date;
pub mod format;
pub mod json;
pub mod outcome;
pub mod reference;
pub mod release;
pub mod request_id;

pub use format::Format;
pub use outcome::{IssueCode, OperationOutcome, Severity};
pub use release::Release;

/// The identifier system of the Dutch citizen service number (BSN).
pub const BSN_SYSTEM: &str = "http://fhir.nl/fhir/NamingSystem/bsn";
