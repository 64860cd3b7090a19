//! The validator's rules, one kind at a time, through the public API only: small
//! StructureDefinitions and ValueSets of our own (in the STU3 and R4 shapes) are written into a
//! temporary package folder and loaded with `Validator::load`; each rule is shown with a resource
//! that passes and one that fails, and the failure is pinned to its exact path, rule and source
//! (the profile's URL and element id, or `base#path` for the release's base rules).
//!
//! The modules live in `tests/rules/`, one per rule kind, so that this stays one test binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "rules/bindings.rs"]
mod bindings;
#[path = "rules/cardinality.rs"]
mod cardinality;
#[path = "rules/chain.rs"]
mod chain;
#[path = "rules/extensions.rs"]
mod extensions;
#[path = "rules/invariants.rs"]
mod invariants;
#[path = "rules/references.rs"]
mod references;
#[path = "rules/slicing.rs"]
mod slicing;
#[path = "rules/slicing_kinds.rs"]
mod slicing_kinds;
#[path = "rules/structure.rs"]
mod structure;
#[path = "rules/support.rs"]
mod support;
#[path = "rules/types.rs"]
mod types;
#[path = "rules/values.rs"]
mod values;
