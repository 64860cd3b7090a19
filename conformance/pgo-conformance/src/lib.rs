//! pgo-conformance: runs the MedMij rules a provider-side exchange service (a DVA) must follow
//! against any such service, as a PGO would meet it, and reports per scenario what held, with the
//! request and response that decided it. Also runs published FHIR `TestScript`s, and validates
//! FHIR resources against profiles (`validate`).

pub mod cli;
pub mod config;
pub mod content;
pub mod http;
pub mod login;
pub mod mask;
pub mod outcome;
pub mod pgo;
pub mod profiles;
pub mod queries;
pub mod report;
pub mod scenario;
pub mod scenarios;
pub mod session;
pub mod target;
pub mod testscript;
pub mod validate;
pub mod zal;

use crate::outcome::RunReport;
use crate::scenario::Progress;
use crate::session::Session;
use std::sync::Arc;
use std::time::Instant;

/// Runs the suite against the target of `config`, telling `progress`: every scenario, or, when
/// `config.only` names id prefixes, those whose id starts with one.
pub async fn run_suite(config: config::Config, progress: &dyn Progress) -> anyhow::Result<RunReport> {
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let started = Instant::now();
    let target = config.describe_target();
    let session = Arc::new(Session::open(config).await?);
    session.prepare_aging_code().await;
    let only = session.config.only.clone();
    let scenarios: Vec<_> = scenarios::suite(&session)
        .into_iter()
        .filter(|scenario| only.is_empty() || only.iter().any(|prefix| scenario.id.starts_with(prefix.as_str())))
        .collect();
    anyhow::ensure!(!scenarios.is_empty(), "no scenario's id starts with {}", only.join(" or "));
    let results = scenario::run_all(&scenarios, &session.api, progress).await;
    let millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(RunReport::new("suite", &target, started_at, millis, results))
}
