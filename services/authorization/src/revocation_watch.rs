//! How every instance learns of the revocations the others make. The instance that revokes a
//! consent notes it in its own [`Revocations`] at once; the others ask the database, every
//! `every` (a second by default), for the consents revoked since they last asked, by the
//! moment of revocation (an indexed column). So a revocation reaches every instance serving the
//! same database within `every` and the time of one query, without a round trip per request.
//!
//! On PostgreSQL every revocation is also announced on commit (a trigger, `store::Change`), which
//! wakes the watch at once: the poll remains the bound when an announcement is missed.
//!
//! Each look reaches back a minute before the previous one began, so that a revocation
//! committed late, or stamped by an instance whose clock runs behind, is still seen; seeing one
//! twice costs nothing. A failed look is tried again from the same moment.

use access_token::Revocations;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};

/// How far each look reaches back before the previous one began.
const OVERLAP_MILLIS: i64 = 60_000;

/// Notes every consent revoked at `since` or later in `revocations`; gives the `since` of the
/// next look.
pub async fn catch_up(store: &Store, revocations: &Revocations, since: i64) -> Result<i64, StoreError> {
    let started = crate::server::now_millis();
    for (handle, _) in store.grants().consents_revoked_since(since).await? {
        revocations.revoke(&handle);
    }
    Ok(started - OVERLAP_MILLIS)
}

/// Looks every `every`, and at once whenever `wake` is notified (PostgreSQL announces every
/// revocation on commit), from `since` on, for as long as the runtime runs.
pub fn watch(
    store: Store,
    revocations: Arc<Revocations>,
    every: Duration,
    since: i64,
    wake: Arc<tokio::sync::Notify>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut since = since;
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = wake.notified() => {}
            }
            match catch_up(&store, &revocations, since).await {
                Ok(next) => since = next,
                Err(error) => tracing::warn!(error = %error, "revocations could not be read; trying again"),
            }
        }
    })
}
