//! Settings of metering, the access log and the auditors.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Metering of exchanges and the fee.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeteringSettings {
    /// The reporting period: `month`, `quarter` or `year`.
    pub period: String,
    /// The fee per new unique user, from a period on.
    pub tariffs: Vec<TariffSettings>,
    /// How many already counted (client, person, year) are remembered in memory.
    pub known_capacity: usize,
}

/// A tariff in force from a period on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffSettings {
    /// The first period it applies to, `2026-01`.
    pub from: String,
    /// Euro cents per new unique user.
    pub cents: i64,
}

/// The access log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogSettings {
    /// Entries older than this are deleted.
    pub retention_days: u32,
}

/// An auditor's credentials.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditorSettings {
    /// Hex SHA-256 of the auditor's client secret.
    pub secret_sha256: String,
    /// Name shown on the dashboard.
    #[serde(default)]
    pub name: String,
}

/// Auditors by client id.
pub type Auditors = BTreeMap<String, AuditorSettings>;

/// What is wrong with these settings.
pub(crate) fn problems(
    metering: &MeteringSettings,
    access_log: &AccessLogSettings,
    auditors: &Auditors,
) -> Vec<String> {
    let mut problems = Vec::new();
    if !matches!(metering.period.as_str(), "month" | "quarter" | "year") {
        problems.push("metering.period must be month, quarter or year".to_owned());
    }
    if metering.tariffs.is_empty() {
        problems.push("metering.tariffs needs at least one tariff".to_owned());
    }
    for tariff in &metering.tariffs {
        if !is_month(&tariff.from) {
            problems.push(format!("metering.tariffs: from '{}' must be a month such as 2026-01", tariff.from));
        }
        if tariff.cents < 0 {
            problems.push(format!("metering.tariffs: the tariff from {} is negative", tariff.from));
        }
    }
    if metering.known_capacity < 1000 {
        problems.push("metering.known_capacity must be at least 1000".to_owned());
    }
    if access_log.retention_days == 0 {
        problems.push("access_log.retention_days must be at least 1".to_owned());
    }
    for (id, auditor) in auditors {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            problems.push(format!("auditors.{id}: an auditor id is lower-case letters, digits and hyphens"));
        }
        let hash = &auditor.secret_sha256;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            problems.push(format!("auditors.{id}.secret_sha256 must be the hex SHA-256 of the auditor's secret"));
        }
    }
    problems
}

/// `YYYY-MM`.
fn is_month(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(text[5..].parse::<u8>(), Ok(1..=12))
}
