//! The authorization server, end to end: the whole flow, each refusal on its own, client
//! authentication, discovery and list import.

mod discovery;
mod flow;
mod forged;
mod mtls;
mod refusals;
mod revocation;
mod sharing;

use serde_json::Value;

/// Every BSN of the demo records: none may reach a PGO outside the person's own Patient.
pub(crate) const BSNS: [&str; 2] = [e2e::ANNA, e2e::BRAM];

/// The single Patient of a searchset.
pub(crate) fn bgz_patient(bundle: &Value) -> String {
    let ids = e2e::entry_ids(bundle);
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].clone()
}
