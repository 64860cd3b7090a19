//! Changes that other instances on the same database must hear of, because they keep something
//! about them in memory: a person's Patient ids and records, providers, the MedMij lists, signing
//! keys, revoked consents.
//!
//! A writer announces a change inside the transaction that makes it (PostgreSQL `NOTIFY`, which
//! is delivered on commit and never for a rolled-back transaction, so no instance hears of a change
//! before it can read it). Every instance listens on one dedicated connection (`follow`) and
//! passes what it hears to its own subscribers; a process also tells its own subscribers at once
//! after a commit, on both backends. When the listening connection is lost, notifications may
//! have been missed: subscribers are told [`Change::Unknown`] and forget everything they keep.
//!
//! SQLite has no such channel (it serves one instance; another process on the same file, such as
//! `load`, is seen when the caches' short lifetimes end).

use crate::collection::Collections;
use crate::db::Tx;
use crate::sql::Sql;
use crate::{Backend, ProviderId, Store, StoreError};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::broadcast;

/// The PostgreSQL channel of the service's changes.
const CHANNEL: &str = "pgo_exchange_changes";

/// How many changes a slow subscriber may fall behind before it is told [`Change::Unknown`].
const BACKLOG: usize = 1024;

/// How long to wait before listening again after the listener failed to reconnect.
const RETRY: Duration = Duration::from_secs(1);

/// Something other instances keep in memory changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A provider's Patients (and so its persons' Patient ids) were written or deleted.
    Patients(ProviderId),
    /// Some of a provider's resources were written or deleted.
    Records(ProviderId),
    /// A provider was added or changed.
    Providers,
    /// A MedMij list (OAuth Client List, data-service names, Whitelist) was imported.
    Lists,
    /// A signing key was added or retired.
    SigningKeys,
    /// A consent was revoked.
    Revocations,
    /// Changes may have been missed: forget everything kept.
    Unknown,
}

impl Change {
    fn payload(self) -> String {
        match self {
            Change::Patients(provider) => format!("patients {}", provider.get()),
            Change::Records(provider) => format!("records {}", provider.get()),
            Change::Providers => "providers".to_owned(),
            Change::Lists => "lists".to_owned(),
            Change::SigningKeys => "signing-keys".to_owned(),
            Change::Revocations => "revocations".to_owned(),
            Change::Unknown => "unknown".to_owned(),
        }
    }

    /// The change a payload names; one this version does not know is taken as [`Change::Unknown`]
    /// (a newer instance may announce more), which is always safe.
    fn parse(payload: &str) -> Change {
        match payload.split_once(' ') {
            Some(("patients", id)) => id.parse().map_or(Change::Unknown, |id| Change::Patients(ProviderId(id))),
            Some(("records", id)) => id.parse().map_or(Change::Unknown, |id| Change::Records(ProviderId(id))),
            _ => match payload {
                "providers" => Change::Providers,
                "lists" => Change::Lists,
                "signing-keys" => Change::SigningKeys,
                "revocations" => Change::Revocations,
                _ => Change::Unknown,
            },
        }
    }
}

/// Where a process's subscribers hear of changes.
#[derive(Debug, Clone)]
pub(crate) struct ChangeFeed {
    sender: broadcast::Sender<Change>,
    /// The kept collections, told first and at once (not through a subscriber's task), so that no
    /// query after a change is heard is answered from what it made stale.
    collections: Arc<OnceLock<Collections>>,
}

impl ChangeFeed {
    pub(crate) fn new(collections: Arc<OnceLock<Collections>>) -> ChangeFeed {
        ChangeFeed { sender: broadcast::channel(BACKLOG).0, collections }
    }

    fn publish(&self, change: Change) {
        if let Some(collections) = self.collections.get() {
            collections.heard(&change);
        }
        // No subscriber is fine: nothing is kept that this change affects.
        let _ = self.sender.send(change);
    }
}

/// A subscriber's end of the feed.
#[derive(Debug)]
pub struct Changes {
    receiver: broadcast::Receiver<Change>,
}

impl Changes {
    /// The next change; [`Change::Unknown`] when this subscriber fell behind. `None` when the
    /// store is gone.
    pub async fn next(&mut self) -> Option<Change> {
        match self.receiver.recv().await {
            Ok(change) => Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(Change::Unknown),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl Store {
    /// Subscribes to the changes this process makes or hears of.
    pub fn changes(&self) -> Changes {
        Changes { receiver: self.changes.sender.subscribe() }
    }

    /// Commits `tx` with `changes` announced: to other instances on its commit (PostgreSQL
    /// `NOTIFY`, inside the transaction; nothing on SQLite), then to this process's subscribers.
    pub(crate) async fn commit_announcing(&self, mut tx: Tx, changes: &[Change]) -> Result<(), StoreError> {
        if self.db.backend() == Backend::Postgres {
            for change in changes {
                tx.execute(Sql::with(
                    "SELECT 1 AS n FROM pg_notify($1, $2)",
                    [CHANNEL.into(), change.payload().into()],
                ))
                .await?;
            }
        }
        tx.commit().await?;
        for change in changes {
            self.changes.publish(*change);
        }
        Ok(())
    }

    /// Listens for other instances' changes, for as long as the runtime runs, and passes them to
    /// this process's subscribers (PostgreSQL; `None` on SQLite). The listener connects before
    /// this returns, so a change committed after it is heard.
    pub async fn follow_changes(&self) -> Result<Option<tokio::task::JoinHandle<()>>, StoreError> {
        let Some(url) = self.url.as_ref() else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect(url.expose())
            .await
            .map_err(|error| StoreError::connect(url.expose(), error))?;
        listener.listen(CHANNEL).await?;
        let feed = self.changes.clone();
        Ok(Some(tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(notification)) => feed.publish(Change::parse(notification.payload())),
                    // The connection was lost; the next call reconnects and listens again.
                    Ok(None) => feed.publish(Change::Unknown),
                    Err(error) => {
                        tracing::warn!(error = %error, "listening for other instances' changes failed; trying again");
                        feed.publish(Change::Unknown);
                        tokio::time::sleep(RETRY).await;
                    }
                }
            }
        })))
    }
}

/// A database URL that may hold a password: never in a `Debug` or a log.
#[derive(Clone)]
pub(crate) struct ListenUrl(String);

impl ListenUrl {
    pub(crate) fn new(url: &str) -> ListenUrl {
        ListenUrl(url.to_owned())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ListenUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::redact(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_their_change_and_unknown_ones_are_safe() {
        for change in [
            Change::Patients(ProviderId(42)),
            Change::Records(ProviderId(7)),
            Change::Providers,
            Change::Lists,
            Change::SigningKeys,
            Change::Revocations,
        ] {
            assert_eq!(Change::parse(&change.payload()), change);
        }
        assert_eq!(Change::parse("patients x"), Change::Unknown);
        assert_eq!(Change::parse("something-newer 1"), Change::Unknown);
    }
}
