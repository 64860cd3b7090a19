//! The MedMij lists the service imports (OAuth Client List, data-service names, Whitelist), kept
//! as imported, one per kind. A list replaces the held one only when its `Volgnummer` is higher,
//! checked in the same statement that writes it.

use crate::{Change, Store, StoreError};
use sqlx::Row;

/// A list as held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldList {
    /// Which list (`oauth-clients`, `data-service-names`, `whitelist`).
    pub kind: String,
    /// Its sequence number.
    pub volgnummer: i64,
    /// Its timestamp, as written in the list.
    pub tijdstempel: String,
    /// The XML as imported.
    pub content: String,
    /// When it was imported (ms).
    pub imported_at: i64,
}

/// The MedMij lists the service holds (the newest of each kind). From [`Store::lists`].
#[derive(Debug, Clone, Copy)]
pub struct Lists<'a> {
    pub(crate) store: &'a Store,
}

impl Lists<'_> {
    /// The held list of `kind`.
    pub async fn held_list(&self, kind: &str) -> Result<Option<HeldList>, StoreError> {
        let row =
            sqlx::query("SELECT kind, volgnummer, tijdstempel, content, imported_at FROM medmij_lists WHERE kind = $1")
                .bind(kind.to_owned())
                .fetch_optional(&self.store.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(HeldList {
            kind: row.try_get("kind")?,
            volgnummer: row.try_get("volgnummer")?,
            tijdstempel: row.try_get("tijdstempel")?,
            content: row.try_get("content")?,
            imported_at: row.try_get("imported_at")?,
        }))
    }

    /// Stores `list` in place of the held one of its kind if its Volgnummer is higher; says
    /// whether it did.
    pub async fn replace_list(&self, list: &HeldList) -> Result<bool, StoreError> {
        let mut tx = self.store.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO medmij_lists (kind, volgnummer, tijdstempel, content, imported_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind) DO UPDATE SET volgnummer = excluded.volgnummer, tijdstempel = excluded.tijdstempel, \
             content = excluded.content, imported_at = excluded.imported_at \
             WHERE medmij_lists.volgnummer < excluded.volgnummer RETURNING kind",
        )
        .bind(list.kind.clone())
        .bind(list.volgnummer)
        .bind(list.tijdstempel.clone())
        .bind(list.content.clone())
        .bind(list.imported_at)
        .fetch_optional(&mut *tx)
        .await?;
        let replaced = row.is_some();
        let changes: &[Change] = if replaced { &[Change::Lists] } else { &[] };
        self.store.commit_announcing(tx, changes).await?;
        Ok(replaced)
    }
}
