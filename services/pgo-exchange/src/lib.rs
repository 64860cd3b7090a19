//! The pgo-exchange service, composed: opening the store, keys and definitions from the settings
//! (`Context`), and building the HTTP server on top (`Application`). The binary's commands and
//! the end-to-end tests use exactly this code.

mod application;
mod context;
mod head_guard;
mod instances;
mod listen;
mod metrics;
pub mod profiles;
pub mod signing_keys;

pub use application::{Application, Witnessing};
pub use context::{Context, DEMO_AUDITOR};
