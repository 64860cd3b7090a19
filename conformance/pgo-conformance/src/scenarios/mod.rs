//! The suite: every scenario, in the order they run (the code-expiry scenario waits out a code's
//! lifetime, so it comes last).

pub mod authorize;
pub mod discovery;
pub mod isolation;
pub mod limits;
pub mod metering;
pub mod offer;
pub mod resource_server;
pub mod retrieval;
pub mod revocation;
pub mod share;
pub mod token;

use crate::scenario::Scenario;
use crate::session::Session;
use std::sync::Arc;

/// Every scenario of the suite for `session`'s target, in running order.
pub fn suite(session: &Arc<Session>) -> Vec<Scenario> {
    let mut list = discovery::scenarios(session);
    list.extend(authorize::scenarios(session));
    list.extend(retrieval::scenarios(session));
    list.extend(resource_server::scenarios(session));
    list.extend(isolation::scenarios(session));
    list.extend(limits::scenarios(session));
    list.extend(metering::scenarios(session));
    list.extend(revocation::scenarios(session));
    list.extend(share::scenarios(session));
    // The token group ends with code-expired, which waits.
    list.extend(token::scenarios(session));
    list
}
