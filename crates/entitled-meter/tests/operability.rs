//! Operability: out of file descriptors the sidecar backs off instead of spinning, counts
//! the failures, and serves again once descriptors return; HTTP details of the API.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use entitled_emulator::Config;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// User plus system CPU time of `pid`, in clock ticks (fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0: utime is field 14, stime 15.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {text}"))
}

#[test]
fn out_of_file_descriptors_it_neither_spins_nor_dies_and_serves_when_they_return() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let mut sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let pid = sidecar.child.id();
    let limit = open_fds(pid) as u64 + 3;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: prlimit(2) on our own child, with a valid rlimit and no old-limit pointer.
    let set = unsafe {
        libc::prlimit(
            pid as i32,
            libc::RLIMIT_NOFILE,
            &rlimit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
    let addr = sidecar.address.strip_prefix("http://").unwrap().to_owned();
    // More connections than descriptors: the first few are accepted, the rest wait in the
    // backlog while accept fails with EMFILE.
    let held: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let deadline = Instant::now() + NO_TIMEOUT;
    while (open_fds(pid) as u64) < limit {
        assert!(
            Instant::now() < deadline,
            "the sidecar never ran out of descriptors"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // A measurement window, not a wait for an event: a tight accept loop would burn the
    // whole of it (about 200 ticks); backing off to 1 s burns next to nothing.
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let burnt = cpu_ticks(pid) - before;
    assert!(
        burnt < 40,
        "{burnt} ticks of CPU in 2 s while out of descriptors"
    );
    assert!(
        sidecar.child.try_wait().unwrap().is_none(),
        "the sidecar died"
    );
    drop(held);
    let (status, _) = sidecar.request("GET", "/v1/status", "");
    assert_eq!(status, 200);
    let (_, metrics) = sidecar.request("GET", "/metrics", "");
    assert!(
        metric(&metrics, "entitled_meter_accept_errors_total") > 0,
        "{metrics}"
    );
    assert_eq!(sidecar.post(r#"{"dimension":"users","quantity":1}"#).0, 202);
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("cannot accept a connection"), "{stderr}");
}

#[test]
fn a_wrong_method_names_the_allowed_one_and_batch_errors_name_their_record() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let addr = sidecar.address.strip_prefix("http://").unwrap().to_owned();
    for (method, path, allow) in [("GET", "/v1/usage", "POST"), ("POST", "/metrics", "GET")] {
        let stream = TcpStream::connect(&addr).unwrap();
        let answer = entitled_test_support::http::exchange(stream, "meter", method, path, &[], "");
        assert_eq!(answer.status, 405);
        assert!(
            answer
                .head
                .to_ascii_lowercase()
                .contains(&format!("allow: {}", allow.to_ascii_lowercase())),
            "{}",
            answer.head
        );
    }
    let (status, body) =
        sidecar.post(r#"[{"dimension":"users","quantity":1},{"dimension":"seats","quantity":1}]"#);
    assert_eq!(status, 400);
    assert!(body.contains("record 1: unknown dimension"), "{body}");
    let (status, body) = sidecar.post(
        r#"[{"dimension":"users","quantity":1},{"dimension":"gb_scanned","quantity":2147483647},{"dimension":"gb_scanned","quantity":1}]"#,
    );
    assert_eq!(status, 400);
    assert!(
        body.contains(r#"record 1: dimension \"gb_scanned\""#),
        "{body}"
    );
}

#[test]
fn metrics_show_pending_per_dimension_replays_and_the_meters_state() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    let body = r#"[{"dimension":"users","quantity":3},{"dimension":"gb_scanned","quantity":4}]"#;
    assert_eq!(sidecar.post_once("req-1", body).0, 202);
    assert_eq!(
        sidecar.post_once("req-1", body),
        (202, "{\"accepted\":2}\n".into())
    );
    let (_, metrics) = sidecar.request("GET", "/metrics", "");
    for (name, value) in [
        ("entitled_meter_pending_quantity{dimension=\"users\"}", 3),
        (
            "entitled_meter_pending_quantity{dimension=\"gb_scanned\"}",
            4,
        ),
        ("entitled_meter_idempotent_replays_total", 1),
        ("entitled_meter_journal_failing", 0),
        ("entitled_meter_stopped", 0),
        ("entitled_meter_last_report_timestamp_seconds", 0),
        ("entitled_meter_accept_errors_total", 0),
    ] {
        assert_eq!(metric(&metrics, name), value, "{name}: {metrics}");
    }
}

/// Usage AWS refuses for good is written off loudly (a `LOST` line naming it), and the
/// shutdown exits 65 rather than 0.
#[test]
fn a_shutdown_that_lost_usage_exits_65_and_says_so() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(
        &emulator,
        journal.path(),
        PRODUCT,
        &["--shutdown-timeout", "10s"],
    );
    assert_eq!(sidecar.post(r#"{"dimension":"users","quantity":6}"#).0, 202);
    emulator.push_fault(
        PRODUCT,
        entitled_emulator::Fault::error("InvalidUsageAllocationsException"),
        1,
    );
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 65, "{stderr}");
    assert!(stderr.contains("LOST usage: dimension users"), "{stderr}");
    assert!(emulator.usage().is_empty());
}
