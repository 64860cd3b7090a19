//! The person's consent management (`/oauth/consents`): log in with the same OpenID Provider, see
//! which PGOs hold an ongoing consent at which provider, revoke one. Revoking ends the consent's
//! refresh tokens at once (the store refuses to rotate them); access tokens already issued end
//! within their 15 minutes.

use super::{MANAGE_CALLBACK_PATH, error_page, see_other};
use crate::pages::{self, Lang, MANAGE_PATH, ManagedConsent, Retrieval};

/// How many of the person's latest retrievals the page lists.
const RETRIEVALS_SHOWN: i64 = 200;
use crate::secrets;
use crate::server::{AuthorizationServer, now_millis};
use crate::session::{Loaded, Manage, SessionError, form_is_genuine};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::collections::HashMap;

type Query = web::Query<HashMap<String, String>>;
type Form = web::Form<HashMap<String, String>>;

async fn session(server: &AuthorizationServer, request: &HttpRequest) -> Option<Loaded<Manage>> {
    match server.session::<Manage>(request).await {
        Ok(session) => Some(session),
        Err(SessionError::Missing) => None,
        Err(error) => {
            tracing::error!(error = %error, "session could not be read");
            None
        }
    }
}

fn unavailable(lang: Lang) -> HttpResponse {
    error_page(StatusCode::SERVICE_UNAVAILABLE, lang, lang.texts().error_unavailable)
}

/// `GET /oauth/consents`: the list, or the login page.
pub(crate) async fn overview(
    request: HttpRequest,
    query: Query,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let asked = query.get("lang").map(|lang| Lang::from_param(Some(lang)));
    let Some(mut session) = session(&server, &request).await else {
        return pages::html_response(StatusCode::OK, pages::manage_login_page(asked.unwrap_or_default()));
    };
    if let Some(lang) = asked {
        session.data.lang = lang;
        let _ = server.save_session(&session).await;
    }
    let lang = session.data.lang;
    let Some(pseudonym) = &session.data.pseudonym else {
        return pages::html_response(StatusCode::OK, pages::manage_login_page(lang));
    };
    let consents = match server.store.active_consents(pseudonym, now_millis()).await {
        Ok(consents) => consents,
        Err(error) => {
            tracing::error!(error = %error, "consents could not be read");
            return unavailable(lang);
        }
    };
    let directory = server.directory().await;
    let listed: Vec<ManagedConsent> = consents
        .iter()
        .map(|consent| {
            let services = consent
                .scope
                .split(' ')
                .filter_map(|item| item.split_once('~'))
                .map(|(_, id)| server.service_name(&directory, id))
                .collect();
            ManagedConsent {
                id: consent.id,
                organisation: directory
                    .client(&consent.client_id)
                    .map(|client| client.organisation.clone())
                    .unwrap_or_else(|| consent.client_id.clone()),
                client_id: consent.client_id.clone(),
                provider: consent.provider_display_name.clone(),
                services,
                since: server.date(consent.granted_at),
                until: server.date(consent.expires_at),
            }
        })
        .collect();
    let retrievals = match server.retrievals(pseudonym, &directory).await {
        Ok(retrievals) => retrievals,
        Err(error) => {
            tracing::error!(error = %error, "the access log could not be read");
            return unavailable(lang);
        }
    };
    let revoked = query.get("revoked").is_some();
    pages::html_response(StatusCode::OK, pages::manage_page(lang, &listed, &retrievals, &session.data.csrf, revoked))
}

/// `POST /oauth/consents/login`: off to the OpenID Provider.
pub(crate) async fn login(form: Form, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let lang = Lang::from_param(form.get("lang").map(String::as_str));
    let callback = format!("{}{MANAGE_CALLBACK_PATH}", server.config.public_url);
    let (url, pending) = match server.begin_login(&callback, server.config.default_loa).await {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(error = %error, "login could not start");
            server.forget_login().await;
            return unavailable(lang);
        }
    };
    let Ok(csrf) = secrets::new_secret() else { return unavailable(lang) };
    let manage = Manage { csrf, lang, login: Some(pending), pseudonym: None };
    match server.start_session(&manage).await {
        Ok(cookie) => see_other(&url).cookie(cookie).finish(),
        Err(error) => {
            tracing::error!(error = %error, "session could not be started");
            unavailable(lang)
        }
    }
}

/// `GET /oauth/consents/callback`: back from the OpenID Provider.
pub(crate) async fn callback(
    request: HttpRequest,
    query: Query,
    server: web::Data<AuthorizationServer>,
) -> HttpResponse {
    let Some(mut session) = session(&server, &request).await else {
        return error_page(StatusCode::BAD_REQUEST, Lang::Nl, Lang::Nl.texts().error_session);
    };
    let lang = session.data.lang;
    let Some(pending) = session.data.login.take() else {
        return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_session);
    };
    if !query.get("state").is_some_and(|state| secrets::equal(state, &pending.state)) {
        return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_session);
    }
    let Some(code) = query.get("code") else {
        // Cancelled or failed at the provider: back to the start.
        let _ = server.end_session(&session).await;
        return see_other(MANAGE_PATH).cookie(server.removal::<Manage>()).finish();
    };
    let logged_in = match server.finish_login(&pending, code).await {
        Ok(logged_in) => logged_in,
        Err(error) => {
            tracing::warn!(error = %error, "login refused");
            server.forget_login().await;
            let _ = server.end_session(&session).await;
            return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_login);
        }
    };
    if logged_in.loa.is_none_or(|loa| loa < server.config.default_loa) {
        let _ = server.end_session(&session).await;
        return error_page(StatusCode::FORBIDDEN, lang, lang.texts().error_login);
    }
    session.data.pseudonym = Some(server.secret.pseudonym(logged_in.bsn.expose()));
    drop(logged_in);
    if let Err(error) = server.save_session(&session).await {
        tracing::error!(error = %error, "session could not be saved");
        return unavailable(lang);
    }
    see_other(MANAGE_PATH).finish()
}

/// `POST /oauth/consents/revoke`: revokes one of the person's consents.
pub(crate) async fn revoke(request: HttpRequest, form: Form, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let Some(session) = session(&server, &request).await else {
        return error_page(StatusCode::BAD_REQUEST, Lang::Nl, Lang::Nl.texts().error_session);
    };
    let lang = session.data.lang;
    let genuine =
        form_is_genuine(&request, &server.config.public_url, &session.data.csrf, form.get("csrf").map(String::as_str));
    let (Some(pseudonym), true) = (&session.data.pseudonym, genuine) else {
        return error_page(StatusCode::FORBIDDEN, lang, lang.texts().error_session);
    };
    let Some(id) = form.get("consent").and_then(|id| id.parse::<i64>().ok()) else {
        return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_session);
    };
    match server.store.revoke_consent_of(id, pseudonym, now_millis()).await {
        Ok(revoked) => {
            if let Some(handle) = &revoked {
                server.revoked(handle);
            }
            tracing::info!(consent = id, revoked = revoked.is_some(), "consent revoked by the person");
            see_other(&format!("{MANAGE_PATH}?revoked=1")).finish()
        }
        Err(error) => {
            tracing::error!(error = %error, "consent could not be revoked");
            unavailable(lang)
        }
    }
}

/// `POST /oauth/consents/logout`.
pub(crate) async fn logout(request: HttpRequest, form: Form, server: web::Data<AuthorizationServer>) -> HttpResponse {
    if let Some(session) = session(&server, &request).await {
        let genuine = form_is_genuine(
            &request,
            &server.config.public_url,
            &session.data.csrf,
            form.get("csrf").map(String::as_str),
        );
        if genuine {
            let _ = server.end_session(&session).await;
        }
    }
    see_other(MANAGE_PATH).cookie(server.removal::<Manage>()).finish()
}

impl AuthorizationServer {
    /// A moment (ms) as a date in the service's zone, for the pages.
    fn date(&self, millis_since_epoch: i64) -> String {
        self.local(millis_since_epoch, "%Y-%m-%d")
    }

    /// A moment (ms) as date and time in the service's zone.
    fn date_time(&self, millis_since_epoch: i64) -> String {
        self.local(millis_since_epoch, "%Y-%m-%d %H:%M")
    }

    fn local(&self, millis_since_epoch: i64, format: &str) -> String {
        chrono::DateTime::from_timestamp_millis(millis_since_epoch)
            .map(|moment| moment.with_timezone(&self.config.zone).format(format).to_string())
            .unwrap_or_default()
    }

    /// The PGOs' successful retrievals of the person's data (newest first), for the page.
    async fn retrievals(
        &self,
        pseudonym: &str,
        directory: &crate::Directory,
    ) -> Result<Vec<Retrieval>, store::StoreError> {
        let entries = self.store.access_log_of(pseudonym, RETRIEVALS_SHOWN).await?;
        let mut providers: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut shown = Vec::new();
        for entry in entries.into_iter().filter(|entry| entry.outcome == "success") {
            if !providers.contains_key(&entry.provider) {
                let name = self.store.provider(&entry.provider).await?.map(|provider| provider.display_name);
                providers.insert(entry.provider.clone(), name.unwrap_or_else(|| entry.provider.clone()));
            }
            let client_id = entry.client_id.unwrap_or_default();
            let mut types: Vec<&str> = entry.returned.iter().filter_map(|item| item.split('/').next()).collect();
            types.sort_unstable();
            types.dedup();
            shown.push(Retrieval {
                when: self.date_time(entry.at),
                organisation: directory
                    .client(&client_id)
                    .map(|client| client.organisation.clone())
                    .unwrap_or(client_id.clone()),
                client_id,
                provider: providers.get(&entry.provider).cloned().unwrap_or_default(),
                service: self.service_name(directory, &entry.data_service),
                resources: entry.returned.len(),
                types: types.join(", "),
            });
        }
        Ok(shown)
    }
}
