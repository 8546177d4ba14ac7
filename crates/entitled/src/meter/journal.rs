//! The append-only journal: one JSON line per accepted batch or resolution, written and
//! `fdatasync`ed before anything is acknowledged. A batch is one line, so a torn write at a
//! crash loses the whole unacknowledged batch or nothing; the torn tail is cut off on open.
//!
//! Line kinds: `{"identity":ID}` (first line), `{"h":HOUR,"r":[[DIM,QTY,{TAGS}],..]}` usage,
//! and `{"h":HOUR,"d":DIM,"q":QTY,"how":"reported"|"duplicate"|"lost"}` resolutions.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::book::{Book, Resolution, SlotKey};
use super::usage::{Tags, UsageRecord};
use super::MeterError;

/// The journal's file name inside the journal directory.
pub const JOURNAL_FILE: &str = "usage.journal";

/// The open journal file.
#[derive(Debug)]
pub(crate) struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
}

/// What replaying a journal rebuilt.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    pub identity: Option<String>,
    pub book: Book,
}

impl Journal {
    /// Opens (or creates) `dir/usage.journal`, replays it, and cuts off a torn last line.
    pub fn open(dir: &Path) -> Result<(Journal, Replayed), MeterError> {
        let path = dir.join(JOURNAL_FILE);
        let err = |e: std::io::Error| MeterError::Journal {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if !dir.is_dir() {
            return Err(MeterError::Config(format!(
                "journal directory {} does not exist; create it (an emptyDir or task volume)",
                dir.display()
            )));
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
                Err(MeterError::Journal {
                    path: self.path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        }
    }

    /// Rewrites the journal as the book now stands (one usage line per slot plus its
    /// resolution), through a synced temporary file and an atomic rename.
    pub fn compact(&mut self, identity: &str, book: &Book) -> Result<(), MeterError> {
        let tmp = self.path.with_extension("journal.tmp");
        let err = |e: std::io::Error| MeterError::Journal {
            path: tmp.display().to_string(),
            reason: e.to_string(),
        };
        let mut text = identity_line(identity);
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
            text.push_str(&usage_line(*hour, &records));
            if let Some(q) = slot.resolved {
                text.push_str(&resolution_line(
                    &(*hour, dimension.clone()),
                    q,
                    Resolution::Reported,
                ));
            }
        }
        let mut file = File::create(&tmp).map_err(err)?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(err)?;
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
        }
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(err)?;
        self.len = text.len() as u64;
        Ok(())
    }
}

/// The first line: the identity the client tokens derive from.
pub(crate) fn identity_line(identity: &str) -> String {
    format!("{}\n", json!({ "identity": identity }))
}

/// One accepted batch.
pub(crate) fn usage_line(hour: u64, records: &[UsageRecord]) -> String {
    let r: Vec<Value> = records
        .iter()
        .map(|r| json!([r.dimension, r.quantity, r.tags]))
        .collect();
    format!("{}\n", json!({ "h": hour, "r": r }))
}

/// One slot resolved up to `quantity`.
pub(crate) fn resolution_line(key: &SlotKey, quantity: u64, how: Resolution) -> String {
    format!(
        "{}\n",
        json!({ "h": key.0, "d": key.1, "q": quantity, "how": how.as_str() })
    )
}

/// Rebuilds the book from complete lines; a line that does not parse is skipped (it can
/// only be a line that was never acknowledged).
fn replay(text: &[u8]) -> Replayed {
    let mut out = Replayed::default();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let Ok(v) = serde_json::from_slice::<Value>(line) else {
            continue;
        };
        if let Some(id) = v.get("identity").and_then(Value::as_str) {
            out.identity.get_or_insert_with(|| id.to_owned());
            continue;
        }
        let Some(hour) = v.get("h").and_then(Value::as_u64) else {
            continue;
        };
        if let Some(records) = v.get("r").and_then(Value::as_array) {
            let batch: Option<Vec<UsageRecord>> = records.iter().map(parse_record).collect();
            if let Some(batch) = batch {
                out.book.add(hour, &batch);
            }
        } else if let (Some(d), Some(q), Some(_)) = (
            v.get("d").and_then(Value::as_str),
            v.get("q").and_then(Value::as_u64),
            v.get("how")
                .and_then(Value::as_str)
                .and_then(Resolution::parse),
        ) {
            out.book.resolve(&(hour, d.to_owned()), q);
        }
    }
    out
}

fn parse_record(v: &Value) -> Option<UsageRecord> {
    let a = v.as_array()?;
    let tags: Tags = a
        .get(2)?
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect::<Option<_>>()?;
    Some(UsageRecord {
        dimension: a.first()?.as_str()?.to_owned(),
        quantity: a.get(1)?.as_u64()?,
        tags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_rebuilds_the_book_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, replayed) = Journal::open(dir.path()).unwrap();
        assert!(replayed.identity.is_none());
        let batch = [
            UsageRecord::new("users", 2).tag("team", "a"),
            UsageRecord::new("hosts", 1),
        ];
        let mut lines = identity_line("task-1");
        lines.push_str(&usage_line(3600, &batch));
        lines.push_str(&resolution_line(
            &(3600, "hosts".into()),
            1,
            Resolution::Reported,
        ));
        j.append(lines.as_bytes()).unwrap();
        // A crash mid-write leaves half a line.
        j.append(br#"{"h":3600,"r":[["users",1000"#).unwrap();
        drop(j);
        let (mut j, replayed) = Journal::open(dir.path()).unwrap();
        assert_eq!(replayed.identity.as_deref(), Some("task-1"));
        let users = &replayed.book.slots[&(3600, "users".to_owned())];
        assert_eq!((users.total, users.resolved), (2, None));
        assert_eq!(
            replayed.book.slots[&(3600, "hosts".to_owned())].resolved,
            Some(1)
        );
        assert_eq!(j.len(), lines.len() as u64, "the torn tail is cut off");
        // Compaction keeps the same book.
        j.compact("task-1", &replayed.book).unwrap();
        drop(j);
        let (_, again) = Journal::open(dir.path()).unwrap();
        assert_eq!(again.book.slots, replayed.book.slots);
        assert_eq!(again.identity.as_deref(), Some("task-1"));
    }
}
