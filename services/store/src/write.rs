//! Writing resources: create, update and delete, each with its version row and search index
//! (its tables, and the copy of some of its rows in the resource's own row, `collection_index.rs`),
//! all of one call in one transaction.
//!
//! A write whose content equals the current version (ignoring `meta.versionId` and
//! `meta.lastUpdated`) creates no new version: loading the same data twice changes nothing.

use crate::db::Tx;
use crate::index_rows::{self, ROWS_PER_STATEMENT as ROWS_PER_INSERT, insert_rows};
use crate::sql::Sql;
use crate::{Change, ProviderId, Store, StoreError, collection_index};
use fhir_core::Release;
use fhir_core::date::{format_instant, now_millis};
use fhir_search::ResourceIndex;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// A resource to store, with everything derived from it.
#[derive(Debug, Clone)]
pub struct ResourceWrite {
    /// The release it is written in.
    pub release: Release,
    /// Its type.
    pub resource_type: String,
    /// Its logical id.
    pub id: String,
    /// The resource as sent; the store sets `meta.versionId` and `meta.lastUpdated`.
    pub resource: Value,
    /// A hash of the content without those two meta elements.
    pub content_hash: String,
    /// Its search index.
    pub index: ResourceIndex,
    /// For a Patient: the person keys (keyed hashes of its BSNs) that tokens use to find it.
    pub person_keys: Vec<String>,
    /// What a PGO receives of it when that differs from what is stored (its BSNs masked;
    /// `ingest::served`); stored beside it, with the same `meta`.
    pub served: Option<Value>,
}

/// One change.
#[derive(Debug, Clone)]
pub enum Write {
    /// Create or update.
    Put(Box<ResourceWrite>),
    /// Delete (the history is kept).
    Delete {
        /// Release.
        release: Release,
        /// Type.
        resource_type: String,
        /// Logical id.
        id: String,
    },
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A new resource, version 1 (or a deleted one brought back).
    Created,
    /// A new version of an existing resource.
    Updated,
    /// The content equals the current version; nothing was written.
    Unchanged,
    /// The resource was deleted.
    Deleted,
    /// There was nothing to delete.
    NotFound,
}

/// The result of one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// What happened.
    pub kind: WriteKind,
    /// Type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// The current version after the write (0 when nothing was found to delete).
    pub version_id: i64,
    /// When the current version was written (ms since the epoch).
    pub last_updated: i64,
    /// The current body, for creates, updates and unchanged writes.
    pub body: Option<String>,
}

struct PendingIndex {
    release: Release,
    resource_type: String,
    id: String,
    index: ResourceIndex,
    person_keys: Vec<String>,
}

impl Write {
    /// Whether it writes or deletes a Patient, and so may change whose Patient ids are whose.
    pub(crate) fn touches_patients(&self) -> bool {
        match self {
            Write::Put(write) => write.resource_type == "Patient",
            Write::Delete { resource_type, .. } => resource_type == "Patient",
        }
    }
}

impl Store {
    /// Applies `writes` for `provider` in one transaction: all of them, or (on an error) none.
    #[tracing::instrument(skip_all, fields(provider = provider.get(), writes = writes.len()))]
    pub async fn write(&self, provider: ProviderId, writes: Vec<Write>) -> Result<Vec<WriteOutcome>, StoreError> {
        let patients = writes.iter().any(Write::touches_patients);
        let mut tx = self.db.begin().await?;
        let applied = apply(&mut tx, provider, writes, now_millis()).await?;
        self.commit_announcing(tx, &resource_changes(provider, patients, &applied)).await?;
        Ok(applied.into_iter().map(|(outcome, _)| outcome).collect())
    }
}

/// What a resource write announces: its provider's Patients when it wrote one (`patients`), and
/// its provider's records when it wrote anything.
pub(crate) fn resource_changes(
    provider: ProviderId,
    patients: bool,
    applied: &[(WriteOutcome, Option<i64>)],
) -> Vec<Change> {
    let mut changes = Vec::new();
    if patients {
        changes.push(Change::Patients(provider));
    }
    if applied.iter().any(|(_, written)| written.is_some()) {
        changes.push(Change::Records(provider));
    }
    changes
}

/// Applies `writes` inside `tx`: each one's outcome, with the row it wrote a version of (none
/// when nothing was written).
pub(crate) async fn apply(
    tx: &mut Tx,
    provider: ProviderId,
    writes: Vec<Write>,
    now: i64,
) -> Result<Vec<(WriteOutcome, Option<i64>)>, StoreError> {
    let now_text = format_instant(now);
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut pending: HashMap<i64, PendingIndex> = HashMap::new();
    let mut cleared: Vec<i64> = Vec::new();
    let mut versions: Vec<(i64, i64, Option<String>)> = Vec::new();
    for write in writes {
        match write {
            Write::Put(write) => {
                let outcome = put(tx, provider, &write, now, &now_text).await?;
                let written = outcome.1.map(|(rid, _)| rid);
                if let Some((rid, kind)) = outcome.1 {
                    if kind == WriteKind::Updated {
                        cleared.push(rid);
                    }
                    versions.push((rid, outcome.0.version_id, outcome.0.body.clone()));
                    let write = *write;
                    pending.insert(
                        rid,
                        PendingIndex {
                            release: write.release,
                            resource_type: write.resource_type,
                            id: write.id,
                            index: write.index,
                            person_keys: write.person_keys,
                        },
                    );
                }
                outcomes.push((outcome.0, written));
            }
            Write::Delete { release, resource_type, id } => {
                let row = tx
                    .fetch_optional(Sql::with(
                        "UPDATE resources SET deleted = 1, version_id = version_id + 1, last_updated = $1, collection_index = NULL \
                         WHERE provider_id = $2 AND release = $3 AND resource_type = $4 AND id = $5 AND deleted = 0 \
                         RETURNING rid, version_id",
                        [
                            now.into(),
                            provider.0.into(),
                            release.as_str().into(),
                            resource_type.clone().into(),
                            id.clone().into(),
                        ],
                    ))
                    .await?;
                let outcome = match row {
                    Some(mut row) => {
                        let rid: i64 = row.take(0)?;
                        let version_id: i64 = row.take(1)?;
                        cleared.push(rid);
                        pending.remove(&rid);
                        versions.push((rid, version_id, None));
                        let outcome = WriteOutcome {
                            kind: WriteKind::Deleted,
                            resource_type,
                            id,
                            version_id,
                            last_updated: now,
                            body: None,
                        };
                        (outcome, Some(rid))
                    }
                    None => {
                        let outcome = WriteOutcome {
                            kind: WriteKind::NotFound,
                            resource_type,
                            id,
                            version_id: 0,
                            last_updated: now,
                            body: None,
                        };
                        (outcome, None)
                    }
                };
                outcomes.push(outcome);
            }
        }
    }
    clear_index(tx, &cleared).await?;
    // Fewer version rows per statement: each carries a whole body.
    insert_rows(
        tx,
        "resource_versions",
        "rid, version_id, last_updated, body",
        &versions,
        ROWS_PER_INSERT / 4,
        |sql, (rid, version_id, body)| {
            sql.bind(*rid).push(", ").bind(*version_id).push(", ").bind(now).push(", ").bind(body.clone());
        },
    )
    .await?;
    insert_index(tx, provider, &pending).await?;
    Ok(outcomes)
}

/// Creates or updates one resource. Returns its outcome and, when a version was written, its rid.
async fn put(
    tx: &mut Tx,
    provider: ProviderId,
    write: &ResourceWrite,
    now: i64,
    now_text: &str,
) -> Result<(WriteOutcome, Option<(i64, WriteKind)>), StoreError> {
    // Written as version 1; an update rewrites the body with its real version below. Most writes
    // of a bulk load are creates, which then cost one statement.
    let first_body = body_with_meta(&write.resource, 1, now_text)?;
    let served =
        |version_id| write.served.as_ref().map(|served| body_with_meta(served, version_id, now_text)).transpose();
    let row = tx
        .fetch_optional(Sql::with(
        "INSERT INTO resources (provider_id, release, resource_type, id, version_id, last_updated, deleted, content_hash, profiles, body, served, collection_index) \
         VALUES ($1, $2, $3, $4, 1, $5, 0, $6, $7, $8, $9, $10) \
         ON CONFLICT (provider_id, release, resource_type, id) DO UPDATE SET \
         version_id = resources.version_id + 1, last_updated = excluded.last_updated, deleted = 0, \
         content_hash = excluded.content_hash, profiles = excluded.profiles, body = excluded.body, served = excluded.served, \
         collection_index = excluded.collection_index \
         WHERE resources.content_hash <> excluded.content_hash OR resources.deleted = 1 \
         RETURNING rid, version_id",
        [
            provider.0.into(),
            write.release.as_str().into(),
            write.resource_type.clone().into(),
            write.id.clone().into(),
            now.into(),
            write.content_hash.clone().into(),
            profile_list(&write.index.profiles).into(),
            first_body.clone().into(),
            served(1)?.into(),
            collection_index::encode(&write.index.entries).into(),
        ],
    ))
    .await?;
    let Some(mut row) = row else {
        let mut current = tx
            .fetch_one(Sql::with(
                "SELECT version_id, last_updated, body FROM resources \
                 WHERE provider_id = $1 AND release = $2 AND resource_type = $3 AND id = $4",
                [
                    provider.0.into(),
                    write.release.as_str().into(),
                    write.resource_type.clone().into(),
                    write.id.clone().into(),
                ],
            ))
            .await?;
        let outcome = WriteOutcome {
            kind: WriteKind::Unchanged,
            resource_type: write.resource_type.clone(),
            id: write.id.clone(),
            version_id: current.take(0)?,
            last_updated: current.take(1)?,
            body: Some(current.take(2)?),
        };
        return Ok((outcome, None));
    };
    let rid: i64 = row.take(0)?;
    let version_id: i64 = row.take(1)?;
    let (kind, body) = if version_id == 1 {
        (WriteKind::Created, first_body)
    } else {
        let body = body_with_meta(&write.resource, version_id, now_text)?;
        tx.execute(Sql::with(
            "UPDATE resources SET body = $1, served = $2 WHERE rid = $3",
            [body.clone().into(), served(version_id)?.into(), rid.into()],
        ))
        .await?;
        (WriteKind::Updated, body)
    };
    let outcome = WriteOutcome {
        kind,
        resource_type: write.resource_type.clone(),
        id: write.id.clone(),
        version_id,
        last_updated: now,
        body: Some(body),
    };
    Ok((outcome, Some((rid, kind))))
}

/// The claimed profiles as stored in `resources.profiles`: `|a|b|`, so that each can be found
/// with its delimiters.
pub(crate) fn profile_list(profiles: &[String]) -> String {
    let mut list = String::from("|");
    for profile in profiles {
        list.push_str(profile);
        list.push('|');
    }
    list
}

/// The resource as stored: `meta.versionId` and `meta.lastUpdated` first in `meta`, `meta` right
/// after `id`, everything else exactly as sent.
pub(crate) fn body_with_meta(resource: &Value, version_id: i64, last_updated: &str) -> Result<String, StoreError> {
    let Value::Object(members) = resource else {
        return Ok(serde_json::to_string(resource)?);
    };
    let mut meta = Map::new();
    meta.insert("versionId".into(), Value::String(version_id.to_string()));
    meta.insert("lastUpdated".into(), Value::String(last_updated.to_owned()));
    if let Some(Value::Object(existing)) = members.get("meta") {
        for (name, value) in existing {
            if name != "versionId" && name != "lastUpdated" {
                meta.insert(name.clone(), value.clone());
            }
        }
    }
    let mut out = Map::with_capacity(members.len() + 1);
    let mut meta = Some(Value::Object(meta));
    for (name, value) in members {
        match name.as_str() {
            "meta" => {}
            "resourceType" | "id" => {
                out.insert(name.clone(), value.clone());
                if name == "id"
                    && let Some(meta) = meta.take()
                {
                    out.insert("meta".into(), meta);
                }
            }
            _ => {
                if let Some(meta) = meta.take() {
                    out.insert("meta".into(), meta);
                }
                out.insert(name.clone(), value.clone());
            }
        }
    }
    if let Some(meta) = meta.take() {
        out.insert("meta".into(), meta);
    }
    Ok(serde_json::to_string(&Value::Object(out))?)
}

/// Removes the index, compartment and person-key rows of the resources in rows `rids`.
async fn clear_index(tx: &mut Tx, rids: &[i64]) -> Result<(), StoreError> {
    index_rows::clear(tx, rids).await?;
    for chunk in rids.chunks(ROWS_PER_INSERT) {
        for table in ["compartment", "patient_keys"] {
            let mut sql = Sql::new(&format!("DELETE FROM {table} WHERE rid IN "));
            sql.bind_list(chunk.iter().copied());
            tx.execute(sql.once()).await?;
        }
    }
    Ok(())
}

async fn insert_index(
    tx: &mut Tx,
    provider: ProviderId,
    pending: &HashMap<i64, PendingIndex>,
) -> Result<(), StoreError> {
    let mut compartment = Vec::new();
    let mut keys = Vec::new();
    for (rid, entry) in pending {
        compartment.extend(entry.index.compartment.iter().map(|patient| (*rid, entry, patient)));
        keys.extend(entry.person_keys.iter().map(|key| (*rid, entry, key)));
    }
    index_rows::insert(
        tx,
        pending.iter().flat_map(|(rid, entry)| entry.index.entries.iter().map(|entry| (*rid, entry))).collect(),
    )
    .await?;
    insert_rows(
        tx,
        "compartment",
        "provider_id, release, patient_id, resource_type, rid",
        &compartment,
        ROWS_PER_INSERT,
        |sql, (rid, entry, patient)| {
            sql.bind(provider.0)
                .push(", ")
                .bind(entry.release.as_str().to_owned())
                .push(", ")
                .bind((*patient).clone())
                .push(", ")
                .bind(entry.resource_type.clone())
                .push(", ")
                .bind(*rid);
        },
    )
    .await?;
    insert_rows(
        tx,
        "patient_keys",
        "provider_id, release, person_key, patient_id, rid",
        &keys,
        ROWS_PER_INSERT,
        |sql, (rid, entry, key)| {
            sql.bind(provider.0)
                .push(", ")
                .bind(entry.release.as_str().to_owned())
                .push(", ")
                .bind((*key).clone())
                .push(", ")
                .bind(entry.id.clone())
                .push(", ")
                .bind(*rid);
        },
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meta_goes_after_id_with_version_first_and_the_rest_untouched() {
        let resource = json!({"resourceType": "Observation", "id": "o1", "status": "final",
            "meta": {"profile": ["p"], "versionId": "9"}, "valueQuantity": {"value": 72.0}});
        let body = body_with_meta(&resource, 3, "2026-11-23T10:00:00.000Z").expect("serialises");
        assert_eq!(
            body,
            r#"{"resourceType":"Observation","id":"o1","meta":{"versionId":"3","lastUpdated":"2026-11-23T10:00:00.000Z","profile":["p"]},"status":"final","valueQuantity":{"value":72.0}}"#
        );
    }

    #[test]
    fn decimals_keep_their_written_precision() {
        let resource: Value =
            serde_json::from_str(r#"{"resourceType":"Observation","valueQuantity":{"value":72.50}}"#).expect("json");
        let body = body_with_meta(&resource, 1, "x").expect("serialises");
        assert!(body.contains(r#""value":72.50"#), "{body}");
    }
}
