//! FHIR search without storage: what to index from a resource, and what a PGO's search request
//! asks for. Both are driven by the definitions in `data-services`; each kind of parameter is a
//! module of `kinds/` (its values, index entries and matching condition); the store writes the
//! index rows and turns the conditions into SQL, and this crate never sees a database.

pub mod index;
pub mod kinds;
mod path;
pub mod patient_link;
pub mod query;
pub mod request;

pub use index::{IndexEntry, ResourceIndex};
pub use kinds::date::{DatePrefix, DateValue};
pub use kinds::token::{TokenSystem, TokenValue};
pub use kinds::{Comparison, Condition, IndexTable, IndexValue, Rows, Scalar, Value};
pub use patient_link::{PatientLink, PatientLinks, PatientTarget, Unlinkable, patient_links};
pub use query::QueryParam;
pub use request::{Criterion, LastN, ParseOptions, QueryLimits, SearchError, SearchRequest, SortBy, SortKey};
