//! The grants and sessions area of the store, one handle over two complete backends: consents
//! (each one the family of the refresh tokens it gave out), one-time authorization codes,
//! rotating refresh tokens and the authorization server's browser sessions.
//!
//! Codes and refresh tokens are stored only as hashes (the caller hashes them), so a copy of the
//! database gives nobody a usable token. Redeeming a code and rotating a refresh token are single
//! conditional updates, so two concurrent uses of one secret cannot both succeed.
//!
//! Each backend does all of it its own way, on purpose: SQLite on rusqlite alone (`sqlite.rs`:
//! one write connection, short IMMEDIATE transactions, reads on the store's read connections),
//! PostgreSQL in single statements (`postgres.rs`: data-modifying CTEs, one round trip each).
//! [`Grants`] is an enum of the two rather than a trait object: the set of backends is closed,
//! the calls stay plain `async fn`s without boxed futures, and a method one backend lacks does
//! not compile.

mod model;
mod postgres;
mod sqlite;
mod statements;

pub use model::{CodeExchange, CodeRedemption, Consent, NewCode, NewConsent, RedeemedCode, RevokedWhy, Rotation};
pub(crate) use postgres::PostgresGrants;
pub(crate) use sqlite::SqliteGrants;

use crate::StoreError;
use std::sync::Arc;

/// The grants and sessions of one database (cheap to clone: every clone shares its connections).
#[derive(Debug, Clone)]
pub struct Grants(On);

/// Which backend holds them.
#[derive(Debug, Clone)]
enum On {
    Sqlite(Arc<SqliteGrants>),
    Postgres(PostgresGrants),
}

impl Grants {
    pub(crate) fn on_sqlite(sqlite: SqliteGrants) -> Grants {
        Grants(On::Sqlite(Arc::new(sqlite)))
    }

    pub(crate) fn on_postgres(postgres: PostgresGrants) -> Grants {
        Grants(On::Postgres(postgres))
    }

    /// Stores a consent and its authorization code, together; gives the consent's id. A person
    /// holds one consent per PGO and provider: when the PGO asks again while one is active, that
    /// one is renewed (the data services asked for added, its lapse moved on, its handle and
    /// refresh tokens kept) rather than a second one made.
    pub async fn grant_consent(&self, consent: &NewConsent, code: &NewCode, now: i64) -> Result<i64, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.grant_consent(consent, code, now).await,
            On::Postgres(postgres) => postgres.grant_consent(consent, code, now).await,
        }
    }

    /// Spends the authorization code with hash `code_hash`. A code works once: a second
    /// presentation revokes the consent it gave.
    pub async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.redeem_code(code_hash, now).await,
            On::Postgres(postgres) => postgres.redeem_code(code_hash, now).await,
        }
    }

    /// Spends the code of `exchange` as [`Grants::redeem_code`] does and, in the same statement or
    /// transaction, stores its refresh token when [`CodeExchange::holds_for`] the code: the
    /// token endpoint's success costs one round trip.
    pub async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.exchange_code(exchange).await,
            On::Postgres(postgres) => postgres.exchange_code(exchange).await,
        }
    }

    /// Stores the first refresh token of a consent (after its code was redeemed).
    pub async fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.add_refresh_token(consent_id, token_hash, now, expires_at).await,
            On::Postgres(postgres) => postgres.add_refresh_token(consent_id, token_hash, now, expires_at).await,
        }
    }

    /// Spends the refresh token `old_hash` and stores `new_hash` in its place, valid until
    /// `expires_at`; the consent's lapse moves to the same time. Presenting a spent token revokes
    /// its whole family.
    pub async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.rotate_refresh_token(old_hash, new_hash, now, expires_at).await,
            On::Postgres(postgres) => postgres.rotate_refresh_token(old_hash, new_hash, now, expires_at).await,
        }
    }

    /// The consent with `id`.
    pub async fn consent(&self, id: i64) -> Result<Option<Consent>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.consent(id).await,
            On::Postgres(postgres) => postgres.consent(id).await,
        }
    }

    /// The consents a person holds out at `now`: given, redeemed (a refresh token exists), not
    /// revoked and not lapsed; newest first.
    pub async fn active_consents(&self, pseudonym: &str, now: i64) -> Result<Vec<Consent>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.active_consents(pseudonym, now).await,
            On::Postgres(postgres) => postgres.active_consents(pseudonym, now).await,
        }
    }

    /// Revokes consent `id` if it is the person's with `pseudonym`; gives its handle when it was
    /// revoked now (`None`: not theirs, or revoked before).
    pub async fn revoke_consent_of(&self, id: i64, pseudonym: &str, now: i64) -> Result<Option<String>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.revoke_consent_of(id, pseudonym, now).await,
            On::Postgres(postgres) => postgres.revoke_consent_of(id, pseudonym, now).await,
        }
    }

    /// The consent refresh token `token_hash` belongs to, spent or not, whatever its state (for
    /// a PGO's revocation, RFC 7009).
    pub async fn consent_of_refresh_token(&self, token_hash: &str) -> Result<Option<Consent>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.consent_of_refresh_token(token_hash).await,
            On::Postgres(postgres) => postgres.consent_of_refresh_token(token_hash).await,
        }
    }

    /// Revokes consent `id` for reason `why`; says whether it was revoked now (false: revoked
    /// before, or no such consent).
    pub async fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.revoke_consent(id, why, now).await,
            On::Postgres(postgres) => postgres.revoke_consent(id, why, now).await,
        }
    }

    /// The handles of the consents revoked at `since` or later, with when (by the revoking
    /// instance's clock): how every instance learns of the others' revocations.
    pub async fn consents_revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.consents_revoked_since(since).await,
            On::Postgres(postgres) => postgres.consents_revoked_since(since).await,
        }
    }

    /// The consent whose handle is `handle`.
    pub async fn consent_by_handle(&self, handle: &str) -> Result<Option<Consent>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.consent_by_handle(handle).await,
            On::Postgres(postgres) => postgres.consent_by_handle(handle).await,
        }
    }

    /// Stores a new browser session: the browser holds only a random id, the store its hash and
    /// the session's data (JSON, never a BSN) until `expires_at`.
    pub async fn create_session(
        &self,
        id_hash: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.create_session(id_hash, kind, data, expires_at).await,
            On::Postgres(postgres) => postgres.create_session(id_hash, kind, data, expires_at).await,
        }
    }

    /// The data of the live session `id_hash` of `kind`.
    pub async fn session(&self, id_hash: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.session(id_hash, kind, now).await,
            On::Postgres(postgres) => postgres.session(id_hash, kind, now).await,
        }
    }

    /// Replaces the data of session `id_hash`.
    pub async fn update_session(&self, id_hash: &str, data: &str) -> Result<(), StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.update_session(id_hash, data).await,
            On::Postgres(postgres) => postgres.update_session(id_hash, data).await,
        }
    }

    /// Ends session `id_hash`; says whether it existed (so that a form posted twice acts once).
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.delete_session(id_hash).await,
            On::Postgres(postgres) => postgres.delete_session(id_hash).await,
        }
    }

    /// Removes sessions that expired before `now` and refresh tokens past their time; returns how
    /// many rows went.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        match &self.0 {
            On::Sqlite(sqlite) => sqlite.purge_expired(now).await,
            On::Postgres(postgres) => postgres.purge_expired(now).await,
        }
    }
}
