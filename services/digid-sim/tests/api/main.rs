//! The simulator over real HTTP: a relying party built on `openidconnect` logs in through it, and
//! every refusal and deliberate fault is checked from the outside.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod binary;
mod faults;
mod helpers;
mod interop;
mod login_page;
mod token_endpoint;
