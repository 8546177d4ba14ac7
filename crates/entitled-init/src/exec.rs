//! Becoming the program: execvp semantics (PATH lookup), the same PID, argv
//! exactly as given, the environment plus the hand-off variables.

use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;

use libc::c_char;

/// Why COMMAND could not be exec'd.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// Not found on PATH, or the path does not exist. Exit 127.
    #[error("the check passed, but COMMAND {program:?} was not found; check the image's PATH and the command")]
    NotFound {
        /// COMMAND as given.
        program: String,
    },
    /// Found, but the kernel refused to run it. Exit 126.
    #[error("the check passed, but COMMAND {program:?} cannot be executed ({reason}); check its execute bit and format")]
    NotExecutable {
        /// COMMAND as given.
        program: String,
        /// The OS's reason.
        reason: String,
    },
}

extern "C" {
    /// The process environment, as the C runtime keeps it.
    static environ: *const *const c_char;
}

/// The environment the program gets: ours, with any inherited hand-off
/// variables replaced by this check's, in their original order otherwise.
fn environment(handoff: &[(&str, &str)]) -> Vec<CString> {
    let mut env = Vec::new();
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated strings
    // maintained by libc. Nothing changes it: the guard never calls setenv,
    // and the runtime's threads have been shut down before this runs.
    unsafe {
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            let bytes = CStr::from_ptr(*entry);
            let replaced = handoff.iter().any(|(name, _)| {
                let b = bytes.to_bytes();
                b.len() > name.len() && b.starts_with(name.as_bytes()) && b[name.len()] == b'='
            });
            if !replaced {
                env.push(bytes.to_owned());
            }
            entry = entry.add(1);
        }
    }
    for (name, value) in handoff {
        // Names are constants and values are base64url or JWT text: no NUL.
        if let Ok(var) = CString::new(format!("{name}={value}")) {
            env.push(var);
        }
    }
    env
}

fn null_terminated(strings: &[CString]) -> Vec<*const c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Replaces this process with COMMAND. Returns only on failure.
///
/// Call only after the runtime is shut down and the signal state restored:
/// whatever this process holds then is what the program inherits.
pub fn exec(command: &[OsString], handoff: &[(&str, &str)]) -> ExecError {
    let program = command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let argv: Result<Vec<CString>, _> =
        command.iter().map(|a| CString::new(a.as_bytes())).collect();
    let Ok(argv) = argv else {
        // Arguments from the C argv cannot hold a NUL; be safe anyway.
        return ExecError::NotExecutable {
            program,
            reason: "an argument contains a NUL byte".into(),
        };
    };
    if argv.is_empty() {
        return ExecError::NotFound { program };
    }
    let env = environment(handoff);
    let argv_ptrs = null_terminated(&argv);
    let env_ptrs = null_terminated(&env);
    // SAFETY: both arrays are NULL-terminated and point into `argv` and
    // `env`, which outlive the call. On success execvpe does not return.
    unsafe { libc::execvpe(argv_ptrs[0], argv_ptrs.as_ptr(), env_ptrs.as_ptr()) };
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENOTDIR) => ExecError::NotFound { program },
        _ => ExecError::NotExecutable {
            program,
            reason: err.to_string(),
        },
    }
}
