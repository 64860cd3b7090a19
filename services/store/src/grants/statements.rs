//! The SQL of the grants on SQLite (PostgreSQL's is written in `postgres.rs`, where sqlx checks it
//! at compile time and needs it as literals), and what both backends compute alike: a new
//! consent's handle and a renewed consent's scope. Parameters are numbered `$1`, `$2`; SQLite
//! binds them by those names.

/// A consent: `$1` provider, `$2` client, `$3` person key, `$4` pseudonym, `$5` scope, `$6` now,
/// `$7` lapse, `$8` handle; gives its id.
pub(super) const INSERT_CONSENT: &str = "INSERT INTO consents (provider_id, client_id, person_key, pseudonym, scope, \
     granted_at, last_used_at, expires_at, handle, sharing) VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $9) RETURNING id";
/// The person's active consent for client `$2` at provider `$3` at `$4` (`$1` pseudonym), the
/// newest if an earlier version of the service left several: its id, scope and lapse.
pub(super) const ACTIVE_CONSENT_FOR: &str = "SELECT id, scope, expires_at FROM consents WHERE pseudonym = $1 \
     AND client_id = $2 AND provider_id = $3 AND revoked_at IS NULL AND expires_at > $4 AND sharing = 0 \
     ORDER BY id DESC LIMIT 1";
/// Renews consent `$1`: scope `$2`, used at `$3`, lapsing at `$4`.
pub(super) const RENEW_CONSENT: &str =
    "UPDATE consents SET scope = $2, last_used_at = $3, expires_at = $4 WHERE id = $1";
/// A code: `$1` hash, `$2` consent, `$3` client, `$4` redirect URI, `$5` challenge, `$6` expiry.
pub(super) const INSERT_CODE: &str = "INSERT INTO authorization_codes (code_hash, consent_id, client_id, redirect_uri, \
     code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Spends code `$1` at `$2` if unspent; gives what was bound to it.
pub(super) const SPEND_CODE: &str = "UPDATE authorization_codes SET used_at = $2 WHERE code_hash = $1 \
     AND used_at IS NULL RETURNING consent_id, client_id, redirect_uri, code_challenge, expires_at";
/// The consent of code `$1`, spent or not.
pub(super) const CONSENT_OF_CODE: &str = "SELECT a.consent_id, c.handle FROM authorization_codes a \
     JOIN consents c ON c.id = a.consent_id WHERE a.code_hash = $1";
/// A refresh token: `$1` hash, `$2` consent, `$3` now, `$4` expiry.
pub(super) const INSERT_REFRESH_TOKEN: &str =
    "INSERT INTO refresh_tokens (token_hash, consent_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)";
/// The consent of refresh token `$1` and when it was spent, if it was.
pub(super) const REFRESH_TOKEN_STATE: &str = "SELECT t.consent_id, t.used_at, c.handle FROM refresh_tokens t \
     JOIN consents c ON c.id = t.consent_id WHERE t.token_hash = $1";
/// Revokes consent `$1` at `$2` for reason `$3`, unless revoked before.
pub(super) const REVOKE_CONSENT: &str =
    "UPDATE consents SET revoked_at = $2, revoked_why = $3 WHERE id = $1 AND revoked_at IS NULL";

/// Spends refresh token `$1` at `$2` if it is unspent, unexpired and its consent active; gives
/// its consent's id. The consent is checked by its id (a correlated EXISTS): SQLite evaluated
/// `consent_id IN (SELECT id FROM consents WHERE ...)` by listing every active consent first.
pub(super) const SPEND_REFRESH_TOKEN: &str = "UPDATE refresh_tokens SET used_at = $2 \
     WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM consents c WHERE c.id = refresh_tokens.consent_id \
     AND c.revoked_at IS NULL AND c.expires_at > $2) RETURNING consent_id";

pub(super) const CONSENT_COLUMNS: &str = "c.id, c.provider_id, p.name AS provider_name, p.display_name AS provider_display_name, \
     c.client_id, c.person_key, c.pseudonym, c.scope, c.granted_at, c.last_used_at, c.expires_at, c.revoked_at, c.handle";

/// Consent `$1`, with its provider's names, as [`CONSENT_COLUMNS`].
pub(super) fn consent_by_id() -> String {
    format!("SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.id = $1")
}

/// The consents pseudonym `$1` holds out at `$2`: not revoked, not lapsed, redeemed (a refresh
/// token exists); newest first.
pub(super) fn active_consents() -> String {
    format!(
        "SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id \
         WHERE c.pseudonym = $1 AND c.revoked_at IS NULL AND c.expires_at > $2 \
         AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.consent_id = c.id) \
         ORDER BY c.granted_at DESC, c.id DESC"
    )
}

/// The consent with handle `$1`.
pub(super) fn consent_by_handle() -> String {
    format!("SELECT {CONSENT_COLUMNS} FROM consents c JOIN providers p ON p.id = c.provider_id WHERE c.handle = $1")
}

/// Revokes consent `$1` if pseudonym `$2` holds it, at `$3` for reason `$4`; gives its handle.
pub(super) const REVOKE_CONSENT_OF: &str = "UPDATE consents SET revoked_at = $3, revoked_why = $4 \
     WHERE id = $1 AND pseudonym = $2 AND revoked_at IS NULL RETURNING handle";
/// The handles of the consents revoked at `$1` or later, with when, oldest first.
pub(super) const REVOKED_SINCE: &str =
    "SELECT handle, revoked_at FROM consents WHERE revoked_at >= $1 AND handle IS NOT NULL ORDER BY revoked_at";
/// Moves consent `$1`'s last use to `$2` and its lapse to `$3` (a rotation).
pub(super) const TOUCH_CONSENT: &str = "UPDATE consents SET last_used_at = $2, expires_at = $3 WHERE id = $1";

/// A browser session: `$1` id hash, `$2` kind, `$3` data, `$4` expiry.
pub(super) const INSERT_SESSION: &str =
    "INSERT INTO browser_sessions (id_hash, kind, data, expires_at) VALUES ($1, $2, $3, $4)";
/// The data of live session `$1` of kind `$2` at `$3`.
pub(super) const SESSION_DATA: &str =
    "SELECT data FROM browser_sessions WHERE id_hash = $1 AND kind = $2 AND expires_at > $3";
/// Replaces the data of session `$1` with `$2`.
pub(super) const UPDATE_SESSION: &str = "UPDATE browser_sessions SET data = $2 WHERE id_hash = $1";
/// Ends session `$1`.
pub(super) const DELETE_SESSION: &str = "DELETE FROM browser_sessions WHERE id_hash = $1";
/// What lapsed before `$1` and can be removed: sessions, and refresh tokens past their time.
pub(super) const PURGE_EXPIRED: [&str; 2] =
    ["DELETE FROM browser_sessions WHERE expires_at <= $1", "DELETE FROM refresh_tokens WHERE expires_at <= $1"];

/// A new consent's handle: 128 random bits.
pub(super) fn new_handle() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The scope of a renewed consent: what it held, then what the new authorization adds.
pub(super) fn renewed_scope(held: &str, asked: &str) -> String {
    let mut items: Vec<&str> = held.split_whitespace().collect();
    for item in asked.split_whitespace() {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    items.join(" ")
}
