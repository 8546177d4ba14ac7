//! Files named by the environment that aws-config reads itself.
//!
//! aws-config reads the profile files, the web identity token file and the
//! ECS authorization token file with a plain blocking `read`, whole. A FIFO
//! there would block the check's thread for good, and `/dev/zero` would
//! grow memory until the process dies. Each named file that exists is
//! checked first, without blocking: it must be a regular file within a size
//! limit. A file that does not exist is left to aws-config, which treats a
//! missing profile file as empty and reports a missing token file itself.

use std::path::PathBuf;

use entitled_verify::bounded::{check_regular_file, BoundedReadError};

use crate::error::{CheckError, ConfigError};

/// Profile files are a few hundred bytes; a megabyte is no profile file.
pub const MAX_PROFILE_FILE_BYTES: u64 = 1024 * 1024;
/// A projected service-account token or an ECS authorization token is a
/// few KiB.
pub const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;

/// One file aws-config may read: the variable that names it, the default
/// path under `$HOME` when the variable is unset, and the size limit.
struct NamedFile {
    variable: &'static str,
    home_default: Option<&'static str>,
    limit: u64,
    /// A bad web identity token is an IRSA refusal (78), as a missing or
    /// expired one is, since the fix is the same: the pod's projected token.
    /// Any other bad file is a configuration error (64).
    irsa_token: bool,
}

const NAMED_FILES: &[NamedFile] = &[
    NamedFile {
        variable: "AWS_CONFIG_FILE",
        home_default: Some(".aws/config"),
        limit: MAX_PROFILE_FILE_BYTES,
        irsa_token: false,
    },
    NamedFile {
        variable: "AWS_SHARED_CREDENTIALS_FILE",
        home_default: Some(".aws/credentials"),
        limit: MAX_PROFILE_FILE_BYTES,
        irsa_token: false,
    },
    NamedFile {
        variable: "AWS_WEB_IDENTITY_TOKEN_FILE",
        home_default: None,
        limit: MAX_TOKEN_FILE_BYTES,
        irsa_token: true,
    },
    NamedFile {
        variable: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        home_default: None,
        limit: MAX_TOKEN_FILE_BYTES,
        irsa_token: false,
    },
];

/// Checks every file the environment names for aws-config. Blocking (it
/// opens files): run it off the async threads.
pub(crate) fn check_named_files() -> Result<(), CheckError> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    for named in NAMED_FILES {
        let path = match std::env::var_os(named.variable).filter(|v| !v.is_empty()) {
            Some(value) => expand_home(PathBuf::from(value), home.as_deref()),
            None => match (named.home_default, &home) {
                (Some(default), Some(home)) => PathBuf::from(home).join(default),
                _ => continue,
            },
        };
        match check_regular_file(&path, named.limit) {
            Ok(()) => {}
            // Missing or unreadable: aws-config reports what matters.
            Err(BoundedReadError::Io(_)) => {}
            Err(source) => {
                let err = ConfigError::EnvironmentFile {
                    variable: named.variable,
                    path: path.display().to_string(),
                    limit: named.limit,
                    source,
                };
                return Err(if named.irsa_token {
                    CheckError::web_identity_refused(err)
                } else {
                    err.into()
                });
            }
        }
    }
    Ok(())
}

/// aws-config expands a leading `~/` in the profile file variables.
fn expand_home(path: PathBuf, home: Option<&std::ffi::OsStr>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = std::ffi::OsStr::new("/home/app");
        assert_eq!(
            expand_home(PathBuf::from("~/.aws/config"), Some(home)),
            PathBuf::from("/home/app/.aws/config")
        );
        assert_eq!(
            expand_home(PathBuf::from("/etc/aws/config"), Some(home)),
            PathBuf::from("/etc/aws/config")
        );
    }
}
