//! Data-service definitions: what each MedMij data service (gegevensdienst) offers, which FHIR
//! resource types and search parameters exist per release, and the CapabilityStatement derived
//! from both. The definitions are data under `profiles/`, embedded at build time (or read from a
//! folder given in the settings); nothing here is written per data service in code.

mod capability;
pub mod drift;
mod load;
mod model;

pub use capability::{SecurityEndpoints, capability_statement};
pub use load::DefinitionError;
pub use model::{
    Catalog, DataService, Deviation, Include, Interaction, Ownership, ParamKind, ReleaseDefinition, SearchParam,
    ServedType, SharedBundle, Sharing, Source, TypeDefinition, canonical_without_version,
};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
