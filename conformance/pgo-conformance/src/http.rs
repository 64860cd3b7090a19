//! HTTP as the suite speaks it: every request is sent without following redirects, and recorded,
//! with its answer, as an [`Exchange`] (BSNs masked, credentials shortened) for the reports.

use crate::mask::Masker;
use crate::outcome::Exchange;
use reqwest::header::HeaderMap;
use std::time::Instant;

/// Bodies longer than this are cut in the record (the checks see all of it).
const RECORDED_BODY_LIMIT: usize = 64 * 1024;

/// An answer, whole.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// The URL asked (for resolving a relative `Location`).
    pub url: url::Url,
}

impl Answer {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The `Location` header, made absolute.
    pub fn location(&self) -> Option<url::Url> {
        self.header("location").and_then(|location| self.url.join(location).ok())
    }

    /// The media type of the body, without parameters.
    pub fn media_type(&self) -> String {
        self.header("content-type").and_then(|value| value.split(';').next()).unwrap_or_default().trim().to_owned()
    }
}

/// A client that records what it sends and receives.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    masker: Masker,
}

impl Http {
    /// A client over `client` (which must not follow redirects), masking with `masker`.
    pub fn new(client: reqwest::Client, masker: Masker) -> Http {
        Http { client, masker }
    }

    /// The underlying client, to build requests with.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The masker of this run.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// Sends `request`; the answer and its record. A transport failure is an `Err` with its
    /// record (status 0) and the reason.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> (Result<Answer, String>, Exchange) {
        let request = match request.build() {
            Ok(request) => request,
            Err(error) => {
                let record = self.record_failure("?", "?", &error.to_string());
                return (Err(format!("the request could not be built: {error}")), record);
            }
        };
        let mut exchange = Exchange {
            method: request.method().to_string(),
            url: self.masker.mask(request.url().as_str()),
            request_headers: shown_headers(request.headers(), &self.masker),
            request_body: request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(|bytes| self.masker.mask(&shown_body(bytes)))
                .unwrap_or_default(),
            status: 0,
            response_headers: Vec::new(),
            response_body: String::new(),
            millis: 0,
        };
        let url = request.url().clone();
        let started = Instant::now();
        let outcome = async {
            let response = self.client.execute(request).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(Answer { status, headers, body, url })
        }
        .await;
        exchange.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(answer) => {
                exchange.status = answer.status;
                exchange.response_headers = shown_headers(&answer.headers, &self.masker);
                exchange.response_body = self.masker.mask(&shown_body(&answer.body));
                (Ok(answer), exchange)
            }
            Err(error) => {
                let reason = format!("no answer: {}", error_chain(&error));
                exchange.response_body = reason.clone();
                (Err(reason), exchange)
            }
        }
    }

    fn record_failure(&self, method: &str, url: &str, reason: &str) -> Exchange {
        Exchange {
            method: method.to_owned(),
            url: self.masker.mask(url),
            request_headers: Vec::new(),
            request_body: String::new(),
            status: 0,
            response_headers: Vec::new(),
            response_body: self.masker.mask(reason),
            millis: 0,
        }
    }
}

/// An error with its causes, in one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Headers as shown in a report: credentials cut to their scheme and a few characters.
fn shown_headers(headers: &HeaderMap, masker: &Masker) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = value.to_str().unwrap_or("(not text)");
            let shown = match name.as_str() {
                "authorization" | "cookie" | "set-cookie" => shortened(text),
                _ => text.to_owned(),
            };
            (name.as_str().to_owned(), masker.mask(&shown))
        })
        .collect()
}

/// A secret shortened to its first characters.
fn shortened(secret: &str) -> String {
    let kept: String = secret.chars().take(16).collect();
    if kept.len() < secret.len() { format!("{kept}…") } else { kept }
}

/// A body as text, cut after the record limit.
fn shown_body(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(RECORDED_BODY_LIMIT)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if bytes.len() > RECORDED_BODY_LIMIT {
        text.push_str(&format!("\n… ({} bytes in all)", bytes.len()));
    }
    text
}
