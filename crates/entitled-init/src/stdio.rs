//! Closed standard descriptors.
//!
//! A guard started with stderr closed (`2>&-`) would hand fd 2 to the first
//! file or socket it opens, and its log lines would then be written into the
//! public key file's descriptor or the HTTP connection to AWS. Each closed
//! standard descriptor is therefore held by `/dev/null` while the guard
//! runs, opened close-on-exec so that the program is started with the same
//! descriptor closed, as the guard was.

use std::ffi::CStr;

const DEV_NULL: &CStr = c"/dev/null";

/// Opens `/dev/null` (close-on-exec) on each of fds 0, 1 and 2 that is
/// closed. Where `/dev/null` is missing the descriptors stay closed: the
/// guard still runs, and writes to a closed stderr only fail.
pub fn hold_closed_standard_fds() {
    for fd in 0..=2 {
        // SAFETY: F_GETFD only reads the flags of `fd`, if it is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 {
            continue;
        }
        // SAFETY: a NUL-terminated path; open returns the lowest free
        // descriptor, which is `fd` since the lower ones are open by now.
        let got = unsafe { libc::open(DEV_NULL.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if got >= 0 && got != fd {
            // Not the hole we meant to fill (cannot happen in order): undo.
            // SAFETY: `got` was just opened by us and is not used elsewhere.
            unsafe { libc::close(got) };
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn open_standard_descriptors_are_left_alone() {
        // SAFETY: F_GETFD only reads flags.
        let before = unsafe { libc::fcntl(2, libc::F_GETFD) };
        super::hold_closed_standard_fds();
        // SAFETY: as above.
        assert_eq!(unsafe { libc::fcntl(2, libc::F_GETFD) }, before);
    }
}
