//! Browser sessions: a random id in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` over https);
//! the store keeps the id's hash and the session's data. Two kinds: the flow of a PGO's request
//! (`authorize`) and a person managing their consents (`manage`). Neither ever holds a BSN.

use crate::authorize_request::AuthorizeRequest;
use crate::login::PendingLogin;
use crate::pages::Lang;
use crate::secrets::{self, RandomError};
use crate::server::{AuthorizationServer, now_millis};
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A PGO's request in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Flow {
    pub(crate) request: AuthorizeRequest,
    pub(crate) csrf: String,
    pub(crate) lang: Lang,
    pub(crate) login: Option<PendingLogin>,
    pub(crate) person: Option<Person>,
}

/// The person, once logged in: keys only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Person {
    /// The person's key at the provider of the request.
    pub(crate) person_key: String,
    /// The person's pseudonym.
    pub(crate) pseudonym: String,
    /// Whether the provider holds a record of the person.
    pub(crate) has_record: bool,
}

/// A person managing their consents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Manage {
    pub(crate) csrf: String,
    pub(crate) lang: Lang,
    pub(crate) login: Option<PendingLogin>,
    /// Set once logged in.
    pub(crate) pseudonym: Option<String>,
}

/// A kind of session.
pub(crate) trait SessionKind: Serialize + DeserializeOwned {
    /// The cookie's name.
    const COOKIE: &'static str;
    /// The kind as stored.
    const KIND: &'static str;
}

impl SessionKind for Flow {
    const COOKIE: &'static str = "pgx-authorize";
    const KIND: &'static str = "authorize";
}

impl SessionKind for Manage {
    const COOKIE: &'static str = "pgx-consents";
    const KIND: &'static str = "manage";
}

/// A session could not be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    /// No cookie, or no live session for it.
    #[error("no session")]
    Missing,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// No randomness.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Stored data that does not read back (should not happen).
    #[error("session data: {0}")]
    Data(#[from] serde_json::Error),
}

/// A loaded session: its id's hash (to save or end it) and its data.
pub(crate) struct Loaded<T> {
    pub(crate) id_hash: String,
    pub(crate) data: T,
}

impl AuthorizationServer {
    /// Starts a session holding `data`; returns the cookie to set.
    pub(crate) async fn start_session<T: SessionKind>(&self, data: &T) -> Result<Cookie<'static>, SessionError> {
        let id = secrets::new_secret()?;
        let expires_at = now_millis() + i64::try_from(self.config.session_lifetime_seconds).unwrap_or(900) * 1000;
        self.store
            .grants()
            .create_session(&secrets::stored_hash(&id), T::KIND, &serde_json::to_string(data)?, expires_at)
            .await?;
        Ok(self.cookie(T::COOKIE, id, false))
    }

    /// The live session of kind `T` of `request`.
    pub(crate) async fn session<T: SessionKind>(&self, request: &HttpRequest) -> Result<Loaded<T>, SessionError> {
        let id = request.cookie(T::COOKIE).ok_or(SessionError::Missing)?;
        let id_hash = secrets::stored_hash(id.value());
        let data = self.store.grants().session(&id_hash, T::KIND, now_millis()).await?.ok_or(SessionError::Missing)?;
        Ok(Loaded { id_hash, data: serde_json::from_str(&data)? })
    }

    /// Saves a changed session.
    pub(crate) async fn save_session<T: SessionKind>(&self, session: &Loaded<T>) -> Result<(), SessionError> {
        self.store.grants().update_session(&session.id_hash, &serde_json::to_string(&session.data)?).await?;
        Ok(())
    }

    /// Ends a session; says whether it was still there (a form sent twice acts once).
    pub(crate) async fn end_session<T: SessionKind>(&self, session: &Loaded<T>) -> Result<bool, SessionError> {
        Ok(self.store.grants().delete_session(&session.id_hash).await?)
    }

    /// The cookie that removes the session cookie of kind `T`.
    pub(crate) fn removal<T: SessionKind>(&self) -> Cookie<'static> {
        self.cookie(T::COOKIE, String::new(), true)
    }

    fn cookie(&self, name: &'static str, value: String, remove: bool) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, value)
            .path("/oauth")
            .http_only(true)
            // Lax: the cookie comes along when the OpenID Provider sends the person back (a
            // top-level GET), never with a cross-site POST.
            .same_site(SameSite::Lax)
            .secure(self.https())
            .finish();
        if remove {
            cookie.set_max_age(CookieDuration::ZERO);
        }
        cookie
    }
}

/// Whether the CSRF token of a form equals the session's, and the request did not come from
/// another origin (browsers send `Origin` with every POST).
pub(crate) fn form_is_genuine(request: &HttpRequest, public_url: &str, expected: &str, sent: Option<&str>) -> bool {
    let same_origin = match request.headers().get(actix_web::http::header::ORIGIN) {
        None => true,
        Some(origin) => origin.to_str().is_ok_and(|origin| origin == origin_of(public_url)),
    };
    same_origin && sent.is_some_and(|sent| secrets::equal(sent, expected))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => parsed.origin().ascii_serialization(),
        Err(_) => url.to_owned(),
    }
}
