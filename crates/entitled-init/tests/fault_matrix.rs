//! The fault matrix: each way the network, the service or the credential
//! endpoint can misbehave, with the exit code it must produce and a bound on
//! the guard's wall time. Rows run in parallel, each against its own
//! emulator; adding a fault is one row.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use entitled_emulator::{Emulator, Fault};

/// Long enough for one retry in the worst case after a failed attempt: an attempt cut
/// at [`ATTEMPT_TIMEOUT`], the default backoff's longest first wait (3 s), and a retry
/// that itself may take most of an attempt on a loaded machine (the matrix runs beside
/// every other test binary). Rows run in parallel, so the matrix takes about
/// [`TWO_RETRIES_DEADLINE`] however long this is.
const DEADLINE: Duration = Duration::from_secs(10);
/// For rows that fail twice before they succeed: two failed attempts and the
/// default backoff's two longest waits, 3 s then 9 s.
const TWO_RETRIES_DEADLINE: Duration = Duration::from_secs(14);
/// What a retry must finish within. A check's call on loopback takes milliseconds
/// (signing, one RSA verification); 2 s leaves a loaded machine room to be slow without
/// turning a passing row into a timeout.
const ATTEMPT_TIMEOUT: &str = "2s";
const ALWAYS: u32 = 100_000;

struct Row {
    name: &'static str,
    target: &'static str,
    fault: Fault,
    times: u32,
    expect: i32,
    deadline: Duration,
}

fn row(name: &'static str, target: &'static str, fault: Fault, times: u32, expect: i32) -> Row {
    Row {
        name,
        target,
        fault,
        times,
        expect,
        deadline: if times == 2 {
            TWO_RETRIES_DEADLINE
        } else {
            DEADLINE
        },
    }
}

/// The deadline plus the margin a loaded machine needs.
fn wall_bound(deadline: Duration) -> Duration {
    deadline.saturating_add(MARGIN)
}

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        body: String::new(),
    }
}

fn malformed(body: &str) -> Fault {
    Fault::Malformed { body: body.into() }
}

const CREDS: &str = entitled_emulator::CREDENTIALS_TARGET;

fn rows() -> Vec<Row> {
    vec![
        row(
            "connection drops mid-response, always",
            PRODUCT,
            Fault::DropMidResponse,
            ALWAYS,
            75,
        ),
        row(
            "connection drops mid-response, once",
            PRODUCT,
            Fault::DropMidResponse,
            1,
            0,
        ),
        row(
            "connection closed without a response, always",
            PRODUCT,
            Fault::Drop,
            ALWAYS,
            75,
        ),
        row(
            "response stalls past the attempt timeout, always",
            PRODUCT,
            Fault::Stall,
            ALWAYS,
            75,
        ),
        row(
            "response stalls past the attempt timeout, once",
            PRODUCT,
            Fault::Stall,
            1,
            0,
        ),
        row(
            "InternalServiceErrorException storm",
            PRODUCT,
            error("InternalServiceErrorException"),
            ALWAYS,
            75,
        ),
        row("503 storm", PRODUCT, status(503), ALWAYS, 75),
        row("502 twice", PRODUCT, status(502), 2, 0),
        row(
            "throttled twice",
            PRODUCT,
            error("ThrottlingException"),
            2,
            0,
        ),
        row(
            "malformed JSON body, always",
            PRODUCT,
            malformed("{not json"),
            ALWAYS,
            75,
        ),
        row(
            "truncated JSON body, once",
            PRODUCT,
            malformed("{\"Signature\":\"eyJhbGciOiJQUzI1"),
            1,
            0,
        ),
        row(
            "HTML from a proxy, always",
            PRODUCT,
            malformed("<html><body>502 Bad Gateway</body></html>"),
            ALWAYS,
            75,
        ),
        row(
            "11 MiB body, always",
            PRODUCT,
            Fault::Oversized {
                bytes: 11 * 1024 * 1024,
            },
            ALWAYS,
            75,
        ),
        row(
            "body trickles past the attempt timeout, always",
            PRODUCT,
            Fault::Trickle {
                bytes_per_second: 20,
            },
            ALWAYS,
            75,
        ),
        row(
            "body trickles but arrives in time",
            PRODUCT,
            Fault::Trickle {
                bytes_per_second: 100_000,
            },
            ALWAYS,
            0,
        ),
        row(
            "HTML block page from a proxy (403), once",
            PRODUCT,
            Fault::Status {
                status: 403,
                body: "<html><body>Access denied by policy</body></html>".into(),
            },
            1,
            78,
        ),
        row("empty 401, once", PRODUCT, status(401), 1, 78),
        row("empty 403, once", PRODUCT, status(403), 1, 78),
        row("empty 404, once", PRODUCT, status(404), 1, 78),
        row(
            "proxy authentication required (407), once",
            PRODUCT,
            Fault::Status {
                status: 407,
                body: "<html>Proxy Authentication Required</html>".into(),
            },
            1,
            78,
        ),
        row("429 twice", PRODUCT, status(429), 2, 0),
        row("429 storm", PRODUCT, status(429), ALWAYS, 75),
        row(
            "credentials endpoint fails (500), always",
            CREDS,
            status(500),
            ALWAYS,
            75,
        ),
        row(
            "credentials endpoint fails (500), once",
            CREDS,
            status(500),
            1,
            0,
        ),
        row(
            "credentials endpoint slower than the attempt timeout",
            CREDS,
            Fault::Latency { millis: 10_000 },
            ALWAYS,
            75,
        ),
        row(
            "credentials endpoint returns garbage, always",
            CREDS,
            malformed("<html>agent restarting</html>"),
            ALWAYS,
            75,
        ),
        row(
            "credentials endpoint returns garbage, once",
            CREDS,
            malformed("{\"AccessKeyId\":"),
            1,
            0,
        ),
        row(
            "credentials endpoint drops the connection",
            CREDS,
            Fault::Drop,
            ALWAYS,
            75,
        ),
        row(
            "credentials endpoint refuses (403)",
            CREDS,
            status(403),
            ALWAYS,
            78,
        ),
    ]
}

/// Runs the guard's `--check` against `emu` with `env` overrides; returns
/// the exit code, the wall time and stderr.
fn run_check(
    emu: &Emulator,
    deadline: Duration,
    env: &[(&str, String)],
) -> (i32, Duration, String) {
    let mut cmd = guard(emu);
    cmd.args(product_flags(PRODUCT))
        .args([
            "--deadline",
            &format!("{}ms", deadline.as_millis()),
            "--attempt-timeout",
            ATTEMPT_TIMEOUT,
            "--check",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let started = Instant::now();
    let out = output_within(&mut cmd, PATIENCE);
    let took = started.elapsed();
    (
        code(out.status),
        took,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_fault_ends_with_its_exit_code_within_the_bound() {
    let results: Vec<(String, i32, i32, Duration, Duration, String)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = rows()
                .into_iter()
                .map(|row| {
                    scope.spawn(move || {
                        let emu = emulator();
                        emu.push_fault(row.target, row.fault, row.times);
                        let (got, took, stderr) = run_check(&emu, row.deadline, &[]);
                        let bound = wall_bound(row.deadline);
                        (row.name.to_owned(), row.expect, got, took, bound, stderr)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });

    let mut failures = Vec::new();
    for (name, expect, got, took, bound, stderr) in &results {
        println!("{name}: exit {got} in {} ms", took.as_millis());
        if got != expect {
            failures.push(format!("{name}: exit {got}, expected {expect}\n{stderr}"));
        } else if took > bound {
            failures.push(format!("{name}: took {took:?}, over {bound:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn a_tls_handshake_failure_is_transient_and_ends_at_the_deadline() {
    // The emulator speaks plain HTTP; an https:// client gets no TLS handshake.
    let emu = emulator();
    let https = emu.endpoint_url().replacen("http://", "https://", 1);
    let (got, took, stderr) = run_check(
        &emu,
        DEADLINE,
        &[("AWS_ENDPOINT_URL_MARKETPLACE_METERING", https)],
    );
    assert_eq!(got, 75, "{stderr}");
    assert!(took <= wall_bound(DEADLINE), "took {took:?}");
    assert!(emu.calls().is_empty());
}

/// A loopback server that accepts connections and never answers: it tells
/// the test the moment the guard has connected.
struct Silent {
    addr: SocketAddr,
    connected: mpsc::Receiver<TcpStream>,
}

impl Silent {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, connected) = mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                // Keep the stream open: the guard must wait on it.
                if tx.send(stream).is_err() {
                    return;
                }
            }
        });
        Self { addr, connected }
    }

    fn wait_for_connection(&self) -> TcpStream {
        self.connected
            .recv_timeout(Duration::from_secs(20))
            .expect("the guard never connected")
    }
}

/// Starts the guard with `env`, waits until it is blocked on `silent`, sends
/// SIGTERM and checks it stops with 143 promptly, having called nothing.
fn sigterm_while_blocked_on(silent: &Silent, env: &[(&str, String)], remove: &[&str]) {
    let emu = emulator();
    let mut cmd = guard(&emu);
    cmd.args(product_flags(PRODUCT))
        .args(["--attempt-timeout", "1h", "--", "sh", "-c", "echo EXECUTED"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for name in remove {
        cmd.env_remove(name);
    }
    let child = cmd.spawn().unwrap();
    let _held = silent.wait_for_connection();
    let sent = Instant::now();
    // SAFETY: signalling our own child, which has not been reaped.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) },
        0
    );
    let out = wait_output(child, PATIENCE);
    let took = sent.elapsed();
    assert_eq!(code(out.status), 143, "{}", describe(&out));
    assert!(took < STOP_PROMISE + MARGIN, "took {took:?}");
    assert!(
        out.stdout.is_empty(),
        "the program must not run: {}",
        describe(&out)
    );
    assert!(emu.calls().is_empty(), "no RegisterUsage call was made");
}

#[test]
fn sigterm_before_the_call_while_the_region_is_looked_up() {
    // No AWS_REGION: the guard asks ECS task metadata, which never answers.
    let silent = Silent::start();
    let metadata = format!("http://{}/v4/task-id", silent.addr);
    sigterm_while_blocked_on(
        &silent,
        &[("ECS_CONTAINER_METADATA_URI_V4", metadata)],
        &["AWS_REGION"],
    );
}

#[test]
fn sigterm_during_the_credential_fetch() {
    let silent = Silent::start();
    let credentials = format!("http://{}/credentials", silent.addr);
    sigterm_while_blocked_on(
        &silent,
        &[("AWS_CONTAINER_CREDENTIALS_FULL_URI", credentials)],
        &[],
    );
}
