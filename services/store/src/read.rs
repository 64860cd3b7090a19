//! Reading single resources: as the provider stored them, and as a PGO may see them (within the
//! patient's compartment, or a shared resource such as an Organization that the patient's
//! records point at).

use crate::reader::Extra;
use crate::search::{PatientScope, TypeProfiles, push_in_compartment, push_patients, push_profile_filter};
use crate::sql::Sql;
use crate::{ProviderId, Store, StoreError};
use fhir_core::Release;
use sqlx::Row;

/// A stored resource, current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResource {
    pub(crate) rid: i64,
    /// Type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// Current version.
    pub version_id: i64,
    /// When it was written (ms since the epoch).
    pub last_updated: i64,
    /// The JSON body, meta included.
    pub body: String,
}

/// The columns of `resources r` that make a `StoredResource`, in the order `stored_from_row` and
/// the SQLite reader expect.
pub(crate) const COLUMNS: &str = "r.rid, r.resource_type, r.id, r.version_id, r.last_updated, r.body";

pub(crate) fn stored_from_row(row: &sqlx::any::AnyRow) -> Result<StoredResource, sqlx::Error> {
    Ok(StoredResource {
        rid: row.try_get("rid")?,
        resource_type: row.try_get("resource_type")?,
        id: row.try_get("id")?,
        version_id: row.try_get("version_id")?,
        last_updated: row.try_get("last_updated")?,
        body: row.try_get("body")?,
    })
}

impl StoredResource {
    /// A resource that was never stored, for tests of code that renders resources.
    #[doc(hidden)]
    pub fn for_tests(resource_type: &str, id: &str, body: &str) -> StoredResource {
        StoredResource {
            rid: 0,
            resource_type: resource_type.to_owned(),
            id: id.to_owned(),
            version_id: 1,
            last_updated: 0,
            body: body.to_owned(),
        }
    }
}

impl Store {
    /// The current version of a resource as the provider stored it (deleted ones are absent).
    pub async fn read(
        &self,
        provider: ProviderId,
        release: Release,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM resources r \
             WHERE r.provider_id = $1 AND r.release = $2 AND r.resource_type = $3 AND r.id = $4 AND r.deleted = 0"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(provider.0)
            .bind(release.as_str().to_owned())
            .bind(resource_type.to_owned())
            .bind(id.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(stored_from_row).transpose()?)
    }

    /// A resource as a PGO may read it for the patient in `scope`: it must claim a profile the
    /// data service serves for its type, and be in the patient's compartment or be a shared
    /// resource (in no patient's compartment) that the patient's records refer to.
    #[tracing::instrument(skip_all, fields(provider = provider.get(), resource_type))]
    pub async fn read_for_patient(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        profiles: &TypeProfiles,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM resources r WHERE r.provider_id = "));
        sql.bind(provider.0)
            .push(" AND r.release = ")
            .bind(release.as_str().to_owned())
            .push(" AND r.resource_type = ")
            .bind(resource_type.to_owned())
            .push(" AND r.id = ")
            .bind(id.to_owned())
            .push(" AND r.deleted = 0 AND ");
        push_profile_filter(&mut sql, profiles, Some(resource_type));
        sql.push(" AND (");
        push_in_compartment(&mut sql, provider, release, scope);
        sql
            // A shared resource (an organisation, say) may be referred to by every patient; start
            // from this person's records, not from all references to it.
            .push(" OR (NOT EXISTS (SELECT 1 FROM compartment c2 WHERE c2.rid = r.rid) AND EXISTS (")
            .push(
                "SELECT 1 FROM compartment c3 CROSS JOIN search_reference x WHERE x.rid = c3.rid AND c3.provider_id = ",
            )
            .bind(provider.0)
            .push(" AND c3.release = ")
            .bind(release.as_str().to_owned())
            .push(" AND c3.patient_id IN ");
        push_patients(&mut sql, provider, release, scope);
        sql.push(" AND x.target_type = ")
            .bind(resource_type.to_owned())
            .push(" AND x.target_id = ")
            .bind(id.to_owned())
            .push(")))");
        let rows = self.reader.resources(sql, Extra { total: false, part: false }).await?;
        Ok(rows.into_iter().next().map(|row| row.resource))
    }

    /// The logical ids of the Patients of `release` whose person key is `person_key`.
    pub async fn patients_for_person(
        &self,
        provider: ProviderId,
        release: Release,
        person_key: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT k.patient_id FROM patient_keys k JOIN resources r ON r.rid = k.rid \
             WHERE k.provider_id = $1 AND k.release = $2 AND k.person_key = $3 AND r.deleted = 0 ORDER BY k.patient_id",
        )
        .bind(provider.0)
        .bind(release.as_str().to_owned())
        .bind(person_key.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| row.try_get("patient_id").map_err(StoreError::from)).collect()
    }

    /// Whether the provider holds a Patient, in any release, for this person key.
    pub async fn knows_person(&self, provider: ProviderId, person_key: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM patient_keys k JOIN resources r ON r.rid = k.rid \
             WHERE k.provider_id = $1 AND k.person_key = $2 AND r.deleted = 0",
        )
        .bind(provider.0)
        .bind(person_key.to_owned())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }
}
