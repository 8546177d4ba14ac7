//! The append-only journal file: lines (`lines.rs`) written and `fdatasync`ed before
//! anything is acknowledged. A batch is one line, so a torn write at a crash loses the whole
//! unacknowledged batch or nothing; the torn tail is cut off on open. The journal directory
//! is locked for as long as the journal is open: one process per journal.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::book::{Book, Resolution};
use super::keys::KeyHash;
use super::lines::{
    fix_line, identity_line, keys_line, replay, resolution_line, usage_line, Replayed,
};
use super::usage::UsageRecord;
use super::MeterError;

/// The journal's file name inside the journal directory.
pub const JOURNAL_FILE: &str = "usage.journal";
/// Compaction's temporary file, renamed over the journal when complete.
const COMPACTING_FILE: &str = "usage.journal.tmp";
/// Keys per line in a compacted journal.
const KEYS_PER_LINE: usize = 1024;

/// The open journal file, and the lock on its directory.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    /// Held, not used: the directory's exclusive lock lives as long as this handle.
    _lock: File,
}

/// A journal error with its cause named and the fix for it.
pub(crate) fn io_error(path: &Path, e: &std::io::Error) -> MeterError {
    use std::io::ErrorKind as K;
    let fix = match e.kind() {
        K::PermissionDenied => "give the process's user write access to it",
        K::NotADirectory => "a path component is not a directory; give a directory",
        K::StorageFull => "the volume is full; free space or give the volume more",
        K::ReadOnlyFilesystem => "the volume is read-only; mount it read-write",
        K::QuotaExceeded => "the disk quota is used up; raise it or free space",
        K::NotFound => "it was removed; give a directory that survives the process",
        _ => "check the volume",
    };
    MeterError::Journal {
        path: path.display().to_string(),
        reason: format!("{e}; {fix}"),
    }
}

impl Journal {
    /// Locks `dir`, removes a compaction's leftover, opens (or creates) `dir/usage.journal`,
    /// replays it, and cuts off a torn last line.
    pub fn open(dir: &Path) -> Result<(Journal, Replayed), MeterError> {
        match std::fs::metadata(dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(MeterError::Config(format!(
                    "journal directory {} is not a directory; give a directory (an emptyDir or task volume)",
                    dir.display()
                )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(MeterError::Config(format!(
                    "journal directory {} does not exist; create it (an emptyDir or task volume)",
                    dir.display()
                )))
            }
            Err(e) => return Err(io_error(dir, &e)),
        }
        let lock = lock(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let err = |e: std::io::Error| io_error(&path, &e);
        // A compaction cut short (SIGTERM, kill -9): the journal itself is still whole.
        let leftover = dir.join(COMPACTING_FILE);
        match std::fs::remove_file(&leftover) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io_error(&leftover, &e))
            }
            _ => {}
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(err)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text).map_err(err)?;
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let replayed = replay(&text[..complete]);
        if complete < text.len() {
            file.set_len(complete as u64).map_err(err)?;
            file.sync_data().map_err(err)?;
        }
        Ok((
            Journal {
                path,
                file,
                len: complete as u64,
                _lock: lock,
            },
            replayed,
        ))
    }

    /// The journal's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends whole lines and waits until they are on disk. On failure the file is cut back
    /// to where it was, so a half-written batch can never be replayed.
    pub fn append(&mut self, lines: &[u8]) -> Result<(), MeterError> {
        let result = self
            .file
            .write_all(lines)
            .and_then(|()| self.file.sync_data());
        match result {
            Ok(()) => {
                self.len += lines.len() as u64;
                Ok(())
            }
            Err(e) => {
                let _ = self.file.set_len(self.len);
                Err(io_error(&self.path, &e))
            }
        }
    }

    /// Rewrites the journal as the book now stands (per slot one usage line, its fixed
    /// request and its resolution; then the keys), streamed through a synced temporary file
    /// and an atomic rename.
    pub fn compact(
        &mut self,
        identity: &str,
        product_code: &str,
        book: &Book,
    ) -> Result<(), MeterError> {
        let tmp = self.path.with_file_name(COMPACTING_FILE);
        let err = |e: std::io::Error| io_error(&tmp, &e);
        let mut out = BufWriter::new(File::create(&tmp).map_err(err)?);
        let mut len = 0u64;
        let mut put = |out: &mut BufWriter<File>, line: String| {
            len += line.len() as u64;
            out.write_all(line.as_bytes())
        };
        put(&mut out, identity_line(identity, product_code)).map_err(err)?;
        for ((hour, dimension), slot) in &book.slots {
            let records: Vec<UsageRecord> = slot
                .by_tags
                .iter()
                .map(|(tags, q)| UsageRecord {
                    dimension: dimension.clone(),
                    quantity: *q,
                    tags: tags.clone(),
                })
                .collect();
            let key = (*hour, dimension.clone());
            put(&mut out, usage_line(*hour, None, &records)).map_err(err)?;
            if let Some(ts) = slot.timestamp {
                put(&mut out, fix_line(&key, ts)).map_err(err)?;
            }
            if let Some(q) = slot.resolved {
                put(&mut out, resolution_line(&key, q, Resolution::Reported)).map_err(err)?;
            }
        }
        let mut chunk: Vec<(KeyHash, u64)> = Vec::with_capacity(KEYS_PER_LINE);
        for (k, at) in book.keys.iter() {
            chunk.push((*k, at));
            if chunk.len() == KEYS_PER_LINE {
                put(&mut out, keys_line(&chunk)).map_err(err)?;
                chunk.clear();
            }
        }
        if !chunk.is_empty() {
            put(&mut out, keys_line(&chunk)).map_err(err)?;
        }
        let file = out.into_inner().map_err(|e| err(e.into_error()))?;
        file.sync_all().map_err(err)?;
        drop(file);
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        }
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        self.len = len;
        Ok(())
    }
}

/// Takes the directory's exclusive lock (`flock`), held until the journal closes; the
/// kernel drops it when the process dies, even by `kill -9`.
fn lock(dir: &Path) -> Result<File, MeterError> {
    let handle = File::open(dir).map_err(|e| io_error(dir, &e))?;
    match handle.try_lock() {
        Ok(()) => Ok(handle),
        Err(TryLockError::WouldBlock) => Err(MeterError::JournalInUse {
            dir: dir.display().to_string(),
        }),
        Err(TryLockError::Error(e)) => Err(io_error(dir, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::keys::key_hash;
    use super::super::lines::product_line;
    use super::*;
    use crate::meter::IdempotencyKey;

    #[test]
    fn replay_rebuilds_the_book_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, replayed) = Journal::open(dir.path()).unwrap();
        assert!(replayed.identity.is_none());
        let batch = [
            UsageRecord::new("users", 2).tag("team", "a"),
            UsageRecord::new("hosts", 1),
        ];
        let key = key_hash(&IdempotencyKey::new("req-1").unwrap());
        let mut lines = identity_line("task-1", "prod-a");
        lines.push_str(&usage_line(3600, Some((&key, 3700)), &batch));
        lines.push_str(&fix_line(&(3600, "hosts".into()), 7199));
        lines.push_str(&resolution_line(
            &(3600, "hosts".into()),
            1,
            Resolution::Reported,
        ));
        lines.push_str(&product_line("prod-b"));
        j.append(lines.as_bytes()).unwrap();
        // A crash mid-write leaves half a line.
        j.append(br#"{"h":3600,"r":[["users",1000"#).unwrap();
        drop(j);
        // A compaction cut short leaves its temporary file.
        std::fs::write(dir.path().join(COMPACTING_FILE), "partial").unwrap();
        let (mut j, replayed) = Journal::open(dir.path()).unwrap();
        assert!(!dir.path().join(COMPACTING_FILE).exists());
        assert_eq!(replayed.identity.as_deref(), Some("task-1"));
        assert_eq!(replayed.product_code.as_deref(), Some("prod-b"));
        let users = &replayed.book.slots[&(3600, "users".to_owned())];
        assert_eq!((users.total, users.resolved), (2, None));
        let hosts = &replayed.book.slots[&(3600, "hosts".to_owned())];
        assert_eq!((hosts.resolved, hosts.timestamp), (Some(1), Some(7199)));
        assert_eq!(j.len(), lines.len() as u64, "the torn tail is cut off");
        // Compaction keeps the same book.
        j.compact("task-1", "prod-b", &replayed.book).unwrap();
        drop(j);
        let (_, again) = Journal::open(dir.path()).unwrap();
        assert_eq!(again.book.slots, replayed.book.slots);
        assert_eq!(replayed.book.keys.len(), 1);
        assert_eq!(
            again.book.keys, replayed.book.keys,
            "keys survive compaction"
        );
        assert_eq!(again.identity.as_deref(), Some("task-1"));
        assert_eq!(again.product_code.as_deref(), Some("prod-b"));
    }

    #[test]
    fn journal_errors_name_their_cause() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        let cases = [
            (file.clone(), "is not a directory"),
            (dir.path().join("missing"), "does not exist"),
            (file.join("below"), "Not a directory"),
        ];
        for (path, cause) in cases {
            let err = Journal::open(&path).unwrap_err().to_string();
            assert!(err.contains(cause), "{}: {err}", path.display());
        }
        let full = io_error(
            &file,
            &std::io::Error::from(std::io::ErrorKind::StorageFull),
        );
        assert!(full.to_string().contains("the volume is full"), "{full}");
    }

    #[test]
    fn a_second_open_of_a_locked_directory_is_refused_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = Journal::open(dir.path()).unwrap();
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(matches!(err, MeterError::JournalInUse { .. }), "{err}");
        assert!(err.to_string().contains(&dir.path().display().to_string()));
        drop(first);
        Journal::open(dir.path()).expect("the lock goes with the journal");
    }
}
