//! FHIR search without storage: what to index from a resource, and what a PGO's search request
//! asks for. Both are driven by the definitions in `data-services`; the store turns the parsed
//! request into SQL and this crate never sees a database.

pub mod index;
mod path;
pub mod patient_link;
pub mod query;
pub mod request;

pub use index::{DateEntry, ReferenceEntry, ResourceIndex, TokenEntry};
pub use patient_link::{PatientLink, PatientLinks, PatientTarget, Unlinkable, patient_links};
pub use query::QueryParam;
pub use request::{
    Criterion, DatePrefix, LastN, ParseOptions, QueryLimits, SearchError, SearchRequest, SortBy, SortKey, TokenSystem,
    Value,
};
