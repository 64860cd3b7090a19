//! The authorization server's hot writes on SQLite (a consent with its code, spending a code,
//! storing and rotating refresh tokens),
//! run synchronously on the calling thread through one rusqlite connection, one transaction at a
//! time. On PostgreSQL they go through sqlx (`authorization.rs`).
//!
//! The statements number their parameters `$1`, `$2` as everywhere in the store, and bind them
//! by those names: SQLite numbers parameters in order of appearance, so `$2` before `$1` would
//! swap them if bound by position.
//!
//! Why: through sqlx's pool, concurrent token requests each took a connection and collided on
//! SQLite's single write lock; the loser's busy handler sleeps whole milliseconds (1, 2, 5, 10 ...),
//! and every statement also went to a connection's thread and back. The token endpoint stalled at
//! some 1,400 rotations a second with the processor mostly idle (BENCHMARKS.md, "Token endpoint").
//! Queued on a mutex instead, a rotation holds the write lock for a fraction of a millisecond.
//! Writers elsewhere (sqlx) may still hold the lock now and then: this connection then waits in
//! steps of 50 µs rather than milliseconds.

use crate::StoreError;
use crate::authorization::{
    ACTIVE_CONSENT_FOR, CONSENT_OF_CODE, CodeExchange, CodeRedemption, Consent, INSERT_CODE, INSERT_CONSENT,
    INSERT_REFRESH_TOKEN, NewCode, NewConsent, REFRESH_TOKEN_STATE, RENEW_CONSENT, REVOKE_CONSENT, RedeemedCode,
    RevokedWhy, Rotation, SPEND_CODE, SPEND_REFRESH_TOKEN, consent_by_id, renewed_scope,
};
use crate::providers::ProviderId;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, named_params};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// A wait for the write lock, in steps; 200,000 steps of 50 µs are the 10 s of the sqlx pool.
const BUSY_STEP: Duration = Duration::from_micros(50);
const BUSY_STEPS: i32 = 200_000;

/// The one write connection of the token endpoint.
#[derive(Debug)]
pub(crate) struct SqliteTokenWriter {
    path: PathBuf,
    connection: Mutex<Option<Connection>>,
}

fn wait_briefly(attempts: i32) -> bool {
    std::thread::sleep(BUSY_STEP);
    attempts < BUSY_STEPS
}

impl SqliteTokenWriter {
    pub(crate) fn new(path: PathBuf) -> SqliteTokenWriter {
        SqliteTokenWriter { path, connection: Mutex::new(None) }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let connection = Connection::open_with_flags(&self.path, flags)?;
        connection.busy_handler(Some(wait_briefly))?;
        // As the sqlx connections (store/src/lib.rs): the file is in WAL mode already.
        connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        Ok(connection)
    }

    /// Runs `write` in one IMMEDIATE transaction (the write lock taken at its start, so that it
    /// never has to give up a read snapshot midway), committed when it returns `Ok`.
    fn transaction<T>(
        &self,
        write: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut guard = self.connection.lock().unwrap_or_else(PoisonError::into_inner);
        let mut connection = match guard.take() {
            Some(connection) => connection,
            None => self.open().map_err(StoreError::Sqlite)?,
        };
        let result = (|| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = write(&transaction)?;
            transaction.commit()?;
            Ok(value)
        })();
        // A connection whose write failed is not kept (its state is unknown): the next write
        // opens a new one.
        if result.is_ok() {
            *guard = Some(connection);
        }
        result.map_err(StoreError::Sqlite)
    }

    /// As `Store::grant_consent`.
    pub(crate) fn grant_consent(&self, consent: &NewConsent, code: &NewCode, now: i64) -> Result<i64, StoreError> {
        self.transaction(|transaction| {
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
                        "$8": crate::authorization::new_handle(), "$9": i64::from(consent.sharing)
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
    }

    /// As `Store::revoke_consent`: on SQLite through the writer every other revocation goes through.
    pub(crate) fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        self.transaction(|transaction| {
            let done = transaction
                .prepare_cached(REVOKE_CONSENT)?
                .execute(named_params! { "$1": id, "$2": now, "$3": why.as_str() })?;
            Ok(done > 0)
        })
    }

    /// As `Store::redeem_code`.
    pub(crate) fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        self.transaction(|transaction| redeem(transaction, code_hash, now))
    }

    /// As `Store::exchange_code`.
    pub(crate) fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        self.transaction(|transaction| {
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
    }

    /// As `Store::add_refresh_token`.
    pub(crate) fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.transaction(|transaction| insert_refresh_token(transaction, token_hash, consent_id, now, expires_at))
    }

    /// As `Store::rotate_refresh_token`.
    pub(crate) fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        self.transaction(|transaction| {
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
                .prepare_cached("UPDATE consents SET last_used_at = $2, expires_at = $3 WHERE id = $1")?
                .execute(named_params! { "$1": consent_id, "$2": now, "$3": expires_at })?;
            Ok(Rotation::Rotated(Box::new(consent(transaction, consent_id)?)))
        })
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

fn consent(transaction: &rusqlite::Transaction<'_>, id: i64) -> rusqlite::Result<Consent> {
    transaction.prepare_cached(&consent_by_id())?.query_row(named_params! { "$1": id }, |row| {
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
            handle: row.get::<_, Option<String>>("handle")?.unwrap_or_default(),
        })
    })
}
