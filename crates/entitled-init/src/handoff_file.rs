//! `--check --handoff-file PATH`: the init-container hand-off. After a passed check the
//! guard writes the token and nonce (the format of `entitled::Handoff::to_file_text`) where
//! the app container, sharing the directory, re-verifies them with
//! `entitled::verify_handoff_from_file`.
//!
//! The file is written to a new temporary file in the same directory, created with mode 0600,
//! synced, then renamed over PATH: a reader sees the old file or the whole new one, never half
//! of one, and no other user can read the token at any point.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use entitled::Handoff;

/// Owner read and write only.
const MODE: u32 = 0o600;

/// Why the hand-off file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("hand-off file {path}: {reason}; point --handoff-file at a writable directory shared with the app container (an emptyDir or a task volume)")]
pub struct HandoffFileError {
    /// The file asked for.
    pub path: PathBuf,
    /// What failed.
    pub reason: String,
}

/// Before the check: PATH's directory must exist, and a file left at PATH by an earlier run
/// is removed, so that only a check that passes now leaves a hand-off file.
pub fn prepare(path: &Path) -> Result<(), HandoffFileError> {
    let dir = directory(path);
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(error(path, format!("{} is not a directory", dir.display()))),
        Err(e) => return Err(error(path, format!("directory {}: {e}", dir.display()))),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(error(path, format!("removing the earlier file: {e}"))),
    }
}

/// Writes `handoff` to `path` atomically with mode 0600.
pub fn write(path: &Path, handoff: &Handoff) -> Result<(), HandoffFileError> {
    let temp = temp_path(path);
    let result = write_new(&temp, handoff).and_then(|()| {
        std::fs::rename(&temp, path).map_err(|e| format!("renaming {}: {e}", temp.display()))
    });
    if result.is_err() {
        // Nothing half-written stays behind.
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|reason| error(path, reason))
}

/// Creates `temp` (never an existing file), writes the whole text and syncs it.
fn write_new(temp: &Path, handoff: &Handoff) -> Result<(), String> {
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(MODE)
        .open(temp)
        .map_err(|e| format!("creating {}: {e}", temp.display()))?;
    file.write_all(handoff.to_file_text().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("writing {}: {e}", temp.display()))
}

/// `.NAME.PID.tmp` next to `path`: same directory, so the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "handoff".into());
    directory(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

fn error(path: &Path, reason: String) -> HandoffFileError {
    HandoffFileError {
        path: path.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn handoff() -> Handoff {
        Handoff {
            token: "a.b.c".into(),
            nonce: "n".into(),
        }
    }

    #[test]
    fn writes_the_whole_file_owner_only_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handoff");
        std::fs::write(&path, "old").unwrap();
        write(&path, &handoff()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            handoff().to_file_text()
        );
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let entries = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "only the hand-off file");
    }

    #[test]
    fn a_missing_directory_is_refused_before_and_at_writing() {
        let path = Path::new("/nonexistent-entitled-dir/handoff");
        let err = prepare(path).unwrap_err().to_string();
        assert!(err.contains("/nonexistent-entitled-dir"), "{err}");
        assert!(write(path, &handoff()).is_err());
    }

    #[test]
    fn prepare_removes_an_earlier_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handoff");
        std::fs::write(&path, "old").unwrap();
        prepare(&path).unwrap();
        assert!(!path.exists());
        prepare(&path).unwrap();
    }
}
