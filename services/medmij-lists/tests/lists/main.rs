//! The lists as the service imports them: each list of each shape read from fixtures, each
//! schema violation refused with its line and path, writing and reading back, and random and
//! mutated input that must never panic. One test binary for all of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod fuzz;
mod parse;
mod roundtrip;

/// A fixture from `tests/fixtures/`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// All fixtures, by name.
pub const FIXTURES: [&str; 5] =
    ["ocl-release2.xml", "ocl-release3.xml", "gnl-release1.xml", "whitelist-flat.xml", "whitelist-nested.xml"];
