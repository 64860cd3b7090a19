//! The authorization endpoint (OpenID Connect Core §3.1.2, RFC 7636 for PKCE). GET checks the
//! request and shows the login page; POST takes the submitted form. A request from an unknown
//! client or with an unregistered redirect URI gets an error page and is never redirected
//! (RFC 6749 §4.1.2.1); every other error goes back to the redirect URI with the state.
//!
//! The page is in the language of `ui_locales` (Dutch by default) and says whom the person logs
//! in for: the extension parameter [`ON_BEHALF_OF`] when the relying party sent it (it logs people
//! in for someone else, as pgo-exchange does for a care provider), else the client id. It also
//! lists the scopes asked for, each once.

use crate::codes::{IssuedCode, Login, PendingLogin};
use crate::page::{self, LoginPage};
use crate::params::Params;
use crate::texts::{Lang, Texts, Words};
use crate::{LEVELS_OF_ASSURANCE, LOA_SUBSTANTIAL, Simulator};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};

/// The authorization request's extension parameter naming whom the person logs in for (a
/// display name, shown on the page). Not OIDC: other providers ignore it (RFC 6749 §3.1).
pub const ON_BEHALF_OF: &str = "on_behalf_of";

/// The most characters of [`ON_BEHALF_OF`] shown: a name, not a text.
const ON_BEHALF_OF_MAX_CHARS: usize = 100;

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
    let lang = Lang::from_param(params.get("ui_locales"));
    let pending = match check(sim, params, lang) {
        Ok(pending) => pending,
        Err(Refusal::Page(message)) => {
            return page::respond(StatusCode::BAD_REQUEST, page::error(lang, &message), None);
        }
        Err(Refusal::Redirect { redirect_uri, state, error, description }) => {
            tracing::info!(error, description, "authorization request refused");
            let mut answer = vec![("error", error), ("error_description", description.as_str())];
            answer.extend(state.as_deref().map(|state| ("state", state)));
            return redirect(StatusCode::FOUND, &redirect_uri, &answer);
        }
    };
    let loa = pending.requested_loa.unwrap_or(LOA_SUBSTANTIAL);
    match sim.store.pending.insert(pending.clone()) {
        Ok(request_id) => login_page(&request_id, &pending, "", loa, None),
        Err(error) => unavailable(lang, &error),
    }
}

/// The login page for `pending`, with what the person typed and picked so far.
fn login_page(request_id: &str, pending: &PendingLogin, bsn: &str, loa: &str, error: Option<&str>) -> HttpResponse {
    let html = page::login(&LoginPage {
        request_id,
        lang: pending.lang,
        login_for: pending.on_behalf_of.as_deref().unwrap_or(&pending.client_id),
        scopes: &pending.scopes,
        bsn,
        loa,
        error,
    });
    page::respond(StatusCode::OK, html, Some(&pending.redirect_uri))
}

/// Checks an authorization request in the order RFC 6749 §4.1.2.1 asks: first whether the
/// redirect URI can be trusted, then the rest.
fn check(sim: &Simulator, params: &Params, lang: Lang) -> Result<PendingLogin, Refusal> {
    let texts = lang.texts();
    let client_id = params.get("client_id").ok_or_else(|| Refusal::Page(texts.missing_client_id.into()))?;
    let client =
        sim.client(client_id).ok_or_else(|| Refusal::Page(format!("{} {client_id:?}", texts.unknown_client)))?;
    let redirect_uri = params.get("redirect_uri").ok_or_else(|| Refusal::Page(texts.missing_redirect_uri.into()))?;
    if !client.redirect_uris.iter().any(|registered| registered == redirect_uri) {
        return Err(Refusal::Page(format!("{} {redirect_uri:?}", texts.unregistered_redirect_uri)));
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
    let scopes = distinct_scopes(params.get("scope").unwrap_or_default());
    if !scopes.iter().any(|scope| scope == "openid") {
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
        lang,
        on_behalf_of: params.get(ON_BEHALF_OF).and_then(shown_name),
        scopes,
    })
}

/// The scope values of `scope` (space-separated, RFC 6749 §3.3), each once, in the order sent:
/// a scope asked for twice is still one scope.
fn distinct_scopes(scope: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for value in scope.split(' ').filter(|value| !value.is_empty()) {
        if !scopes.iter().any(|known| known == value) {
            scopes.push(value.to_owned());
        }
    }
    scopes
}

/// `name` as the page may show it: without control characters and surrounding space, at most
/// [`ON_BEHALF_OF_MAX_CHARS`] characters; `None` if nothing is left.
fn shown_name(name: &str) -> Option<String> {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim();
    let shown: String = match trimmed.char_indices().nth(ON_BEHALF_OF_MAX_CHARS) {
        Some((end, _)) => format!("{}…", trimmed[..end].trim_end()),
        None => trimmed.to_owned(),
    };
    (!shown.is_empty()).then_some(shown)
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
        // The request is gone, and its language with it: the form says which it was shown in.
        let lang = Lang::from_param(form.get("ui_locales"));
        return page::respond(StatusCode::BAD_REQUEST, page::error(lang, lang.texts().request_expired), None);
    };
    let texts = pending.lang.texts();
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
        return page::respond(StatusCode::BAD_REQUEST, page::error(pending.lang, texts.unknown_level), None);
    };
    let bsn: String = form.get("bsn").unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    if let Some(problem) = bsn_problem(&bsn, texts) {
        return login_page(request_id, &pending, form.get("bsn").unwrap_or_default(), loa, Some(problem));
    }
    let lang = pending.lang;
    // Taken, not read: a form submitted twice gives one code.
    let Some(pending) = sim.store.pending.take(request_id) else {
        return page::respond(StatusCode::BAD_REQUEST, page::error(lang, texts.request_done), None);
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
        Err(error) => unavailable(lang, &error),
    }
}

/// What is wrong with a typed BSN, in words for the person.
fn bsn_problem(bsn: &str, texts: &'static Texts) -> Option<&'static str> {
    if bsn.is_empty() {
        Some(texts.bsn_empty)
    } else if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        Some(texts.bsn_not_nine_digits)
    } else if !identity::is_valid_bsn(bsn) {
        Some(texts.bsn_fails_eleven_test)
    } else {
        None
    }
}

/// A redirect to `redirect_uri` with `answer` added to its query.
fn redirect(status: StatusCode, redirect_uri: &str, answer: &[(&str, &str)]) -> HttpResponse {
    let Ok(mut target) = url::Url::parse(redirect_uri) else {
        // Registered URIs were checked to be absolute URLs at start-up.
        let lang = Lang::default();
        return page::respond(
            StatusCode::INTERNAL_SERVER_ERROR,
            page::error(lang, lang.texts().bad_redirect_uri),
            None,
        );
    };
    target.query_pairs_mut().extend_pairs(answer);
    HttpResponse::build(status)
        .insert_header((LOCATION, target.as_str()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

fn unavailable(lang: Lang, error: &crate::codes::StoreError) -> HttpResponse {
    tracing::warn!(%error, "login not possible");
    page::respond(StatusCode::SERVICE_UNAVAILABLE, page::error(lang, lang.texts().too_many_logins), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsn_problems_are_named() {
        let dutch = Lang::Nl.texts();
        assert_eq!(bsn_problem("999911120", dutch), None);
        assert_eq!(bsn_problem("", dutch), Some("Vul een BSN in."));
        assert_eq!(bsn_problem("12345", dutch), Some("Een BSN bestaat uit negen cijfers."));
        assert_eq!(bsn_problem("99991112a", dutch), Some("Een BSN bestaat uit negen cijfers."));
        assert!(bsn_problem("999911121", dutch).is_some_and(|problem| problem.contains("elfproef")));
        assert_eq!(bsn_problem("12345", Lang::En.texts()), Some("A BSN has nine digits."));
    }

    #[test]
    fn each_scope_is_kept_once_in_the_order_asked() {
        assert_eq!(distinct_scopes("openid openid"), ["openid"]);
        assert_eq!(distinct_scopes("openid  profile openid profile"), ["openid", "profile"]);
        assert!(distinct_scopes("").is_empty());
    }

    #[test]
    fn the_name_shown_is_cleaned_and_bounded() {
        assert_eq!(shown_name(" Demo Ziekenhuis\n").as_deref(), Some("Demo Ziekenhuis"));
        assert_eq!(shown_name("\u{7}\t "), None);
        let long = "a".repeat(150);
        let shown = shown_name(&long).unwrap();
        assert_eq!(shown.chars().count(), ON_BEHALF_OF_MAX_CHARS + 1);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn an_s256_challenge_has_the_digest_shape() {
        assert!(is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"));
        assert!(!is_s256_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"));
    }
}
