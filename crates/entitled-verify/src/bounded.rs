//! Reading a file named by configuration without letting it block or grow.
//!
//! A path in a flag or an environment variable may name a FIFO (a read waits
//! for a writer that never comes), a character device such as `/dev/zero`
//! (a read never ends), a directory or a socket. The file is opened with
//! `O_NONBLOCK`, so even opening a FIFO returns at once, and its type and size
//! are taken from the opened descriptor (no race with a rename), before a
//! single byte is read.

use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What a file that is not a regular file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A directory.
    Directory,
    /// A named pipe.
    Fifo,
    /// A character device, such as `/dev/zero` or a terminal.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A Unix socket.
    Socket,
    /// Anything else.
    Other,
}

impl FileKind {
    fn of(meta: &Metadata) -> Self {
        let t = meta.file_type();
        if t.is_dir() {
            FileKind::Directory
        } else if t.is_fifo() {
            FileKind::Fifo
        } else if t.is_char_device() {
            FileKind::CharDevice
        } else if t.is_block_device() {
            FileKind::BlockDevice
        } else if t.is_socket() {
            FileKind::Socket
        } else {
            FileKind::Other
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a FIFO",
            FileKind::CharDevice => "a character device",
            FileKind::BlockDevice => "a block device",
            FileKind::Socket => "a socket",
            FileKind::Other => "not a regular file",
        })
    }
}

/// Why a bounded read refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BoundedReadError {
    /// The file could not be opened or read.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The path names something other than a regular file; nothing was read.
    #[error("{0}, not a regular file")]
    NotRegular(FileKind),
    /// The file is larger than the limit; at most `limit + 1` bytes were read.
    #[error("larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
}

/// Reads a regular file of at most `limit` bytes.
///
/// ```
/// use entitled_verify::bounded::{read_regular_file, BoundedReadError, FileKind};
///
/// let dir = std::env::temp_dir();
/// let err = read_regular_file(&dir, 1024).unwrap_err();
/// assert!(matches!(err, BoundedReadError::NotRegular(FileKind::Directory)));
/// let err = read_regular_file("/dev/zero", 1024).unwrap_err();
/// assert!(matches!(err, BoundedReadError::NotRegular(FileKind::CharDevice)));
/// ```
pub fn read_regular_file(path: impl AsRef<Path>, limit: u64) -> Result<Vec<u8>, BoundedReadError> {
    let file = open_regular(path.as_ref(), limit)?;
    let mut bytes = Vec::new();
    // One byte past the limit tells a file that grew since fstat.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Checks, without reading, that `path` is a regular file of at most `limit`
/// bytes, as [`read_regular_file`] would. For files that another library
/// reads later.
///
/// ```
/// use entitled_verify::bounded::{check_regular_file, BoundedReadError};
///
/// let err = check_regular_file("/dev/null", 1024).unwrap_err();
/// assert!(matches!(err, BoundedReadError::NotRegular(_)));
/// ```
pub fn check_regular_file(path: impl AsRef<Path>, limit: u64) -> Result<(), BoundedReadError> {
    open_regular(path.as_ref(), limit).map(drop)
}

fn open_regular(path: &Path, limit: u64) -> Result<File, BoundedReadError> {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
    // writer. O_NOCTTY: a terminal named here must not become ours.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(BoundedReadError::NotRegular(FileKind::of(&meta)));
    }
    if meta.len() > limit {
        return Err(BoundedReadError::TooLarge { limit });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_and_refuses_one_over_the_limit() {
        let dir = std::env::temp_dir().join(format!("bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_regular_file(&path, 5).unwrap(), b"12345");
        assert!(matches!(
            read_regular_file(&path, 4),
            Err(BoundedReadError::TooLarge { limit: 4 })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = std::env::temp_dir().join(format!("bounded-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        // Without O_NONBLOCK this open would never return.
        let err = read_regular_file(&fifo, 1024).unwrap_err();
        assert!(
            matches!(err, BoundedReadError::NotRegular(FileKind::Fifo)),
            "{err}"
        );
        assert_eq!(err.to_string(), "a FIFO, not a regular file");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
