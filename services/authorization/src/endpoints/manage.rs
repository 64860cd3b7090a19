//! The person's consent management (`/oauth/consents`): log in with the same OpenID Provider, see
//! which PGOs hold an ongoing consent at which provider, revoke one. Revoking ends the consent's
//! refresh tokens at once (the store refuses to rotate them); access tokens already issued end
//! within their 15 minutes.

use super::{MANAGE_CALLBACK_PATH, error_page, see_other};
use crate::login::LoginPageHints;
use crate::pages::{self, Collection, Lang, MANAGE_PATH, ManagedConsent, Words};

/// How many of the person's latest requests (lines of the access log) the page reads, and how
/// many collections it lists of them.
const REQUESTS_READ: i64 = 2_000;
const COLLECTIONS_SHOWN: usize = 50;
/// Requests of one PGO for one data service at one provider this close together are one
/// collection: a PGO fetches a data service in a burst of a few seconds.
const COLLECTION_GAP_MS: i64 = 5 * 60 * 1000;
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
    let consents = match server.store.grants().active_consents(pseudonym, now_millis()).await {
        Ok(consents) => consents,
        Err(error) => {
            tracing::error!(error = %error, "consents could not be read");
            return unavailable(lang);
        }
    };
    let directory = server.directory().await;
    let listed = server.consents_listed(&consents, &directory, lang);
    let collections = match server.collections(pseudonym, &directory, lang).await {
        Ok(collections) => collections,
        Err(error) => {
            tracing::error!(error = %error, "the access log could not be read");
            return unavailable(lang);
        }
    };
    let revoked = query.get("revoked").is_some();
    pages::html_response(StatusCode::OK, pages::manage_page(lang, &listed, &collections, &session.data.csrf, revoked))
}

/// `POST /oauth/consents/login`: off to the OpenID Provider.
pub(crate) async fn login(form: Form, server: web::Data<AuthorizationServer>) -> HttpResponse {
    let lang = Lang::from_param(form.get("lang").map(String::as_str));
    let callback = format!("{}{MANAGE_CALLBACK_PATH}", server.config.public_url);
    // No provider: the person logs in for the service itself, in the page's language.
    let hints = LoginPageHints { ui_locale: lang.tag(), on_behalf_of: None };
    let (url, pending) = match server.begin_login(&callback, server.config.default_loa, &hints).await {
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
    // One line of the page may stand for several consents (of one app at one provider).
    let ids: Option<Vec<i64>> = form
        .get("consents")
        .map(|ids| ids.split(',').map(|id| id.trim().parse::<i64>().ok()).collect::<Option<Vec<i64>>>())
        .unwrap_or_default()
        .filter(|ids| !ids.is_empty() && ids.len() <= MAX_IDS_PER_LINE);
    let Some(ids) = ids else {
        return error_page(StatusCode::BAD_REQUEST, lang, lang.texts().error_session);
    };
    for id in ids {
        match server.store.grants().revoke_consent_of(id, pseudonym, now_millis()).await {
            Ok(revoked) => {
                if let Some(handle) = &revoked {
                    server.revoked(handle);
                }
                tracing::info!(consent = id, revoked = revoked.is_some(), "consent revoked by the person");
            }
            Err(error) => {
                tracing::error!(error = %error, "consent could not be revoked");
                return unavailable(lang);
            }
        }
    }
    see_other(&format!("{MANAGE_PATH}?revoked=1")).finish()
}

/// More consents than one line of the page can stand for: a forged form.
const MAX_IDS_PER_LINE: usize = 100;

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
    /// A moment (ms) in the service's zone.
    fn local(&self, millis_since_epoch: i64) -> Option<chrono::NaiveDateTime> {
        chrono::DateTime::from_timestamp_millis(millis_since_epoch)
            .map(|moment| moment.with_timezone(&self.config.zone).naive_local())
    }

    /// A moment (ms) as a date written out, for the pages.
    fn date(&self, millis_since_epoch: i64, lang: Lang) -> String {
        self.local(millis_since_epoch).map(|moment| pages::long_date(moment.date(), lang)).unwrap_or_default()
    }

    /// The person's active consents, one line per app and provider (a consent is renewed when the
    /// app asks again, but an earlier version of the service stored a new one each time).
    fn consents_listed(
        &self,
        consents: &[store::Consent],
        directory: &crate::Directory,
        lang: Lang,
    ) -> Vec<ManagedConsent> {
        let mut lines: Vec<(i64, i64, ManagedConsent)> = Vec::new();
        // A share's confirmation is not a lasting consent: it ends with its one access token, and
        // the history below says what was shared.
        let lasting = consents.iter().filter(|consent| {
            let ids: Vec<String> =
                consent.scope.split(' ').filter_map(|item| item.split_once('~')).map(|(_, id)| id.to_owned()).collect();
            !self.is_sharing(&ids)
        });
        for consent in lasting {
            let services: Vec<String> = consent
                .scope
                .split(' ')
                .filter_map(|item| item.split_once('~'))
                .map(|(_, id)| self.service_name(directory, id))
                .collect();
            let same = lines.iter_mut().find(|(_, _, line)| {
                line.client_id == consent.client_id && line.provider == consent.provider_display_name
            });
            let (since, until, line) = match same {
                Some(found) => found,
                None => {
                    let organisation = directory
                        .client(&consent.client_id)
                        .map(|client| client.organisation.clone())
                        .unwrap_or_else(|| consent.client_id.clone());
                    lines.push((
                        consent.granted_at,
                        consent.expires_at,
                        ManagedConsent {
                            ids: Vec::new(),
                            organisation,
                            client_id: consent.client_id.clone(),
                            provider: consent.provider_display_name.clone(),
                            services: Vec::new(),
                            since: String::new(),
                            until: String::new(),
                        },
                    ));
                    let last = lines.len() - 1;
                    &mut lines[last]
                }
            };
            line.ids.push(consent.id);
            for service in services {
                if !line.services.contains(&service) {
                    line.services.push(service);
                }
            }
            *since = (*since).min(consent.granted_at);
            *until = (*until).max(consent.expires_at);
        }
        lines
            .into_iter()
            .map(|(since, until, mut line)| {
                line.since = self.date(since, lang);
                line.until = self.date(until, lang);
                line
            })
            .collect()
    }

    /// The PGOs' collections of the person's data (newest first), for the page: the successful
    /// requests of one PGO for one data service at one provider, each within
    /// [`COLLECTION_GAP_MS`] of the one before, are one collection.
    async fn collections(
        &self,
        pseudonym: &str,
        directory: &crate::Directory,
        lang: Lang,
    ) -> Result<Vec<Collection>, store::StoreError> {
        let entries = self.store.usage().access_log_of(pseudonym, REQUESTS_READ).await?;
        // Oldest first within each PGO, provider and data service.
        // Collections and shares apart: a share is told as what the app sent.
        type Source = (String, String, String, bool);
        let mut by_source: std::collections::BTreeMap<Source, Vec<store::AccessEntry>> =
            std::collections::BTreeMap::new();
        for entry in entries.into_iter().rev().filter(|entry| entry.outcome == store::AccessOutcome::Success) {
            let key = (
                entry.client_id.clone().unwrap_or_default(),
                entry.provider.clone(),
                entry.data_service.clone(),
                entry.interaction.shares(),
            );
            by_source.entry(key).or_default().push(entry);
        }
        let mut providers: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        let mut found: Vec<(i64, Collection)> = Vec::new();
        for ((client_id, provider, data_service, shared), entries) in by_source {
            if !providers.contains_key(&provider) {
                let name = self.store.provider(&provider).await?.map(|found| found.display_name);
                providers.insert(provider.clone(), name.unwrap_or_else(|| provider.clone()));
            }
            let organisation = directory
                .client(&client_id)
                .map(|client| client.organisation.clone())
                .unwrap_or_else(|| client_id.clone());
            for burst in bursts(&entries) {
                let mut returned: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
                for entry in burst {
                    returned.extend(entry.returned.iter().map(String::as_str));
                }
                let mut kinds: Vec<(String, usize)> = Vec::new();
                for item in &returned {
                    let name = pages::data_name(item.split('/').next().unwrap_or_default(), lang);
                    match kinds.iter_mut().find(|(kind, _)| kind == name) {
                        Some((_, count)) => *count += 1,
                        None => kinds.push((name.to_owned(), 1)),
                    }
                }
                kinds.sort();
                let started = burst.first().map(|entry| entry.at).unwrap_or_default();
                found.push((
                    started,
                    Collection {
                        started: self
                            .local(started)
                            .map(|moment| pages::long_date_time(moment, lang))
                            .unwrap_or_default(),
                        organisation: organisation.clone(),
                        client_id: client_id.clone(),
                        provider: providers.get(&provider).cloned().unwrap_or_default(),
                        service: self.service_name(directory, &data_service),
                        items: returned.len(),
                        kinds,
                        shared,
                    },
                ));
            }
        }
        found.sort_by_key(|(started, _)| std::cmp::Reverse(*started));
        Ok(found.into_iter().take(COLLECTIONS_SHOWN).map(|(_, collection)| collection).collect())
    }
}

/// `entries` (oldest first) cut where one is more than [`COLLECTION_GAP_MS`] after the one before.
fn bursts(entries: &[store::AccessEntry]) -> impl Iterator<Item = &[store::AccessEntry]> {
    entries.chunk_by(|earlier, later| later.at - earlier.at <= COLLECTION_GAP_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: i64) -> store::AccessEntry {
        store::AccessEntry {
            at,
            client_id: Some("pgo.example.nl".into()),
            pseudonym: None,
            provider: "umcx".into(),
            data_service: "48".into(),
            interaction: store::Interaction::Search,
            resource_type: "Observation".into(),
            returned: Vec::new(),
            status: 200,
            outcome: store::AccessOutcome::Success,
            request_id: String::new(),
            correlation_id: None,
            peer: None,
        }
    }

    #[test]
    fn requests_close_together_are_one_collection() {
        let minute = 60_000;
        let entries = [entry(0), entry(2_000), entry(4 * minute), entry(30 * minute), entry(31 * minute)];
        let sizes: Vec<usize> = bursts(&entries).map(<[_]>::len).collect();
        assert_eq!(sizes, [3, 2]);
    }
}
