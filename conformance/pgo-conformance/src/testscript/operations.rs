//! Making an operation: the request (URL, `Accept`, the bearer token, fresh `MedMij-Request-ID`
//! and `X-Correlation-ID`, the target's extra headers, then the script's `requestHeader`s, which
//! win), sent through [`Http`] so it is recorded, and the response read as FHIR JSON (XML
//! converted) for the asserts after it. Without `accept` the runner asks for JSON.

use super::TestScriptTarget;
use super::model::Operation;
use super::release;
use super::request_url::{self, Kind};
use super::state::{Problem, Request, Response, State};
use super::variables;
use crate::http::{Answer, Http};
use crate::outcome::Exchange;
use fhir_core::Release;
use serde_json::Value;

/// What making an operation gave: the exchange (if a request was sent) and the problem, if any,
/// that a check must report (it was not made, or got no answer).
#[derive(Debug)]
pub(crate) struct Made {
    pub exchange: Option<Exchange>,
    pub problem: Option<Problem>,
}

/// Makes `operation` and records its request and response in `state`.
pub(crate) async fn make(operation: &Operation, state: &mut State<'_>, target: &TestScriptTarget, http: &Http) -> Made {
    let request_id = operation.request_id.as_deref();
    let response_id = operation.response_id.as_deref();
    let request = match request(operation, state, target) {
        Ok(request) => request,
        Err(problem) => {
            // Asserts on this operation are not run: the problem is reported once, here.
            let why = Problem::NotRun("the operation before it was not made".into());
            state.record(None, Err(why), request_id, response_id);
            return Made { exchange: None, problem: Some(problem) };
        }
    };
    let mut builder = http.client().get(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let (answer, exchange) = http.send(builder).await;
    let shown = Request { headers: request.headers.iter().map(shown_header).collect(), ..request };
    match answer {
        Ok(answer) => {
            let response = response(&answer, state.script.release.release);
            state.record(Some(shown), Ok(response), request_id, response_id);
            Made { exchange: Some(exchange), problem: None }
        }
        Err(reason) => {
            let why = Problem::NotRun("the operation before it got no answer".into());
            state.record(Some(shown), Err(why), request_id, response_id);
            Made { exchange: Some(exchange), problem: Some(Problem::Failed(reason)) }
        }
    }
}

/// What a check on an operation that was not made calls it.
pub(crate) fn name(operation: &Operation) -> String {
    let code = operation.kind.as_ref().and_then(|coding| coding.code.as_deref()).unwrap_or("get");
    let what = operation.url.as_deref().or(operation.resource.as_deref()).unwrap_or_default();
    let label = operation.label.as_deref().or(operation.description.as_deref());
    match label {
        Some(label) => format!("operation {label} ({code} {what})"),
        None => format!("operation {code} {what}"),
    }
}

fn request(operation: &Operation, state: &State<'_>, target: &TestScriptTarget) -> Result<Request, Problem> {
    let kind: Kind = request_url::kind(operation)?;
    let url = request_url::url(operation, kind, state, &target.base)?;
    let url = if operation.encode_request_url == Some(false) { url } else { request_url::encoded(&url) };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(accept) = mime(operation.accept.as_deref().unwrap_or("json")) {
        headers.push(("accept".into(), accept));
    }
    if let Some(token) = &target.token {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    headers.push(("medmij-request-id".into(), uuid::Uuid::new_v4().to_string()));
    headers.push(("x-correlation-id".into(), uuid::Uuid::new_v4().to_string()));
    let script_headers = operation
        .request_header
        .iter()
        .map(|header| Ok((header.field.clone(), variables::substitute(&header.value, state)?)));
    for header in target.headers.iter().cloned().map(Ok).chain(script_headers) {
        let (name, value): (String, String) = header?;
        let name = name.to_ascii_lowercase();
        headers.retain(|(known, _)| *known != name);
        headers.push((name, value));
    }
    Ok(Request { method: "GET".into(), url, headers })
}

/// The media type an `accept`/`contentType` code stands for (STU3 codes or an R4 MIME type);
/// `None` for `none`.
pub(crate) fn mime(code: &str) -> Option<String> {
    match code {
        "xml" => Some("application/fhir+xml".into()),
        "json" => Some("application/fhir+json".into()),
        "ttl" => Some("text/turtle".into()),
        "none" => None,
        mime => Some(mime.to_owned()),
    }
}

/// The response as asserts see it.
fn response(answer: &Answer, release: Release) -> Response {
    Response {
        status: answer.status,
        headers: answer
            .headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
            .collect(),
        media_type: answer.media_type(),
        body: body(answer, release),
    }
}

/// The body as FHIR JSON, by its media type (or whichever reads when it names neither).
fn body(answer: &Answer, release: Release) -> Result<Option<Value>, String> {
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let media = answer.media_type();
    let json = || serde_json::from_slice(&answer.body).map_err(|error| format!("not JSON: {error}"));
    if media.contains("json") {
        json().map(Some)
    } else if media.contains("xml") {
        release::read_xml(&answer.body, release).map(Some)
    } else {
        json()
            .or_else(|_| release::read_xml(&answer.body, release))
            .map(Some)
            .map_err(|_| format!("neither FHIR JSON nor FHIR XML (content type {media:?})"))
    }
}

/// The token cut short: requests are kept for asserts whose text may reach a report.
fn shown_header((name, value): &(String, String)) -> (String, String) {
    if name == "authorization" {
        let kept: String = value.chars().take(16).collect();
        (name.clone(), format!("{kept}…"))
    } else {
        (name.clone(), value.clone())
    }
}
