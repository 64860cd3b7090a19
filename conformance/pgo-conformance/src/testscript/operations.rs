//! Making an operation: the request (method, URL, `Accept`, the credential, fresh
//! `MedMij-Request-ID` and `X-Correlation-ID`, a write's `Content-Type`, the target's extra
//! headers, then the script's `requestHeader`s as written, which win over all of these, and a
//! fixture as the body of a write), sent through [`Http`] so it is recorded, and the response
//! read as FHIR JSON (XML converted; an empty body is none, which content asserts fail on) for
//! the asserts after it. Without `accept` the runner asks for JSON.
//!
//! The credential: a script's `Authorization` names a token of the server it was written for.
//! Against the target it is replaced: by the target token it maps to (`--token-map`), else by
//! the target's token (`--token`); without either it is sent as written. A load script's requests
//! always carry the ingest key. Operations that change data (`writes`) are made by load scripts,
//! and against the target only when it allows writes (`--allow-writes`, with the same credential
//! as reads); otherwise they are not run, naming the flag. `purge` is made by load scripts only.

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
    /// The FHIR base under test: reads, and writes when it allows them.
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
    // A purge goes on to `writes::purge`, which says why it is made in load scripts only.
    let kind = request_url::kind(operation).and_then(|kind| match endpoint {
        Endpoint::Target(target) if kind.writes() && kind != Kind::Purge && !target.allow_writes => {
            Err(Problem::NotRun(format!(
                "the {} operation changes data on the target: it is made only with --allow-writes",
                operations_code(operation)
            )))
        }
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
    for (name, value) in endpoint.extra_headers() {
        let name = name.to_ascii_lowercase();
        headers.retain(|(known, _)| *known != name);
        headers.push((name, value.clone()));
    }
    // The script's own replace the others of their name; a field it repeats is sent each time.
    let mut named: Vec<String> = Vec::new();
    for header in &operation.request_header {
        let name = header.field.to_ascii_lowercase();
        let value = variables::substitute(&header.value, state)?;
        if !named.contains(&name) {
            headers.retain(|(known, _)| *known != name);
            named.push(name.clone());
        }
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
    use crate::mask::Masker;
    use crate::testscript::load::Script;
    use crate::testscript::model::TestScript;
    use crate::testscript::release::Detected;
    use serde_json::json;

    fn script() -> Script {
        let bundle = json!({"resourceType": "Bundle", "type": "batch", "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}, "request": {"method": "POST", "url": "Patient"}}]});
        let patient = json!({"resourceType": "Patient", "id": "p1", "gender": "female"});
        Script {
            fixtures: [("bundle".to_owned(), bundle), ("patient".to_owned(), patient)].into(),
            ..Script::new("s", Detected { release: Release::R4, why: String::new() }, TestScript::default())
        }
    }

    fn write(operation: serde_json::Value) -> Operation {
        serde_json::from_value(operation).unwrap()
    }

    fn header<'r>(request: &'r Request, name: &str) -> Vec<&'r str> {
        request.headers.iter().filter(|(field, _)| field == name).map(|(_, value)| value.as_str()).collect()
    }

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

    #[test]
    fn a_batch_carries_its_fixture_content_type_and_the_scripts_headers_which_win() {
        let script = script();
        let state = State::new(&script);
        let mut receiving = target(Some("target-token"), &[]);
        receiving.base = "http://t.example/fhir".into();
        receiving.headers = vec![("Prefer".into(), "return=minimal".into()), ("X-Extra".into(), "kept".into())];
        let batch = write(json!({
            "type": {"code": "batch"}, "sourceId": "bundle", "contentType": "json",
            "requestHeader": [
                {"field": "Prefer", "value": "return=representation"},
                {"field": "Authorization", "value": "Bearer 93cde269"},
                {"field": "X-Twice", "value": "a"}, {"field": "x-twice", "value": "b"},
            ],
        }));
        let (request, body) = request(&batch, Kind::Bundle, &state, Endpoint::Target(&receiving)).unwrap();
        assert_eq!((request.method.as_str(), request.url.as_str()), ("POST", "http://t.example/fhir"));
        assert_eq!(header(&request, "content-type"), ["application/fhir+json"]);
        assert_eq!(header(&request, "prefer"), ["return=representation"], "the script's header wins");
        assert_eq!(header(&request, "x-extra"), ["kept"]);
        assert_eq!(header(&request, "x-twice"), ["a", "b"], "a field the script repeats is sent each time");
        assert_eq!(header(&request, "authorization"), ["Bearer target-token"], "as reads are");
        let sent: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        assert_eq!(&sent, &script.fixtures["bundle"]);
    }

    #[test]
    fn a_create_in_xml_is_written_from_its_fixture_and_a_scripts_content_type_wins() {
        let script = script();
        let state = State::new(&script);
        let receiving = TestScriptTarget { base: "http://t.example/fhir".into(), ..TestScriptTarget::default() };
        let create = write(
            json!({"type": {"code": "create"}, "resource": "Patient", "sourceId": "patient", "contentType": "xml"}),
        );
        let (request, body) = request(&create, Kind::Create, &state, Endpoint::Target(&receiving)).unwrap();
        assert_eq!(request.url, "http://t.example/fhir/Patient");
        assert_eq!(header(&request, "content-type"), ["application/fhir+xml"]);
        let xml = String::from_utf8(body.unwrap()).unwrap();
        assert!(
            xml.contains("<Patient xmlns=\"http://hl7.org/fhir\">") && xml.contains("<gender value=\"female\"/>"),
            "{xml}"
        );
        let charset = write(json!({
            "type": {"code": "create"}, "sourceId": "patient",
            "requestHeader": [{"field": "Content-Type", "value": "application/fhir+json; charset=utf-8"}],
        }));
        let (json, _) = super::request(&charset, Kind::Create, &state, Endpoint::Target(&receiving)).unwrap();
        assert_eq!(json.url, "http://t.example/fhir/Patient", "the fixture's type");
        assert_eq!(header(&json, "content-type"), ["application/fhir+json; charset=utf-8"]);
    }

    #[tokio::test]
    async fn a_write_to_a_target_that_does_not_allow_it_and_a_purge_are_not_run_and_not_sent() {
        let script = script();
        let http = Http::new(reqwest::Client::new(), Masker::default());
        // Nothing listens on port 9 here: a request sent would be a failure (no answer), not "not run".
        let mut receiving = TestScriptTarget { base: "http://127.0.0.1:9/fhir".into(), ..TestScriptTarget::default() };
        let batch = write(json!({"type": {"code": "batch"}, "sourceId": "bundle", "responseId": "answer"}));
        let mut state = State::new(&script);
        let made = make(&batch, &mut state, Endpoint::Target(&receiving), &http).await;
        assert!(made.exchanges.is_empty());
        assert!(matches!(&made.problem, Some(Problem::NotRun(why)) if why.contains("--allow-writes")), "{made:?}");
        assert!(matches!(state.source(Some("answer")), Err(Problem::NotRun(_))), "its asserts are not run");
        receiving.allow_writes = true;
        let purge = write(json!({"type": {"code": "purge"}, "params": "p1/$purge"}));
        let made = make(&purge, &mut state, Endpoint::Target(&receiving), &http).await;
        assert!(made.exchanges.is_empty());
        assert!(matches!(&made.problem, Some(Problem::NotRun(why)) if why.contains("load scripts")), "{made:?}");
    }
}
