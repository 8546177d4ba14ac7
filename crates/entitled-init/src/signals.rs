//! Signals: stop promptly during the check, and leave the program exactly
//! the signal state the guard was started with.
//!
//! As tini does it: SIGTERM, SIGINT and SIGHUP are blocked first thing,
//! before the runtime or any thread exists, so every thread inherits the
//! mask and a stop signal can only wait in the kernel's queue until the
//! guard takes it from there. A blocked signal is queued even for PID 1 of
//! a PID namespace, where the kernel drops a signal whose disposition is
//! the default. No handler is installed, so the dispositions of the stop
//! signals are never touched.
//!
//! A stop signal ignored at start stays ignored and is not waited for; one
//! blocked at start stays blocked (and pending) for the program. Before
//! exec the start-up mask is restored, because the mask survives exec and
//! the program must see in `/proc/self/status` what the guard's parent gave
//! it.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use libc::c_int;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// The signals that stop the check.
pub const STOP_SIGNALS: [c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// The signals `--hold` passes on to its child, as tini does.
pub const FORWARDED: [c_int; 7] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// The name of a stop signal, for log lines.
pub fn name(sig: c_int) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        // Only the signals in STOP_SIGNALS are ever waited for.
        _ => "a stop signal",
    }
}

/// The signal state at start-up, and what the guard changed since.
pub struct SignalState {
    start_mask: libc::sigset_t,
    /// The stop signals the guard blocked and waits for: those neither
    /// ignored nor blocked at start.
    watched: libc::sigset_t,
    /// SIGPIPE's disposition at start, when the guard set it to ignored.
    pipe_at_start: Option<libc::sigaction>,
    /// `--hold`: the other signals blocked to forward (and SIGCHLD).
    supervised: libc::sigset_t,
    /// `--hold`: SIGCHLD was ignored at start, and the guard set it back to the default.
    chld_ignored_at_start: bool,
}

/// Why the signal state could not be read or set.
#[derive(Debug, thiserror::Error)]
#[error("signal set-up failed ({step}): {source}")]
pub struct SignalError {
    step: &'static str,
    source: io::Error,
}

fn check(step: &'static str, rc: c_int) -> Result<(), SignalError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(SignalError {
            step,
            source: io::Error::last_os_error(),
        })
    }
}

/// pthread_* functions return the error number instead of setting errno.
fn check_pthread(step: &'static str, rc: c_int) -> Result<(), SignalError> {
    if rc == 0 {
        Ok(())
    } else {
        Err(SignalError {
            step,
            source: io::Error::from_raw_os_error(rc),
        })
    }
}

fn empty_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it fully.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    }
}

fn is_member(set: &libc::sigset_t, sig: c_int) -> bool {
    // SAFETY: `set` is an initialised sigset_t and `sig` a valid signal.
    unsafe { libc::sigismember(set, sig) == 1 }
}

fn current_action(sig: c_int) -> Result<libc::sigaction, SignalError> {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a null new action
    // only reads the current one.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        check(
            "sigaction (read)",
            libc::sigaction(sig, std::ptr::null(), &mut old),
        )?;
        Ok(old)
    }
}

fn set_action(sig: c_int, action: &libc::sigaction) -> Result<(), SignalError> {
    // SAFETY: `action` is a fully initialised sigaction.
    check("sigaction", unsafe {
        libc::sigaction(sig, action, std::ptr::null_mut())
    })
}

impl SignalState {
    /// Records the signal mask at start-up, blocks the stop signals to
    /// wait for and ignores SIGPIPE. Call first thing, before any thread exists: threads
    /// created later inherit the mask, so none of them can take a stop
    /// signal away from the signalfd.
    pub fn capture() -> Result<Self, SignalError> {
        let mut start_mask = empty_set();
        // SAFETY: a null new set only reads the current mask into `start_mask`.
        let rc =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut start_mask) };
        check_pthread("pthread_sigmask (read)", rc)?;
        let mut watched = empty_set();
        for sig in STOP_SIGNALS {
            // Ignored by whoever started us: keep it so. Blocking it would
            // queue it (the kernel never discards a blocked signal), and the
            // guard would stop on a signal its parent meant to be ignored.
            // Blocked at start: the parent holds it back from us and from
            // the program alike.
            if is_member(&start_mask, sig) || current_action(sig)?.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            // SAFETY: `watched` is an initialised set and `sig` a valid signal.
            unsafe { libc::sigaddset(&mut watched, sig) };
        }
        // SAFETY: `watched` is an initialised set; the old mask is in `start_mask`.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &watched, std::ptr::null_mut()) };
        check_pthread("pthread_sigmask (block)", rc)?;
        let mut state = Self {
            start_mask,
            watched,
            pipe_at_start: None,
            supervised: empty_set(),
            chld_ignored_at_start: false,
        };
        // From the first instant: a usage error is logged before anything
        // else is set up, and must still exit 64 with a broken stderr.
        state.ignore_pipe()?;
        Ok(state)
    }

    /// Ignores SIGPIPE, so that a log line written to a stderr whose reader
    /// has gone fails with EPIPE instead of killing the guard and replacing
    /// its exit code. The disposition found is kept for [`Self::restore_for_exec`];
    /// one that is not the default (ignored already, or a handler we cannot
    /// have) is left alone.
    fn ignore_pipe(&mut self) -> Result<(), SignalError> {
        if self.pipe_at_start.is_some() {
            return Ok(());
        }
        let old = current_action(libc::SIGPIPE)?;
        if old.sa_sigaction == libc::SIG_DFL {
            // SAFETY: zeroed is a valid starting sigaction; SIG_IGN needs no
            // other field.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = libc::SIG_IGN;
            set_action(libc::SIGPIPE, &action)?;
            self.pipe_at_start = Some(old);
        }
        Ok(())
    }

    /// After an exec that failed, the guard goes on to log and exit:
    /// SIGPIPE is ignored again for that last line.
    pub fn after_failed_exec(&mut self) -> Result<(), SignalError> {
        self.ignore_pipe()
    }

    /// Returns a signalfd that becomes readable when a watched stop signal
    /// is pending, for [`stopped`].
    pub fn install(&mut self) -> Result<OwnedFd, SignalError> {
        signalfd(&self.watched)
    }

    /// `--hold`: also blocks the other forwarded signals and SIGCHLD, so
    /// they wait in the kernel's queue for [`Self::supervised_fd`]. Call
    /// before any thread exists, as [`Self::capture`]. Signals ignored or
    /// blocked at start are left so: whoever started the guard meant them
    /// for neither it nor its child. The stop signals' fd ([`Self::install`])
    /// still sees only the stop signals.
    ///
    /// SIGCHLD ignored at start is the exception: the kernel would then discard
    /// it and reap the children itself, and the guard would never learn that
    /// COMMAND exited. It is set back to the default here, and to ignored again
    /// in the child ([`Self::chld_ignored_at_start`]).
    pub fn supervise(&mut self) -> Result<(), SignalError> {
        if current_action(libc::SIGCHLD)?.sa_sigaction == libc::SIG_IGN {
            // SAFETY: zeroed is a valid starting sigaction; SIG_DFL needs no
            // other field.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = libc::SIG_DFL;
            set_action(libc::SIGCHLD, &action)?;
            self.chld_ignored_at_start = true;
        }
        let mut added = empty_set();
        for sig in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            let left_alone = is_member(&self.start_mask, sig)
                || (sig != libc::SIGCHLD && current_action(sig)?.sa_sigaction == libc::SIG_IGN);
            if !left_alone && !is_member(&self.watched, sig) {
                // SAFETY: `added` is an initialised set and `sig` a valid signal.
                unsafe { libc::sigaddset(&mut added, sig) };
            }
        }
        // SAFETY: `added` is an initialised set.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &added, std::ptr::null_mut()) };
        check_pthread("pthread_sigmask (supervise)", rc)?;
        self.supervised = added;
        Ok(())
    }

    /// True when SIGCHLD was ignored at start: a supervised child gets it
    /// ignored again, as whoever started the guard meant.
    pub fn chld_ignored_at_start(&self) -> bool {
        self.chld_ignored_at_start
    }

    /// The signal mask the guard was started with, for a supervised child.
    pub fn start_mask(&self) -> libc::sigset_t {
        self.start_mask
    }

    /// A signalfd for the stop signals and the ones [`Self::supervise`] blocked.
    pub fn supervised_fd(&self) -> Result<OwnedFd, SignalError> {
        let mut all = self.watched;
        for sig in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            if is_member(&self.supervised, sig) {
                // SAFETY: `all` is an initialised set and `sig` a valid signal.
                unsafe { libc::sigaddset(&mut all, sig) };
            }
        }
        signalfd(&all)
    }

    /// The watched stop signal waiting in the kernel's queue, if any.
    fn pending_stop(&self) -> Result<Option<c_int>, SignalError> {
        let mut pending = empty_set();
        // SAFETY: `pending` is a valid out-parameter.
        check("sigpending", unsafe { libc::sigpending(&mut pending) })?;
        Ok(STOP_SIGNALS
            .into_iter()
            .find(|&sig| is_member(&self.watched, sig) && is_member(&pending, sig)))
    }

    /// Gets ready for exec: returns the stop signal that arrived, if any;
    /// otherwise restores SIGPIPE's disposition and the start-up mask.
    ///
    /// The stop signals are still blocked here, so one that arrived after
    /// the signalfd was last read is pending, not lost: it ends the guard
    /// instead of the exec.
    pub fn restore_for_exec(&mut self) -> Result<Option<c_int>, SignalError> {
        if let Some(sig) = self.pending_stop()? {
            return Ok(Some(sig));
        }
        if let Some(old) = self.pipe_at_start.take() {
            set_action(libc::SIGPIPE, &old)?;
        }
        // SAFETY: `start_mask` was read by pthread_sigmask at start-up.
        let rc = unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.start_mask, std::ptr::null_mut())
        };
        check_pthread("pthread_sigmask (restore)", rc)?;
        Ok(None)
    }
}

/// A non-blocking signalfd for `set`.
fn signalfd(set: &libc::sigset_t) -> Result<OwnedFd, SignalError> {
    // SAFETY: `set` is an initialised set; -1 asks for a new fd.
    let fd = unsafe { libc::signalfd(-1, set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC) };
    if fd < 0 {
        return Err(SignalError {
            step: "signalfd",
            source: io::Error::last_os_error(),
        });
    }
    // SAFETY: signalfd succeeded, so `fd` is an open descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Resolves when a watched stop signal arrives, with its number, or with
/// the error that keeps the guard from watching for one. Must run inside
/// the runtime.
///
/// A signalfd registered with the runtime, rather than a thread blocked in
/// sigwaitinfo: it needs no thread to start and end, and it wakes the same
/// `select!` that runs the check. Failing to register it fails the start
/// (before any call) rather than leaving a check that cannot be stopped.
pub async fn stopped(fd: OwnedFd) -> Result<c_int, SignalError> {
    let failed = |step, source| SignalError { step, source };
    // SAFETY: an OwnedFd holds one open descriptor, returns the same one
    // from every as_raw_fd call and closes it only when dropped, which the
    // AsyncFd that owns it does after deregistering.
    let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }
        .map_err(|e| failed("signalfd registration", e.into()))?;
    loop {
        let mut ready = fd
            .readable()
            .await
            .map_err(|e| failed("signalfd readiness", e))?;
        // A would-block read clears the readiness and waits again.
        if let Ok(read) = ready.try_io(|fd| read_signal(fd.get_ref())) {
            return read.map_err(|e| failed("signalfd read", e));
        }
    }
}

/// Takes one signal from the signalfd.
pub fn read_signal(fd: &OwnedFd) -> io::Result<c_int> {
    // SAFETY: signalfd_siginfo is plain data; zeroed is a valid value.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: `info` is a writable buffer of `size` bytes, and `fd` is open.
    let n = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut info as *mut libc::signalfd_siginfo).cast(),
            size,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if n as usize != size {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(info.ssi_signo as c_int)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The calling thread's signal mask.
    fn thread_mask() -> libc::sigset_t {
        let mut mask = empty_set();
        // SAFETY: a null new set only reads the mask.
        unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut mask) };
        mask
    }

    /// Sends `sig` to the calling thread only (raise is thread-directed),
    /// so the other tests' threads never see it.
    fn raise(sig: c_int) {
        // SAFETY: the signal is blocked in this thread by capture(), so it
        // only becomes pending.
        assert_eq!(unsafe { libc::raise(sig) }, 0);
    }

    #[test]
    fn a_stop_signal_is_taken_from_the_signalfd_and_the_mask_restored() {
        let before = thread_mask();
        let mut state = SignalState::capture().unwrap();
        assert!(
            is_member(&thread_mask(), libc::SIGINT),
            "blocked by capture"
        );
        let fd = state.install().unwrap();
        raise(libc::SIGINT);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .unwrap();
        // Taken from the queue: restore_for_exec must not see it pending.
        let sig = runtime.block_on(stopped(fd)).unwrap();
        assert_eq!(sig, libc::SIGINT);
        assert_eq!(state.restore_for_exec().unwrap(), None);
        for sig in STOP_SIGNALS {
            assert_eq!(is_member(&thread_mask(), sig), is_member(&before, sig));
        }
    }

    #[test]
    fn a_stop_signal_pending_at_exec_time_stops_the_exec() {
        let mut state = SignalState::capture().unwrap();
        raise(libc::SIGHUP);
        assert_eq!(state.restore_for_exec().unwrap(), Some(libc::SIGHUP));
        // Take the signal back from the queue before unblocking it, so the
        // test process is not hung up.
        let mut set = empty_set();
        // SAFETY: `set` is initialised; a zero timeout only polls.
        unsafe {
            libc::sigaddset(&mut set, libc::SIGHUP);
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            assert_eq!(
                libc::sigtimedwait(&set, std::ptr::null_mut(), &zero),
                libc::SIGHUP
            );
        }
        assert_eq!(state.restore_for_exec().unwrap(), None);
    }
}
