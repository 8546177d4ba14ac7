//! The journal writer: one thread owns the file and commits in groups. Every command that
//! queued while the previous `fdatasync` ran goes into the next write and shares its sync,
//! so throughput grows with concurrency while each acknowledgement still waits for the disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::oneshot;

use super::book::{Book, Resolution, SlotKey};
use super::journal::{resolution_line, usage_line, Journal};
use super::usage::UsageRecord;
use super::MeterError;

/// The most commands one group commit takes.
const MAX_GROUP: usize = 4096;

/// What the writer is asked to do.
pub(crate) enum Command {
    /// Keep a batch (all or nothing); reply once it is durable.
    Record {
        hour: u64,
        records: Vec<UsageRecord>,
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
}

/// State the writer changes and others read.
#[derive(Debug)]
pub(crate) struct Shared {
    pub identity: String,
    book: Mutex<Book>,
    pub journal_bytes: AtomicU64,
}

impl Shared {
    pub fn new(identity: String, book: Book, journal_bytes: u64) -> Self {
        Shared {
            identity,
            book: Mutex::new(book),
            journal_bytes: AtomicU64::new(journal_bytes),
        }
    }

    /// The book; a poisoned lock only means a panic elsewhere, the data is still whole.
    pub fn book(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs until every sender is dropped.
pub(crate) fn run(mut journal: Journal, shared: Arc<Shared>, commands: Receiver<Command>) {
    while let Ok(first) = commands.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match commands.try_recv() {
                Ok(c) => group.push(c),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        commit(&mut journal, &shared, group);
        shared.journal_bytes.store(journal.len(), Ordering::Relaxed);
    }
}

type Reply = oneshot::Sender<Result<(), MeterError>>;

/// Applies a group to the book, writes it in one append, and answers everyone. The book is
/// locked throughout, so nobody sees usage that is not yet durable unless it becomes so.
fn commit(journal: &mut Journal, shared: &Shared, group: Vec<Command>) {
    let mut book = shared.book();
    let mut text = String::new();
    let mut applied: Vec<(u64, Vec<UsageRecord>)> = Vec::new();
    let mut resolutions: Vec<(SlotKey, u64)> = Vec::new();
    let mut waiting: Vec<Reply> = Vec::new();
    let mut barriers = Vec::new();
    let mut compact = None;
    for command in group {
        match command {
            Command::Record {
                hour,
                records,
                reply,
            } => match book.check(hour, &records) {
                Ok(()) => {
                    text.push_str(&usage_line(hour, &records));
                    book.add(hour, &records);
                    applied.push((hour, records));
                    waiting.push(reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
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
            for (hour, records) in &applied {
                book.remove(*hour, records);
            }
        }
    }
    for reply in waiting {
        let _ = reply.send(result.clone());
    }
    if let Some(oldest_hour) = compact {
        book.forget_before(oldest_hour);
        // A failed compaction leaves the old journal, which is still complete.
        let _ = journal.compact(&shared.identity, &book);
    }
    drop(book);
    for reply in barriers {
        let _ = reply.send(());
    }
}
