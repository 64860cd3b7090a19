//! The shared resources a collection's records refer to (a GP practice, an insurer, a
//! practitioner, a medication: in no one's compartment), which its `_include`s may serve. They are
//! found from the collection's own reference rows and kept apart from any one collection: the
//! persons of a provider refer to the same few, and reading them with every collection was a
//! fifth of a fill's work on SQLite and a quarter of the statement on PostgreSQL.
//!
//! A kept one is used under the same rules as a kept collection (`mod.rs`): only while nothing
//! was heard of its provider since it was read, and for at most [`LIFETIME`]; a collection that
//! takes it counts its own lifetime from when the oldest it took was read. Whether the rule
//! lets it be served is decided by the database when it is read (the same conditions the fill's
//! statement used), and a target the rule does not let through is kept as such.

use super::fill::Owner;
use super::kept::Weighed;
use super::{Collections, IndexRows, LIFETIME};
use crate::db::Extra;
use crate::read::{SERVED_COLUMNS, StoredResource};
use crate::sql::Sql;
use crate::visibility::{push_profile_filter, push_shared};
use crate::{ProviderId, Store, StoreError};
use fhir_core::Release;
use fhir_search::Scalar;
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// What a kept shared resource weighs besides its body.
const OVERHEAD: u64 = 512;

/// A shared resource, under one visibility rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SharedKey {
    provider: i64,
    release: Release,
    visibility: u64,
    resource_type: String,
    id: String,
}

/// A shared resource as read: `None` when the rule does not let it be served (or it is gone).
pub(super) struct Shared {
    generation: u64,
    read_at: Instant,
    resource: Option<StoredResource>,
}

impl Weighed for Arc<Shared> {
    fn weight(&self) -> u64 {
        let body = self.resource.as_ref().map_or(0, |resource| resource.body.len());
        OVERHEAD + u64::try_from(body).unwrap_or(u64::MAX)
    }
}

impl Collections {
    fn shared_current(&self, key: &SharedKey, provider: ProviderId) -> Option<Arc<Shared>> {
        let kept = self.shared.get(key)?;
        if kept.generation == self.generation(provider) && kept.read_at.elapsed() < LIFETIME {
            Some(kept)
        } else {
            self.shared.remove(key);
            None
        }
    }
}

/// The targets of `references` (a collection's reference rows) that only a shared resource can
/// be: of a type the rule may serve outside a compartment, and not among `records`.
fn shared_targets(owner: Owner<'_>, records: &[StoredResource], references: &IndexRows) -> BTreeSet<(String, String)> {
    let among_records: HashSet<(&str, &str)> =
        records.iter().map(|record| (record.resource_type.as_str(), record.id.as_str())).collect();
    let mut targets = BTreeSet::new();
    for row in references.all() {
        let [Scalar::Text(resource_type), Scalar::Text(id)] = row.cells.as_slice() else { continue };
        if owner.visibility.may_be_shared(resource_type)
            && !among_records.contains(&(resource_type.as_str(), id.as_str()))
        {
            targets.insert((resource_type.clone(), id.clone()));
        }
    }
    targets
}

impl Owner<'_> {
    /// The resource of this type and id, if the rule lets it be served outside a compartment, as
    /// [`SERVED_COLUMNS`]: one seek by the resources' key.
    pub(super) fn push_shared_resource(&self, sql: &mut Sql, resource_type: &str, id: &str) {
        sql.push(&format!("SELECT {SERVED_COLUMNS} FROM resources r WHERE r.provider_id = "))
            .bind(self.provider.0)
            .push(" AND r.release = ")
            .bind(self.release.as_str().to_owned())
            .push(" AND r.resource_type = ")
            .bind(resource_type.to_owned())
            .push(" AND r.id = ")
            .bind(id.to_owned())
            .push(" AND r.deleted = 0 AND ");
        push_profile_filter(sql, self.visibility, None);
        sql.push(" AND ");
        push_shared(sql, self.visibility);
    }
}

impl Store {
    /// The shared resources the collection's records refer to (by its reference rows) and the
    /// rule lets an `_include` serve: kept ones when current, the rest read now and kept; and
    /// when the oldest of them was read (the collection counts its lifetime from then, so that
    /// nothing it serves is older than [`LIFETIME`]). `generation` is the provider's, taken
    /// before the collection was read.
    pub(super) async fn shared_referenced(
        &self,
        collections: &Collections,
        owner: Owner<'_>,
        generation: u64,
        records: &[StoredResource],
        references: &IndexRows,
    ) -> Result<(Vec<StoredResource>, Option<Instant>), StoreError> {
        let mut shared = Vec::new();
        let mut oldest: Option<Instant> = None;
        for (resource_type, id) in shared_targets(owner, records, references) {
            let key = SharedKey {
                provider: owner.provider.get(),
                release: owner.release,
                visibility: owner.visibility.fingerprint(),
                resource_type,
                id,
            };
            let entry = match collections.shared_current(&key, owner.provider) {
                Some(kept) => kept,
                None => {
                    let mut sql = Sql::new("");
                    owner.push_shared_resource(&mut sql, &key.resource_type, &key.id);
                    let found = self.db.resources(sql, Extra { total: false, part: false }).await?;
                    let resource = found.into_iter().next().map(|row| row.resource);
                    let entry = Arc::new(Shared { generation, read_at: Instant::now(), resource });
                    // Kept only if nothing was heard since before the read.
                    if generation == collections.generation(owner.provider) {
                        collections.shared.insert(key, entry.clone());
                    }
                    entry
                }
            };
            oldest = Some(oldest.map_or(entry.read_at, |oldest| oldest.min(entry.read_at)));
            if let Some(resource) = &entry.resource {
                shared.push(resource.clone());
            }
        }
        Ok((shared, oldest))
    }
}
