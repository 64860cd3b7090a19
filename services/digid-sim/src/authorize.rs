//! The authorization endpoint (OpenID Connect Core §3.1.2, RFC 7636 for PKCE). GET checks the
//! request and shows the login page; POST takes the submitted form. A request from an unknown
//! client or with an unregistered redirect URI gets an error page and is never redirected
//! (RFC 6749 §4.1.2.1); every other error goes back to the redirect URI with the state.

use crate::codes::{IssuedCode, Login, PendingLogin};
use crate::page::{self, LoginPage};
use crate::params::Params;
use crate::{LEVELS_OF_ASSURANCE, LOA_SUBSTANTIAL, Simulator};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};

/// Why an authorization request is refused.
enum Refusal {
    /// Shown to the person: the redirect URI cannot be trusted.
    Page(String),
    /// Sent back to the relying party as an OAuth error.
    Redirect { redirect_uri: String, state: Option<String>, error: &'static str, description: String },
}

/// `GET /authorize`: 200 with the login page, 302 to the redirect URI with an OAuth error, 400
/// with an error page for an unknown client or redirect URI, 503 when too many logins are open.
pub(crate) async fn start(sim: web::Data<Simulator>, request: HttpRequest) -> HttpResponse {
    begin(&sim, &Params::parse(request.query_string().as_bytes()))
}

/// An authorization request, sent by GET or (OIDC Core §3.1.2.1) by POST.
fn begin(sim: &Simulator, params: &Params) -> HttpResponse {
    let pending = match check(sim, params) {
        Ok(pending) => pending,
        Err(Refusal::Page(message)) => return page::respond(StatusCode::BAD_REQUEST, page::error(&message), None),
        Err(Refusal::Redirect { redirect_uri, state, error, description }) => {
            tracing::info!(error, description, "authorization request refused");
            let mut answer = vec![("error", error), ("error_description", description.as_str())];
            answer.extend(state.as_deref().map(|state| ("state", state)));
            return redirect(StatusCode::FOUND, &redirect_uri, &answer);
        }
    };
    let loa = pending.requested_loa.unwrap_or(LOA_SUBSTANTIAL);
    let redirect_uri = pending.redirect_uri.clone();
    let client_id = pending.client_id.clone();
    match sim.store.pending.insert(pending) {
        Ok(request_id) => {
            let html =
                page::login(&LoginPage { request_id: &request_id, client_id: &client_id, bsn: "", loa, error: None });
            page::respond(StatusCode::OK, html, Some(&redirect_uri))
        }
        Err(error) => unavailable(&error),
    }
}

/// Checks an authorization request in the order RFC 6749 §4.1.2.1 asks: first whether the
/// redirect URI can be trusted, then the rest.
fn check(sim: &Simulator, params: &Params) -> Result<PendingLogin, Refusal> {
    let client_id = params.get("client_id").ok_or_else(|| Refusal::Page("De parameter client_id ontbreekt.".into()))?;
    let client = sim.client(client_id).ok_or_else(|| Refusal::Page(format!("De client {client_id:?} is onbekend.")))?;
    let redirect_uri =
        params.get("redirect_uri").ok_or_else(|| Refusal::Page("De parameter redirect_uri ontbreekt.".into()))?;
    if !client.redirect_uris.iter().any(|registered| registered == redirect_uri) {
        return Err(Refusal::Page(format!("De redirect_uri {redirect_uri:?} is niet geregistreerd voor deze client.")));
    }
    let state = params.get("state");
    let refuse = |error: &'static str, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.map(str::to_owned),
        error,
        description: description.to_owned(),
    };
    if let Some(name) = params.repeated() {
        return Err(refuse("invalid_request", &format!("parameter {name} is repeated")));
    }
    match params.get("response_type") {
        None => return Err(refuse("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => return Err(refuse("unsupported_response_type", "only response_type=code is supported")),
    }
    if !params.get("scope").is_some_and(|scope| scope.split(' ').any(|value| value == "openid")) {
        return Err(refuse("invalid_scope", "the scope must contain openid"));
    }
    if params.get("request").is_some() {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    if params.get("request_uri").is_some() {
        return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
    }
    let state = state.ok_or_else(|| refuse("invalid_request", "state is required"))?;
    let nonce = params.get("nonce").ok_or_else(|| refuse("invalid_request", "nonce is required"))?;
    let code_challenge =
        params.get("code_challenge").ok_or_else(|| refuse("invalid_request", "PKCE is required: code_challenge"))?;
    // RFC 7636 §4.3: a missing method means plain, which this provider refuses (§4.4.1).
    if params.get("code_challenge_method") != Some("S256") {
        return Err(refuse("invalid_request", "code_challenge_method must be S256"));
    }
    if !is_s256_challenge(code_challenge) {
        return Err(refuse("invalid_request", "code_challenge is not a base64url SHA-256 value"));
    }
    if params.get("prompt").is_some_and(|prompt| prompt.split(' ').any(|value| value == "none")) {
        return Err(refuse("login_required", "the simulator always asks the person to log in"));
    }
    // acr_values is a wish (OIDC Core §3.1.2.1): it preselects a level, the person may pick
    // another, and the relying party checks the acr it gets.
    let requested_loa = params.get("acr_values").and_then(|values| {
        values.split(' ').find_map(|value| LEVELS_OF_ASSURANCE.into_iter().find(|level| *level == value))
    });
    Ok(PendingLogin {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        state: state.to_owned(),
        nonce: nonce.to_owned(),
        code_challenge: code_challenge.to_owned(),
        requested_loa,
    })
}

/// A SHA-256 digest in base64url without padding is 43 characters of that alphabet.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /authorize`: the submitted login form. 303 to the redirect URI with `code` and `state`
/// (login) or `error=access_denied` and `state` (cancel); 200 with the page and the error for an
/// invalid BSN; 400 with an error page for an unknown or expired request. A POST without the
/// form's `request` field but with a `client_id` is an authorization request, answered as GET.
pub(crate) async fn submit(sim: web::Data<Simulator>, body: web::Bytes) -> HttpResponse {
    let form = Params::parse(&body);
    if form.get("request").is_none() && form.get("client_id").is_some() {
        return begin(&sim, &form);
    }
    let request_id = form.get("request").unwrap_or_default();
    let Some(pending) = sim.store.pending.get(request_id) else {
        let message =
            "Deze inlogaanvraag is verlopen of al afgehandeld. Begin opnieuw bij de website die u hierheen stuurde.";
        return page::respond(StatusCode::BAD_REQUEST, page::error(message), None);
    };
    if form.get("action") == Some("cancel") {
        sim.store.pending.remove(request_id);
        let answer = [
            ("error", "access_denied"),
            ("error_description", "the person cancelled the login"),
            ("state", pending.state.as_str()),
        ];
        return redirect(StatusCode::SEE_OTHER, &pending.redirect_uri, &answer);
    }
    let Some(loa) = LEVELS_OF_ASSURANCE.into_iter().find(|level| form.get("loa") == Some(*level)) else {
        return page::respond(StatusCode::BAD_REQUEST, page::error("Onbekend betrouwbaarheidsniveau."), None);
    };
    let bsn: String = form.get("bsn").unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(problem) = bsn_problem(&bsn) {
        let typed = form.get("bsn").unwrap_or_default();
        let html = page::login(&LoginPage {
            request_id,
            client_id: &pending.client_id,
            bsn: typed,
            loa,
            error: Some(problem),
        });
        return page::respond(StatusCode::OK, html, Some(&pending.redirect_uri));
    }
    // Taken, not read: a form submitted twice gives one code.
    let Some(pending) = sim.store.pending.take(request_id) else {
        return page::respond(StatusCode::BAD_REQUEST, page::error("Deze inlogaanvraag is al afgehandeld."), None);
    };
    let issued = IssuedCode {
        client_id: pending.client_id,
        redirect_uri: pending.redirect_uri.clone(),
        nonce: pending.nonce,
        code_challenge: pending.code_challenge,
        login: Login { bsn, loa, auth_time: crate::token::unix_now() },
        used: false,
        access_token: None,
    };
    match sim.store.codes.insert(issued) {
        Ok(code) => {
            tracing::info!(loa, "simulated login");
            redirect(StatusCode::SEE_OTHER, &pending.redirect_uri, &[("code", &code), ("state", &pending.state)])
        }
        Err(error) => unavailable(&error),
    }
}

/// What is wrong with a typed BSN, in words for the person.
fn bsn_problem(bsn: &str) -> Option<&'static str> {
    if bsn.is_empty() {
        Some("Vul een BSN in.")
    } else if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        Some("Een BSN bestaat uit negen cijfers.")
    } else if !identity::is_valid_bsn(bsn) {
        Some("Dit BSN is ongeldig: het voldoet niet aan de elfproef.")
    } else {
        None
    }
}

/// A redirect to `redirect_uri` with `answer` added to its query.
fn redirect(status: StatusCode, redirect_uri: &str, answer: &[(&str, &str)]) -> HttpResponse {
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        // Registered URIs were checked to be absolute URLs at start-up.
        return page::respond(StatusCode::INTERNAL_SERVER_ERROR, page::error("Ongeldige redirect_uri."), None);
    };
    target.query_pairs_mut().extend_pairs(answer);
    HttpResponse::build(status)
        .insert_header((LOCATION, target.as_str()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

fn unavailable(error: &crate::codes::StoreError) -> HttpResponse {
    tracing::warn!(%error, "login not possible");
    page::respond(
        StatusCode::SERVICE_UNAVAILABLE,
        page::error("Te veel openstaande inlogpogingen; probeer het later opnieuw."),
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsn_problems_are_named() {
        assert_eq!(bsn_problem("999911120"), None);
        assert_eq!(bsn_problem(""), Some("Vul een BSN in."));
        assert_eq!(bsn_problem("12345"), Some("Een BSN bestaat uit negen cijfers."));
        assert_eq!(bsn_problem("99991112a"), Some("Een BSN bestaat uit negen cijfers."));
        assert!(bsn_problem("999911121").is_some_and(|problem| problem.contains("elfproef")));
    }

    #[test]
    fn an_s256_challenge_has_the_digest_shape() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }
}
