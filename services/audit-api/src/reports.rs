//! `GET /audit/usage` (the signed usage report of a period) and `GET /audit/AuditEvent` (the
//! access log of a period as a Bundle of FHIR AuditEvents, in pages).

use crate::AuditApi;
use crate::auth::bearer_auditor;
use crate::errors::AuditError;
use actix_web::{HttpRequest, HttpResponse, web};
use metering::{Period, ReportRequest};
use std::collections::HashMap;

/// The media type of a signed report (RFC 7515 JSON serialization).
pub(crate) const SIGNED_MEDIA_TYPE: &str = "application/jose+json";

/// The format of a report inside its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportFormat {
    Json,
    Csv,
}

impl ReportFormat {
    pub(crate) fn from_param(text: Option<&str>) -> Result<ReportFormat, AuditError> {
        match text {
            None | Some("json") => Ok(ReportFormat::Json),
            Some("csv") => Ok(ReportFormat::Csv),
            Some(other) => Err(AuditError::BadRequest(format!("format '{other}' is not json or csv"))),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
        }
    }
}

fn query(request: &HttpRequest) -> Result<HashMap<String, String>, AuditError> {
    let mut params = HashMap::new();
    for (name, value) in url::form_urlencoded::parse(request.query_string().as_bytes()) {
        if params.insert(name.into_owned(), value.into_owned()).is_some() {
            return Err(AuditError::BadRequest("a parameter is repeated".to_owned()));
        }
    }
    Ok(params)
}

pub(crate) fn period_param(params: &HashMap<String, String>) -> Result<Period, AuditError> {
    let text = params.get("period").ok_or_else(|| {
        AuditError::BadRequest("period is missing: a month (2026-03), a quarter (2026-Q1) or a year (2026)".to_owned())
    })?;
    text.parse().map_err(|error: metering::PeriodError| AuditError::BadRequest(error.to_string()))
}

/// The signed report of `period` (one PGO or all) in `format`, and a file name for it.
pub(crate) async fn signed_usage(
    api: &AuditApi,
    period: Period,
    client_id: Option<&str>,
    format: ReportFormat,
) -> Result<(String, String), AuditError> {
    let request = ReportRequest { period, client_id };
    let report = metering::report::build(&api.store, &api.reports, &request, fhir_core::date::now_millis()).await?;
    let (payload, media_type) = match format {
        ReportFormat::Json => (report.to_json(), "application/json"),
        ReportFormat::Csv => (report.to_csv(), "text/csv"),
    };
    let keys = api.keys.keys();
    let Some(signing) = keys.signing() else {
        tracing::error!("no signing key: the report cannot be signed");
        return Err(AuditError::Internal);
    };
    let signed = metering::signing::sign(&payload, media_type, signing).map_err(|error| {
        tracing::error!(error = %error, "report could not be signed");
        AuditError::Internal
    })?;
    // A client id is a host name; anything else it holds stays out of the header.
    let client = client_id
        .map(|client| {
            client.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')).collect::<String>()
        })
        .map(|client| format!("-{client}"))
        .unwrap_or_default();
    Ok((signed, format!("usage-{period}{client}.{}.jws.json", format.name())))
}

/// `GET /audit/usage?period=2026-03[&client=pgo.example.nl][&format=json|csv]`.
pub(crate) async fn usage(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    match usage_inner(&request, &api).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn usage_inner(request: &HttpRequest, api: &AuditApi) -> Result<HttpResponse, AuditError> {
    let auditor = bearer_auditor(api, request)?;
    let params = query(request)?;
    let period = period_param(&params)?;
    let format = ReportFormat::from_param(params.get("format").map(String::as_str))?;
    let client = params.get("client").map(String::as_str);
    let (signed, file_name) = signed_usage(api, period, client, format).await?;
    // Whether one PGO was asked for, not which: a query value is never logged.
    tracing::info!(auditor = %auditor, period = %period, one_client = client.is_some(), "usage report served");
    Ok(HttpResponse::Ok()
        .content_type(SIGNED_MEDIA_TYPE)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{file_name}\"")))
        .insert_header(("Cache-Control", "no-store"))
        .body(signed))
}

/// Entries per page of the access log, by default and at most.
const DEFAULT_COUNT: i64 = 500;
const MAX_COUNT: i64 = 5_000;

/// `GET /audit/AuditEvent?period=2026-03[&client=...][&_count=500][&after=ID]`.
pub(crate) async fn audit_events(request: HttpRequest, api: web::Data<AuditApi>) -> HttpResponse {
    match audit_events_inner(&request, &api).await {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

async fn audit_events_inner(request: &HttpRequest, api: &AuditApi) -> Result<HttpResponse, AuditError> {
    let auditor = bearer_auditor(api, request)?;
    let params = query(request)?;
    let period = period_param(&params)?;
    let number = |name: &str, default: i64| -> Result<i64, AuditError> {
        params.get(name).map_or(Ok(default), |text| {
            text.parse::<i64>()
                .ok()
                .filter(|value| *value >= 0)
                .ok_or_else(|| AuditError::BadRequest(format!("{name} must be a whole number")))
        })
    };
    let count = number("_count", DEFAULT_COUNT)?.clamp(1, MAX_COUNT);
    let after = number("after", 0)?;
    let client = params.get("client").map(String::as_str);
    let (start, end) = period.bounds(api.reports.zone);
    let entries = api.store.usage().access_log_between(start, end, client, after, count).await?;
    let next = (entries.len() as i64 == count).then(|| {
        let last = entries.last().map(|(id, _)| *id).unwrap_or(after);
        let mut url = format!("{}/AuditEvent?period={period}&_count={count}&after={last}", api.audience());
        if let Some(client) = client {
            url.push_str("&client=");
            url.push_str(&url::form_urlencoded::byte_serialize(client.as_bytes()).collect::<String>());
        }
        url
    });
    let bundle =
        metering::audit_event::audit_bundle(&entries, &api.public_url, next.as_deref(), fhir_core::date::now_millis());
    tracing::info!(auditor = %auditor, period = %period, entries = entries.len(), "access log served");
    Ok(HttpResponse::Ok()
        .content_type("application/fhir+json; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(bundle.to_string()))
}
