//! The commands of the `pgo-exchange` binary.

pub(crate) mod auditors;
pub(crate) mod check;
pub(crate) mod keys;
pub(crate) mod lists;
pub(crate) mod load;
pub(crate) mod providers;
pub(crate) mod report;
pub(crate) mod serve;
pub(crate) mod token;
pub(crate) mod validate;

use pgo_exchange::Context;
use settings::{LogFormat, Overrides, Settings};
use std::path::Path;
use std::process::ExitCode;

/// Loads the settings and sets up logging. Commands other than `serve` log only warnings unless
/// `RUST_LOG` says otherwise, so that their own output stays readable.
pub(crate) fn settings_and_logging(
    config: Option<&Path>,
    overrides: &Overrides,
    serving: bool,
) -> anyhow::Result<(Settings, telemetry::TelemetryGuard)> {
    let settings = Settings::load(config, overrides)?;
    let guard = telemetry::init(&telemetry::TelemetryConfig {
        json: settings.log.format == LogFormat::Json,
        filter: if serving { settings.log.level.clone() } else { "warn".to_owned() },
        otlp_endpoint: serving.then(|| settings.telemetry.otlp_endpoint.clone()),
        service_name: settings.telemetry.service_name.clone(),
    })?;
    Ok((settings, guard))
}

/// `pgo-exchange migrate`.
pub(crate) async fn migrate(config: Option<&Path>, overrides: Overrides) -> anyhow::Result<ExitCode> {
    let (settings, _guard) = settings_and_logging(config, &overrides, false)?;
    let url = store::redact(&settings.database_url());
    Context::open(settings).await?;
    eprintln!("database {url} is up to date");
    Ok(ExitCode::SUCCESS)
}
