//! The access-log writer: requests hand their entries to a queue and go on; one task writes them
//! in batches (one transaction per batch), gathering a batch for `LINGER` after its first entry,
//! asleep: it is woken once per batch, not once per entry. A full queue makes requests wait
//! rather than lose entries. Entries still queued when the process is killed are lost (at most a
//! batch interval's worth); a graceful stop writes them first (`flush`), and a flush writes at
//! once. What it committed, lost, and how long entries waited go to the application's metrics;
//! how many wait is read from the queue when scraped.

use service_metrics::AccessLogMetrics;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{AccessEntry, Store};
use tokio::sync::{Notify, mpsc, oneshot};

/// Entries waiting to be written, at most.
const QUEUE: usize = 65_536;
/// Entries per transaction, at most.
const BATCH: usize = 2_000;
/// How long a batch gathers entries. Every commit makes SQLite's other connections drop their
/// page caches; committing as entries came (thousands of times a second under load) halved the
/// searches per second (docs/benchmarks/metering.md).
const LINGER: Duration = Duration::from_millis(25);
/// Attempts at a failing batch before its entries are given up (and said to be lost).
const ATTEMPTS: u32 = 5;

enum Message {
    /// An entry, and when it was queued.
    Entry(Box<AccessEntry>, Instant),
    Flush(oneshot::Sender<()>),
}

/// Where requests put their entries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AccessLog {
    sender: mpsc::Sender<Message>,
    /// Cuts a batch's gathering short when a flush is queued.
    flushing: Arc<Notify>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Message::Entry(..) => "Entry",
            Message::Flush(_) => "Flush",
        })
    }
}

impl AccessLog {
    /// Starts the writer on the current tokio runtime. It runs until every `AccessLog` clone is
    /// dropped and the queue is written.
    pub fn start(store: Store) -> AccessLog {
        AccessLog::start_counted(store, AccessLogMetrics::default())
    }

    /// As `start`, counting what is written into `metrics`.
    pub fn start_counted(store: Store, metrics: AccessLogMetrics) -> AccessLog {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let flushing = Arc::new(Notify::new());
        tokio::spawn(write_batches(store, receiver, flushing.clone(), metrics));
        AccessLog { sender, flushing }
    }

    /// Entries (and flushes) waiting in the queue now.
    pub fn queued(&self) -> usize {
        self.sender.max_capacity() - self.sender.capacity()
    }

    /// Queues `entry`.
    pub async fn log(&self, entry: AccessEntry) {
        if self.sender.send(Message::Entry(Box::new(entry), Instant::now())).await.is_err() {
            tracing::error!("the access-log writer has stopped: an entry is lost");
        }
    }

    /// Returns once every entry queued before is written (or given up).
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Message::Flush(done)).await.is_ok() {
            self.flushing.notify_one();
            let _ = written.await;
        }
    }
}

async fn write_batches(
    store: Store,
    mut receiver: mpsc::Receiver<Message>,
    flushing: Arc<Notify>,
    metrics: AccessLogMetrics,
) {
    let mut messages = Vec::with_capacity(BATCH);
    loop {
        if receiver.recv_many(&mut messages, BATCH).await == 0 {
            return;
        }
        if !holds_flush(&messages) && messages.len() < BATCH {
            // Asleep rather than waiting in `recv`: waiting there, every entry queued woke this
            // task and the thread it runs on (an eventfd write by the request's thread, a return
            // from epoll here), some 8% of the service's processor time under load.
            tokio::select! {
                () = tokio::time::sleep(LINGER) => {}
                () = flushing.notified() => {}
            }
            while messages.len() < BATCH {
                let Ok(message) = receiver.try_recv() else { break };
                messages.push(message);
            }
        }
        let mut entries = Vec::with_capacity(messages.len());
        let mut queued = Vec::with_capacity(messages.len());
        let mut flushes = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Entry(entry, at) => {
                    entries.push(*entry);
                    queued.push(at);
                }
                Message::Flush(done) => flushes.push(done),
            }
        }
        if write(&store, &entries).await {
            metrics.committed(queued.into_iter(), Instant::now());
        } else {
            metrics.lost(entries.len());
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

fn holds_flush(messages: &[Message]) -> bool {
    messages.iter().any(|message| matches!(message, Message::Flush(_)))
}

/// Writes one batch, trying again a few times if the database fails; whether it was written.
async fn write(store: &Store, entries: &[AccessEntry]) -> bool {
    for attempt in 1..=ATTEMPTS {
        match store.usage().append_access_log(entries).await {
            Ok(()) => return true,
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(error = %error, attempt, "the access log could not be written; trying again");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(error) => {
                tracing::error!(error = %error, lost = entries.len(), "the access log could not be written: entries lost");
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use store::{AccessOutcome, Interaction};

    fn entry(index: usize) -> AccessEntry {
        AccessEntry {
            at: 1_000 + i64::try_from(index).unwrap(),
            client_id: Some("pgo.example.nl".into()),
            pseudonym: Some("pseudonym-a".into()),
            provider: "umcx".into(),
            data_service: "48".into(),
            interaction: Interaction::Search,
            resource_type: "Condition".into(),
            returned: vec![format!("Condition/{index}")],
            status: 200,
            outcome: AccessOutcome::Success,
            request_id: format!("request-{index}"),
            correlation_id: None,
            peer: None,
        }
    }

    async fn store(database: &test_support::TestDatabase) -> Store {
        let store = Store::connect(&database.url, 2).await.expect("connects");
        store.migrate().await.expect("migrates");
        store
    }

    async fn written(store: &Store) -> usize {
        store.usage().access_log_of("pseudonym-a", 100).await.expect("reads").len()
    }

    // The clock is paused: it moves only when every task waits on it, so these say what the
    // writer waits for, not how fast it is.

    #[tokio::test(start_paused = true)]
    async fn a_batch_is_written_once_it_has_gathered_for_the_linger() {
        let database = test_support::TestDatabase::create(test_support::Backend::Sqlite).await;
        let store = store(&database).await;
        let log = AccessLog::start(store.clone());
        for index in 0..3 {
            log.log(entry(index)).await;
        }
        tokio::time::sleep(LINGER / 2).await;
        assert_eq!(written(&store).await, 0, "written before the batch had gathered");
        // Entries queued while the writer sleeps join its batch.
        log.log(entry(3)).await;
        tokio::time::sleep(LINGER).await;
        assert_eq!(written(&store).await, 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flush_cuts_the_gathering_short() {
        let database = test_support::TestDatabase::create(test_support::Backend::Sqlite).await;
        let store = store(&database).await;
        let log = AccessLog::start(store.clone());
        log.log(entry(0)).await;
        tokio::task::yield_now().await;
        let started = tokio::time::Instant::now();
        log.flush().await;
        assert!(started.elapsed() < LINGER, "the flush waited for the batch to gather");
        assert_eq!(written(&store).await, 1);
        // And a flush with nothing queued returns too.
        log.flush().await;
        assert!(started.elapsed() < LINGER);
    }
}
