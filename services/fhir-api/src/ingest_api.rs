//! The provider-facing ingest endpoint, `/ingest/{provider}/{stu3|r4}`: where a provider's
//! systems write their records (FHIR R4 §3.1.0.4 update, §3.1.0.5 create, §3.1.0.6 delete,
//! §3.1.0.11 transaction and batch).
//!
//! - `PUT {type}/{id}`: create or update (201 / 200), the body's id must match the URL;
//! - `POST {type}`: create with a server-assigned id (201);
//! - `POST` a `transaction` or `batch` Bundle (200 with the response Bundle);
//! - `DELETE {type}/{id}` (204); `GET {type}/{id}` reads back what was stored.
//!
//! Authentication: `Authorization: Bearer <ingest key>` of that provider (compared by hash, in
//! constant time); too many wrong keys from an address or for a provider: 429 (issue code
//! `throttled`, `Retry-After`). Invalid content: 400 or 422 with an OperationOutcome, nothing
//! stored.

use crate::body;
use crate::error::ApiError;
use crate::prefer::{self, Return};
use crate::render;
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use aws_lc_rs::constant_time;
use fhir_core::{Format, OperationOutcome, Release, reference};
use serde_json::Value;
use std::sync::Arc;
use store::{Provider, Write, WriteKind, WriteOutcome};
use throttle::{Door, Key};

/// The release of the endpoint and the format to answer in: `_format` or `Accept`, else the
/// format the body was sent in.
fn negotiate_answer(request: &HttpRequest, release: &str) -> Result<(Release, Format), ApiError> {
    let release: Release = release.parse().map_err(|_| ApiError::NoEndpoint)?;
    let supported: &[Format] = if body::body_format(request).ok() == Some(Format::Xml) {
        &[Format::Xml, Format::Json]
    } else {
        render::SUPPORTED
    };
    let params = fhir_search::query::parse_query(request.query_string());
    Ok((release, render::requested_format(request, &params, release, supported)?))
}

/// The authenticated provider. Wrong keys are counted per source address and per provider;
/// past the limit every attempt is refused with 429 until the window ends, the right key too.
pub(crate) async fn authenticate(
    state: &ApiState,
    request: &HttpRequest,
    provider: &str,
) -> Result<Arc<Provider>, ApiError> {
    let key = crate::endpoint::bearer_token(request).ok_or(ApiError::IngestUnauthorized)?;
    let provider = state.provider(provider).await?;
    let throttle = &state.throttle;
    let keys: Vec<Key> = throttle
        .address_key(Door::Ingest, request)
        .into_iter()
        .chain(provider.as_ref().map(|provider| Key::Name(Door::Ingest, provider.name.clone())))
        .collect();
    throttle.check(&keys).map_err(|refusal| ApiError::Throttled(refusal.retry_after_seconds))?;
    // An unknown provider gets the same answer as a wrong key: the endpoint does not tell which.
    let verified = provider.filter(|provider| {
        provider.ingest_key_hash.as_deref().is_some_and(|expected| {
            constant_time::verify_slices_are_equal(store::ingest_key_hash(key).as_bytes(), expected.as_bytes()).is_ok()
        })
    });
    verified.ok_or_else(|| {
        throttle.failed(&keys);
        ApiError::IngestUnauthorized
    })
}

/// Runs `handle` with the negotiated release and format; errors are answered in that format.
pub(crate) async fn respond<F, Fut>(request: &HttpRequest, release: &str, handle: F) -> HttpResponse
where
    F: FnOnce(Release, Format) -> Fut,
    Fut: Future<Output = Result<HttpResponse, ApiError>>,
{
    match negotiate_answer(request, release) {
        Ok((release, format)) => handle(release, format).await.unwrap_or_else(|error| error.response(format)),
        Err(error) => error.response(Format::Json),
    }
}

/// `POST /ingest/{provider}/{release}`: a transaction or batch Bundle.
pub(crate) async fn bundle(
    request: &HttpRequest,
    provider: &str,
    release: &str,
    payload: web::Payload,
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let (bundle, notes) = body::read_resource(request, payload, state.max_body_bytes, release).await?;
        if !notes.is_empty() {
            // A Bundle's answer has an outcome per entry, not for the document as read.
            tracing::info!(count = notes.len(), "a Bundle was read with elements out of their order");
        }
        let response = state.ingestor.bundle(&state.store, &provider, release, bundle).await;
        state.forget_patients();
        let response = response?;
        Ok(render::resource_response(&mut HttpResponse::Ok(), format, release, &response.to_string()))
    })
    .await
}

/// `POST /ingest/{provider}/{release}/{type}`: create.
pub(crate) async fn create(
    request: &HttpRequest,
    (provider, release, resource_type): (&str, &str, &str),
    payload: web::Payload,
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let (resource, notes) = body::read_resource(request, payload, state.max_body_bytes, release).await?;
        check_type(&resource, resource_type)?;
        let resource = ingest::with_id(resource, &uuid::Uuid::new_v4().to_string());
        write_one(state, request, (&provider, release, format), resource, notes).await
    })
    .await
}

/// `PUT /ingest/{provider}/{release}/{type}/{id}`: create or update.
pub(crate) async fn update(
    request: &HttpRequest,
    (provider, release, resource_type, id): (&str, &str, &str, &str),
    payload: web::Payload,
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let (resource, notes) = body::read_resource(request, payload, state.max_body_bytes, release).await?;
        check_type(&resource, resource_type)?;
        if resource.get("id").and_then(Value::as_str) != Some(id) {
            return Err(ApiError::BadRequest(format!("the resource's id must equal the id in the URL ({id})")));
        }
        write_one(state, request, (&provider, release, format), resource, notes).await
    })
    .await
}

/// `DELETE /ingest/{provider}/{release}/{type}/{id}`.
pub(crate) async fn delete(
    request: &HttpRequest,
    (provider, release, resource_type, id): (&str, &str, &str, &str),
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, _| async move {
        let provider = authenticate(state, request, provider).await?;
        if !reference::is_type_name(resource_type) || !reference::is_valid_id(id) {
            return Err(ApiError::NotFound(format!("{resource_type}/{id}")));
        }
        let delete = Write::Delete { release, resource_type: resource_type.to_owned(), id: id.to_owned() };
        state.store.write(provider.id, vec![delete]).await?;
        state.forget_patients();
        Ok(HttpResponse::NoContent().finish())
    })
    .await
}

/// `GET /ingest/{provider}/{release}/{type}/{id}`: what the provider stored.
pub(crate) async fn read(
    request: &HttpRequest,
    (provider, release, resource_type, id): (&str, &str, &str, &str),
    state: &ApiState,
) -> HttpResponse {
    respond(request, release, |release, format| async move {
        let provider = authenticate(state, request, provider).await?;
        let stored = state
            .store
            .read(provider.id, release, resource_type, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("{resource_type}/{id}")))?;
        let mut response = HttpResponse::Ok();
        response
            .insert_header((header::ETAG, format!("W/\"{}\"", stored.version_id)))
            .insert_header((header::LAST_MODIFIED, crate::pgo::http_date(stored.last_updated)));
        Ok(render::resource_response(&mut response, format, release, &stored.body))
    })
    .await
}

fn check_type(resource: &Value, resource_type: &str) -> Result<(), ApiError> {
    match resource.get("resourceType").and_then(Value::as_str) {
        Some(found) if found == resource_type => Ok(()),
        Some(found) => Err(ApiError::BadRequest(format!("the body is a {found}, but the URL names {resource_type}"))),
        None => Err(ApiError::BadRequest("the body is not a FHIR resource (no resourceType)".into())),
    }
}

async fn write_one(
    state: &ApiState,
    request: &HttpRequest,
    (provider, release, format): (&Provider, Release, Format),
    resource: Value,
    notes: Vec<fhir_core::outcome::Issue>,
) -> Result<HttpResponse, ApiError> {
    let prepared = state
        .ingestor
        .prepare(&state.store, provider, release, resource, None, &ingest::KnownPatients::default())
        .await?;
    let mut warnings = notes;
    warnings.extend(prepared.warnings);
    let outcomes = state.store.write(provider.id, vec![Write::Put(Box::new(prepared.write))]).await?;
    state.forget_patients();
    let outcome = outcomes.into_iter().next().ok_or(ApiError::Internal)?;
    if !warnings.is_empty() {
        tracing::info!(count = warnings.len(), "resource accepted with warnings");
    }
    Ok(write_response(state, request, (provider, release, format), &outcome, OperationOutcome { issues: warnings }))
}

fn write_response(
    state: &ApiState,
    request: &HttpRequest,
    (provider, release, format): (&Provider, Release, Format),
    outcome: &WriteOutcome,
    warnings: OperationOutcome,
) -> HttpResponse {
    let mut response = match outcome.kind {
        WriteKind::Created => HttpResponse::Created(),
        _ => HttpResponse::Ok(),
    };
    let location = format!(
        "{}/ingest/{}/{}/{}/{}/_history/{}",
        state.public_url, provider.name, release, outcome.resource_type, outcome.id, outcome.version_id
    );
    response
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, format!("W/\"{}\"", outcome.version_id)))
        .insert_header((header::LAST_MODIFIED, crate::pgo::http_date(outcome.last_updated)));
    match prefer::return_preference(request) {
        Return::Minimal => response.finish(),
        Return::OperationOutcome => {
            render::resource_response(&mut response, format, release, &warnings.to_json().to_string())
        }
        Return::Representation => {
            render::resource_response(&mut response, format, release, outcome.body.as_deref().unwrap_or("{}"))
        }
    }
}
