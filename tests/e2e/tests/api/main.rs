//! End-to-end tests of the HTTP API, each on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod authorization;
mod bsn;
mod corpus;
mod discovery;
mod documents;
mod edges;
mod formats;
mod health;
mod ingest;
mod ingest_json;
mod ingest_xml;
mod isolation;
mod isolation_property;
mod metered;
mod metrics;
mod profiles;
mod queries;
mod query_cost;
mod search;
mod search_kinds;
mod security;
mod sharing;
mod throttling;
mod vitalsigns;
