//! The MedMij lists the service imports (OAuth Client List, data-service names, Whitelist), kept
//! as imported, one per kind. A list replaces the held one only when its `Volgnummer` is higher,
//! checked in the same statement that writes it.

use crate::sql::Sql;
use crate::{Change, Store, StoreError};

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
        let sql = Sql::with(
            "SELECT kind, volgnummer, tijdstempel, content, imported_at FROM medmij_lists WHERE kind = $1",
            [kind.into()],
        );
        let Some(mut row) = self.store.db.fetch_optional(sql).await? else { return Ok(None) };
        Ok(Some(HeldList {
            kind: row.take(0)?,
            volgnummer: row.take(1)?,
            tijdstempel: row.take(2)?,
            content: row.take(3)?,
            imported_at: row.take(4)?,
        }))
    }

    /// Stores `list` in place of the held one of its kind if its Volgnummer is higher; says
    /// whether it did.
    pub async fn replace_list(&self, list: &HeldList) -> Result<bool, StoreError> {
        let mut tx = self.store.db.begin().await?;
        let sql = Sql::with(
            "INSERT INTO medmij_lists (kind, volgnummer, tijdstempel, content, imported_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (kind) DO UPDATE SET volgnummer = excluded.volgnummer, tijdstempel = excluded.tijdstempel, \
             content = excluded.content, imported_at = excluded.imported_at \
             WHERE medmij_lists.volgnummer < excluded.volgnummer RETURNING kind",
            [
                list.kind.clone().into(),
                list.volgnummer.into(),
                list.tijdstempel.clone().into(),
                list.content.clone().into(),
                list.imported_at.into(),
            ],
        );
        let replaced = tx.fetch_optional(sql).await?.is_some();
        let changes: &[Change] = if replaced { &[Change::Lists] } else { &[] };
        self.store.commit_announcing(tx, changes).await?;
        Ok(replaced)
    }
}
