//! The grants on PostgreSQL: a code's redemption and a refresh token's rotation are each one
//! statement (data-modifying CTEs), so that two concurrent uses of one secret cannot both
//! succeed and the token endpoint's success costs one round trip. Rows are mapped here, once.

use super::model::{CodeExchange, CodeRedemption, Consent, NewCode, NewConsent, RedeemedCode, RevokedWhy, Rotation};
use super::statements::*;
use crate::StoreError;
use crate::providers::ProviderId;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// The grants of one PostgreSQL database, on the store's pool.
#[derive(Debug, Clone)]
pub(crate) struct PostgresGrants {
    pool: AnyPool,
}

/// A spent code as the redemption statements select it (its own columns aliased `code_*`).
fn redeemed_from_row(row: &AnyRow, refresh_token_stored: bool) -> Result<RedeemedCode, sqlx::Error> {
    Ok(RedeemedCode {
        consent: consent_from_row(row)?,
        client_id: row.try_get("code_client_id")?,
        redirect_uri: row.try_get("redirect_uri")?,
        code_challenge: row.try_get("code_challenge")?,
        expires_at: row.try_get("code_expires_at")?,
        refresh_token_stored,
    })
}

/// The `handle` column of a row (rows of consents granted before handles existed got one when
/// the column was added).
fn handle_of(row: &AnyRow) -> Result<String, sqlx::Error> {
    Ok(row.try_get::<Option<String>, _>("handle")?.unwrap_or_default())
}

/// A consent from a row of [`CONSENT_COLUMNS`]: the one place PostgreSQL's consent rows are mapped.
fn consent_from_row(row: &AnyRow) -> Result<Consent, sqlx::Error> {
    Ok(Consent {
        id: row.try_get("id")?,
        provider: ProviderId(row.try_get("provider_id")?),
        provider_name: row.try_get("provider_name")?,
        provider_display_name: row.try_get("provider_display_name")?,
        client_id: row.try_get("client_id")?,
        person_key: row.try_get("person_key")?,
        pseudonym: row.try_get("pseudonym")?,
        scope: row.try_get("scope")?,
        granted_at: row.try_get("granted_at")?,
        last_used_at: row.try_get("last_used_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        handle: handle_of(row)?,
    })
}

impl PostgresGrants {
    pub(crate) fn new(pool: AnyPool) -> PostgresGrants {
        PostgresGrants { pool }
    }

    /// As `Grants::grant_consent`.
    pub(crate) async fn grant_consent(
        &self,
        consent: &NewConsent,
        code: &NewCode,
        now: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let held = if consent.sharing {
            None
        } else {
            sqlx::query(ACTIVE_CONSENT_FOR)
                .bind(consent.pseudonym.clone())
                .bind(consent.client_id.clone())
                .bind(consent.provider.0)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
        };
        let id: i64 = match held {
            Some(held) => {
                let id: i64 = held.try_get("id")?;
                let scope: String = held.try_get("scope")?;
                let expires_at: i64 = held.try_get("expires_at")?;
                sqlx::query(RENEW_CONSENT)
                    .bind(id)
                    .bind(renewed_scope(&scope, &consent.scope))
                    .bind(now)
                    .bind(expires_at.max(consent.expires_at))
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => sqlx::query(INSERT_CONSENT)
                .bind(consent.provider.0)
                .bind(consent.client_id.clone())
                .bind(consent.person_key.clone())
                .bind(consent.pseudonym.clone())
                .bind(consent.scope.clone())
                .bind(now)
                .bind(consent.expires_at)
                .bind(new_handle())
                .bind(i64::from(consent.sharing))
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?,
        };
        sqlx::query(INSERT_CODE)
            .bind(code.code_hash.clone())
            .bind(id)
            .bind(consent.client_id.clone())
            .bind(code.redirect_uri.clone())
            .bind(code.code_challenge.clone())
            .bind(code.expires_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// As `Grants::redeem_code`.
    pub(crate) async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        // The code spent and its consent read in one statement, one round trip.
        let sql = format!(
            "WITH spent AS ({SPEND_CODE}) \
             SELECT spent.client_id AS code_client_id, spent.redirect_uri, spent.code_challenge, \
             spent.expires_at AS code_expires_at, {CONSENT_COLUMNS} \
             FROM spent JOIN consents c ON c.id = spent.consent_id JOIN providers p ON p.id = c.provider_id"
        );
        let spent = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(code_hash.to_owned())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        let Some(spent) = spent else { return self.replayed_or_unknown(code_hash, now).await };
        Ok(CodeRedemption::Redeemed(Box::new(redeemed_from_row(&spent, false)?)))
    }

    /// A code that could not be spent: a replay (its consent is revoked now) or no code at all.
    async fn replayed_or_unknown(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        let known = sqlx::query(CONSENT_OF_CODE).bind(code_hash.to_owned()).fetch_optional(&self.pool).await?;
        match known {
            Some(row) => {
                self.revoke(row.try_get("consent_id")?, RevokedWhy::CodeReplay, now).await?;
                Ok(CodeRedemption::Replayed { consent: handle_of(&row)? })
            }
            None => Ok(CodeRedemption::Unknown),
        }
    }

    /// As `Grants::exchange_code`.
    pub(crate) async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        // The condition is `CodeExchange::holds_for` in SQL, the refresh token stored in the same
        // statement: the token endpoint's success costs one round trip.
        let sql = format!(
            "WITH spent AS ({SPEND_CODE}), \
             redeemed AS (SELECT spent.client_id AS code_client_id, spent.redirect_uri, spent.code_challenge, \
             spent.expires_at AS code_expires_at, {CONSENT_COLUMNS}, \
             (spent.client_id = $3 AND spent.redirect_uri = $4 AND spent.code_challenge IS NOT DISTINCT FROM $5 \
             AND spent.expires_at > $2 AND c.revoked_at IS NULL AND c.expires_at > $2) AS holds \
             FROM spent JOIN consents c ON c.id = spent.consent_id JOIN providers p ON p.id = c.provider_id), \
             stored AS (INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at) \
             SELECT $6, id, $2, $7 FROM redeemed WHERE holds RETURNING consent_id) \
             SELECT redeemed.*, EXISTS (SELECT 1 FROM stored) AS refresh_token_stored FROM redeemed"
        );
        let spent = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(exchange.code_hash.to_owned())
            .bind(exchange.now)
            .bind(exchange.client_id.to_owned())
            .bind(exchange.redirect_uri.to_owned())
            .bind(exchange.verifier_challenge.map(str::to_owned))
            .bind(exchange.refresh_hash.to_owned())
            .bind(exchange.refresh_expires_at)
            .fetch_optional(&self.pool)
            .await?;
        let Some(spent) = spent else { return self.replayed_or_unknown(exchange.code_hash, exchange.now).await };
        let stored = spent.try_get("refresh_token_stored")?;
        Ok(CodeRedemption::Redeemed(Box::new(redeemed_from_row(&spent, stored)?)))
    }

    /// As `Grants::add_refresh_token`.
    pub(crate) async fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_REFRESH_TOKEN)
            .bind(token_hash.to_owned())
            .bind(consent_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// As `Grants::rotate_refresh_token`.
    pub(crate) async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<Rotation, StoreError> {
        // Spend, store the successor, move the consent's lapse and read it back in one
        // statement (one round trip, one commit).
        let sql = format!(
            "WITH spent AS ({SPEND_REFRESH_TOKEN}), \
             successor AS (INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at) \
             SELECT $3, consent_id, $2, $4 FROM spent), \
             c AS (UPDATE consents SET last_used_at = $2, expires_at = $4 FROM spent \
             WHERE consents.id = spent.consent_id RETURNING consents.*) \
             SELECT {CONSENT_COLUMNS} FROM c JOIN providers p ON p.id = c.provider_id"
        );
        let rotated = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(old_hash.to_owned())
            .bind(now)
            .bind(new_hash.to_owned())
            .bind(expires_at)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(row) = rotated {
            return Ok(Rotation::Rotated(Box::new(consent_from_row(&row)?)));
        }
        let known = sqlx::query(REFRESH_TOKEN_STATE).bind(old_hash.to_owned()).fetch_optional(&self.pool).await?;
        let Some(known) = known else { return Ok(Rotation::Unknown) };
        if known.try_get::<Option<i64>, _>("used_at")?.is_some() {
            self.revoke(known.try_get("consent_id")?, RevokedWhy::RefreshTokenReuse, now).await?;
            return Ok(Rotation::Reused { consent: handle_of(&known)? });
        }
        Ok(Rotation::Inactive)
    }

    /// As `Grants::consent`.
    pub(crate) async fn consent(&self, id: i64) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(consent_by_id())).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(consent_from_row).transpose()?)
    }

    /// As `Grants::active_consents`.
    pub(crate) async fn active_consents(&self, pseudonym: &str, now: i64) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(active_consents()))
            .bind(pseudonym.to_owned())
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(consent_from_row).collect::<Result<_, _>>()?)
    }

    /// As `Grants::revoke_consent_of`.
    pub(crate) async fn revoke_consent_of(
        &self,
        id: i64,
        pseudonym: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(REVOKE_CONSENT_OF)
            .bind(id)
            .bind(pseudonym.to_owned())
            .bind(now)
            .bind(RevokedWhy::Person.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(handle_of).transpose().map_err(StoreError::from)
    }

    /// As `Grants::consent_of_refresh_token`.
    pub(crate) async fn consent_of_refresh_token(&self, token_hash: &str) -> Result<Option<Consent>, StoreError> {
        let known = sqlx::query(REFRESH_TOKEN_STATE).bind(token_hash.to_owned()).fetch_optional(&self.pool).await?;
        match known {
            Some(row) => self.consent(row.try_get("consent_id")?).await,
            None => Ok(None),
        }
    }

    /// As `Grants::revoke_consent`.
    pub(crate) async fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
        let done = sqlx::query(REVOKE_CONSENT).bind(id).bind(now).bind(why.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// As `Grants::consents_revoked_since`.
    pub(crate) async fn consents_revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(REVOKED_SINCE).bind(since).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| Ok((row.try_get("handle")?, row.try_get("revoked_at")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// As `Grants::consent_by_handle`.
    pub(crate) async fn consent_by_handle(&self, handle: &str) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(consent_by_handle()))
            .bind(handle.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(consent_from_row).transpose()?)
    }

    async fn revoke(&self, id: i64, why: RevokedWhy, now: i64) -> Result<(), StoreError> {
        tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
        sqlx::query(REVOKE_CONSENT).bind(id).bind(now).bind(why.as_str()).execute(&self.pool).await?;
        Ok(())
    }

    /// As `Grants::create_session`.
    pub(crate) async fn create_session(
        &self,
        id_hash: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(INSERT_SESSION)
            .bind(id_hash.to_owned())
            .bind(kind.to_owned())
            .bind(data.to_owned())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// As `Grants::session`.
    pub(crate) async fn session(&self, id_hash: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(SESSION_DATA)
            .bind(id_hash.to_owned())
            .bind(kind.to_owned())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("data")).transpose()?)
    }

    /// As `Grants::update_session`.
    pub(crate) async fn update_session(&self, id_hash: &str, data: &str) -> Result<(), StoreError> {
        sqlx::query(UPDATE_SESSION).bind(id_hash.to_owned()).bind(data.to_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// As `Grants::delete_session`.
    pub(crate) async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(DELETE_SESSION).bind(id_hash.to_owned()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// As `Grants::purge_expired`.
    pub(crate) async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for sql in PURGE_EXPIRED {
            removed += sqlx::query(sql).bind(now).execute(&self.pool).await?.rows_affected();
        }
        Ok(removed)
    }
}
