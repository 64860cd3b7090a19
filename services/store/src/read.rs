//! Reading single resources: as the provider stored them, and as a PGO may see them (within the
//! patient's compartment, or a shared resource such as an Organization that the patient's
//! records point at).

use crate::collection::Owner;
use crate::db::{Extra, stored_resource};
use crate::sql::Sql;
use crate::visibility::{
    PatientScope, Visibility, push_in_compartment, push_patients, push_profile_filter, push_shared,
};
use crate::{ProviderId, Store, StoreError};
use data_services::Ownership;
use fhir_core::Release;

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

/// The columns of `resources r` that make a `StoredResource`, in the order `db::stored_resource`
/// takes them.
pub(crate) const COLUMNS: &str = "r.rid, r.resource_type, r.id, r.version_id, r.last_updated, r.body";

/// As [`COLUMNS`], with the body a PGO receives (`resources.served`, the stored body without its
/// BSNs, where the two differ): every PGO read selects these.
pub(crate) const SERVED_COLUMNS: &str =
    "r.rid, r.resource_type, r.id, r.version_id, r.last_updated, COALESCE(r.served, r.body) AS body";

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
        let sql = Sql::with(&sql, [provider.0.into(), release.as_str().into(), resource_type.into(), id.into()]);
        let row = self.db.fetch_optional(sql).await?;
        row.map(|mut row| stored_resource(&mut row)).transpose()
    }

    /// A resource as a PGO may read it for the patient in `scope` (`visibility.rs`): it must
    /// claim a profile the data service serves for its type, and be in the patient's compartment
    /// or be shared and referred to by the patient's records.
    #[tracing::instrument(skip_all, fields(provider = provider.get(), resource_type))]
    pub async fn read_for_patient(
        &self,
        provider: ProviderId,
        release: Release,
        scope: &PatientScope,
        visibility: &Visibility,
        resource_type: &str,
        id: &str,
    ) -> Result<Option<StoredResource>, StoreError> {
        let Some(ownership) = visibility.ownership(resource_type) else { return Ok(None) };
        let own_record = matches!(ownership, Ownership::Patient | Ownership::Compartment);
        if own_record {
            let owner = Owner { provider, release, scope, visibility };
            // The collection holds every record of the person the data service lets them see.
            if let Some(collection) = self.collection(owner).await? {
                return Ok(collection.record(resource_type, id).cloned());
            }
        }
        let mut sql = Sql::new(&format!("SELECT {SERVED_COLUMNS} FROM resources r WHERE r.provider_id = "));
        sql.bind(provider.0)
            .push(" AND r.release = ")
            .bind(release.as_str().to_owned())
            .push(" AND r.resource_type = ")
            .bind(resource_type.to_owned())
            .push(" AND r.id = ")
            .bind(id.to_owned())
            .push(" AND r.deleted = 0 AND ");
        push_profile_filter(&mut sql, visibility, Some(resource_type));
        sql.push(" AND ");
        if own_record {
            push_in_compartment(&mut sql, provider, release, scope);
            let rows = self.db.resources(sql, Extra { total: false, part: false }).await?;
            return Ok(rows.into_iter().next().map(|row| row.resource));
        }
        sql.push("(");
        if ownership == Ownership::CompartmentWhenNamed {
            push_in_compartment(&mut sql, provider, release, scope);
            sql.push(" OR ");
        }
        sql.push("(");
        push_shared(&mut sql, visibility);
        sql
            // A shared resource (an organisation, say) may be referred to by every patient; start
            // from this person's records, not from all references to it.
            .push(" AND EXISTS (")
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
        let rows = self.db.resources(sql, Extra { total: false, part: false }).await?;
        Ok(rows.into_iter().next().map(|row| row.resource))
    }

    /// The logical ids of the Patients of `release` whose person key is `person_key`.
    pub async fn patients_for_person(
        &self,
        provider: ProviderId,
        release: Release,
        person_key: &str,
    ) -> Result<Vec<String>, StoreError> {
        let sql = Sql::with(
            "SELECT k.patient_id FROM patient_keys k JOIN resources r ON r.rid = k.rid \
             WHERE k.provider_id = $1 AND k.release = $2 AND k.person_key = $3 AND r.deleted = 0 ORDER BY k.patient_id",
            [provider.0.into(), release.as_str().into(), person_key.into()],
        );
        self.db.fetch_all(sql).await?.into_iter().map(|mut row| row.take(0)).collect()
    }

    /// Whether the provider holds a Patient, in any release, for this person key.
    pub async fn knows_person(&self, provider: ProviderId, person_key: &str) -> Result<bool, StoreError> {
        let sql = Sql::with(
            "SELECT COUNT(*) AS n FROM patient_keys k JOIN resources r ON r.rid = k.rid \
             WHERE k.provider_id = $1 AND k.person_key = $2 AND r.deleted = 0",
            [provider.0.into(), person_key.into()],
        );
        Ok(self.db.count(sql).await? > 0)
    }
}

/// A current resource in no patient's compartment, as `Store::uncompartmented` finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncompartmented {
    /// The provider's name.
    pub provider: String,
    /// Type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// The stored body.
    pub body: String,
}

impl Store {
    /// Every current resource of `release` of one of `types` that is in no patient's
    /// compartment, in every provider (for `pgo-exchange check`: the records that rule of
    /// ingest would refuse, stored before it or past it).
    pub async fn uncompartmented(
        &self,
        release: Release,
        types: &[String],
    ) -> Result<Vec<Uncompartmented>, StoreError> {
        if types.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT p.name AS provider, r.resource_type, r.id, r.body FROM resources r JOIN providers p ON p.id = r.provider_id \
             WHERE r.deleted = 0 AND r.release = ",
        );
        sql.bind(release.as_str().to_owned()).push(" AND r.resource_type IN ");
        sql.bind_list(types.iter().cloned());
        sql.push(
            " AND NOT EXISTS (SELECT 1 FROM compartment c WHERE c.rid = r.rid) ORDER BY p.name, r.resource_type, r.id",
        );
        let rows = self.db.fetch_all(sql.once()).await?;
        rows.into_iter()
            .map(|mut row| {
                Ok(Uncompartmented {
                    provider: row.take(0)?,
                    resource_type: row.take(1)?,
                    id: row.take(2)?,
                    body: row.take(3)?,
                })
            })
            .collect()
    }
}
