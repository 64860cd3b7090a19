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
use crate::state::ApiState;
use crate::witness::{self, Asked, Trail};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use data_services::ServedType;
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
        }
    }

    /// What the access log calls it.
    fn logged_as(self) -> store::Interaction {
        match self {
            Operation::Search { .. } => store::Interaction::Search,
            Operation::Lastn { .. } => store::Interaction::Lastn,
            Operation::Read { .. } => store::Interaction::Read,
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
    /// What the data service serves of the type asked for.
    pub(crate) served: &'a ServedType,
    /// Whom the token is for.
    pub(crate) person: PatientContext,
}

/// A handler's answer: the response, and the resources it returned (`Type/id`), for the log.
pub(crate) struct Answer {
    pub(crate) response: HttpResponse,
    pub(crate) returned: Vec<String>,
}

/// Answers `operation` at `/{provider}/{service}/fhir`: made ready, handled, witnessed.
pub(crate) async fn serve(
    request: &HttpRequest,
    state: &ApiState,
    (provider, service): (&str, &str),
    operation: Operation<'_>,
) -> HttpResponse {
    let asked =
        Asked { provider, service, interaction: operation.logged_as(), resource_type: operation.resource_type() };
    let mut trail = Trail::default();
    let outcome = match ready(request, state, asked, operation, &mut trail).await {
        Ok(context) => {
            let format = context.format;
            let answer = match operation {
                Operation::Search { .. } => pgo::search(&context, state, false).await,
                Operation::Lastn { .. } => pgo::search(&context, state, true).await,
                Operation::Read { id, .. } => pgo::read(&context, state, id).await,
            };
            answer
                .map(|answer| {
                    trail.returned = answer.returned;
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
    let person = endpoint::authorize(state, request, &endpoint).await.map_err(fail)?;
    trail.client_id = Some(person.claims.client_id.clone());
    trail.pseudonym = person.pseudonym.clone();
    trail.provider_name = Some(endpoint.provider.name.clone());
    let strict = crate::prefer::strict_handling(request);
    Ok(Context { endpoint, params, format, document, strict, served, person })
}
