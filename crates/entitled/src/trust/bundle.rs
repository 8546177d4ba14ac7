//! The CA bundles named in the environment, and the distribution's bundle,
//! each read once.
//!
//! `AWS_CA_BUNDLE` (the variable the AWS CLI and SDKs read), `SSL_CERT_FILE`
//! and `SSL_CERT_DIR` (OpenSSL's) may name the same certificates many times
//! over: on Debian, `/etc/ssl/certs` holds every root as a file, as a hash
//! link to that file, and again inside `ca-certificates.crt`. A file reached
//! twice (by a link, or named twice) is read once, and a certificate seen
//! before is not parsed again (see [`Roots`]).

use std::collections::HashSet;
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use entitled_verify::bounded::{read_regular_file, BoundedReadError};

use super::roots::Roots;
use super::{Warning, MAX_CA_FILE_BYTES};

/// Where the platform's CA bundle lives on Linux distributions (the same list
/// openssl-probe uses), first match wins.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
];
/// Used only where no bundle file exists.
const SYSTEM_CERT_DIR: &str = "/etc/ssl/certs";

/// The CA sources named in the environment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NamedSources {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl NamedSources {
    /// `AWS_CA_BUNDLE`, `SSL_CERT_FILE` and `SSL_CERT_DIR` (a `:`-separated
    /// list), as set and non-empty.
    pub fn from_env() -> Self {
        Self::from_values(
            env_set("AWS_CA_BUNDLE"),
            env_set("SSL_CERT_FILE"),
            env_set("SSL_CERT_DIR"),
        )
    }

    fn from_values(
        aws_ca_bundle: Option<OsString>,
        cert_file: Option<OsString>,
        cert_dir: Option<OsString>,
    ) -> Self {
        Self {
            files: [aws_ca_bundle, cert_file]
                .into_iter()
                .flatten()
                .map(PathBuf::from)
                .collect(),
            dirs: cert_dir
                .iter()
                .flat_map(std::env::split_paths)
                .filter(|dir| !dir.as_os_str().is_empty())
                .collect(),
        }
    }

    /// True when no CA source is named.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    /// Reads every named source into `roots`.
    pub fn load(&self, roots: &mut Roots, warnings: &mut Vec<Warning>) -> LoadStats {
        let mut reader = Reader::new(roots, warnings);
        for file in &self.files {
            reader.file(file);
        }
        for dir in &self.dirs {
            reader.dir(dir);
        }
        reader.stats
    }
}

/// Reads the distribution's bundle into `roots`: the first of the usual
/// bundle files that exists, else the files of `/etc/ssl/certs`.
pub(crate) fn load_system(roots: &mut Roots, warnings: &mut Vec<Warning>) -> LoadStats {
    let mut reader = Reader::new(roots, warnings);
    match SYSTEM_BUNDLES.iter().map(Path::new).find(|p| p.is_file()) {
        Some(bundle) => reader.file(bundle),
        None => reader.dir(Path::new(SYSTEM_CERT_DIR)),
    }
    reader.stats
}

/// What a load did, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct LoadStats {
    /// Files read.
    pub files_read: usize,
    /// Files not read again: a link to, or a second name of, a file read.
    pub files_seen_before: usize,
}

fn env_set(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

struct Reader<'a> {
    roots: &'a mut Roots,
    warnings: &'a mut Vec<Warning>,
    /// (device, inode) of every file read: a hash link and its target are
    /// one file.
    read: HashSet<(u64, u64)>,
    stats: LoadStats,
}

impl<'a> Reader<'a> {
    fn new(roots: &'a mut Roots, warnings: &'a mut Vec<Warning>) -> Self {
        Self {
            roots,
            warnings,
            read: HashSet::new(),
            stats: LoadStats::default(),
        }
    }

    fn file(&mut self, path: &Path) {
        if self.roots.full() {
            return;
        }
        // A missing file only means fewer roots; the embedded Amazon roots remain.
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if !self.read.insert((meta.dev(), meta.ino())) {
            self.stats.files_seen_before += 1;
            return;
        }
        if let Some(bytes) = self.read_ca_file(path) {
            self.stats.files_read += 1;
            self.roots.add_pem(&bytes);
        }
    }

    fn dir(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        // Every entry but directories (told from the entry itself, with no
        // stat): a FIFO or device here is skipped with a warning by the
        // bounded read, not silently.
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
            .map(|e| e.path())
            .collect();
        paths.sort();
        for path in paths {
            self.file(&path);
        }
    }

    /// A special or oversized file is not read at all, and is reported: it
    /// is a mistake someone will want to know about.
    fn read_ca_file(&mut self, path: &Path) -> Option<Vec<u8>> {
        match read_regular_file(path, MAX_CA_FILE_BYTES) {
            Ok(bytes) => Some(bytes),
            Err(BoundedReadError::Io(_)) => None,
            Err(problem) => {
                self.warnings.push(Warning::CaFileSkipped {
                    path: path.display().to_string(),
                    problem: problem.to_string(),
                });
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::roots::AMAZON_TRUST_SERVICES_ROOTS;

    /// The first Amazon root alone, as PEM.
    fn one_certificate() -> String {
        let end = "-----END CERTIFICATE-----\n";
        let at = AMAZON_TRUST_SERVICES_ROOTS.find(end).unwrap() + end.len();
        AMAZON_TRUST_SERVICES_ROOTS[..at].to_owned()
    }

    /// A certificate in a bundle file, a hash link to it and a copy, named
    /// as Debian's CI images name them (SSL_CERT_FILE inside SSL_CERT_DIR):
    /// the bundle is read once, the link not at all, and the copy's
    /// certificate is recognised without being parsed again.
    #[test]
    fn a_bundle_its_hash_link_and_a_copy_parse_the_certificate_once() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("ca-certificates.crt");
        std::fs::write(&bundle, one_certificate()).unwrap();
        std::os::unix::fs::symlink("ca-certificates.crt", dir.path().join("ce5e74ef.0")).unwrap();
        std::fs::write(dir.path().join("Amazon_Root_CA_1.pem"), one_certificate()).unwrap();

        let named = NamedSources::from_values(
            None,
            Some(bundle.clone().into()),
            Some(dir.path().as_os_str().into()),
        );
        let (mut roots, mut warnings) = (Roots::default(), Vec::new());
        let stats = named.load(&mut roots, &mut warnings);

        assert_eq!(
            stats,
            LoadStats {
                files_read: 2,
                files_seen_before: 2,
            },
            "the bundle and the copy are read; the link and the bundle again are not"
        );
        assert_eq!(roots.parsed, 1, "the certificate is parsed once");
        assert_eq!(roots.duplicates, 1, "the copy's certificate is recognised");
        assert_eq!(
            crate::trust::roots::usable_certificates(roots.pem().as_bytes()),
            1
        );
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn aws_ca_bundle_ssl_cert_file_and_each_directory_are_sources() {
        let named = NamedSources::from_values(
            Some("/a.pem".into()),
            Some("/b.pem".into()),
            Some("/c:/d:".into()),
        );
        assert_eq!(named.files, [PathBuf::from("/a.pem"), "/b.pem".into()]);
        assert_eq!(named.dirs, [PathBuf::from("/c"), "/d".into()]);
        assert!(NamedSources::from_values(None, None, None).is_empty());
    }

    #[test]
    fn an_oversized_bundle_is_skipped_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("bundle.pem");
        std::fs::write(&big, vec![b'#'; MAX_CA_FILE_BYTES as usize + 1]).unwrap();
        let named = NamedSources::from_values(Some(big.into()), None, None);
        let (mut roots, mut warnings) = (Roots::default(), Vec::new());
        let stats = named.load(&mut roots, &mut warnings);
        assert_eq!(stats.files_read, 0);
        assert!(
            matches!(&warnings[..], [Warning::CaFileSkipped { .. }]),
            "{warnings:?}"
        );
    }
}
