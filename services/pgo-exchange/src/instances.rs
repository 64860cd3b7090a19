//! What keeps an instance in step with the others on the same database: it listens for their
//! changes (`store::Change`, PostgreSQL `LISTEN`) and passes each to what it keeps in memory: the
//! FHIR API's caches (a person's Patient ids, providers), the authorization server's lists, the
//! signing keys, and the revocation watch, which then looks at once instead of at its next poll. Keys are also read again every
//! minute, so that a retired key stops verifying once its tokens have expired.

use crate::signing_keys::SigningKeys;
use authorization::AuthorizationServer;
use fhir_api::ApiState;
use std::sync::Arc;
use std::time::Duration;
use store::{Change, Store};

/// How often the signing keys are read even without a change.
const KEY_RELOAD: Duration = Duration::from_secs(60);

/// What keeps state that changes elsewhere make stale.
#[derive(Clone)]
pub(crate) struct Followers {
    pub(crate) api: Arc<ApiState>,
    pub(crate) authorization: Arc<AuthorizationServer>,
    pub(crate) keys: SigningKeys,
}

/// What follows the changes: the listener (PostgreSQL) and the task applying them.
pub(crate) struct Follower {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Follower {
    /// Starts listening (before it returns, so that a change committed afterwards is heard) and
    /// applying what is heard.
    pub(crate) async fn start(
        store: &Store,
        followers: Followers,
        revocations_wake: Arc<tokio::sync::Notify>,
    ) -> Follower {
        // Subscribed before listening, so that nothing heard is lost in between.
        let mut changes = store.changes();
        let mut tasks = Vec::new();
        match store.follow_changes().await {
            Ok(Some(listener)) => tasks.push(listener),
            Ok(None) => {}
            Err(error) => {
                // Serving goes on: the caches' lifetimes and the revocation poll still bound how
                // stale this instance can be.
                tracing::warn!(error = %error, "cannot listen for other instances' changes");
            }
        }
        tasks.push(tokio::spawn(async move {
            let mut reload = tokio::time::interval(KEY_RELOAD);
            reload.tick().await;
            loop {
                let change = tokio::select! {
                    change = changes.next() => match change {
                        Some(change) => change,
                        None => return,
                    },
                    _ = reload.tick() => Change::SigningKeys,
                };
                apply(change, &followers, &revocations_wake).await;
            }
        }));
        Follower { tasks }
    }

    /// Stops following.
    pub(crate) fn stop(self) {
        for task in self.tasks {
            task.abort();
        }
    }
}

async fn apply(change: Change, followers: &Followers, revocations_wake: &tokio::sync::Notify) {
    tracing::debug!(?change, "change heard");
    followers.api.forget_changed(change);
    if matches!(change, Change::Lists | Change::Unknown) {
        followers.authorization.reload_directory().await;
    }
    if matches!(change, Change::SigningKeys | Change::Unknown)
        && let Err(error) = followers.keys.reload().await
    {
        tracing::warn!(error = %error, "the signing keys could not be read again; the ones held go on");
    }
    if matches!(change, Change::Revocations | Change::Unknown) {
        revocations_wake.notify_one();
    }
}
