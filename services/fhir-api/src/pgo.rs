//! The PGO-facing resource server (MedMij "Verzamelen", step 6): per provider and data service a
//! FHIR base serving exactly that data service's interactions for the patient bound to the access
//! token.
//!
//! - `GET [base]/metadata`: the CapabilityStatement, generated from the data-service definition
//!   (no token needed, as FHIR asks).
//! - `GET [base]/{type}?...`: search-type, within the patient's compartment (200 searchset).
//! - `GET [base]/Observation/$lastn?...`: the most recent observation(s) per code.
//! - `GET [base]/{type}/{id}`: read; 404 for anything outside what the patient may see, never 403;
//!   a Binary asked for by its document's media type is that document (`binary.rs`).
//!
//! Errors: 401/403 (token, issue code `security`), 404 (type or resource), 400 (search), 406
//! (format), 503 (a success that could not be metered), all as OperationOutcome.
//!
//! Every search, read and `$lastn` goes through `witness`: logged, and metered when answered 2xx.

use crate::endpoint::{self, Endpoint};
use crate::error::ApiError;
use crate::links;
use crate::prefer;
use crate::render::{self, SearchBundle};
use crate::state::ApiState;
use crate::witness::{self, Asked, Outcome, Trail};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use data_services::{Interaction, SecurityEndpoints, ServedType};
use fhir_core::{Format, reference};
use fhir_search::query::parse_query;
use fhir_search::{ParseOptions, QueryParam};

/// The endpoint at `/{provider}/{service}/fhir`, the request's query and the response format;
/// until the format is known, errors are written in JSON.
async fn open<'a>(
    request: &HttpRequest,
    provider: &str,
    service: &str,
    state: &'a ApiState,
) -> Result<(Endpoint<'a>, Vec<QueryParam>, Format), (ApiError, Format)> {
    let endpoint = endpoint::resolve(state, provider, service).await.map_err(|error| (error, Format::Json))?;
    let params = parse_query(request.query_string());
    let format = render::requested_format(request, &params, endpoint.service.release, render::SUPPORTED)
        .map_err(|error| (error, Format::Json))?;
    Ok((endpoint, params, format))
}

/// Answers `outcome`, writing errors in `format` when it is known.
fn answer(outcome: Result<HttpResponse, (ApiError, Format)>) -> HttpResponse {
    match outcome {
        Ok(response) => response,
        Err((error, format)) => error.response(format),
    }
}

/// `GET [base]/metadata`.
pub(crate) async fn metadata(request: &HttpRequest, provider: &str, service: &str, state: &ApiState) -> HttpResponse {
    answer(metadata_inner(request, provider, service, state).await)
}

async fn metadata_inner(
    request: &HttpRequest,
    provider: &str,
    service: &str,
    state: &ApiState,
) -> Result<HttpResponse, (ApiError, Format)> {
    let (endpoint, _, format) = open(request, provider, service, state).await?;
    let release = state.catalog.release(endpoint.service.release).ok_or((ApiError::Internal, format))?;
    let security = SecurityEndpoints {
        authorize: format!("{}/oauth/authorize", state.public_url),
        token: format!("{}/oauth/token", state.public_url),
    };
    let description = format!(
        "{} ({}), data service {} {}",
        endpoint.provider.display_name,
        endpoint.provider.medmij_name(),
        endpoint.service.id,
        endpoint.service.name
    );
    let statement = data_services::capability_statement(
        endpoint.service,
        release,
        &endpoint.base,
        &description,
        &fhir_core::date::format_instant(state.started_millis),
        render::SUPPORTED,
        &security,
    );
    Ok(render::resource_response(&mut HttpResponse::Ok(), format, endpoint.service.release, &statement.to_string()))
}

/// `GET [base]/{type}`: search.
pub(crate) async fn search(
    request: &HttpRequest,
    provider: &str,
    service: &str,
    resource_type: &str,
    state: &ApiState,
) -> HttpResponse {
    let asked = Asked { provider, service, interaction: store::Interaction::Search, resource_type };
    let mut trail = Trail::default();
    let outcome = search_inner(request, asked, false, state, &mut trail).await;
    witness::witness(request, state, asked, trail, outcome).await
}

/// `GET [base]/{type}/{id}`: read, or `$lastn` when the id is `$lastn`.
pub(crate) async fn read_or_lastn(
    request: &HttpRequest,
    provider: &str,
    service: &str,
    resource_type: &str,
    id: &str,
    state: &ApiState,
) -> HttpResponse {
    let lastn = id == "$lastn";
    let interaction = if lastn { store::Interaction::Lastn } else { store::Interaction::Read };
    let asked = Asked { provider, service, interaction, resource_type };
    let mut trail = Trail::default();
    let outcome = if lastn {
        search_inner(request, asked, true, state, &mut trail).await
    } else {
        read_inner(request, asked, id, state, &mut trail).await
    };
    witness::witness(request, state, asked, trail, outcome).await
}

/// Notes in `trail` whom the verified token is for.
fn note_person(trail: &mut Trail, endpoint: &Endpoint<'_>, context: &endpoint::PatientContext) {
    trail.client_id = Some(context.claims.client_id.clone());
    trail.pseudonym = context.pseudonym.clone();
    trail.provider_name = Some(endpoint.provider.name.clone());
}

/// What the data service serves of `resource_type`, or the error saying it does not.
fn served<'a>(endpoint: &Endpoint<'a>, resource_type: &str) -> Result<&'a ServedType, ApiError> {
    endpoint.service.served(resource_type).ok_or_else(|| {
        ApiError::TypeNotServed(format!(
            "the resource type '{resource_type}' is not part of data service {} ({})",
            endpoint.service.id, endpoint.service.name
        ))
    })
}

async fn search_inner(
    request: &HttpRequest,
    asked: Asked<'_>,
    lastn: bool,
    state: &ApiState,
    trail: &mut Trail,
) -> Outcome {
    let resource_type = asked.resource_type;
    let (endpoint, params, format) = open(request, asked.provider, asked.service, state).await?;
    let fail = |error: ApiError| (error, format);
    let served = served(&endpoint, resource_type).map_err(fail)?;
    if !served.allows(Interaction::SearchType) {
        return Err(fail(ApiError::InteractionNotOffered(format!(
            "search is not offered for {resource_type} at data service {}; such resources are reached through _include or read",
            endpoint.service.id
        ))));
    }
    if lastn && !served.lastn {
        return Err(fail(ApiError::InteractionNotOffered(format!("$lastn is not offered for {resource_type}"))));
    }
    let context = endpoint::authorize(state, request, &endpoint).await.map_err(fail)?;
    note_person(trail, &endpoint, &context);
    let definition = state
        .catalog
        .release(endpoint.service.release)
        .and_then(|release| release.type_definition(resource_type))
        .ok_or_else(|| fail(ApiError::Internal))?;
    let options = ParseOptions {
        strict: prefer::strict_handling(request),
        lastn,
        zone: state.limits.zone,
        default_count: state.limits.default_count,
        max_count: state.limits.max_count,
        limits: state.limits.query,
    };
    let search =
        fhir_search::request::parse(served, definition, &params, options).map_err(|error| fail(error.into()))?;
    let visibility = state.visibility(&endpoint.service.id);
    let page = state
        .store
        .search(endpoint.provider.id, endpoint.service.release, &context.scope, visibility, &search)
        .await
        .map_err(|error| fail(error.into()))?;
    let path = if lastn { format!("{resource_type}/$lastn") } else { resource_type.to_owned() };
    let self_link = links::self_link(&endpoint.base, &path, &search.applied);
    let (next, previous) =
        links::paging_links(&endpoint.base, &path, &search.applied, page.total, search.count, search.offset);
    let bundle = SearchBundle {
        total: page.total,
        self_link: &self_link,
        next: next.as_deref(),
        previous: previous.as_deref(),
        base: &endpoint.base,
        matches: &page.matches,
        included: &page.included,
    };
    tracing::debug!(total = page.total, returned = page.matches.len(), included = page.included.len(), "search");
    let mut response = HttpResponse::Ok();
    response.insert_header((header::CACHE_CONTROL, "no-store"));
    let response = render::resource_response(&mut response, format, endpoint.service.release, &bundle.to_json());
    trail.returned = page
        .matches
        .iter()
        .chain(&page.included)
        .map(|resource| format!("{}/{}", resource.resource_type, resource.id))
        .collect();
    Ok((response, format))
}

async fn read_inner(request: &HttpRequest, asked: Asked<'_>, id: &str, state: &ApiState, trail: &mut Trail) -> Outcome {
    let resource_type = asked.resource_type;
    let endpoint =
        endpoint::resolve(state, asked.provider, asked.service).await.map_err(|error| (error, Format::Json))?;
    let params = parse_query(request.query_string());
    // A Binary asked for without `_format` by a media type that is no FHIR format is asked for
    // as the document it holds; any other request must name a format the service writes.
    let (format, document) =
        match render::requested_format(request, &params, endpoint.service.release, render::SUPPORTED) {
            Ok(format) => (format, None),
            Err(_) if resource_type == "Binary" && !params.iter().any(|param| param.name == "_format") => {
                let accept = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok());
                (Format::Json, accept.map(str::to_owned))
            }
            Err(error) => return Err((error, Format::Json)),
        };
    let fail = |error: ApiError| (error, format);
    let served = served(&endpoint, resource_type).map_err(fail)?;
    if !served.allows(Interaction::Read) {
        return Err(fail(ApiError::InteractionNotOffered(format!("read is not offered for {resource_type}"))));
    }
    let context = endpoint::authorize(state, request, &endpoint).await.map_err(fail)?;
    note_person(trail, &endpoint, &context);
    let not_found = || fail(ApiError::NotFound(format!("{resource_type}/{id}")));
    if !reference::is_valid_id(id) {
        return Err(not_found());
    }
    let visibility = state.visibility(&endpoint.service.id);
    let resource = state
        .store
        .read_for_patient(endpoint.provider.id, endpoint.service.release, &context.scope, visibility, resource_type, id)
        .await
        .map_err(|error| fail(error.into()))?
        .ok_or_else(not_found)?;
    trail.returned = vec![format!("{}/{}", resource.resource_type, resource.id)];
    if let Some(accept) = document {
        return Ok((crate::binary::document_response(&resource.body, &accept).map_err(fail)?, format));
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, format!("W/\"{}\"", resource.version_id)))
        .insert_header((header::LAST_MODIFIED, http_date(resource.last_updated)));
    Ok((render::resource_response(&mut response, format, endpoint.service.release, &resource.body), format))
}

/// Any other method or path under a FHIR base.
pub(crate) fn not_offered(request: &HttpRequest) -> HttpResponse {
    if request.method() == actix_web::http::Method::GET {
        ApiError::NotFound(request.path().to_owned()).response(Format::Json)
    } else {
        // The FHIR bases are read-only for PGOs.
        crate::discovery::method_not_allowed(request, "GET")
    }
}

pub(crate) fn http_date(millis: i64) -> String {
    let seconds = u64::try_from(millis / 1000).unwrap_or(0);
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds))
}
