//! Providers: the tenants of the service. A provider has a MedMij name (`umcx`, published as
//! `umcx@medmij`), a display name, the data services it offers and the hash of its ingest key.

use crate::db::Row;
use crate::sql::Sql;
use crate::{Change, Store, StoreError};

/// The database id of a provider. Every resource query is restricted by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderId(pub(crate) i64);

impl ProviderId {
    /// The raw id, for logs.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// Database id.
    pub id: ProviderId,
    /// MedMij name without `@medmij`.
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// Ids of the data services offered, in ascending order.
    pub data_services: Vec<String>,
    /// SHA-256 (hex) of the ingest key, if one is set.
    pub ingest_key_hash: Option<String>,
    /// When what the ZAL publishes of it last changed (ms since the epoch).
    pub updated_at: i64,
}

impl Provider {
    /// The name as published in the ZAL: `umcx@medmij`.
    pub fn medmij_name(&self) -> String {
        format!("{}@medmij", self.name)
    }

    /// Whether the provider offers data service `id`.
    pub fn offers(&self, id: &str) -> bool {
        self.data_services.iter().any(|offered| offered == id)
    }
}

/// A provider to create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProvider {
    /// MedMij name without `@medmij`.
    pub name: String,
    /// Name shown to people.
    pub display_name: String,
    /// Ids of the data services offered.
    pub data_services: Vec<String>,
}

/// Path segments the service uses for itself; a provider may not take one as its name.
pub const RESERVED_NAMES: &[&str] = &[
    "admin", "api", "auditor", "auth", "consent", "demo", "digid", "health", "ingest", "login", "logout", "medmij",
    "metadata", "metrics", "oauth", "static",
];

/// Checks a provider name: lower-case letters only (the MedMij rule), and not reserved.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(format!("provider name '{name}' must be lower-case letters a-z only (e.g. umcx)"));
    }
    if RESERVED_NAMES.contains(&name) {
        return Err(format!("provider name '{name}' is reserved for the service's own paths"));
    }
    Ok(())
}

fn sorted_services(services: &[String]) -> String {
    let mut ids: Vec<&String> = services.iter().collect();
    ids.sort_by_key(|id| (id.parse::<u64>().unwrap_or(u64::MAX), id.as_str().to_owned()));
    ids.dedup();
    ids.iter().map(|id| id.as_str()).collect::<Vec<_>>().join(",")
}

/// A provider's row: [`COLUMNS`] in order.
fn from_row(mut row: Row) -> Result<Provider, StoreError> {
    let id = ProviderId(row.take(0)?);
    let name = row.take(1)?;
    let display_name = row.take(2)?;
    let services: String = row.take(3)?;
    Ok(Provider {
        id,
        name,
        display_name,
        data_services: services.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect(),
        ingest_key_hash: row.take(4)?,
        updated_at: row.take(5)?,
    })
}

const COLUMNS: &str = "id, name, display_name, data_services, ingest_key_hash, updated_at";

impl Store {
    /// Creates a provider; fails if the name is taken.
    pub async fn create_provider(
        &self,
        new: &NewProvider,
        ingest_key_hash: Option<&str>,
    ) -> Result<Provider, StoreError> {
        if self.provider(&new.name).await?.is_some() {
            return Err(StoreError::ProviderExists(new.name.clone()));
        }
        self.upsert_provider(new, ingest_key_hash).await
    }

    /// Creates a provider or updates its display name and data services (and its ingest key hash
    /// when one is given). Used for providers declared in the configuration.
    pub async fn upsert_provider(
        &self,
        new: &NewProvider,
        ingest_key_hash: Option<&str>,
    ) -> Result<Provider, StoreError> {
        let sql = format!(
            "INSERT INTO providers (name, display_name, data_services, ingest_key_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET display_name = excluded.display_name, \
             data_services = excluded.data_services, \
             ingest_key_hash = COALESCE(excluded.ingest_key_hash, providers.ingest_key_hash), \
             updated_at = CASE WHEN providers.display_name = excluded.display_name \
                 AND providers.data_services = excluded.data_services THEN providers.updated_at \
                 ELSE excluded.updated_at END \
             RETURNING {COLUMNS}"
        );
        let now = fhir_core::date::now_millis();
        let sql = Sql::with(
            &sql,
            [
                new.name.clone().into(),
                new.display_name.clone().into(),
                sorted_services(&new.data_services).into(),
                ingest_key_hash.map(str::to_owned).into(),
                now.into(),
                now.into(),
            ],
        );
        let mut tx = self.db.begin().await?;
        let provider = from_row(tx.fetch_one(sql).await?)?;
        self.commit_announcing(tx, &[Change::Providers]).await?;
        Ok(provider)
    }

    /// Sets the hash of a provider's ingest key, replacing any previous one.
    pub async fn set_ingest_key_hash(&self, provider: ProviderId, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::with(
            "UPDATE providers SET ingest_key_hash = $1 WHERE id = $2",
            [hash.into(), provider.0.into()],
        ))
        .await?;
        self.commit_announcing(tx, &[Change::Providers]).await?;
        Ok(())
    }

    /// The provider called `name`.
    pub async fn provider(&self, name: &str) -> Result<Option<Provider>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM providers WHERE name = $1");
        let row = self.db.fetch_optional(Sql::with(&sql, [name.into()])).await?;
        row.map(from_row).transpose()
    }

    /// Every provider, by name.
    pub async fn providers(&self) -> Result<Vec<Provider>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM providers ORDER BY name");
        self.db.fetch_all(Sql::new(&sql)).await?.into_iter().map(from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lower_case_letters_and_not_reserved() {
        assert!(check_name("umcx").is_ok());
        assert!(check_name("UMCX").is_err());
        assert!(check_name("umc-x").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("medmij").is_err());
    }

    #[test]
    fn services_are_kept_in_numeric_order() {
        assert_eq!(sorted_services(&["63".into(), "48".into(), "48".into(), "100".into()]), "48,63,100");
    }
}
