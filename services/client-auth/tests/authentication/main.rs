//! Client authentication against a real actix-web server on a free loopback port, with
//! certificates made for each test run: mutual TLS through rustls, a trusted proxy's header, and
//! development mode.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod development;
mod mutual_tls;
mod pki;
mod server;
mod trusted_proxy;
