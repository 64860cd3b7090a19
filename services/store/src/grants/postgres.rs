//! The grants on PostgreSQL, on sqlx's PostgreSQL driver with every statement checked at compile
//! time against the migrated schema (`query!`; the checked shapes are kept in `.sqlx/` for
//! builds without a database). A code's redemption and a refresh token's rotation are each one
//! statement (data-modifying CTEs), so that two concurrent uses of one secret cannot both
//! succeed and the token endpoint's success costs one round trip. Rows are mapped here, once.
//!
//! The SQL is written out in each macro (it takes literals only), so the consent's columns
//! appear in every statement that returns a consent; `ConsentRow` is where they are mapped.

use super::model::{CodeExchange, CodeRedemption, Consent, NewCode, NewConsent, RedeemedCode, RevokedWhy, Rotation};
use super::statements::{new_handle, renewed_scope};
use crate::StoreError;
use crate::providers::ProviderId;
use sqlx::PgPool;

/// The grants of one PostgreSQL database, on the store's pool.
#[derive(Debug, Clone)]
pub(crate) struct PostgresGrants {
    pool: PgPool,
}

/// A consent's row with its provider's names, as every statement returning a consent selects it.
struct ConsentRow {
    id: i64,
    provider_id: i64,
    provider_name: String,
    provider_display_name: String,
    client_id: String,
    person_key: String,
    pseudonym: String,
    scope: String,
    granted_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    /// Consents granted before handles existed got one when the column was added.
    handle: Option<String>,
}

impl From<ConsentRow> for Consent {
    fn from(row: ConsentRow) -> Consent {
        Consent {
            id: row.id,
            provider: ProviderId(row.provider_id),
            provider_name: row.provider_name,
            provider_display_name: row.provider_display_name,
            client_id: row.client_id,
            person_key: row.person_key,
            pseudonym: row.pseudonym,
            scope: row.scope,
            granted_at: row.granted_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            handle: row.handle.unwrap_or_default(),
        }
    }
}

/// A spent code with its consent, as the redemption statements select it.
struct RedeemedRow {
    code_client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    code_expires_at: i64,
    refresh_token_stored: bool,
    id: i64,
    provider_id: i64,
    provider_name: String,
    provider_display_name: String,
    client_id: String,
    person_key: String,
    pseudonym: String,
    scope: String,
    granted_at: i64,
    last_used_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
    handle: Option<String>,
}

impl From<RedeemedRow> for RedeemedCode {
    fn from(row: RedeemedRow) -> RedeemedCode {
        let consent = ConsentRow {
            id: row.id,
            provider_id: row.provider_id,
            provider_name: row.provider_name,
            provider_display_name: row.provider_display_name,
            client_id: row.client_id,
            person_key: row.person_key,
            pseudonym: row.pseudonym,
            scope: row.scope,
            granted_at: row.granted_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            handle: row.handle,
        };
        RedeemedCode {
            consent: consent.into(),
            client_id: row.code_client_id,
            redirect_uri: row.redirect_uri,
            code_challenge: row.code_challenge,
            expires_at: row.code_expires_at,
            refresh_token_stored: row.refresh_token_stored,
        }
    }
}

impl PostgresGrants {
    /// The grants on the store's pool.
    pub(crate) fn new(pool: PgPool) -> PostgresGrants {
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
            // The newest, if an earlier version of the service left several.
            sqlx::query!(
                "SELECT id, scope, expires_at FROM consents WHERE pseudonym = $1 AND client_id = $2 \
                 AND provider_id = $3 AND revoked_at IS NULL AND expires_at > $4 AND sharing = 0 \
                 ORDER BY id DESC LIMIT 1",
                consent.pseudonym,
                consent.client_id,
                consent.provider.0,
                now
            )
            .fetch_optional(&mut *tx)
            .await?
        };
        let id = match held {
            Some(held) => {
                sqlx::query!(
                    "UPDATE consents SET scope = $2, last_used_at = $3, expires_at = $4 WHERE id = $1",
                    held.id,
                    renewed_scope(&held.scope, &consent.scope),
                    now,
                    held.expires_at.max(consent.expires_at)
                )
                .execute(&mut *tx)
                .await?;
                held.id
            }
            None => {
                sqlx::query_scalar!(
                    "INSERT INTO consents (provider_id, client_id, person_key, pseudonym, scope, granted_at, \
                     last_used_at, expires_at, handle, sharing) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) \
                     RETURNING id",
                    consent.provider.0,
                    consent.client_id,
                    consent.person_key,
                    consent.pseudonym,
                    consent.scope,
                    now,
                    consent.expires_at,
                    new_handle(),
                    i64::from(consent.sharing)
                )
                .fetch_one(&mut *tx)
                .await?
            }
        };
        sqlx::query!(
            "INSERT INTO authorization_codes (code_hash, consent_id, client_id, redirect_uri, code_challenge, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
            code.code_hash,
            id,
            consent.client_id,
            code.redirect_uri,
            code.code_challenge,
            code.expires_at
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// As `Grants::redeem_code`.
    pub(crate) async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        // The code spent and its consent read in one statement, one round trip.
        let spent = sqlx::query_as!(
            RedeemedRow,
            r#"WITH spent AS (UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
                 RETURNING consent_id, client_id, redirect_uri, code_challenge, expires_at)
               SELECT spent.client_id AS "code_client_id!", spent.redirect_uri AS "redirect_uri!",
                 spent.code_challenge AS "code_challenge?", spent.expires_at AS "code_expires_at!",
                 false AS "refresh_token_stored!",
                 c.id AS "id!", c.provider_id AS "provider_id!", p.name AS "provider_name!",
                 p.display_name AS "provider_display_name!", c.client_id AS "client_id!",
                 c.person_key AS "person_key!", c.pseudonym AS "pseudonym!", c.scope AS "scope!",
                 c.granted_at AS "granted_at!", c.last_used_at AS "last_used_at!", c.expires_at AS "expires_at!",
                 c.revoked_at AS "revoked_at?", c.handle AS "handle?"
               FROM spent JOIN consents c ON c.id = spent.consent_id JOIN providers p ON p.id = c.provider_id"#,
            code_hash,
            now
        )
        .fetch_optional(&self.pool)
        .await?;
        match spent {
            Some(spent) => Ok(CodeRedemption::Redeemed(Box::new(spent.into()))),
            None => self.replayed_or_unknown(code_hash, now).await,
        }
    }

    /// A code that could not be spent: a replay (its consent is revoked now) or no code at all.
    async fn replayed_or_unknown(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        let known = sqlx::query!(
            "SELECT a.consent_id, c.handle FROM authorization_codes a JOIN consents c ON c.id = a.consent_id \
             WHERE a.code_hash = $1",
            code_hash
        )
        .fetch_optional(&self.pool)
        .await?;
        match known {
            Some(row) => {
                self.revoke_consent(row.consent_id, RevokedWhy::CodeReplay, now).await?;
                Ok(CodeRedemption::Replayed { consent: row.handle.unwrap_or_default() })
            }
            None => Ok(CodeRedemption::Unknown),
        }
    }

    /// As `Grants::exchange_code`.
    pub(crate) async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        // The condition is `CodeExchange::holds_for` in SQL, the refresh token stored in the same
        // statement: the token endpoint's success costs one round trip.
        let spent = sqlx::query_as!(
            RedeemedRow,
            r#"WITH spent AS (UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL
                 RETURNING consent_id, client_id, redirect_uri, code_challenge, expires_at),
               redeemed AS (SELECT spent.client_id AS code_client_id, spent.redirect_uri, spent.code_challenge,
                 spent.expires_at AS code_expires_at, c.id, c.provider_id, p.name AS provider_name,
                 p.display_name AS provider_display_name, c.client_id, c.person_key, c.pseudonym, c.scope,
                 c.granted_at, c.last_used_at, c.expires_at, c.revoked_at, c.handle,
                 (spent.client_id = $3 AND spent.redirect_uri = $4 AND spent.code_challenge IS NOT DISTINCT FROM $5
                  AND spent.expires_at > $2 AND c.revoked_at IS NULL AND c.expires_at > $2) AS holds
                 FROM spent JOIN consents c ON c.id = spent.consent_id JOIN providers p ON p.id = c.provider_id),
               stored AS (INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at)
                 SELECT $6, id, $2, $7 FROM redeemed WHERE holds RETURNING consent_id)
               SELECT code_client_id AS "code_client_id!", redirect_uri AS "redirect_uri!",
                 code_challenge AS "code_challenge?", code_expires_at AS "code_expires_at!",
                 EXISTS (SELECT 1 FROM stored) AS "refresh_token_stored!",
                 id AS "id!", provider_id AS "provider_id!", provider_name AS "provider_name!",
                 provider_display_name AS "provider_display_name!", client_id AS "client_id!",
                 person_key AS "person_key!", pseudonym AS "pseudonym!", scope AS "scope!",
                 granted_at AS "granted_at!", last_used_at AS "last_used_at!", expires_at AS "expires_at!",
                 revoked_at AS "revoked_at?", handle AS "handle?"
               FROM redeemed"#,
            exchange.code_hash,
            exchange.now,
            exchange.client_id,
            exchange.redirect_uri,
            exchange.verifier_challenge,
            exchange.refresh_hash,
            exchange.refresh_expires_at
        )
        .fetch_optional(&self.pool)
        .await?;
        match spent {
            Some(spent) => Ok(CodeRedemption::Redeemed(Box::new(spent.into()))),
            None => self.replayed_or_unknown(exchange.code_hash, exchange.now).await,
        }
    }

    /// As `Grants::add_refresh_token`.
    pub(crate) async fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
            token_hash,
            consent_id,
            now,
            expires_at
        )
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
        // Spend (if unspent, unexpired and its consent active, checked by the consent's id: a
        // correlated EXISTS), store the successor, move the consent's lapse and read it back in
        // one statement (one round trip, one commit).
        let rotated = sqlx::query_as!(
            ConsentRow,
            r#"WITH spent AS (UPDATE refresh_tokens SET used_at = $2
                 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
                 AND EXISTS (SELECT 1 FROM consents c WHERE c.id = refresh_tokens.consent_id
                   AND c.revoked_at IS NULL AND c.expires_at > $2)
                 RETURNING consent_id),
               successor AS (INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at)
                 SELECT $3, consent_id, $2, $4 FROM spent),
               c AS (UPDATE consents SET last_used_at = $2, expires_at = $4 FROM spent
                 WHERE consents.id = spent.consent_id RETURNING consents.*)
               SELECT c.id AS "id!", c.provider_id AS "provider_id!", p.name AS "provider_name!",
                 p.display_name AS "provider_display_name!", c.client_id AS "client_id!",
                 c.person_key AS "person_key!", c.pseudonym AS "pseudonym!", c.scope AS "scope!",
                 c.granted_at AS "granted_at!", c.last_used_at AS "last_used_at!", c.expires_at AS "expires_at!",
                 c.revoked_at AS "revoked_at?", c.handle AS "handle?"
               FROM c JOIN providers p ON p.id = c.provider_id"#,
            old_hash,
            now,
            new_hash,
            expires_at
        )
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = rotated {
            return Ok(Rotation::Rotated(Box::new(row.into())));
        }
        let Some(known) = self.refresh_token_state(old_hash).await? else { return Ok(Rotation::Unknown) };
        if known.used_at.is_some() {
            self.revoke_consent(known.consent_id, RevokedWhy::RefreshTokenReuse, now).await?;
            return Ok(Rotation::Reused { consent: known.handle.unwrap_or_default() });
        }
        Ok(Rotation::Inactive)
    }

    /// The consent of refresh token `token_hash` and when the token was spent, if it was.
    async fn refresh_token_state(&self, token_hash: &str) -> Result<Option<TokenState>, StoreError> {
        Ok(sqlx::query_as!(
            TokenState,
            r#"SELECT t.consent_id, t.used_at AS "used_at?", c.handle AS "handle?" FROM refresh_tokens t
               JOIN consents c ON c.id = t.consent_id WHERE t.token_hash = $1"#,
            token_hash
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// As `Grants::consent`.
    pub(crate) async fn consent(&self, id: i64) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query_as!(
            ConsentRow,
            r#"SELECT c.id, c.provider_id, p.name AS provider_name, p.display_name AS provider_display_name,
                 c.client_id, c.person_key, c.pseudonym, c.scope, c.granted_at, c.last_used_at, c.expires_at,
                 c.revoked_at, c.handle
               FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.id = $1"#,
            id
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Consent::from))
    }

    /// As `Grants::active_consents`.
    pub(crate) async fn active_consents(&self, pseudonym: &str, now: i64) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query_as!(
            ConsentRow,
            r#"SELECT c.id, c.provider_id, p.name AS provider_name, p.display_name AS provider_display_name,
                 c.client_id, c.person_key, c.pseudonym, c.scope, c.granted_at, c.last_used_at, c.expires_at,
                 c.revoked_at, c.handle
               FROM consents c JOIN providers p ON p.id = c.provider_id
               WHERE c.pseudonym = $1 AND c.revoked_at IS NULL AND c.expires_at > $2
                 AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.consent_id = c.id)
               ORDER BY c.granted_at DESC, c.id DESC"#,
            pseudonym,
            now
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Consent::from).collect())
    }

    /// As `Grants::revoke_consent_of`.
    pub(crate) async fn revoke_consent_of(
        &self,
        id: i64,
        pseudonym: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let handle = sqlx::query_scalar!(
            "UPDATE consents SET revoked_at = $3, revoked_why = $4 WHERE id = $1 AND pseudonym = $2 \
             AND revoked_at IS NULL RETURNING handle",
            id,
            pseudonym,
            now,
            RevokedWhy::Person.as_str()
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(handle.map(Option::unwrap_or_default))
    }

    /// As `Grants::consent_of_refresh_token`.
    pub(crate) async fn consent_of_refresh_token(&self, token_hash: &str) -> Result<Option<Consent>, StoreError> {
        match self.refresh_token_state(token_hash).await? {
            Some(known) => self.consent(known.consent_id).await,
            None => Ok(None),
        }
    }

    /// As `Grants::revoke_consent`.
    pub(crate) async fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
        let done = sqlx::query!(
            "UPDATE consents SET revoked_at = $2, revoked_why = $3 WHERE id = $1 AND revoked_at IS NULL",
            id,
            now,
            why.as_str()
        )
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// As `Grants::consents_revoked_since`.
    pub(crate) async fn consents_revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query!(
            r#"SELECT handle AS "handle!", revoked_at AS "revoked_at!" FROM consents
               WHERE revoked_at >= $1 AND handle IS NOT NULL ORDER BY revoked_at"#,
            since
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|row| (row.handle, row.revoked_at)).collect())
    }

    /// As `Grants::consent_by_handle`.
    pub(crate) async fn consent_by_handle(&self, handle: &str) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query_as!(
            ConsentRow,
            r#"SELECT c.id, c.provider_id, p.name AS provider_name, p.display_name AS provider_display_name,
                 c.client_id, c.person_key, c.pseudonym, c.scope, c.granted_at, c.last_used_at, c.expires_at,
                 c.revoked_at, c.handle
               FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.handle = $1"#,
            handle
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Consent::from))
    }

    /// As `Grants::create_session`.
    pub(crate) async fn create_session(
        &self,
        id_hash: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query!(
            "INSERT INTO browser_sessions (id_hash, kind, data, expires_at) VALUES ($1, $2, $3, $4)",
            id_hash,
            kind,
            data,
            expires_at
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// As `Grants::session`.
    pub(crate) async fn session(&self, id_hash: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar!(
            "SELECT data FROM browser_sessions WHERE id_hash = $1 AND kind = $2 AND expires_at > $3",
            id_hash,
            kind,
            now
        )
        .fetch_optional(&self.pool)
        .await?)
    }

    /// As `Grants::update_session`.
    pub(crate) async fn update_session(&self, id_hash: &str, data: &str) -> Result<(), StoreError> {
        sqlx::query!("UPDATE browser_sessions SET data = $2 WHERE id_hash = $1", id_hash, data)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// As `Grants::delete_session`.
    pub(crate) async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query!("DELETE FROM browser_sessions WHERE id_hash = $1", id_hash).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// As `Grants::purge_expired`.
    pub(crate) async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let sessions =
            sqlx::query!("DELETE FROM browser_sessions WHERE expires_at <= $1", now).execute(&self.pool).await?;
        let tokens = sqlx::query!("DELETE FROM refresh_tokens WHERE expires_at <= $1", now).execute(&self.pool).await?;
        Ok(sessions.rows_affected() + tokens.rows_affected())
    }
}

/// A refresh token's consent, when it was spent, and the consent's handle.
struct TokenState {
    consent_id: i64,
    used_at: Option<i64>,
    handle: Option<String>,
}
