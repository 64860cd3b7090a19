//! What the authorization server keeps: consents (each one the family of the refresh tokens it
//! gave out), one-time authorization codes and rotating refresh tokens.
//!
//! Codes and refresh tokens are stored only as hashes (the caller hashes them), so a copy of the
//! database gives nobody a usable token. Redeeming a code and rotating a refresh token are single
//! conditional updates, so two concurrent uses of one secret cannot both succeed. On PostgreSQL
//! each is one statement (data-modifying CTEs); on SQLite, which has none, they are short
//! transactions on the token writer (`token_writer.rs`).

use crate::providers::ProviderId;
use crate::{Store, StoreError};
use sqlx::Row;
use sqlx::any::AnyRow;

/// Why a consent ended before its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedWhy {
    /// The person revoked it.
    Person,
    /// A refresh token of its family was used twice: it may have been stolen.
    RefreshTokenReuse,
    /// Its authorization code was presented twice.
    CodeReplay,
    /// The PGO revoked one of its tokens (RFC 7009).
    Client,
}

impl RevokedWhy {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokedWhy::Person => "person",
            RevokedWhy::RefreshTokenReuse => "refresh-token-reuse",
            RevokedWhy::CodeReplay => "code-replay",
            RevokedWhy::Client => "client",
        }
    }
}

/// A consent to give out, with the code that redeems it.
#[derive(Debug, Clone)]
pub struct NewConsent {
    /// The provider whose data it covers.
    pub provider: ProviderId,
    /// The PGO (its hostname).
    pub client_id: String,
    /// The person's key at the provider.
    pub person_key: String,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// The granted scope (`umcx~48 umcx~49`).
    pub scope: String,
    /// When it lapses unless used (ms).
    pub expires_at: i64,
    /// A share (Delen) the person confirmed: a consent of its own, never merged with another
    /// (its token is for exactly its one data service), and never renewed by a later one.
    pub sharing: bool,
}

/// An authorization code to store with a new consent.
#[derive(Debug, Clone)]
pub struct NewCode {
    /// SHA-256 of the code.
    pub code_hash: String,
    /// The redirect URI of the authorization request (the token request must repeat it).
    pub redirect_uri: String,
    /// The PKCE S256 challenge, if the client sent one.
    pub code_challenge: Option<String>,
    /// When the code stops working (ms).
    pub expires_at: i64,
}

/// A consent as stored, with its provider's names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// Its id.
    pub id: i64,
    /// The provider.
    pub provider: ProviderId,
    /// The provider's MedMij name.
    pub provider_name: String,
    /// The provider's display name.
    pub provider_display_name: String,
    /// The PGO.
    pub client_id: String,
    /// The person's key at the provider.
    pub person_key: String,
    /// The person's pseudonym.
    pub pseudonym: String,
    /// The granted scope.
    pub scope: String,
    /// Given at (ms).
    pub granted_at: i64,
    /// Last refresh (or grant) at (ms).
    pub last_used_at: i64,
    /// Lapses at (ms).
    pub expires_at: i64,
    /// Revoked at (ms), if it was.
    pub revoked_at: Option<i64>,
    /// The handle its access tokens carry (`sid`): random, so that it says nothing of other
    /// consents; what revocations are known by on every instance.
    pub handle: String,
}

impl Consent {
    /// Whether refresh tokens of this consent may still be used at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// A redeemed authorization code: what the token endpoint checks before issuing tokens.
#[derive(Debug, Clone)]
pub struct RedeemedCode {
    /// The consent it was given with.
    pub consent: Consent,
    /// The client it was given to.
    pub client_id: String,
    /// The redirect URI of its authorization request.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: Option<String>,
    /// When it stopped or stops working (ms).
    pub expires_at: i64,
    /// Whether [`Store::exchange_code`] stored the refresh token with it (its checks held).
    pub refresh_token_stored: bool,
}

/// A token request's authorization code, with what the request claims about it and the refresh
/// token to store if those claims hold.
#[derive(Debug, Clone)]
pub struct CodeExchange<'a> {
    /// SHA-256 of the code.
    pub code_hash: &'a str,
    /// The time of the request (ms).
    pub now: i64,
    /// The client asking, exactly as the code was issued to it.
    pub client_id: &'a str,
    /// The redirect URI the request repeats.
    pub redirect_uri: &'a str,
    /// The S256 challenge of the request's (well-formed) PKCE verifier; `None` without one.
    pub verifier_challenge: Option<&'a str>,
    /// SHA-256 of the refresh token to store.
    pub refresh_hash: &'a str,
    /// When that refresh token lapses (ms).
    pub refresh_expires_at: i64,
}

impl CodeExchange<'_> {
    /// Whether the refresh token may be stored for `code` (spent just now): the same client, the
    /// same redirect URI, the same PKCE challenge (or none on both sides), the code unexpired and
    /// its consent active. The token endpoint checks the same and decides the answer; this is
    /// never looser, so a refresh token is never stored for a refused request.
    pub fn holds_for(&self, code: &RedeemedCode) -> bool {
        code.client_id == self.client_id
            && code.redirect_uri == self.redirect_uri
            && code.code_challenge.as_deref() == self.verifier_challenge
            && code.expires_at > self.now
            && code.consent.is_active(self.now)
    }
}

/// What presenting an authorization code did.
#[derive(Debug, Clone)]
pub enum CodeRedemption {
    /// First use: the code is now spent.
    Redeemed(Box<RedeemedCode>),
    /// It had been used before; the consent it gave (and every token from it) is now revoked
    /// (RFC 6749 §4.1.2).
    Replayed {
        /// The handle of the consent revoked.
        consent: String,
    },
    /// No such code.
    Unknown,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// Spent; its successor is stored. The consent, as it is now.
    Rotated(Box<Consent>),
    /// It had been rotated before: the whole family (the consent) is now revoked.
    Reused {
        /// The handle of the consent revoked.
        consent: String,
    },
    /// Its consent was revoked or has lapsed, or the token itself expired.
    Inactive,
    /// No such token.
    Unknown,
}

/// The statements both backends' authorization writes run (PostgreSQL through sqlx here, SQLite
/// through rusqlite in `token_writer.rs`), each written once.
///
/// A consent: `$1` provider, `$2` client, `$3` person key, `$4` pseudonym, `$5` scope, `$6` now,
/// `$7` lapse, `$8` handle; gives its id.
pub(crate) const INSERT_CONSENT: &str = "INSERT INTO consents (provider_id, client_id, person_key, pseudonym, scope, \
     granted_at, last_used_at, expires_at, handle, sharing) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING id";
/// The person's active consent for client `$2` at provider `$3` at `$4` (`$1` pseudonym), the
/// newest if an earlier version of the service left several: its id, scope and lapse.
pub(crate) const ACTIVE_CONSENT_FOR: &str = "SELECT id, scope, expires_at FROM consents WHERE pseudonym = $1 \
     AND client_id = $2 AND provider_id = $3 AND revoked_at IS NULL AND expires_at > $4 AND sharing = 0 \
     ORDER BY id DESC LIMIT 1";
/// Renews consent `$1`: scope `$2`, used at `$3`, lapsing at `$4`.
pub(crate) const RENEW_CONSENT: &str =
    "UPDATE consents SET scope = $2, last_used_at = $3, expires_at = $4 WHERE id = $1";
/// A code: `$1` hash, `$2` consent, `$3` client, `$4` redirect URI, `$5` challenge, `$6` expiry.
pub(crate) const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, consent_id, client_id, redirect_uri, \
     code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Spends code `$1` at `$2` if unspent; gives what was bound to it.
pub(crate) const SPEND_CODE: &str = "UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 \
     AND used_at IS NULL RETURNING consent_id, client_id, redirect_uri, code_challenge, expires_at";
/// The consent of code `$1`, spent or not.
pub(crate) const CONSENT_OF_CODE: &str = "SELECT a.consent_id, c.handle FROM authorization_codes a \
     JOIN consents c ON c.id = a.consent_id WHERE a.code_hash = $1";
/// A refresh token: `$1` hash, `$2` consent, `$3` now, `$4` expiry.
pub(crate) const INSERT_REFRESH_TOKEN: &str =
    "INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)";
/// The consent of refresh token `$1` and when it was spent, if it was.
pub(crate) const REFRESH_TOKEN_STATE: &str = "SELECT t.consent_id, t.used_at, c.handle FROM refresh_tokens t \
     JOIN consents c ON c.id = t.consent_id WHERE t.token_hash = $1";
/// Revokes consent `$1` at `$2` for reason `$3`, unless revoked before.
pub(crate) const REVOKE_CONSENT: &str =
    "UPDATE consents SET revoked_at = $2, revoked_why = $3 WHERE id = $1 AND revoked_at IS NULL";

/// Spends refresh token `$1` at `$2` if it is unspent, unexpired and its consent active; gives
/// its consent's id. The consent is checked by its id (a correlated EXISTS): SQLite evaluated
/// `consent_id IN (SELECT id FROM consents WHERE ...)` by listing every active consent first.
pub(crate) const SPEND_REFRESH_TOKEN: &str = "UPDATE refresh_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM consents c WHERE c.id = refresh_tokens.consent_id \
     AND c.revoked_at IS NULL AND c.expires_at > $2) RETURNING consent_id";

pub(crate) const CONSENT_COLUMNS: &str = "c.id, c.provider_id, p.name AS provider_name, p.display_name AS provider_display_name, \
     c.client_id, c.person_key, c.pseudonym, c.scope, c.granted_at, c.last_used_at, c.expires_at, c.revoked_at, c.handle";

/// Consent `$1`, with its provider's names, as [`CONSENT_COLUMNS`].
pub(crate) fn consent_by_id() -> String {
    format!("SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.id = $1")
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

/// A new consent's handle: 128 random bits.
pub(crate) fn new_handle() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The `handle` column of a row (rows of consents granted before handles existed got one when
/// the column was added).
fn handle_of(row: &AnyRow) -> Result<String, sqlx::Error> {
    Ok(row.try_get::<Option<String>, _>("handle")?.unwrap_or_default())
}

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

/// The scope of a renewed consent: what it held, then what the new authorization adds.
pub(crate) fn renewed_scope(held: &str, asked: &str) -> String {
    let mut items: Vec<&str> = held.split_whitespace().collect();
    for item in asked.split_whitespace() {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items.join(" ")
}

impl Store {
    /// Stores a consent and its authorization code, together; gives the consent's id. A person
    /// holds one consent per PGO and provider: when the PGO asks again while one is active, that
    /// one is renewed (the data services asked for added, its lapse moved on, its handle and
    /// refresh tokens kept) rather than a second one made.
    pub async fn grant_consent(&self, consent: &NewConsent, code: &NewCode, now: i64) -> Result<i64, StoreError> {
        if let Some(writer) = &self.token_writer {
            return writer.grant_consent(consent, code, now);
        }
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

    /// Spends the authorization code with hash `code_hash`. A code works once: a second
    /// presentation revokes the consent it gave.
    pub async fn redeem_code(&self, code_hash: &str, now: i64) -> Result<CodeRedemption, StoreError> {
        if let Some(writer) = &self.token_writer {
            return writer.redeem_code(code_hash, now);
        }
        // PostgreSQL (SQLite went to the token writer above): the code spent and its consent read
        // in one statement, one round trip.
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

    /// Spends the code of `exchange` as [`Store::redeem_code`] does and, in the same statement or
    /// transaction, stores its refresh token when [`CodeExchange::holds_for`] the code: the
    /// token endpoint's success costs one round trip.
    pub async fn exchange_code(&self, exchange: &CodeExchange<'_>) -> Result<CodeRedemption, StoreError> {
        if let Some(writer) = &self.token_writer {
            return writer.exchange_code(exchange);
        }
        // PostgreSQL: the condition is `CodeExchange::holds_for` in SQL.
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

    /// Stores the first refresh token of a consent (after its code was redeemed).
    pub async fn add_refresh_token(
        &self,
        consent_id: i64,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        if let Some(writer) = &self.token_writer {
            return writer.add_refresh_token(consent_id, token_hash, now, expires_at);
        }
        sqlx::query(INSERT_REFRESH_TOKEN)
            .bind(token_hash.to_owned())
            .bind(consent_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
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
        if let Some(writer) = &self.token_writer {
            return writer.rotate_refresh_token(old_hash, new_hash, now, expires_at);
        }
        // PostgreSQL: spend, store the successor, move the consent's lapse and read it back in one
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

    /// The consent with `id`.
    pub async fn consent(&self, id: i64) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(consent_by_id())).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(consent_from_row).transpose()?)
    }

    /// The consents a person holds out at `now`: given, redeemed (a refresh token exists), not
    /// revoked and not lapsed; newest first.
    pub async fn active_consents(&self, pseudonym: &str, now: i64) -> Result<Vec<Consent>, StoreError> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id \
             WHERE c.pseudonym = $1 AND c.revoked_at IS NULL AND c.expires_at > $2 \
             AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.consent_id = c.id) \
             ORDER BY c.granted_at DESC, c.id DESC"
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(pseudonym.to_owned()).bind(now).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(consent_from_row).collect::<Result<_, _>>()?)
    }

    /// Revokes consent `id` if it is the person's with `pseudonym`; gives its handle when it was
    /// revoked now (`None`: not theirs, or revoked before).
    pub async fn revoke_consent_of(&self, id: i64, pseudonym: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "UPDATE consents SET revoked_at = $3, revoked_why = $4 WHERE id = $1 AND pseudonym = $2 AND revoked_at IS NULL \
             RETURNING handle",
        )
        .bind(id)
        .bind(pseudonym.to_owned())
        .bind(now)
        .bind(RevokedWhy::Person.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(handle_of).transpose().map_err(StoreError::from)
    }

    /// The consent refresh token `token_hash` belongs to, spent or not, whatever its state (for
    /// a PGO's revocation, RFC 7009).
    pub async fn consent_of_refresh_token(&self, token_hash: &str) -> Result<Option<Consent>, StoreError> {
        let known = sqlx::query(REFRESH_TOKEN_STATE).bind(token_hash.to_owned()).fetch_optional(&self.pool).await?;
        match known {
            Some(row) => self.consent(row.try_get("consent_id")?).await,
            None => Ok(None),
        }
    }

    /// Revokes consent `id` for reason `why`; says whether it was revoked now (false: revoked
    /// before, or no such consent).
    pub async fn revoke_consent(&self, id: i64, why: RevokedWhy, now: i64) -> Result<bool, StoreError> {
        if let Some(writer) = &self.token_writer {
            return writer.revoke_consent(id, why, now);
        }
        tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
        let done = sqlx::query(REVOKE_CONSENT).bind(id).bind(now).bind(why.as_str()).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// The handles of the consents revoked at `since` or later, with when (by the revoking
    /// instance's clock): how every instance learns of the others' revocations.
    pub async fn consents_revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT handle, revoked_at FROM consents WHERE revoked_at >= $1 AND handle IS NOT NULL ORDER BY revoked_at",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("handle")?, row.try_get("revoked_at")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// The consent whose handle is `handle`.
    pub async fn consent_by_handle(&self, handle: &str) -> Result<Option<Consent>, StoreError> {
        let sql = format!(
            "SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.handle = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(handle.to_owned()).fetch_optional(&self.pool).await?;
        Ok(row.as_ref().map(consent_from_row).transpose()?)
    }

    async fn revoke(&self, id: i64, why: RevokedWhy, now: i64) -> Result<(), StoreError> {
        tracing::warn!(consent = id, why = why.as_str(), "consent revoked");
        sqlx::query(REVOKE_CONSENT).bind(id).bind(now).bind(why.as_str()).execute(&self.pool).await?;
        Ok(())
    }
}
