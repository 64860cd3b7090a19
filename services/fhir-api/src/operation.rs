//! A PGO request to a FHIR base as one typed operation, and the one place every operation is
//! made ready the same way before its handler runs: the endpoint resolved, the answer's format
//! negotiated, the type and the interaction checked against the data service, the token checked
//! and the person found. Handlers (`pgo.rs`) get a [`Context`] and return an [`Answer`] or an
//! [`ApiError`]; the witness logs and meters whatever came of it. Adding an interaction is one
//! variant here and one handler there.

use crate::endpoint::{self, Endpoint, PatientContext};
use crate::error::ApiError;
use crate::pgo;
use crate::render;
use crate::share;
use crate::state::ApiState;
use crate::witness::{self, Asked, Trail};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use data_services::{DataService, ServedType, SharedBundle};
use fhir_core::Format;
use fhir_search::QueryParam;
use fhir_search::query::parse_query;

/// What a PGO asks of a FHIR base.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Operation<'r> {
    /// `GET [base]/{type}?...`.
    Search { resource_type: &'r str },
    /// `GET [base]/Observation/$lastn?...`.
    Lastn { resource_type: &'r str },
    /// `GET [base]/{type}/{id}`.
    Read { resource_type: &'r str, id: &'r str },
    /// `POST [base]` with a Bundle the PGO shares (Delen).
    Share,
}

impl<'r> Operation<'r> {
    /// The operation of `GET [base]/{type}/{segment}`: `$lastn`, or a read of that id.
    pub(crate) fn on_instance(resource_type: &'r str, segment: &'r str) -> Operation<'r> {
        if segment == "$lastn" {
            Operation::Lastn { resource_type }
        } else {
            Operation::Read { resource_type, id: segment }
        }
    }

    fn resource_type(self) -> &'r str {
        match self {
            Operation::Search { resource_type } | Operation::Lastn { resource_type } => resource_type,
            Operation::Read { resource_type, .. } => resource_type,
            Operation::Share => "Bundle",
        }
    }

    /// What the access log calls it; a share by the Bundle its data service takes.
    fn logged_as(self, service: Option<&DataService>) -> store::Interaction {
        match self {
            Operation::Search { .. } => store::Interaction::Search,
            Operation::Lastn { .. } => store::Interaction::Lastn,
            Operation::Read { .. } => store::Interaction::Read,
            Operation::Share => {
                match service.and_then(|service| service.sharing.as_ref()).map(|sharing| sharing.bundle) {
                    Some(SharedBundle::Batch) => store::Interaction::Batch,
                    _ => store::Interaction::Transaction,
                }
            }
        }
    }
}

/// A request made ready for its handler.
pub(crate) struct Context<'a> {
    pub(crate) endpoint: Endpoint<'a>,
    pub(crate) params: Vec<QueryParam>,
    /// The format of the answer, and of any error from here on.
    pub(crate) format: Format,
    /// For a Binary asked for as the document it holds: the `Accept` that asked.
    pub(crate) document: Option<String>,
    /// `Prefer: handling=strict`.
    pub(crate) strict: bool,
    /// What the data service serves of the type asked for (none for a share, which names no type).
    pub(crate) served: Option<&'a ServedType>,
    /// Whom the token is for.
    pub(crate) person: PatientContext,
}

impl Context<'_> {
    /// What the data service serves of the type asked for.
    pub(crate) fn served(&self) -> Result<&ServedType, ApiError> {
        self.served.ok_or(ApiError::Internal)
    }
}

/// A handler's answer: the response, the resources it returned or stored (`Type/id`), for the
/// log, and whether data was exchanged (a shared batch whose every entry was refused was not).
pub(crate) struct Answer {
    pub(crate) response: HttpResponse,
    pub(crate) returned: Vec<String>,
    pub(crate) metered: bool,
}

/// Answers `operation` at `/{provider}/{service}/fhir`: made ready, handled, witnessed. A share
/// reads its Bundle from `payload`.
pub(crate) async fn serve(
    request: &HttpRequest,
    state: &ApiState,
    (provider, service): (&str, &str),
    operation: Operation<'_>,
    payload: Option<web::Payload>,
) -> HttpResponse {
    let interaction = operation.logged_as(state.catalog.data_service(service));
    let asked = Asked { provider, service, interaction, resource_type: operation.resource_type() };
    let mut trail = Trail::default();
    let outcome = match ready(request, state, asked, operation, &mut trail).await {
        Ok(context) => {
            let format = context.format;
            let answer = match (operation, payload) {
                (Operation::Search { .. }, _) => pgo::search(&context, state, false).await,
                (Operation::Lastn { .. }, _) => pgo::search(&context, state, true).await,
                (Operation::Read { id, .. }, _) => pgo::read(&context, state, id).await,
                (Operation::Share, Some(payload)) => share::share(&context, state, request, payload).await,
                (Operation::Share, None) => Err(ApiError::Internal),
            };
            answer
                .map(|answer| {
                    trail.returned = answer.returned;
                    trail.unmetered = !answer.metered;
                    (answer.response, format)
                })
                .map_err(|error| (error, format))
        }
        Err(failure) => Err(failure),
    };
    witness::witness(request, state, asked, trail, outcome).await
}

/// Makes `operation` ready, in the order its refusals are decided: no such endpoint, no format
/// the service writes, a type or interaction the data service does not offer, then the token.
/// Until the format is known, errors are written in JSON.
async fn ready<'a>(
    request: &HttpRequest,
    state: &'a ApiState,
    asked: Asked<'_>,
    operation: Operation<'_>,
    trail: &mut Trail,
) -> Result<Context<'a>, (ApiError, Format)> {
    let endpoint =
        endpoint::resolve(state, asked.provider, asked.service).await.map_err(|error| (error, Format::Json))?;
    let params = parse_query(request.query_string());
    if let Operation::Share = operation {
        return ready_to_share(request, state, endpoint, params, trail).await;
    }
    let resource_type = operation.resource_type();
    // A Binary read without `_format` whose `Accept` names no FHIR format asks for the document
    // it holds; any other request must name a format the service writes.
    let (format, document) =
        match render::requested_format(request, &params, endpoint.service.release, render::SUPPORTED) {
            Ok(format) => (format, None),
            Err(_)
                if matches!(operation, Operation::Read { .. })
                    && resource_type == "Binary"
                    && !params.iter().any(|param| param.name == "_format") =>
            {
                let accept = request.headers().get(header::ACCEPT).and_then(|value| value.to_str().ok());
                (Format::Json, accept.map(str::to_owned))
            }
            Err(error) => return Err((error, Format::Json)),
        };
    let fail = |error: ApiError| (error, format);
    let served = endpoint.service.served(resource_type).ok_or_else(|| {
        fail(ApiError::TypeNotServed(format!(
            "the resource type '{resource_type}' is not part of data service {} ({})",
            endpoint.service.id, endpoint.service.name
        )))
    })?;
    match operation {
        Operation::Search { .. } | Operation::Lastn { .. }
            if !served.allows(data_services::Interaction::SearchType) =>
        {
            return Err(fail(ApiError::InteractionNotOffered(format!(
                "search is not offered for {resource_type} at data service {}; such resources are reached through _include or read",
                endpoint.service.id
            ))));
        }
        Operation::Lastn { .. } if !served.lastn => {
            return Err(fail(ApiError::InteractionNotOffered(format!("$lastn is not offered for {resource_type}"))));
        }
        Operation::Read { .. } if !served.allows(data_services::Interaction::Read) => {
            return Err(fail(ApiError::InteractionNotOffered(format!("read is not offered for {resource_type}"))));
        }
        _ => {}
    }
    let person = authorize(state, request, &endpoint, trail).map_err(fail)?;
    let strict = crate::prefer::strict_handling(request);
    Ok(Context { endpoint, params, format, document, strict, served: Some(served), person })
}

/// Checks the token for `endpoint` and notes in `trail` whom it is for.
fn authorize(
    state: &ApiState,
    request: &HttpRequest,
    endpoint: &Endpoint<'_>,
    trail: &mut Trail,
) -> Result<PatientContext, ApiError> {
    let person = endpoint::authorize(state, request, endpoint)?;
    trail.client_id = Some(person.claims.client_id.clone());
    trail.pseudonym = person.pseudonym.clone();
    trail.provider_name = Some(endpoint.provider.name.clone());
    Ok(person)
}

/// Makes a share ready: the data service must receive; the answer is in the format asked for, else
/// in the format the Bundle came in; the token must be for this data service alone (MedMij: a
/// share is authorised for exactly one data service).
async fn ready_to_share<'a>(
    request: &HttpRequest,
    state: &'a ApiState,
    endpoint: Endpoint<'a>,
    params: Vec<QueryParam>,
    trail: &mut Trail,
) -> Result<Context<'a>, (ApiError, Format)> {
    let supported: &[Format] = if crate::body::body_format(request).ok() == Some(Format::Xml) {
        &[Format::Xml, Format::Json]
    } else {
        render::SUPPORTED
    };
    let format = render::requested_format(request, &params, endpoint.service.release, supported)
        .map_err(|error| (error, Format::Json))?;
    let fail = |error: ApiError| (error, format);
    if endpoint.service.sharing.is_none() {
        return Err(fail(ApiError::InteractionNotOffered(format!(
            "data service {} ({}) receives nothing: PGOs collect it",
            endpoint.service.id, endpoint.service.name
        ))));
    }
    let person = authorize(state, request, &endpoint, trail).map_err(fail)?;
    let granted = person.claims.parsed_scope().map(|scope| scope.data_services.len()).unwrap_or(0);
    if granted != 1 {
        return Err(fail(ApiError::ShareNotAlone(endpoint.service.id.clone())));
    }
    Ok(Context { endpoint, params, format, document: None, strict: false, served: None, person })
}
