//! Signals: stop promptly during the check, and leave the program exactly
//! the signal state the guard was started with.
//!
//! The guard may be PID 1 while it waits out throttling, and the kernel
//! drops signals to a namespace's init unless it installed a handler. So
//! SIGTERM, SIGINT and SIGHUP get a handler during the check (unless they
//! were ignored at start: an ignored signal stays ignored). Before exec every
//! disposition changed here is put back, and the start-up mask restored,
//! because ignored dispositions and the mask survive exec and the program
//! must see in `/proc/self/status` what the guard's parent gave it.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use libc::c_int;
use tokio::net::unix::pipe;

/// The signals that stop the check.
pub const STOP_SIGNALS: [c_int; 3] = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];

/// The first stop signal received; 0 for none.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// The write end of the self-pipe that wakes the async side; -1 for none.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);

/// The name of a signal, for log lines.
pub fn name(sig: c_int) -> String {
    match sig {
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGINT => "SIGINT".into(),
        libc::SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

/// The signal state at start-up, and what the guard changed since.
pub struct SignalState {
    start_mask: libc::sigset_t,
    /// (signal, disposition at start) for each signal whose disposition we changed.
    changed: Vec<(c_int, libc::sigaction)>,
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

fn stop_set() -> libc::sigset_t {
    let mut set = empty_set();
    for sig in STOP_SIGNALS {
        // SAFETY: `set` is an initialised sigset_t and `sig` a valid signal.
        unsafe { libc::sigaddset(&mut set, sig) };
    }
    set
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

/// The handler: record the signal and wake the async side. Only
/// async-signal-safe operations: an atomic store and write(2), with errno
/// preserved for the interrupted code.
extern "C" fn on_stop_signal(sig: c_int) {
    let _ = RECEIVED.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: errno is thread-local; writing one byte from a static to a
        // non-blocking pipe is async-signal-safe. A full pipe already wakes
        // the reader, so the result is ignored.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(fd, b"!".as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }
}

impl SignalState {
    /// Records the signal mask at start-up. Call first thing, before any
    /// thread exists.
    pub fn capture() -> Result<Self, SignalError> {
        let mut start_mask = empty_set();
        // SAFETY: a null new set only reads the current mask into `start_mask`.
        let rc =
            unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut start_mask) };
        check_pthread("pthread_sigmask (read)", rc)?;
        Ok(Self {
            start_mask,
            changed: Vec::new(),
        })
    }

    /// Installs the stop handlers (for stop signals not ignored at start),
    /// and ignores SIGPIPE so a closed stderr cannot kill the guard. Returns
    /// the read end of the wake pipe, for [`stopped`].
    pub fn install(&mut self) -> Result<OwnedFd, SignalError> {
        let mut fds = [-1; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 returns.
        check("pipe2", unsafe {
            libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK)
        })?;
        // SAFETY: pipe2 succeeded, so fds[0] is an open descriptor we own.
        let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        // The write end stays open until exec closes it (O_CLOEXEC): a
        // handler may run at any moment until the dispositions are restored.
        WAKE_FD.store(fds[1], Ordering::SeqCst);

        for sig in STOP_SIGNALS {
            let old = current_action(sig)?;
            if old.sa_sigaction == libc::SIG_IGN {
                // Ignored by whoever started us: keep it so; the program
                // inherits the same.
                continue;
            }
            // SAFETY: zeroed is a valid starting sigaction; every field used
            // is set below.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_stop_signal as extern "C" fn(c_int) as libc::sighandler_t;
            action.sa_mask = stop_set();
            action.sa_flags = libc::SA_RESTART;
            self.changed.push((sig, old));
            set_action(sig, &action)?;
        }

        let old = current_action(libc::SIGPIPE)?;
        if old.sa_sigaction == libc::SIG_DFL {
            // SAFETY: as above.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = libc::SIG_IGN;
            self.changed.push((libc::SIGPIPE, old));
            set_action(libc::SIGPIPE, &action)?;
        }
        Ok(read)
    }

    /// Gets ready for exec: returns the stop signal that arrived, if any;
    /// otherwise restores every disposition changed and the start-up mask.
    ///
    /// Stop signals are blocked first, so one arriving now stays pending
    /// instead of being lost between the last look and the exec.
    pub fn restore_for_exec(&mut self) -> Result<Option<c_int>, SignalError> {
        let stop = stop_set();
        // SAFETY: `stop` is an initialised set; the old mask is not needed.
        let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &stop, std::ptr::null_mut()) };
        check_pthread("pthread_sigmask (block)", rc)?;
        if let Some(sig) = received() {
            return Ok(Some(sig));
        }
        for (sig, old) in self.changed.drain(..) {
            set_action(sig, &old)?;
        }
        WAKE_FD.store(-1, Ordering::SeqCst);
        // A stop signal that was not blocked at start but is pending now
        // arrived after the handler went away: honour it rather than let the
        // unblock deliver it with a disposition that PID 1 would drop.
        let mut pending = empty_set();
        // SAFETY: `pending` is a valid out-parameter.
        check("sigpending", unsafe { libc::sigpending(&mut pending) })?;
        for sig in STOP_SIGNALS {
            // SAFETY: both sets are initialised.
            let (is_pending, was_blocked) = unsafe {
                (
                    libc::sigismember(&pending, sig) == 1,
                    libc::sigismember(&self.start_mask, sig) == 1,
                )
            };
            if is_pending && !was_blocked {
                return Ok(Some(sig));
            }
        }
        // SAFETY: `start_mask` was read by pthread_sigmask at start-up.
        let rc = unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.start_mask, std::ptr::null_mut())
        };
        check_pthread("pthread_sigmask (restore)", rc)?;
        Ok(None)
    }
}

/// The stop signal received so far, if any.
pub fn received() -> Option<c_int> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// Resolves when a stop signal arrives, with its number.
pub async fn stopped(wake: OwnedFd) -> c_int {
    let Ok(wake) = pipe::Receiver::from_owned_fd(wake) else {
        return poll_received().await;
    };
    loop {
        // Looked at before waiting: a signal that came before the wait
        // also left a byte in the pipe, so none is missed either way.
        if let Some(sig) = received() {
            return sig;
        }
        if wake.readable().await.is_err() {
            return poll_received().await;
        }
        let mut buf = [0u8; 64];
        while matches!(wake.try_read(&mut buf), Ok(n) if n > 0) {}
    }
}

/// The fallback should the wake pipe fail to register: look every 100 ms,
/// well within the promise to stop in a second.
async fn poll_received() -> c_int {
    loop {
        if let Some(sig) = received() {
            return sig;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
