//! `GET /oauth/authorize`: the start of a PGO's request (RFC 6749 §4.1.1; MedMij flow step 2).
//!
//! Answers: 303 to the landing page (`/oauth/start`) with a new session cookie; 303 back to the
//! PGO with an RFC 6749 error (see `flow_error`); or 400 with a page for the person when the
//! client or its redirect URI cannot be trusted.

use super::{error_page, see_other};
use crate::authorize_request::{self, Refusal, ShownError};
use crate::flow_error::{FlowError, error_redirect};
use crate::pages::{Lang, Words};
use crate::secrets;
use crate::server::AuthorizationServer;
use crate::session::Flow;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

pub(crate) async fn authorize(request: HttpRequest, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(request.query_string().as_bytes()).into_owned().collect();
    let lang = Lang::from_param(pairs.iter().find(|(name, _)| name == "ui_locales").map(|(_, value)| value.as_str()));
    let directory = server.directory().await;
    let checked = match authorize_request::check(&pairs, &directory, server.config.development) {
        Ok(checked) => checked,
        Err(Refusal::Shown(error)) => {
            tracing::info!(reason = %error, "authorization request refused");
            let texts = lang.texts();
            let message = match error {
                ShownError::RedirectUri(_) => texts.error_redirect_uri,
                _ => texts.error_unknown_client,
            };
            return error_page(StatusCode::BAD_REQUEST, lang, message);
        }
        Err(Refusal::Redirected { redirect_uri, error, state }) => {
            tracing::info!(error = error.description(), "authorization request refused, redirected");
            return see_other(&error_redirect(&redirect_uri, error, state.as_deref())).finish();
        }
    };
    let back = |error: FlowError| match url::Url::parse(&checked.redirect_uri) {
        Ok(uri) => see_other(&error_redirect(&uri, error, Some(&checked.state))).finish(),
        Err(_) => error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_redirect_uri),
    };
    match server.store.provider(&checked.provider).await {
        Ok(Some(provider)) if checked.data_services.iter().all(|id| provider.offers(id)) => {}
        Ok(_) => {
            tracing::info!(client = %checked.client_id, "authorization request for a scope no provider here offers");
            return back(FlowError::ScopeNotOffered);
        }
        Err(error) => {
            tracing::error!(error = %error, "provider lookup failed");
            return back(FlowError::LoginUnavailable);
        }
    }
    // Named only now that it is known: the scope names a provider and data services it offers
    // (query values that are not are never logged), and the ids are UUIDs.
    tracing::info!(
        client = %checked.client_id,
        scope = %checked.scope(),
        medmij_request_id = checked.request_id.as_deref().unwrap_or(""),
        correlation_id = checked.correlation_id.as_deref().unwrap_or(""),
        "authorization request"
    );
    let csrf = match secrets::new_secret() {
        Ok(csrf) => csrf,
        Err(_) => return back(FlowError::LoginUnavailable),
    };
    let flow = Flow { request: checked.clone(), csrf, lang, login: None, person: None };
    match server.start_session(&flow).await {
        Ok(cookie) => see_other("/oauth/start").cookie(cookie).finish(),
        Err(error) => {
            tracing::error!(error = %error, "session could not be started");
            back(FlowError::LoginUnavailable)
        }
    }
}
