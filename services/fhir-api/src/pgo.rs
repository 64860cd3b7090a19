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
//! Every search, read and `$lastn` is made ready in `operation.rs` (endpoint, format, type,
//! interaction, token) and goes through `witness`: logged, and metered when answered 2xx.

use crate::endpoint::{self, Endpoint};
use crate::error::ApiError;
use crate::links;
use crate::operation::{Answer, Context};
use crate::render::{self, SearchBundle};
use crate::state::ApiState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use data_services::SecurityEndpoints;
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

/// `GET [base]/{type}?...` (search) or, with `lastn`, `GET [base]/Observation/$lastn?...`.
pub(crate) async fn search(context: &Context<'_>, state: &ApiState, lastn: bool) -> Result<Answer, ApiError> {
    let endpoint = &context.endpoint;
    let resource_type = context.served()?.resource_type.as_str();
    let definition = state
        .catalog
        .release(endpoint.service.release)
        .and_then(|release| release.type_definition(resource_type))
        .ok_or(ApiError::Internal)?;
    let options = ParseOptions {
        strict: context.strict,
        lastn,
        zone: state.limits.zone,
        default_count: state.limits.default_count,
        max_count: state.limits.max_count,
        limits: state.limits.query,
    };
    let search = fhir_search::request::parse(context.served()?, definition, &context.params, options)?;
    let visibility = state.visibility(&endpoint.service.id);
    let page = state
        .store
        .search(endpoint.provider.id, endpoint.service.release, &context.person.scope, visibility, &search)
        .await?;
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
    let response =
        render::resource_response(&mut response, context.format, endpoint.service.release, &bundle.to_json());
    let returned = page
        .matches
        .iter()
        .chain(&page.included)
        .map(|resource| format!("{}/{}", resource.resource_type, resource.id))
        .collect();
    Ok(Answer { response, returned, metered: true })
}

/// `GET [base]/{type}/{id}`: read; a Binary asked for by its media type is the document itself.
pub(crate) async fn read(context: &Context<'_>, state: &ApiState, id: &str) -> Result<Answer, ApiError> {
    let endpoint = &context.endpoint;
    let resource_type = context.served()?.resource_type.as_str();
    let not_found = || ApiError::NotFound(format!("{resource_type}/{id}"));
    if !reference::is_valid_id(id) {
        return Err(not_found());
    }
    let visibility = state.visibility(&endpoint.service.id);
    let resource = state
        .store
        .read_for_patient(
            endpoint.provider.id,
            endpoint.service.release,
            &context.person.scope,
            visibility,
            resource_type,
            id,
        )
        .await?
        .ok_or_else(not_found)?;
    let returned = vec![format!("{}/{}", resource.resource_type, resource.id)];
    if let Some(accept) = &context.document {
        return Ok(Answer {
            response: crate::binary::document_response(resource.body, accept)?,
            returned,
            metered: true,
        });
    }
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ETAG, format!("W/\"{}\"", resource.version_id)))
        .insert_header((header::LAST_MODIFIED, http_date(resource.last_updated)));
    let response =
        render::owned_resource_response(&mut response, context.format, endpoint.service.release, resource.body);
    Ok(Answer { response, returned, metered: true })
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
