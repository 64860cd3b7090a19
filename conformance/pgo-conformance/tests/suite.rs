#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The suite's scenarios against stand-in DVAs written here (the real service runs them in
//! `tests/e2e`): a stand-in that behaves must pass every scenario of a group, and one with a fault
//! must fail exactly the scenarios of the rule it breaks; what the stand-in does not offer is
//! reported not run. `share`: Delen (data services 51 and 52).

// In a folder of its own, so Cargo does not take it for a test binary of its own.
#[path = "suite/share.rs"]
mod share;
