//! The HTTP client the OpenID Connect relying party talks through: the project's reqwest, behind
//! openidconnect's `AsyncHttpClient` interface (so that openidconnect needs no HTTP client of its
//! own, and no second reqwest version is built).

use std::time::Duration;

/// A request to the OpenID Provider failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request could not be built or sent, or the answer not read.
    #[error("{0}")]
    Transport(#[from] reqwest::Error),
    /// The answer could not be turned into an HTTP response.
    #[error("{0}")]
    Response(#[from] http::Error),
}

/// Builds the client: no redirects (RFC 6749 forbids following them for these calls), bounded
/// time, so that a hanging OpenID Provider cannot hold a person's login forever.
pub(crate) fn client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
}

/// Sends `request` with `client`.
pub(crate) async fn send(
    client: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let mut outgoing = client.request(parts.method, parts.uri.to_string()).body(body);
    for (name, value) in &parts.headers {
        outgoing = outgoing.header(name, value);
    }
    let response = outgoing.send().await?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body)?)
}
