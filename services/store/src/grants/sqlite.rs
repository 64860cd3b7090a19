//! The grants on SQLite, on rusqlite alone: writes (a consent with its code, spending a code,
//! storing and rotating refresh tokens, revocations, sessions) run synchronously on the calling
//! thread on the store's one write connection, one transaction at a time (`SqliteDb::write`);
//! reads go to the store's read-only connections (`db/reader.rs`). Rows are mapped here, once.
//!
//! The statements number their parameters `$1`, `$2` and are bound by those names: SQLite numbers
//! parameters in order of appearance, so `$2` before `$1` would swap them if bound by position.
//!
//! Why one write connection: through sqlx's pool, concurrent token requests each took a
//! connection and collided on SQLite's single write lock; the loser's busy handler sleeps whole
//! milliseconds (1, 2, 5, 10 ...), and every statement also went to a connection's thread and
//! back. The token endpoint stalled at some 1,400 rotations a second with the processor mostly
//! idle (docs/benchmarks/tokens.md). Queued on a mutex instead, a rotation holds the write
//! lock for a fraction of a millisecond. The resource writes queue on the same connection.

use super::model::{CodeExchange, CodeRedemption, Consent, NewCode, NewConsent, RedeemedCode, RevokedWhy, Rotation};
use super::statements::*;
use crate::StoreError;
use crate::db::SqliteDb;
use crate::providers::ProviderId;
use rusqlite::{Connection, OptionalExtension, named_params};
use std::sync::Arc;

/// The grants of one SQLite database: its write connection and read connections (`db/`), shared
/// with the rest of the store.
#[derive(Debug)]
pub(crate) struct SqliteGrants {
    db: Arc<SqliteDb>,
}

impl SqliteGrants {
    pub(crate) fn new(db: Arc<SqliteDb>) -> SqliteGrants {
        SqliteGrants { db }
    }

    /// As `Grants::grant_consent`.
    pub(crate) async fn grant_consent(
        &self,
        consent: &NewConsent,
        code: &NewCode,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.db
            .write(|transaction| {
                let held: Option<(i64, String, i64)> = if consent.sharing {
                    None
                } else {
                    transaction
                        .prepare_cached(ACTIVE_CONSENT_FOR)?
                        .query_row(
                            named_params! {
                                "$1": consent.pseudonym, "$2": consent.client_id, "$3": consent.provider.0, "$4": now
                            },
                            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                        )
                        .optional()?
                };
                let id: i64 = match held {
                    Some((id, scope, expires_at)) => {
                        transaction.prepare_cached(RENEW_CONSENT)?.execute(named_params! {
                            "$1": id, "$2": renewed_scope(&scope, &consent.scope), "$3": now,
                            "$4": expires_at.max(consent.expires_at)
                        })?;
                        id
                    }
                    None => transaction.prepare_cached(INSERT_CONSENT)?.query_row(
                        named_params! {
                            "$1": consent.provider.0, "$2": consent.client_id, "$3": consent.person_key,
                            "$4": consent.pseudonym, "$5": consent.scope, "$6": now, "$7": consent.expires_at,
                            "$8": new_handle(), "$9": i64::from(consent.sharing)
                        },
                        |row| row.get(0),
                    )?,
                };
                transaction.prepare_cached(INSERT_CODE)?.execute(named_params! {
                    "$1": code.code_hash, "$2": id, "$3": consent.client_id, "$4": code.redirect_uri,
                    "$5": code.code_challenge, "$6": code.expires_at
                })?;
                Ok(id)
            })
            .await
    }

    /// As `Grants::revoke_consent`.
    pub(crate) async fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        self.db
            .write(|transaction| {
                let done = transaction
                    .prepare_cached(REVOKE_CONSENT)?
                    .execute(named_params! { "$1": id, "$2": now, "$3": why.as_str() })?;
                Ok(done > 0)
            })
            .await
    }

    /// As `Grants::redeem_code`.
    pub(crate) async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        self.db.write(|transaction| redeem(transaction, code_hash, now)).await
    }

    /// As `Grants::exchange_code`.
    pub(crate) async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        self.db
            .write(|transaction| {
                let mut redemption = redeem(transaction, exchange.code_hash, exchange.now)?;
                if let CodeRedemption::Redeemed(code) = &mut redemption
                    && exchange.holds_for(code)
                {
                    insert_refresh_token(
                        transaction,
                        exchange.refresh_hash,
                        code.consent.id,
                        exchange.now,
                        exchange.refresh_expires_at,
                    )?;
                    code.refresh_token_stored = true;
                }
                Ok(redemption)
            })
            .await
    }

    /// As `Grants::add_refresh_token`.
    pub(crate) async fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db.write(|transaction| insert_refresh_token(transaction, token_hash, consent_id, now, expires_at)).await
    }

    /// As `Grants::rotate_refresh_token`.
    pub(crate) async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        self.db
            .write(|transaction| {
                let spent: Option<i64> = transaction
                    .prepare_cached(SPEND_REFRESH_TOKEN)?
                    .query_row(named_params! { "$1": old_hash, "$2": now }, |row| row.get(0))
                    .optional()?;
                let Some(consent_id) = spent else {
                    let known: Option<(i64, Option<i64>, Option<String>)> = transaction
                        .prepare_cached(REFRESH_TOKEN_STATE)?
                        .query_row(named_params! { "$1": old_hash }, |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                        .optional()?;
                    return match known {
                        None => Ok(Rotation::Unknown),
                        Some((consent_id, Some(_), handle)) => {
                            revoke(transaction, consent_id, RevokedWhy::RefreshTokenReuse, now)?;
                            Ok(Rotation::Reused { consent: handle.unwrap_or_default() })
                        }
                        Some((_, None, _)) => Ok(Rotation::Inactive),
                    };
                };
                insert_refresh_token(transaction, new_hash, consent_id, now, expires_at)?;
                transaction
                    .prepare_cached(TOUCH_CONSENT)?
                    .execute(named_params! { "$1": consent_id, "$2": now, "$3": expires_at })?;
                Ok(Rotation::Rotated(Box::new(consent(transaction, consent_id)?)))
            })
            .await
    }

    /// As `Grants::revoke_consent_of`.
    pub(crate) async fn revoke_consent_of(
        &self,
        id: i64,
        pseudonym: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        self.db
            .write(|transaction| {
                let handle: Option<Option<String>> = transaction
                    .prepare_cached(REVOKE_CONSENT_OF)?
                    .query_row(
                        named_params! { "$1": id, "$2": pseudonym, "$3": now, "$4": RevokedWhy::Person.as_str() },
                        |row| row.get(0),
                    )
                    .optional()?;
                Ok(handle.map(Option::unwrap_or_default))
            })
            .await
    }

    /// As `Grants::consent`.
    pub(crate) async fn consent(&self, id: i64) -> Result<Option<Consent>, StoreError> {
        self.db.reader.with(|connection| consent(connection, id).optional())
    }

    /// As `Grants::active_consents`.
    pub(crate) async fn active_consents(&self, pseudonym: &str, now: i64) -> Result<Vec<Consent>, StoreError> {
        self.db.reader.with(|connection| {
            connection
                .prepare_cached(&active_consents())?
                .query_map(named_params! { "$1": pseudonym, "$2": now }, consent_from_row)?
                .collect()
        })
    }

    /// As `Grants::consent_of_refresh_token`.
    pub(crate) async fn consent_of_refresh_token(&self, token_hash: &str) -> Result<Option<Consent>, StoreError> {
        self.db.reader.with(|connection| {
            let known: Option<i64> = connection
                .prepare_cached(REFRESH_TOKEN_STATE)?
                .query_row(named_params! { "$1": token_hash }, |row| row.get(0))
                .optional()?;
            known.map(|id| consent(connection, id)).transpose()
        })
    }

    /// As `Grants::consents_revoked_since`.
    pub(crate) async fn consents_revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        self.db.reader.with(|connection| {
            connection
                .prepare_cached(REVOKED_SINCE)?
                .query_map(named_params! { "$1": since }, |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
    }

    /// As `Grants::consent_by_handle`.
    pub(crate) async fn consent_by_handle(&self, handle: &str) -> Result<Option<Consent>, StoreError> {
        self.db.reader.with(|connection| {
            connection
                .prepare_cached(&consent_by_handle())?
                .query_row(named_params! { "$1": handle }, consent_from_row)
                .optional()
        })
    }

    /// As `Grants::create_session`.
    pub(crate) async fn create_session(
        &self,
        id_hash: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.db
            .write(|transaction| {
                transaction
                    .prepare_cached(INSERT_SESSION)?
                    .execute(named_params! { "$1": id_hash, "$2": kind, "$3": data, "$4": expires_at })?;
                Ok(())
            })
            .await
    }

    /// As `Grants::session`.
    pub(crate) async fn session(&self, id_hash: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        self.db.reader.with(|connection| {
            connection
                .prepare_cached(SESSION_DATA)?
                .query_row(named_params! { "$1": id_hash, "$2": kind, "$3": now }, |row| row.get(0))
                .optional()
        })
    }

    /// As `Grants::update_session`.
    pub(crate) async fn update_session(&self, id_hash: &str, data: &str) -> Result<(), StoreError> {
        self.db
            .write(|transaction| {
                transaction.prepare_cached(UPDATE_SESSION)?.execute(named_params! { "$1": id_hash, "$2": data })?;
                Ok(())
            })
            .await
    }

    /// As `Grants::delete_session`.
    pub(crate) async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        self.db
            .write(|transaction| {
                Ok(transaction.prepare_cached(DELETE_SESSION)?.execute(named_params! { "$1": id_hash })? > 0)
            })
            .await
    }

    /// As `Grants::purge_expired`.
    pub(crate) async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        self.db
            .write(|transaction| {
                let mut removed = 0;
                for sql in PURGE_EXPIRED {
                    removed += transaction.prepare_cached(sql)?.execute(named_params! { "$1": now })? as u64;
                }
                Ok(removed)
            })
            .await
    }
}

/// Spends the code with hash `code_hash`; a replay revokes its consent.
fn redeem(transaction: &rusqlite::Transaction<'_>, code_hash: &str, now: i64) -> rusqlite::Result<CodeRedemption> {
    let spent = transaction
        .prepare_cached(SPEND_CODE)?
        .query_row(named_params! { "$1": code_hash, "$2": now }, |row| {
            Ok((row.get::<_, i64>(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
        })
        .optional()?;
    let Some((consent_id, client_id, redirect_uri, code_challenge, expires_at)) = spent else {
        let known: Option<(i64, Option<String>)> = transaction
            .prepare_cached(CONSENT_OF_CODE)?
            .query_row(named_params! { "$1": code_hash }, |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        return match known {
            Some((consent_id, handle)) => {
                revoke(transaction, consent_id, RevokedWhy::CodeReplay, now)?;
                Ok(CodeRedemption::Replayed { consent: handle.unwrap_or_default() })
            }
            None => Ok(CodeRedemption::Unknown),
        };
    };
    let consent = consent(transaction, consent_id)?;
    Ok(CodeRedemption::Redeemed(Box::new(RedeemedCode {
        consent,
        client_id,
        redirect_uri,
        code_challenge,
        expires_at,
        refresh_token_stored: false,
    })))
}

fn insert_refresh_token(
    transaction: &rusqlite::Transaction<'_>,
    token_hash: &str,
    consent_id: i64,
    now: i64,
    expires_at: i64,
) -> rusqlite::Result<()> {
    transaction
        .prepare_cached(INSERT_REFRESH_TOKEN)?
        .execute(named_params! { "$1": token_hash, "$2": consent_id, "$3": now, "$4": expires_at })?;
    Ok(())
}

fn revoke(transaction: &rusqlite::Transaction<'_>, id: i64, why: RevokedWhy, now: i64) -> rusqlite::Result<()> {
    tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
    transaction.prepare_cached(REVOKE_CONSENT)?.execute(named_params! { "$1": id, "$2": now, "$3": why.as_str() })?;
    Ok(())
}

fn consent(connection: &Connection, id: i64) -> rusqlite::Result<Consent> {
    connection.prepare_cached(&consent_by_id())?.query_row(named_params! { "$1": id }, consent_from_row)
}

/// A consent from a row of [`CONSENT_COLUMNS`]: the one place SQLite's consent rows are mapped.
fn consent_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Consent> {
    Ok(Consent {
        id: row.get("id")?,
        provider: ProviderId(row.get("provider_id")?),
        provider_name: row.get("provider_name")?,
        provider_display_name: row.get("provider_display_name")?,
        client_id: row.get("client_id")?,
        person_key: row.get("person_key")?,
        pseudonym: row.get("pseudonym")?,
        scope: row.get("scope")?,
        granted_at: row.get("granted_at")?,
        last_used_at: row.get("last_used_at")?,
        expires_at: row.get("expires_at")?,
        revoked_at: row.get("revoked_at")?,
        // Consents granted before handles existed got one when the column was added.
        handle: row.get::<_, Option<String>>("handle")?.unwrap_or_default(),
    })
}
