//! Metering: an exchange the suite made shows up where an auditor looks, when the target offers
//! usage reports: the PGO among the year's new users in the signed usage report, and the
//! exchange's request id in the access log.

use crate::scenario::{Probe, Scenario, Stop};
use crate::scenarios::retrieval::{Format, TracingIds, pgo_request_with};
use crate::session::{Patient, Session};
use base64::Engine;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// At most this many pages of the access log are read looking for the exchange.
const MAX_PAGES: usize = 50;

/// The metering scenarios.
pub fn scenarios(session: &Arc<Session>) -> Vec<Scenario> {
    let s = session.clone();
    vec![Scenario::new(
        "metering.exchange-reported",
        "metering",
        "a successful exchange is in the year's signed usage report (the PGO has a new user) and in the access log",
        "The per-user fee: every successful exchange is metered per (PGO, person, period); Logging of access (NEN 7513)",
        move |probe| exchange_reported(s.clone(), probe),
    )]
}

async fn exchange_reported(session: Arc<Session>, probe: Probe) -> Result<(), Stop> {
    let Some(auditor) = session.config.auditor.clone() else {
        return Err(Stop::NotRun(
            "needs an auditor's credentials and the usage-report URL (--auditor-id, --auditor-secret, --usage-url)"
                .into(),
        ));
    };
    let data_service = session.config.data_services.first().cloned().unwrap_or_else(|| "48".into());
    let token = session.tokens(&probe, Patient::A, &data_service).await?;
    let ids = TracingIds::new();
    let request_id = ids.request_id.clone();
    let url = url::Url::parse(&format!("{}/Patient", session.base(&data_service)?))
        .map_err(|error| Stop::Failed(error.to_string()))?;
    let answer = probe.send(pgo_request_with(&session, url, &token.access, Format::Json, &ids)).await?;
    probe.status(&answer, 200);

    let form = [("grant_type", "client_credentials"), ("scope", "auditor")];
    let token_request =
        session.api.client().post(session.token_endpoint()?).basic_auth(&auditor.id, Some(&auditor.secret)).form(&form);
    let answer = probe.send(token_request).await?;
    probe.check("the auditor gets a token", answer.status == 200, answer.status.to_string());
    let Some(auditor_token) = answer.json().and_then(|json| json["access_token"].as_str().map(str::to_owned)) else {
        return Err(Stop::Failed("no auditor token".into()));
    };

    let year = chrono::Utc::now().format("%Y").to_string();
    let report_url = format!("{}?period={year}&client={}", auditor.usage_url, session.config.pgo.client_id);
    let answer = probe.send(session.api.client().get(&report_url).bearer_auth(&auditor_token)).await?;
    probe.status(&answer, 200);
    let report = answer.json().map(|signed| payload(&signed)).unwrap_or_default();
    let users = report["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|client| client["client_id"] == session.config.pgo.client_id.as_str())
        .and_then(|client| client["new_users"].as_u64())
        .unwrap_or(0);
    probe.check(
        "the year's report counts the PGO with at least one new user",
        users >= 1,
        format!("{users} new users"),
    );

    if let Some(log_url) = &auditor.access_log_url {
        // The access log is written in batches: give it a moment.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let mut next = Some(format!("{log_url}?period={month}&client={}", session.config.pgo.client_id));
        let mut found = false;
        for _ in 0..MAX_PAGES {
            let Some(page_url) = next.take() else { break };
            let answer = probe.send(session.api.client().get(&page_url).bearer_auth(&auditor_token)).await?;
            if answer.status != 200 {
                break;
            }
            if answer.text().contains(&request_id) {
                found = true;
                break;
            }
            next = answer.json().and_then(|page| {
                crate::content::links(&page).into_iter().find(|(relation, _)| relation == "next").map(|(_, url)| url)
            });
        }
        probe.check("the access log holds the exchange's MedMij-Request-ID", found, "not found");
    }
    Ok(())
}

/// The report inside a JWS in JSON serialization: the payload as written (RFC 7797, unencoded)
/// or base64url-decoded.
fn payload(signed: &Value) -> Value {
    let Some(text) = signed["payload"].as_str() else { return signed.clone() };
    serde_json::from_str(text).ok().unwrap_or_else(|| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    })
}
