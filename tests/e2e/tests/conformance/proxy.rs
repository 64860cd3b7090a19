//! A deliberately broken target: a proxy in front of the real service that passes everything
//! through (rewriting the service's address to its own, so a PGO only ever sees the proxy) but
//! breaks one rule, to show that the conformance suite notices.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::Mutex;

/// The rule the proxy breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Search answers' self links gain a patient parameter.
    LeaksPatientParameter,
    /// Search answers lose `Bundle.total`.
    OmitsTotal,
    /// A code presented again gets the first answer again (200 with the same tokens).
    AcceptsReplayedCode,
    /// Answers do not echo `X-Correlation-ID`.
    DropsCorrelationId,
}

struct State {
    upstream: String,
    own: String,
    fault: Fault,
    client: reqwest::Client,
    token_answers: Mutex<HashMap<String, (u16, Vec<u8>)>>,
}

/// Starts the proxy for `upstream` (`http://127.0.0.1:PORT`) with `fault`; its address.
pub fn start(upstream: &str, fault: Fault) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let own = format!("http://127.0.0.1:{}", listener.local_addr().expect("address").port());
    let state = web::Data::new(State {
        upstream: upstream.to_owned(),
        own: own.clone(),
        fault,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client"),
        token_answers: Mutex::new(HashMap::new()),
    });
    let server = HttpServer::new(move || App::new().app_data(state.clone()).default_service(web::to(forward)))
        .workers(1)
        .listen(listener)
        .expect("listens")
        .run();
    tokio::spawn(server);
    own
}

async fn forward(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let target = format!("{}{}", state.upstream, request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/"));
    let body = body.to_vec();
    let code = (request.path() == "/oauth/token")
        .then(|| url::form_urlencoded::parse(&body).find(|(name, _)| name == "code").map(|(_, code)| code.into_owned()))
        .flatten();
    if state.fault == Fault::AcceptsReplayedCode
        && let Some((status, answer)) =
            code.as_ref().and_then(|code| state.token_answers.lock().unwrap().get(code).cloned())
    {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
            .content_type("application/json")
            .body(answer);
    }
    // actix-web and reqwest use different versions of the `http` types: go through text.
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).unwrap();
    let mut upstream = state.client.request(method, &target).body(body);
    for (name, value) in request.headers() {
        if name != "host" && !(state.fault == Fault::DropsCorrelationId && name == "x-correlation-id") {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    let response = match upstream.send().await {
        Ok(response) => response,
        Err(error) => return HttpResponse::BadGateway().body(error.to_string()),
    };
    let status = response.status();
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status.as_u16()).unwrap());
    for (name, value) in response.headers() {
        let text = value.to_str().unwrap_or_default().replace(&state.upstream, &state.own);
        let dropped = state.fault == Fault::DropsCorrelationId && name == "x-correlation-id";
        if !dropped && !matches!(name.as_str(), "content-length" | "transfer-encoding" | "content-encoding") {
            answer.append_header((name.as_str(), text));
        }
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).replace(&state.upstream, &state.own);
    let text = match state.fault {
        Fault::LeaksPatientParameter | Fault::OmitsTotal => break_searchset(&text, state.fault),
        _ => text,
    };
    if let Some(code) = code {
        state.token_answers.lock().unwrap().entry(code).or_insert((status.as_u16(), text.clone().into_bytes()));
    }
    answer.body(text)
}

/// A JSON searchset with the fault applied; anything else as it was.
fn break_searchset(text: &str, fault: Fault) -> String {
    let Ok(mut bundle) = serde_json::from_str::<Value>(text) else { return text.to_owned() };
    if bundle["resourceType"] != "Bundle" || bundle["type"] != "searchset" {
        return text.to_owned();
    }
    match fault {
        Fault::OmitsTotal => {
            bundle.as_object_mut().unwrap().remove("total");
        }
        Fault::LeaksPatientParameter => {
            for link in bundle["link"].as_array_mut().into_iter().flatten() {
                if link["relation"] == "self" {
                    let url = link["url"].as_str().unwrap_or_default().to_owned();
                    let separator = if url.contains('?') { '&' } else { '?' };
                    link["url"] = Value::String(format!("{url}{separator}patient=Patient/leaked"));
                }
            }
        }
        _ => {}
    }
    bundle.to_string()
}
