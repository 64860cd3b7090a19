//! Taking resources in from providers, through the provider-facing FHIR endpoint or the `load`
//! command; both go through the same checks, so a resource stored one way would be stored the
//! other way too.
//!
//! A resource is accepted when it:
//! 1. is valid FHIR JSON of the release (fhir-validate: types, formats, JSON rules);
//! 2. is of a type one of the provider's data services of that release serves;
//! 3. claims (`meta.profile`) a profile that data service accepts for the type;
//! 4. if its type is in the patient compartment, leads to exactly one person among the
//!    provider's Patients (`owner.rs`).
//!
//! Unknown elements are kept and reported as warnings, or refused, as configured. Accepted
//! resources are indexed for search, hashed (to skip no-op writes) and, for a Patient, keyed by
//! the person keys of its BSNs.

mod bundle;
mod check;
mod load;
mod owner;
mod prepare;
mod profiles;
mod release_of;
pub mod served;
mod share;

pub use bundle::BundleKind;
pub use check::{Unowned, unowned_resources};
pub use load::{LoadError, LoadOptions, LoadSummary, Rejected, collect_files};
pub use owner::KnownPatients;
pub use prepare::{Ingestor, Prepared, Rejection, RejectionKind, UnknownElements};
pub use profiles::{ProfilePolicy, ProfileValidation};
pub use share::{ShareRequest, Shared, SharedEntry};

/// Ingest failed: the input was refused, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The input was refused; the rejection says why and where.
    #[error("rejected: {}", .0.summary())]
    Rejected(Rejection),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The resource with its `id` set to `id`, placed right after `resourceType` (where FHIR
/// examples put it), everything else unchanged. Used when the server assigns the id (create).
pub fn with_id(resource: serde_json::Value, id: &str) -> serde_json::Value {
    let serde_json::Value::Object(members) = resource else { return resource };
    let mut out = serde_json::Map::with_capacity(members.len() + 1);
    let mut pending = Some(serde_json::Value::String(id.to_owned()));
    for (name, value) in members {
        match name.as_str() {
            "id" => {}
            "resourceType" => {
                out.insert(name, value);
                if let Some(id) = pending.take() {
                    out.insert("id".into(), id);
                }
            }
            _ => {
                if let Some(id) = pending.take() {
                    out.insert("id".into(), id);
                }
                out.insert(name, value);
            }
        }
    }
    if let Some(id) = pending.take() {
        out.insert("id".into(), id);
    }
    serde_json::Value::Object(out)
}
