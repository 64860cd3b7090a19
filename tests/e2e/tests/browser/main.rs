//! The MedMij authorization flow in a real (headless) Chromium: the person clicks through the demo
//! PGO, the service's landing and consent pages (and a share's confirmation page), the DigiD
//! simulator and the consent-management page, each test on SQLite and on PostgreSQL. What a real
//! browser adds over the reqwest tests: cookies kept or dropped by its own rules (SameSite, Secure,
//! Path), the pages' Content Security Policy, `Origin` and `Referer` as a browser sends them, forms
//! as a browser submits them.
//!
//! Without Chromium the tests pass after printing `skipped`; CI sets
//! `PGO_EXCHANGE_REQUIRE_BROWSER=1` so that they fail instead. Screenshots go to
//! `target/artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod consents;
mod dashboard;
mod demo_pages;
mod flow;
mod language;
mod person;
mod refusal;
mod sharing;
mod steps;

/// Every BSN of the demo records: none may appear on a page of the service or the demo PGO.
const BSNS: [&str; 2] = [e2e::ANNA, e2e::BRAM];

/// A valid BSN (it passes the 11-test) of someone the demo provider holds no record of.
const STRANGER: &str = "999911120";

/// `sqlite` or `postgres`, for the names of screenshots (the two backends' tests run at once).
fn backend_of(database: &test_support::TestDatabase) -> &'static str {
    if database.url.starts_with("sqlite:") { "sqlite" } else { "postgres" }
}
