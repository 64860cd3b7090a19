//! Server-side browser sessions of the authorization server (a PGO's request in progress, a
//! person managing their consents). The browser holds only a random id; the store keeps its hash
//! and the session's data (JSON, never a BSN) until it expires.

use crate::{Store, StoreError};
use sqlx::Row;

impl Store {
    /// Stores a new session.
    pub async fn create_session(
        &self,
        id_hash: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO browser_sessions (id_hash, kind, data, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(id_hash.to_owned())
            .bind(kind.to_owned())
            .bind(data.to_owned())
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The data of the live session `id_hash` of `kind`.
    pub async fn session(&self, id_hash: &str, kind: &str, now: i64) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT data FROM browser_sessions WHERE id_hash = $1 AND kind = $2 AND expires_at > $3")
            .bind(id_hash.to_owned())
            .bind(kind.to_owned())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| row.try_get("data")).transpose()?)
    }

    /// Replaces the data of session `id_hash`.
    pub async fn update_session(&self, id_hash: &str, data: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE browser_sessions SET data = $2 WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .bind(data.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends session `id_hash`; says whether it existed (so that a form posted twice acts once).
    pub async fn delete_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(id_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Removes sessions that expired before `now`, and codes that can no longer be redeemed, and
    /// refresh tokens past their time; returns how many rows went.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for sql in
            ["DELETE FROM browser_sessions WHERE expires_at <= $1", "DELETE FROM refresh_tokens WHERE expires_at <= $1"]
        {
            removed += sqlx::query(sql).bind(now).execute(&self.pool).await?.rows_affected();
        }
        Ok(removed)
    }
}
