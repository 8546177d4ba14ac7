//! The journal writer: one thread owns the file and commits in groups. Every command that
//! queued while the previous `fdatasync` ran goes into the next write and shares its sync,
//! so throughput grows with concurrency while each acknowledgement still waits for the disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::book::{Book, Resolution, SlotKey};
use super::clock::hour_of;
use super::journal::Journal;
use super::keys::KeyHash;
use super::lines::{fix_line, resolution_line, usage_line};
use super::usage::UsageRecord;
use super::MeterError;

/// The most commands one group commit takes.
const MAX_GROUP: usize = 4096;
/// The journal is compacted when it reaches twice its size after the last compaction, and
/// at least this: keyed traffic appends a line per request, while the book it describes
/// stays the size of the key window.
const COMPACT_AT_LEAST: u64 = 16 << 20;
/// How long compaction keeps resolved hours, to recognise usage recorded after a report.
pub(crate) const KEEP_RESOLVED_SECONDS: u64 = 7 * 3600;

/// What the writer is asked to do.
pub(crate) enum Command {
    /// Keep a batch (all or nothing); reply once it is durable. A batch whose key is
    /// already kept is acknowledged without being added again.
    Record {
        hour: u64,
        /// When it was recorded (epoch seconds), for the key window.
        at: u64,
        key: Option<KeyHash>,
        records: Vec<UsageRecord>,
        reply: oneshot::Sender<Result<(), MeterError>>,
    },
    /// Fix a slot's request (its `Timestamp`) before its first attempt; reply once durable.
    Fix {
        key: SlotKey,
        timestamp: u64,
        reply: oneshot::Sender<Result<(), MeterError>>,
    },
    /// Mark a slot resolved up to `quantity`; reply once durable.
    Resolve {
        key: SlotKey,
        quantity: u64,
        how: Resolution,
        reply: oneshot::Sender<Result<(), MeterError>>,
    },
    /// Drop resolved hours before `oldest_hour` and rewrite the journal.
    Compact { oldest_hour: u64 },
    /// Reply once every earlier command is done.
    Barrier(oneshot::Sender<()>),
    /// Close the journal (releasing the directory's lock) and stop; reply once closed.
    /// Commands after it are never applied: their replies report failure.
    Close(std::sync::mpsc::Sender<()>),
}

/// State the writer changes and others read.
#[derive(Debug)]
pub(crate) struct Shared {
    pub identity: String,
    pub product_code: String,
    book: Mutex<Book>,
    pub journal_bytes: AtomicU64,
    /// Batches acknowledged again by their idempotency key, without adding usage.
    pub idempotent_replays: AtomicU64,
}

impl Shared {
    pub fn new(identity: String, product_code: String, book: Book, journal_bytes: u64) -> Self {
        Shared {
            identity,
            product_code,
            book: Mutex::new(book),
            journal_bytes: AtomicU64::new(journal_bytes),
            idempotent_replays: AtomicU64::new(0),
        }
    }

    /// The book; a poisoned lock only means a panic elsewhere, the data is still whole.
    pub fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs until every sender is dropped.
pub(crate) fn run(mut journal: Journal, shared: Arc<Shared>, commands: Receiver<Command>) {
    let mut compact_at = COMPACT_AT_LEAST.max(2 * journal.len());
    while let Ok(first) = commands.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match commands.try_recv() {
                Ok(c) => group.push(c),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let mut closers = Vec::new();
        let group: Vec<Command> = group
            .into_iter()
            .filter_map(|c| match c {
                Command::Close(reply) => {
                    closers.push(reply);
                    None
                }
                other => Some(other),
            })
            .collect();
        let latest = commit(&mut journal, &shared, group);
        if !closers.is_empty() {
            drop(journal);
            for reply in closers {
                let _ = reply.send(());
            }
            return;
        }
        if journal.len() >= compact_at {
            if let Some(at) = latest {
                let mut book = shared.book();
                book.forget_before(hour_of(at.saturating_sub(KEEP_RESOLVED_SECONDS)));
                // A failed compaction leaves the old journal, which is still complete.
                let _ = journal.compact(&shared.identity, &shared.product_code, &book);
            }
            compact_at = COMPACT_AT_LEAST.max(2 * journal.len());
        }
        shared.journal_bytes.store(journal.len(), Ordering::Relaxed);
    }
}

type Reply = oneshot::Sender<Result<(), MeterError>>;

/// Applies a group to the book, writes it in one append, and answers everyone. The book is
/// locked throughout, so nobody sees usage that is not yet durable unless it becomes so.
/// Returns the latest record time of the group, if it had records.
fn commit(journal: &mut Journal, shared: &Shared, group: Vec<Command>) -> Option<u64> {
    let mut book = shared.book();
    let mut text = String::new();
    let mut applied: Vec<(Vec<u64>, Vec<UsageRecord>)> = Vec::new();
    let mut new_keys: Vec<KeyHash> = Vec::new();
    let mut resolutions: Vec<(SlotKey, u64)> = Vec::new();
    let mut fixes: Vec<SlotKey> = Vec::new();
    let mut latest = None;
    let mut waiting: Vec<Reply> = Vec::new();
    let mut barriers = Vec::new();
    let mut compact = None;
    for command in group {
        match command {
            Command::Record {
                hour,
                at,
                key,
                records,
                reply,
            } => {
                latest = latest.max(Some(at));
                book.keys.expire(at);
                match (&key, book.check(hour, &records)) {
                    // Kept before this group: durable already. Kept in this group: durable
                    // when the group is, so it waits for the same write.
                    (Some(k), _) if book.keys.contains(k) => {
                        shared.idempotent_replays.fetch_add(1, Ordering::Relaxed);
                        if new_keys.contains(k) {
                            waiting.push(reply);
                        } else {
                            let _ = reply.send(Ok(()));
                        }
                    }
                    (_, Ok(())) => {
                        text.push_str(&usage_line(hour, key.as_ref().map(|k| (k, at)), &records));
                        let hours = book.add(hour, &records);
                        if let Some(k) = key {
                            book.keys.insert(k, at);
                            new_keys.push(k);
                        }
                        applied.push((hours, records));
                        waiting.push(reply);
                    }
                    (_, Err(e)) => {
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Fix {
                key,
                timestamp,
                reply,
            } => {
                // Applied in command order, as replay applies the lines: usage after the
                // fix goes to the next hour.
                text.push_str(&fix_line(&key, timestamp));
                if book.fix(&key, timestamp) {
                    fixes.push(key);
                }
                waiting.push(reply);
            }
            Command::Resolve {
                key,
                quantity,
                how,
                reply,
            } => {
                text.push_str(&resolution_line(&key, quantity, how));
                resolutions.push((key, quantity));
                waiting.push(reply);
            }
            Command::Compact { oldest_hour } => {
                compact = Some(compact.map_or(oldest_hour, |h: u64| h.max(oldest_hour)));
            }
            Command::Barrier(reply) => barriers.push(reply),
            Command::Close(_) => unreachable!("run takes Close out of the group"),
        }
    }
    let result = if text.is_empty() {
        Ok(())
    } else {
        journal.append(text.as_bytes())
    };
    match &result {
        Ok(()) => {
            for (key, quantity) in &resolutions {
                book.resolve(key, *quantity);
            }
        }
        Err(_) => {
            for (hours, records) in &applied {
                book.remove(hours, records);
            }
            for key in &fixes {
                book.unfix(key);
            }
            for key in &new_keys {
                book.keys.remove(key);
            }
        }
    }
    for reply in waiting {
        let _ = reply.send(result.clone());
    }
    if let Some(oldest_hour) = compact {
        book.forget_before(oldest_hour);
        // A failed compaction leaves the old journal, which is still complete.
        let _ = journal.compact(&shared.identity, &shared.product_code, &book);
    }
    drop(book);
    for reply in barriers {
        let _ = reply.send(());
    }
    latest
}
