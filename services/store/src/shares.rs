//! What PGOs share with a provider (MedMij Delen): the shared resources stored as the provider's
//! own are, each with its provenance (which PGO, which data service, when, the request ids), and
//! the provider's feed of them with its acknowledgements.
//!
//! A share only ever creates: every write of it must be a new resource, or the whole share is
//! rolled back (`StoreError::NotNew`), so a PGO can never overwrite what the provider holds.

use crate::db::Row;
use crate::sql::Sql;
use crate::write::{Write, WriteKind, WriteOutcome, apply, resource_changes};
use crate::{ProviderId, Store, StoreError};
use fhir_core::Release;

/// Who shared, and under which request.
#[derive(Debug, Clone)]
pub struct Sharing {
    /// One id for the items sent together (a Bundle).
    pub share_id: String,
    /// The data service it was shared under.
    pub data_service: String,
    /// The PGO's OAuth client id.
    pub client_id: String,
    /// When (ms since the epoch).
    pub at: i64,
    /// The request's `MedMij-Request-ID`.
    pub request_id: String,
    /// The request's `X-Correlation-ID`, when sent.
    pub correlation_id: Option<String>,
}

/// One shared resource version in the provider's feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedItem {
    /// Its place in the provider's feed (increasing).
    pub seq: i64,
    /// The items sent together share it.
    pub share_id: String,
    /// Release, type, id and version of the resource as shared.
    pub release: Release,
    /// Type.
    pub resource_type: String,
    /// Logical id.
    pub id: String,
    /// The version written by the share.
    pub version_id: i64,
    /// The data service it was shared under.
    pub data_service: String,
    /// The PGO.
    pub client_id: String,
    /// When.
    pub shared_at: i64,
    /// The request ids.
    pub request_id: String,
    /// The correlation id, when sent.
    pub correlation_id: Option<String>,
    /// When the provider acknowledged it.
    pub acknowledged_at: Option<i64>,
    /// The resource as it was shared (that version's body).
    pub body: String,
}

impl Store {
    /// Stores `writes` (creates only) for `provider` as shared by `sharing`, in one transaction:
    /// all of them with their provenance, or none.
    #[tracing::instrument(skip_all, fields(provider = provider.get(), writes = writes.len()))]
    pub async fn share(
        &self,
        provider: ProviderId,
        sharing: &Sharing,
        writes: Vec<Write>,
    ) -> Result<Vec<WriteOutcome>, StoreError> {
        let patients = writes.iter().any(Write::touches_patients);
        let mut tx = self.db.begin().await?;
        let applied = apply(&mut tx, provider, writes, sharing.at).await?;
        for (outcome, rid) in &applied {
            let (WriteKind::Created, Some(rid)) = (outcome.kind, rid) else {
                // Dropping the transaction rolls everything of the share back.
                return Err(StoreError::NotNew(format!("{}/{}", outcome.resource_type, outcome.id)));
            };
            tx.execute(Sql::with(
                "INSERT INTO shared_items (provider_id, rid, version_id, share_id, data_service, client_id, \
                 shared_at, request_id, correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                [
                    provider.get().into(),
                    (*rid).into(),
                    outcome.version_id.into(),
                    sharing.share_id.clone().into(),
                    sharing.data_service.clone().into(),
                    sharing.client_id.clone().into(),
                    sharing.at.into(),
                    sharing.request_id.clone().into(),
                    sharing.correlation_id.clone().into(),
                ],
            ))
            .await?;
        }
        self.commit_announcing(tx, &resource_changes(provider, patients, &applied)).await?;
        Ok(applied.into_iter().map(|(outcome, _)| outcome).collect())
    }

    /// The provider's shared items of `release` after `after` in feed order, at most `limit`;
    /// only those not acknowledged yet when `unacknowledged` is set.
    pub async fn shared_items(
        &self,
        provider: ProviderId,
        release: Release,
        after: i64,
        limit: u32,
        unacknowledged: bool,
    ) -> Result<Vec<SharedItem>, StoreError> {
        let filter = if unacknowledged { "AND s.acknowledged_at IS NULL " } else { "" };
        let sql = format!(
            "SELECT s.seq, s.share_id, r.release, r.resource_type, r.id, s.version_id, s.data_service, \
             s.client_id, s.shared_at, s.request_id, s.correlation_id, s.acknowledged_at, v.body \
             FROM shared_items s JOIN resources r ON r.rid = s.rid \
             JOIN resource_versions v ON v.rid = s.rid AND v.version_id = s.version_id \
             WHERE s.provider_id = $1 AND r.release = $2 AND s.seq > $3 {filter}ORDER BY s.seq LIMIT $4"
        );
        let sql =
            Sql::with(&sql, [provider.get().into(), release.as_str().into(), after.into(), i64::from(limit).into()]);
        self.db.fetch_all(sql).await?.into_iter().map(shared_item).collect()
    }

    /// Marks the provider's items `seqs` acknowledged at `at` (those not acknowledged before);
    /// returns how many were marked. Another provider's items are never touched.
    pub async fn acknowledge_shared(&self, provider: ProviderId, seqs: &[i64], at: i64) -> Result<u64, StoreError> {
        if seqs.is_empty() {
            return Ok(0);
        }
        let mut sql = Sql::new("UPDATE shared_items SET acknowledged_at = ");
        sql.bind(at).push(" WHERE provider_id = ").bind(provider.get());
        sql.push(" AND acknowledged_at IS NULL AND seq IN ");
        sql.bind_list(seqs.iter().copied());
        self.db.execute(sql.once()).await
    }
}

/// A shared item's row, in the order `shared_items` selects it.
fn shared_item(mut row: Row) -> Result<SharedItem, StoreError> {
    let seq = row.take(0)?;
    let share_id = row.take(1)?;
    let release: String = row.take(2)?;
    Ok(SharedItem {
        seq,
        share_id,
        release: release.parse().map_err(|_| StoreError::Corrupt(format!("unknown release '{release}'")))?,
        resource_type: row.take(3)?,
        id: row.take(4)?,
        version_id: row.take(5)?,
        data_service: row.take(6)?,
        client_id: row.take(7)?,
        shared_at: row.take(8)?,
        request_id: row.take(9)?,
        correlation_id: row.take(10)?,
        acknowledged_at: row.take(11)?,
        body: row.take(12)?,
    })
}
