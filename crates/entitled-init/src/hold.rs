//! `--contract --hold`: the guard stays, as tini does, and supervises
//! COMMAND as its child while a background keeper extends the provisional
//! checkout at half its time-to-live.
//!
//! The main thread waits in `poll` on two descriptors: the signalfd of the
//! forwarded signals and SIGCHLD (blocked since before any thread existed,
//! see [`SignalState::supervise`]), and a socket on which the keeper thread
//! reports a lost licence and the final check-in. Forwarded signals go to
//! the child; SIGCHLD reaps every child that ended, so orphans reparented to
//! the guard as PID 1 do not stay zombies.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use entitled::contract::{Lease, License};
use entitled::CheckError;
use libc::{c_int, pid_t};
use serde_json::Value;

use crate::cli::{Cli, Hold};
use crate::exec::ExecError;
use crate::exit::Failure;
use crate::signals::{read_signal, SignalState};
use entitled_shell::Level;

/// How the child ended, as a process exit code: its own, or 128+n.
fn exit_code(status: c_int) -> u8 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status) as u8
    } else if libc::WIFSIGNALED(status) {
        128u8.saturating_add(libc::WTERMSIG(status) as u8)
    } else {
        1
    }
}

/// Supervises COMMAND until it exits; returns its exit code, or a failure
/// (77 when the licence was lost and `--on-loss terminate` ended it).
pub fn run(
    cli: &Cli,
    hold: Hold,
    signals: &SignalState,
    license: &License,
    handoff: &[(&str, &str)],
) -> Result<u8, Failure> {
    let lease = license
        .lease()
        .cloned()
        .ok_or_else(|| Failure::Setup("--hold needs a provisional checkout".into()))?;
    let sigfd = signals.supervised_fd()?;
    let child = spawn(
        &cli.command,
        handoff,
        signals.start_mask(),
        signals.chld_ignored_at_start(),
    )?;
    let pid = child.id() as pid_t;
    let (events, keeper_end) =
        UnixStream::pair().map_err(|e| Failure::Setup(format!("socket pair: {e}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    spawn_keeper(lease, keeper_end, stopped, cli.deadline)?;
    let mut events = Some(BufReader::new(events));
    let mut supervisor = Supervisor {
        pid,
        status: None,
        lost: None,
        kill_at: None,
    };
    while supervisor.status.is_none() {
        let timeout = supervisor
            .kill_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        let (signalled, reported) = wait(&sigfd, events.as_ref(), timeout)?;
        if signalled {
            supervisor.take_signals(&sigfd);
        }
        if reported {
            match read_line(&mut events) {
                Some(line) => supervisor.on_event(cli, hold, &line),
                None => cli.logger.log(
                    Level::Warn,
                    "keeper",
                    "the keeper thread ended; the checkout is no longer extended",
                    &[],
                ),
            }
        }
        supervisor.kill_when_due();
    }
    let code = supervisor.status.unwrap_or(1);
    // The keeper checks in (or, after a loss, just ends); a check-in that
    // fails is a warning, and the unit returns by itself after the time-to-live.
    let _ = stop.send(());
    let deadline = Instant::now() + cli.deadline + Duration::from_secs(1);
    while Instant::now() < deadline && events.is_some() {
        let left = deadline.saturating_duration_since(Instant::now());
        let (_, reported) = wait(&sigfd, events.as_ref(), Some(left))?;
        if reported {
            let line = read_line(&mut events).unwrap_or_default();
            if let Some(problem) = line.strip_prefix('W') {
                cli.logger.log(
                    Level::Warn,
                    "check_in",
                    &format!("the held checkout could not be checked in ({problem}); its units return by themselves when it expires"),
                    &[],
                );
            }
            if line.starts_with('D') || line.starts_with('W') || line.is_empty() {
                break;
            }
        }
    }
    match supervisor.lost {
        Some(message) if !hold.warn_only => Err(Failure::Check(CheckError::NotLicensed {
            product_sku: license.license_arn().to_owned(),
            code: "LicenseLost".into(),
            message: format!("{message}; COMMAND was stopped and exited with {code}"),
        })),
        _ => Ok(code),
    }
}

struct Supervisor {
    pid: pid_t,
    /// The child's exit code, once reaped.
    status: Option<u8>,
    /// Why the licence was lost, once it was.
    lost: Option<String>,
    /// When SIGKILL follows the SIGTERM of a lost licence.
    kill_at: Option<Instant>,
}

impl Supervisor {
    /// Forwards each pending signal to the child; SIGCHLD reaps instead.
    fn take_signals(&mut self, sigfd: &OwnedFd) {
        while let Ok(sig) = read_signal(sigfd) {
            if sig == libc::SIGCHLD {
                self.reap();
            } else if self.status.is_none() {
                // SAFETY: kill has no memory preconditions; `pid` is our
                // child, not yet reaped, so the PID is still its.
                unsafe { libc::kill(self.pid, sig) };
            }
        }
    }

    /// Reaps every ended child: ours, and orphans handed to us as PID 1.
    fn reap(&mut self) {
        loop {
            let mut status: c_int = 0;
            // SAFETY: `status` is a valid out-parameter.
            let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if reaped <= 0 {
                return;
            }
            if reaped == self.pid {
                self.status = Some(exit_code(status));
            }
        }
    }

    fn on_event(&mut self, cli: &Cli, hold: Hold, line: &str) {
        let Some(message) = line.strip_prefix('L') else {
            return;
        };
        if hold.warn_only {
            cli.logger.log(
                Level::Warn,
                "license_lost",
                &format!("the licence was lost ({message}); --on-loss warn: COMMAND keeps running"),
                &[],
            );
            return;
        }
        cli.logger.log(
            Level::Error,
            "license_lost",
            &format!(
                "the licence was lost ({message}); sending SIGTERM to COMMAND, SIGKILL after {} ms",
                hold.grace.as_millis()
            ),
            &[("grace_ms", Value::from(hold.grace.as_millis() as u64))],
        );
        self.lost = Some(message.to_owned());
        if self.status.is_none() {
            // SAFETY: as in take_signals.
            unsafe { libc::kill(self.pid, libc::SIGTERM) };
            self.kill_at = Some(Instant::now() + hold.grace);
        }
    }

    fn kill_when_due(&mut self) {
        if self.kill_at.is_some_and(|at| Instant::now() >= at) && self.status.is_none() {
            // SAFETY: as in take_signals.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            self.kill_at = None;
        }
    }
}

/// Starts COMMAND (PATH lookup) with the licence variables added and the
/// signal mask the guard was started with: the mask survives fork and exec,
/// and a child with SIGTERM still blocked could not be stopped by the
/// signals the guard forwards.
fn spawn(
    command: &[std::ffi::OsString],
    handoff: &[(&str, &str)],
    start_mask: libc::sigset_t,
    chld_ignored: bool,
) -> Result<std::process::Child, Failure> {
    use std::os::unix::process::CommandExt as _;
    let program = command.first().cloned().unwrap_or_default();
    let shown = program.to_string_lossy().into_owned();
    let mut cmd = Command::new(&program);
    cmd.args(&command[1..]).envs(handoff.iter().copied());
    // SAFETY: the closure runs in the forked child before exec and calls
    // only sigprocmask and sigaction, which are async-signal-safe;
    // `start_mask` is a copy of an initialised sigset_t, and a zeroed
    // sigaction with SIG_IGN is a valid action.
    unsafe {
        cmd.pre_exec(move || {
            if chld_ignored {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = libc::SIG_IGN;
                if libc::sigaction(libc::SIGCHLD, &action, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::sigprocmask(libc::SIG_SETMASK, &start_mask, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn().map_err(|e| {
        Failure::Exec(match e.kind() {
            std::io::ErrorKind::NotFound => ExecError::NotFound { program: shown },
            _ => ExecError::NotExecutable {
                program: shown,
                reason: e.to_string(),
            },
        })
    })
}

/// The keeper's thread: extends the lease until told to stop, reports a
/// loss (`L...`), then checks in (`D`, or `W...` when that failed).
fn spawn_keeper(
    lease: Lease,
    mut out: UnixStream,
    stopped: tokio::sync::oneshot::Receiver<()>,
    deadline: Duration,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Failure::Setup(format!("async runtime: {e}")))?;
    std::thread::Builder::new()
        .name("keeper".into())
        .spawn(move || {
            runtime.block_on(async move {
                let (loss_tx, mut loss_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let keeper = lease.keep(move |err| {
                    let _ = loss_tx.send(err.to_string());
                });
                let mut stopped = stopped;
                tokio::select! {
                    Some(message) = loss_rx.recv() => {
                        let _ = writeln!(out, "L{}", message.replace('\n', " "));
                        let _ = stopped.await;
                        let _ = writeln!(out, "D");
                    }
                    _ = &mut stopped => {
                        drop(keeper);
                        let line = match tokio::time::timeout(deadline, lease.check_in()).await {
                            Ok(Ok(())) => "D".to_owned(),
                            Ok(Err(err)) => format!("W{}", err.to_string().replace('\n', " ")),
                            Err(_) => "Wthe deadline passed".to_owned(),
                        };
                        let _ = writeln!(out, "{line}");
                    }
                }
            });
        })
        .map_err(|e| Failure::Setup(format!("keeper thread: {e}")))?;
    Ok(())
}

/// Waits until the signalfd or the keeper's socket is readable, or the
/// timeout passes; returns which were readable.
fn wait(
    sigfd: &OwnedFd,
    events: Option<&BufReader<UnixStream>>,
    timeout: Option<Duration>,
) -> Result<(bool, bool), Failure> {
    let mut fds = [
        libc::pollfd {
            fd: sigfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            // A negative fd is skipped by poll: the keeper has hung up.
            fd: events.map_or(-1, |e| e.get_ref().as_fd().as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let millis = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as c_int);
    // SAFETY: `fds` is a valid array of two pollfd for the call's duration.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, millis) };
    if rc < 0 {
        let err = std::io::Error::last_os_error();
        if err.kind() == std::io::ErrorKind::Interrupted {
            return Ok((false, false));
        }
        return Err(Failure::Setup(format!("poll: {err}")));
    }
    let ready =
        |fd: &libc::pollfd| fd.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
    Ok((ready(&fds[0]), ready(&fds[1])))
}

/// One line from the keeper; `None` (and no more polling) once it hung up.
fn read_line(events: &mut Option<BufReader<UnixStream>>) -> Option<String> {
    let reader = events.as_mut()?;
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(n) if n > 0 => Some(line.trim_end().to_owned()),
        _ => {
            *events = None;
            None
        }
    }
}
