//! The signing keys of the deployment, as every instance reads them: sealed private keys (the
//! store never sees one in the clear), when each was made, and when it stopped signing.

use crate::sql::Sql;
use crate::{Change, Store, StoreError};

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key's id (its JWK thumbprint).
    pub kid: String,
    /// The private key, sealed by the caller.
    pub sealed_key: Vec<u8>,
    /// When it was added (ms).
    pub created_at: i64,
    /// When it stopped signing (ms); `None`: it may sign.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Every signing key, oldest first.
    pub async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = Sql::new("SELECT kid, sealed_key, created_at, retired_at FROM signing_keys ORDER BY created_at, kid");
        let rows = self.db.fetch_all(sql).await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(StoredKey {
                    kid: row.take(0)?,
                    sealed_key: row.take(1)?,
                    created_at: row.take(2)?,
                    retired_at: row.take(3)?,
                })
            })
            .collect()
    }

    /// Adds `key` unless a key with its id is held; with `retire_others`, every other key still
    /// signing stops signing at `key.created_at` (a rotation). Says whether it was added.
    pub async fn add_signing_key(&self, key: &StoredKey, retire_others: bool) -> Result<bool, StoreError> {
        let mut tx = self.db.begin().await?;
        let added = tx
            .execute(Sql::with(
                "INSERT INTO signing_keys (kid, sealed_key, created_at, retired_at) VALUES ($1, $2, $3, NULL) \
                 ON CONFLICT (kid) DO NOTHING",
                [key.kid.clone().into(), key.sealed_key.clone().into(), key.created_at.into()],
            ))
            .await?
            > 0;
        if added && retire_others {
            tx.execute(Sql::with(
                "UPDATE signing_keys SET retired_at = $1 WHERE kid <> $2 AND retired_at IS NULL",
                [key.created_at.into(), key.kid.clone().into()],
            ))
            .await?;
        }
        let changes: &[Change] = if added { &[Change::SigningKeys] } else { &[] };
        self.commit_announcing(tx, changes).await?;
        Ok(added)
    }
}
