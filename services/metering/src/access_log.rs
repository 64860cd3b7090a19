//! The access-log writer: requests hand their entries to a queue and go on; one task writes them
//! in batches (one transaction per batch), gathering a batch for at most `LINGER` after its first
//! entry. A full queue makes requests wait rather than lose entries. Entries still queued when
//! the process is killed are lost (at most a batch interval's worth); a graceful stop writes them
//! first (`flush`), and a flush writes at once. What it committed, lost, and how long entries
//! waited go to the application's metrics; how many wait is read from the queue when scraped.

use service_metrics::AccessLogMetrics;
use std::time::{Duration, Instant};
use store::{AccessEntry, Store};
use tokio::sync::{mpsc, oneshot};

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
        tokio::spawn(write_batches(store, receiver, metrics));
        AccessLog { sender }
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
            let _ = written.await;
        }
    }
}

async fn write_batches(store: Store, mut receiver: mpsc::Receiver<Message>, metrics: AccessLogMetrics) {
    let mut messages = Vec::with_capacity(BATCH);
    loop {
        if receiver.recv_many(&mut messages, BATCH).await == 0 {
            return;
        }
        let deadline = tokio::time::Instant::now() + LINGER;
        let mut flush = messages.iter().any(|message| matches!(message, Message::Flush(_)));
        while !flush && messages.len() < BATCH {
            let seen = messages.len();
            match tokio::time::timeout_at(deadline, receiver.recv_many(&mut messages, BATCH - seen)).await {
                Ok(0) | Err(_) => break,
                Ok(_) => flush = messages[seen..].iter().any(|message| matches!(message, Message::Flush(_))),
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
