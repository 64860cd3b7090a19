//! Resolving a PGO request to its endpoint (provider and data service) and to the patient bound
//! to its access token (RFC 6750 bearer tokens; the token format is in `access-token`).
//!
//! Rules: the provider must offer the data service; the token must verify, be for this provider
//! and this endpoint (`aud`), and grant this data service (`scope`). The patient comes from the
//! token only: a request never names one.

use crate::error::ApiError;
use crate::state::ApiState;
use access_token::AccessClaims;
use actix_web::HttpRequest;
use actix_web::http::header;
use data_services::DataService;
use std::sync::Arc;
use store::{PatientScope, Provider};

/// A PGO-facing FHIR endpoint.
pub(crate) struct Endpoint<'a> {
    pub(crate) provider: Arc<Provider>,
    pub(crate) service: &'a DataService,
    /// `{public_url}/{provider}/{service}/fhir`.
    pub(crate) base: String,
}

/// The endpoint at `/{provider}/{service}/fhir`, if the provider offers that data service.
pub(crate) async fn resolve<'a>(state: &'a ApiState, provider: &str, service: &str) -> Result<Endpoint<'a>, ApiError> {
    let provider = state.provider(provider).await?.ok_or(ApiError::NoEndpoint)?;
    if !provider.offers(service) {
        return Err(ApiError::NoEndpoint);
    }
    let service = state.catalog.data_service(service).ok_or(ApiError::NoEndpoint)?;
    let base = format!("{}/{}/{}/fhir", state.public_url, provider.name, service.id);
    Ok(Endpoint { provider, service, base })
}

/// The person a request is for.
pub(crate) struct PatientContext {
    pub(crate) scope: PatientScope,
    pub(crate) claims: Arc<AccessClaims>,
    /// The person's pseudonym, opened from the token (when metering).
    pub(crate) pseudonym: Option<String>,
}

/// Checks the bearer token of `request` for `endpoint`: the person it is for.
pub(crate) fn authorize(
    state: &ApiState,
    request: &HttpRequest,
    endpoint: &Endpoint<'_>,
) -> Result<PatientContext, ApiError> {
    let token = bearer_token(request).ok_or(ApiError::NoToken)?;
    let claims = state.verified_claims(token).map_err(|error| {
        tracing::info!(reason = %error, "access token refused");
        ApiError::InvalidToken
    })?;
    if claims.provider != endpoint.provider.name {
        tracing::info!("access token for another provider");
        return Err(ApiError::InvalidToken);
    }
    let scope = claims.parsed_scope().map_err(|_| ApiError::InvalidToken)?;
    if scope.provider != endpoint.provider.name {
        return Err(ApiError::InvalidToken);
    }
    if !scope.includes(&endpoint.service.id) {
        return Err(ApiError::OutOfScope(endpoint.service.id.clone()));
    }
    if !claims.is_for(&endpoint.base) {
        tracing::info!("access token audience does not include this endpoint");
        return Err(ApiError::InvalidToken);
    }
    // A token whose sealed pseudonym does not open was not made by this deployment.
    let pseudonym = match &state.metering {
        Some(metering) => Some(metering.seal.open(&claims.psn).map_err(|_| {
            tracing::info!("access token carries no pseudonym this service sealed");
            ApiError::InvalidToken
        })?),
        None => None,
    };
    // Scoped by the person key itself: the statements find the person's Patients as they run
    // (one seek), and a collection's first query needs no lookup of its own before them.
    Ok(PatientContext { scope: PatientScope::Person(claims.sub.clone()), claims, pseudonym })
}

/// The token of an `Authorization: Bearer ...` header.
pub(crate) fn bearer_token(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}
