//! The service as witness of PGO requests: every request to a FHIR base that names a resource
//! type leaves an access-log entry (NEN 7513: who, whose data, what, when, outcome), and every
//! one answered 2xx is metered before its answer leaves. If the meter cannot record a
//! successful exchange, the PGO gets a 503 instead of the data: an answered exchange is always
//! counted.

use crate::error::ApiError;
use crate::request_ids::RequestIds;
use crate::state::ApiState;
use actix_web::{HttpRequest, HttpResponse};
use fhir_core::Format;
use identity::PseudonymSeal;
use metering::{AccessLog, Exchange, ExchangeKind, Meter, Recorded};
use std::sync::Arc;
use store::{AccessEntry, AccessOutcome, Interaction};

/// The meter, the access log, and the seal that opens the pseudonym inside access tokens.
#[derive(Debug, Clone)]
pub struct Metering {
    /// Counts successful exchanges. Absent only in the benchmark that tells the meter's own
    /// cost from the access log's (`Witnessing::AccessLogOnly` of the service's application).
    pub meter: Option<Arc<Meter>>,
    /// Writes the access log.
    pub access_log: AccessLog,
    /// Opens `psn` of access tokens.
    pub seal: Arc<PseudonymSeal>,
}

/// What a request is about, from its path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked<'a> {
    pub(crate) provider: &'a str,
    pub(crate) service: &'a str,
    /// What is asked.
    pub(crate) interaction: Interaction,
    pub(crate) resource_type: &'a str,
}

/// What a request revealed as it went: the PGO and person once the token verified, the
/// resources once they were found.
#[derive(Debug, Default)]
pub(crate) struct Trail {
    pub(crate) client_id: Option<String>,
    pub(crate) pseudonym: Option<String>,
    pub(crate) provider_name: Option<String>,
    pub(crate) returned: Vec<String>,
    /// Answered 2xx without exchanging data (a shared batch whose every entry was refused): not
    /// metered.
    pub(crate) unmetered: bool,
}

/// A handler's outcome: the response and the format errors are written in.
pub(crate) type Outcome = Result<(HttpResponse, Format), (ApiError, Format)>;

/// Meters a success, logs the request, and answers.
pub(crate) async fn witness(
    request: &HttpRequest,
    state: &ApiState,
    asked: Asked<'_>,
    trail: Trail,
    outcome: Outcome,
) -> HttpResponse {
    let Some(metering) = &state.metering else {
        return match outcome {
            Ok((response, _)) => response,
            Err((error, format)) => error.response(format),
        };
    };
    let ids = RequestIds::of(request);
    let now = fhir_core::date::now_millis();
    let response = match outcome {
        Ok((response, format)) if response.status().is_success() && !trail.unmetered => match &metering.meter {
            Some(counter) => match meter(counter, asked, &trail, &ids, now).await {
                Ok(recorded) => {
                    state.metrics.exchanges.recorded(recorded == Recorded::Written);
                    response
                }
                Err(error) => {
                    tracing::error!(error = %error, "a successful exchange could not be metered; answering 503");
                    ApiError::Unavailable.response(format)
                }
            },
            None => response,
        },
        Ok((response, _)) => response,
        Err((error, format)) => error.response(format),
    };
    let status = response.status();
    let entry = AccessEntry {
        at: now,
        client_id: trail.client_id,
        pseudonym: trail.pseudonym,
        provider: asked.provider.to_owned(),
        data_service: asked.service.to_owned(),
        interaction: asked.interaction,
        resource_type: asked.resource_type.to_owned(),
        returned: if status.is_success() { trail.returned } else { Vec::new() },
        status: i64::from(status.as_u16()),
        outcome: AccessOutcome::of_status(status.as_u16()),
        request_id: ids.request_id,
        correlation_id: ids.correlation_id,
        peer: request.peer_addr().map(|address| address.ip().to_string()),
    };
    metering.access_log.log(entry).await;
    response
}

async fn meter(meter: &Meter, asked: Asked<'_>, trail: &Trail, ids: &RequestIds, now: i64) -> Result<Recorded, String> {
    // A 2xx here has passed `endpoint::authorize`, which fills both.
    let (Some(client_id), Some(pseudonym)) = (&trail.client_id, &trail.pseudonym) else {
        return Err("a successful exchange without a verified PGO and person".to_owned());
    };
    let exchange = Exchange {
        client_id: client_id.clone(),
        pseudonym: pseudonym.clone(),
        at: now,
        request_id: ids.request_id.clone(),
        provider: trail.provider_name.clone().unwrap_or_else(|| asked.provider.to_owned()),
        data_service: asked.service.to_owned(),
        // Delen counts like Verzamelen for the fee; the kind says which it was.
        kind: if asked.interaction.shares() { ExchangeKind::Share } else { ExchangeKind::Collect },
    };
    meter.record(&exchange).await.map_err(|error| error.to_string())
}
