//! Making an operation: the request (method, URL, `Accept`, the credential, fresh
//! `MedMij-Request-ID` and `X-Correlation-ID`, the target's extra headers, then the script's
//! `requestHeader`s, which win, and a fixture as the body of a write), sent through [`Http`] so
//! it is recorded, and the response read as FHIR JSON (XML converted) for the asserts after it.
//! Without `accept` the runner asks for JSON.
//!
//! The credential: a script's `Authorization` names a token of the server it was written for.
//! Against the target it is replaced: by the target token it maps to (`--token-map`), else by
//! the target's token (`--token`); without either it is sent as written. A load script's requests
//! always carry the ingest key. Operations that change data are made only by load scripts
//! (`writes`); in a test they are not run.

use super::model::Operation;
use super::release;
use super::request_url::{self, Kind};
use super::state::{Problem, Request, Response, State, header_values};
use super::{TestScriptTarget, variables, writes};
use crate::http::{Answer, Http};
use crate::outcome::Exchange;
use fhir_core::Release;
use serde_json::Value;

/// Where operations go, and with what credential.
#[derive(Clone, Copy)]
pub(crate) enum Endpoint<'t> {
    /// The FHIR base under test: reads only.
    Target(&'t TestScriptTarget),
    /// Where load scripts write (the ingest base of the script's release), with the key.
    Load { base: &'t str, key: &'t str },
}

impl Endpoint<'_> {
    fn base(&self) -> &str {
        match self {
            Endpoint::Target(target) => &target.base,
            Endpoint::Load { base, .. } => base,
        }
    }

    /// The `Authorization` to send, given the script's own (if any).
    fn authorization(&self, scripted: Option<&str>) -> Option<String> {
        match self {
            Endpoint::Load { key, .. } => Some(format!("Bearer {key}")),
            Endpoint::Target(target) => {
                let bare = scripted.map(|value| value.trim().strip_prefix("Bearer ").unwrap_or(value).trim());
                let mapped = bare.and_then(|bare| target.token_map.iter().find(|(from, _)| from == bare));
                match (mapped, &target.token) {
                    (Some((_, to)), _) => Some(format!("Bearer {to}")),
                    (None, Some(token)) => Some(format!("Bearer {token}")),
                    (None, None) => scripted.map(str::to_owned),
                }
            }
        }
    }

    fn extra_headers(&self) -> &[(String, String)] {
        match self {
            Endpoint::Target(target) => &target.headers,
            Endpoint::Load { .. } => &[],
        }
    }
}

/// What making an operation gave: the exchanges (a purge makes several) and the problem, if
/// any, that a check must report (it was not made, or got no answer).
#[derive(Debug, Default)]
pub(crate) struct Made {
    pub exchanges: Vec<Exchange>,
    pub problem: Option<Problem>,
}

/// Makes `operation` against `endpoint` and records its request and response in `state`.
pub(crate) async fn make(operation: &Operation, state: &mut State<'_>, endpoint: Endpoint<'_>, http: &Http) -> Made {
    let request_id = operation.request_id.as_deref();
    let response_id = operation.response_id.as_deref();
    let kind = request_url::kind(operation).and_then(|kind| match endpoint {
        Endpoint::Target(_) if kind.writes() => Err(Problem::NotRun(format!(
            "the {} operation changes data on the target: this runner writes only in load scripts (--load)",
            operations_code(operation)
        ))),
        _ => Ok(kind),
    });
    let prepared = kind.and_then(|kind| {
        if kind == Kind::Purge {
            return Ok(None);
        }
        request(operation, kind, state, endpoint).map(Some)
    });
    let (request, body) = match prepared {
        Ok(Some(prepared)) => prepared,
        Ok(None) => return writes::purge(operation, state, endpoint, http).await,
        Err(problem) => {
            // Asserts on this operation are not run: the problem is reported once, here.
            let why = Problem::NotRun("the operation before it was not made".into());
            state.record(None, Err(why), request_id, response_id);
            return Made { exchanges: Vec::new(), problem: Some(problem) };
        }
    };
    let (answer, exchange) = send(http, &request, body).await;
    let shown = Request { headers: request.headers.iter().map(shown_header).collect(), ..request };
    match answer {
        Ok(answer) => {
            let response = response(&answer, state.script.release.release);
            state.record(Some(shown), Ok(response), request_id, response_id);
            Made { exchanges: vec![exchange], problem: None }
        }
        Err(reason) => {
            let why = Problem::NotRun("the operation before it got no answer".into());
            state.record(Some(shown), Err(why), request_id, response_id);
            Made { exchanges: vec![exchange], problem: Some(Problem::Failed(reason)) }
        }
    }
}

fn operations_code(operation: &Operation) -> &str {
    operation.kind.as_ref().and_then(|coding| coding.code.as_deref()).unwrap_or("write")
}

/// Sends `request` with `body`; the answer and its record.
pub(crate) async fn send(http: &Http, request: &Request, body: Option<Vec<u8>>) -> (Result<Answer, String>, Exchange) {
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut builder = http.client().request(method, &request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = body {
        builder = builder.body(body);
    }
    http.send(builder).await
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

/// The request `operation` makes, and its body (a write's fixture).
fn request(
    operation: &Operation,
    kind: Kind,
    state: &State<'_>,
    endpoint: Endpoint<'_>,
) -> Result<(Request, Option<Vec<u8>>), Problem> {
    let url = request_url::url(operation, kind, state, endpoint.base())?;
    let url = if operation.encode_request_url == Some(false) { url } else { request_url::encoded(&url) };
    let body = match kind {
        Kind::Create | Kind::Update | Kind::Bundle => Some(writes::body(operation, state)?),
        _ => None,
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(accept) = mime(operation.accept.as_deref().unwrap_or("json")) {
        headers.push(("accept".into(), accept));
    }
    if let Some((content_type, _)) = &body {
        headers.push(("content-type".into(), content_type.clone()));
    }
    headers.push(("medmij-request-id".into(), uuid::Uuid::new_v4().to_string()));
    headers.push(("x-correlation-id".into(), uuid::Uuid::new_v4().to_string()));
    let script_headers = operation
        .request_header
        .iter()
        .map(|header| Ok((header.field.clone(), variables::substitute(&header.value, state)?)));
    for header in endpoint.extra_headers().iter().cloned().map(Ok).chain(script_headers) {
        let (name, value): (String, String) = header?;
        let name = name.to_ascii_lowercase();
        headers.retain(|(known, _)| *known != name);
        headers.push((name, value));
    }
    let scripted = header_values(&headers, "authorization").into_iter().next();
    headers.retain(|(name, _)| name != "authorization");
    if let Some(authorization) = endpoint.authorization(scripted.as_deref()) {
        headers.push(("authorization".into(), authorization));
    }
    let request = Request { method: kind.method().into(), url, headers };
    Ok((request, body.map(|(_, bytes)| bytes)))
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
pub(crate) fn response(answer: &Answer, release: Release) -> Response {
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
pub(crate) fn shown_header((name, value): &(String, String)) -> (String, String) {
    if name == "authorization" {
        let kept: String = value.chars().take(16).collect();
        (name.clone(), format!("{kept}…"))
    } else {
        (name.clone(), value.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(token: Option<&str>, map: &[(&str, &str)]) -> TestScriptTarget {
        let map: Vec<(String, String)> = map.iter().map(|(from, to)| ((*from).into(), (*to).into())).collect();
        TestScriptTarget { token: token.map(str::to_owned), token_map: map, ..TestScriptTarget::default() }
    }

    #[test]
    fn a_scripts_token_is_mapped_or_replaced_by_the_targets() {
        let mapped = target(Some("fallback"), &[("93cde269-ce35", "real-a")]);
        let endpoint = Endpoint::Target(&mapped);
        assert_eq!(endpoint.authorization(Some("Bearer 93cde269-ce35")), Some("Bearer real-a".into()));
        assert_eq!(endpoint.authorization(Some("Bearer other")), Some("Bearer fallback".into()));
        assert_eq!(endpoint.authorization(None), Some("Bearer fallback".into()));
        let bare = target(None, &[]);
        assert_eq!(Endpoint::Target(&bare).authorization(Some("Bearer as-written")), Some("Bearer as-written".into()));
        assert_eq!(Endpoint::Target(&bare).authorization(None), None);
        let load = Endpoint::Load { base: "http://x/ingest/p/stu3", key: "key" };
        assert_eq!(load.authorization(Some("Bearer 93cde269-ce35")), Some("Bearer key".into()));
    }
}
