//! The person's side of a PGO's request (MedMij flow steps 3 and 4): the landing page, the login
//! at the OpenID Provider, the consent page and the decision that sends the person back to the PGO
//! with a code or an error.
//!
//! Rules kept here: the BSN exists only between the ID token and the derivation of the person's
//! keys (never in the session, a cookie, a log or a response); a person the provider has no record
//! of is told so, while the PGO gets the same `access_denied` as for a refusal; a decision needs
//! the session's CSRF token and acts once.

use super::{LOGIN_CALLBACK_PATH, error_page, see_other};
use crate::flow_error::{FlowError, error_redirect};
use crate::login::LoginPageHints;
use crate::pages::{self, ConsentPage, Lang, Words};
use crate::secrets;
use crate::server::{AuthorizationServer, now_millis};
use crate::session::{Flow, Loaded, Person, SessionError, form_is_genuine};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;
use store::{NewCode, NewConsent};

type Query = web::Query<HashMap<String, String>>;

/// The session of the flow, or the page saying it has expired.
async fn flow(server: &AuthorizationServer, request: &HttpRequest) -> Result<Loaded<Flow>, HttpResponse> {
    server.session::<Flow>(request).await.map_err(|error| {
        if !matches!(error, SessionError::Missing) {
            tracing::error!(error = %error, "session could not be read");
        }
        // Without a session the language chosen is unknown: Dutch, the service's language.
        error_page(StatusCode::BAD_REQUEST, Lang::Nl, Lang::Nl.texts().error_session)
    })
}

/// Ends the flow and sends the person back to the PGO with `error`.
async fn back_with_error(server: &AuthorizationServer, session: &Loaded<Flow>, error: FlowError) -> HttpResponse {
    if let Err(failure) = server.end_session(session).await {
        tracing::error!(error = %failure, "session could not be ended");
    }
    tracing::info!(client = %session.data.request.client_id, error = error.description(), "authorization refused");
    let request = &session.data.request;
    match url::Url::parse(&request.redirect_uri) {
        Ok(uri) => {
            see_other(&error_redirect(&uri, error, Some(&request.state))).cookie(server.removal::<Flow>()).finish()
        }
        Err(_) => error_page(StatusCode::BAD_REQUEST, session.data.lang, session.data.lang.texts().error_redirect_uri),
    }
}

/// Applies a `?lang=` switch to the session.
async fn switch_language(server: &AuthorizationServer, session: &mut Loaded<Flow>, query: &Query) {
    if let Some(lang) = query.get("lang") {
        session.data.lang = Lang::from_param(Some(lang));
        if let Err(error) = server.save_session(session).await {
            tracing::error!(error = %error, "session could not be saved");
        }
    }
}

/// Renders one of the request's pages (`page` picks which) for `flow`, at `path`.
async fn render(
    server: &AuthorizationServer,
    flow: &Flow,
    path: &str,
    page: fn(&ConsentPage<'_>) -> maud::Markup,
) -> HttpResponse {
    let directory = server.directory().await;
    let organisation = directory
        .client(&flow.request.client_id)
        .map(|client| client.organisation.clone())
        .unwrap_or_else(|| flow.request.client_id.clone());
    let provider = match server.store.provider(&flow.request.provider).await {
        Ok(Some(provider)) => provider.display_name,
        _ => flow.request.provider.clone(),
    };
    let request = ConsentPage {
        lang: flow.lang,
        organisation: &organisation,
        client_id: &flow.request.client_id,
        provider: &provider,
        services: flow.request.data_services.iter().map(|id| server.service_name(&directory, id)).collect(),
        sharing: server.is_sharing(&flow.request.data_services),
        csrf: &flow.csrf,
        path,
    };
    pages::html_response(StatusCode::OK, page(&request))
}

/// `GET /oauth/start`: who asks what; log in or cancel.
pub(crate) async fn start(request: HttpRequest, query: Query, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let mut session = match flow(&server, &request).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    switch_language(&server, &mut session, &query).await;
    render(&server, &session.data, "/oauth/start", pages::landing_page).await
}

/// `GET /oauth/login`: off to the OpenID Provider.
pub(crate) async fn login(request: HttpRequest, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let mut session = match flow(&server, &request).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let loa = server.required_loa(&session.data.request.data_services);
    let callback = format!("{}{LOGIN_CALLBACK_PATH}", server.config.public_url);
    // The provider's page names the provider the person logs in for, in the flow's language.
    let provider = match server.store.provider(&session.data.request.provider).await {
        Ok(Some(provider)) => Some(provider.display_name),
        _ => None,
    };
    let hints = LoginPageHints { ui_locale: session.data.lang.tag(), on_behalf_of: provider.as_deref() };
    let (url, pending) = match server.begin_login(&callback, loa, &hints).await {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(error = %error, "login could not start");
            server.forget_login().await;
            return back_with_error(&server, &session, FlowError::LoginUnavailable).await;
        }
    };
    session.data.login = Some(pending);
    if let Err(error) = server.save_session(&session).await {
        tracing::error!(error = %error, "session could not be saved");
        return back_with_error(&server, &session, FlowError::LoginUnavailable).await;
    }
    see_other(&url).finish()
}

/// `GET /oauth/login/callback`: the OpenID Provider sends the person back.
pub(crate) async fn callback(
    request: HttpRequest,
    query: Query,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let mut session = match flow(&server, &request).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let Some(pending) = session.data.login.take() else {
        return error_page(StatusCode::BAD_REQUEST, session.data.lang, session.data.lang.texts().error_session);
    };
    // The state ties the answer to this browser's login (login CSRF, OIDC Core §3.1.2.7).
    if !query.get("state").is_some_and(|state| secrets::equal(state, &pending.state)) {
        return error_page(StatusCode::BAD_REQUEST, session.data.lang, session.data.lang.texts().error_session);
    }
    if let Some(error) = query.get("error") {
        let error = if error == "access_denied" { FlowError::LoginCancelled } else { FlowError::LoginFailed };
        return back_with_error(&server, &session, error).await;
    }
    let Some(code) = query.get("code") else {
        return back_with_error(&server, &session, FlowError::LoginFailed).await;
    };
    let logged_in = match server.finish_login(&pending, code).await {
        Ok(logged_in) => logged_in,
        Err(error) => {
            tracing::warn!(error = %error, "login refused");
            let unavailable = error.is_unavailable();
            server.forget_login().await;
            let error = if unavailable { FlowError::LoginUnavailable } else { FlowError::LoginFailed };
            return back_with_error(&server, &session, error).await;
        }
    };
    let required = server.required_loa(&session.data.request.data_services);
    if logged_in.loa.is_none_or(|loa| loa < required) {
        tracing::info!(got = ?logged_in.loa, ?required, "level of assurance too low");
        return back_with_error(&server, &session, FlowError::LoaTooLow).await;
    }
    let provider_name = session.data.request.provider.clone();
    let person_key = server.secret.person_key(&provider_name, logged_in.bsn.expose());
    let pseudonym = server.secret.pseudonym(logged_in.bsn.expose());
    drop(logged_in);
    let has_record = match server.store.provider(&provider_name).await {
        Ok(Some(provider)) => server.store.knows_person(provider.id, &person_key).await,
        Ok(None) => Ok(false),
        Err(error) => Err(error),
    };
    let has_record = match has_record {
        Ok(known) => known,
        Err(error) => {
            tracing::error!(error = %error, "patient lookup failed");
            return back_with_error(&server, &session, FlowError::LoginUnavailable).await;
        }
    };
    session.data.person = Some(Person { person_key, pseudonym, has_record });
    if let Err(error) = server.save_session(&session).await {
        tracing::error!(error = %error, "session could not be saved");
        return back_with_error(&server, &session, FlowError::LoginUnavailable).await;
    }
    see_other("/oauth/consent").finish()
}

/// `GET /oauth/consent`: the consent page, or the page for a person without a record.
pub(crate) async fn consent(
    request: HttpRequest,
    query: Query,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let mut session = match flow(&server, &request).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    switch_language(&server, &mut session, &query).await;
    let flow = &session.data;
    let Some(person) = &flow.person else {
        return error_page(StatusCode::BAD_REQUEST, flow.lang, flow.lang.texts().error_session);
    };
    let page = if person.has_record { pages::consent_page } else { pages::no_record_page };
    render(&server, flow, "/oauth/consent", page).await
}

/// `POST /oauth/decision`: allow, deny or cancel; back to the PGO.
pub(crate) async fn decision(
    request: HttpRequest,
    form: web::Form<HashMap<String, String>>,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let session = match flow(&server, &request).await {
        Ok(session) => session,
        Err(page) => return page,
    };
    let flow = &session.data;
    if !form_is_genuine(&request, &server.config.public_url, &flow.csrf, form.get("csrf").map(String::as_str)) {
        tracing::warn!("decision without a valid CSRF token or from another origin");
        return error_page(StatusCode::FORBIDDEN, flow.lang, flow.lang.texts().error_session);
    }
    let allowed = form.get("decision").is_some_and(|decision| decision == "allow");
    let person = match (&flow.person, allowed) {
        (Some(person), true) if person.has_record => person.clone(),
        _ => return back_with_error(&server, &session, FlowError::NotGranted).await,
    };
    match server.end_session(&session).await {
        Ok(true) => {}
        Ok(false) => return error_page(StatusCode::BAD_REQUEST, flow.lang, flow.lang.texts().error_session),
        Err(error) => {
            tracing::error!(error = %error, "session could not be ended");
            return back_with_error(&server, &session, FlowError::LoginUnavailable).await;
        }
    }
    match server.grant(flow, &person).await {
        Ok(code) => {
            let mut uri = match url::Url::parse(&flow.request.redirect_uri) {
                Ok(uri) => uri,
                Err(_) => return error_page(StatusCode::BAD_REQUEST, flow.lang, flow.lang.texts().error_redirect_uri),
            };
            uri.query_pairs_mut().append_pair("code", &code).append_pair("state", &flow.request.state);
            tracing::info!(client = %flow.request.client_id, scope = %flow.request.scope(), "authorization granted");
            see_other(uri.as_str()).cookie(server.removal::<Flow>()).finish()
        }
        Err(error) => {
            tracing::error!(error = %error, "consent could not be stored");
            back_with_error(&server, &session, FlowError::LoginUnavailable).await
        }
    }
}

impl AuthorizationServer {
    /// Stores the consent and returns its authorization code.
    async fn grant(&self, flow: &Flow, person: &Person) -> Result<String, SessionError> {
        let provider = self.store.provider(&flow.request.provider).await?.ok_or(SessionError::Missing)?;
        let code = secrets::new_secret()?;
        let now = now_millis();
        let sharing = self.is_sharing(&flow.request.data_services);
        // A share is done with the one access token its code gives: its consent lapses with
        // that token (the code's lifetime, then the token's).
        let lifetime = if sharing {
            millis(self.config.code_lifetime_seconds) + millis(self.issuer.lifetime_seconds())
        } else {
            millis(self.config.refresh_lifetime_seconds)
        };
        let consent = NewConsent {
            provider: provider.id,
            client_id: flow.request.client_id.clone(),
            person_key: person.person_key.clone(),
            pseudonym: person.pseudonym.clone(),
            scope: flow.request.scope(),
            expires_at: now + lifetime,
            sharing,
        };
        let new_code = NewCode {
            code_hash: secrets::stored_hash(&code),
            redirect_uri: flow.request.redirect_uri.clone(),
            code_challenge: flow.request.code_challenge.clone(),
            expires_at: now + millis(self.config.code_lifetime_seconds),
        };
        self.store.grants().grant_consent(&consent, &new_code, now).await?;
        Ok(code)
    }

    /// Whether the request is for sharing (Delen): exactly one data service, one that receives
    /// data.
    pub(crate) fn is_sharing(&self, data_services: &[String]) -> bool {
        matches!(data_services, [id] if self.catalog.data_service(id).is_some_and(|service| service.receives))
    }
}

/// Seconds as milliseconds.
pub(crate) fn millis(seconds: u64) -> i64 {
    i64::try_from(seconds).unwrap_or(i64::MAX / 1000).saturating_mul(1000)
}
