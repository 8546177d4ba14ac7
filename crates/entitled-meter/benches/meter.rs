//! Sidecar and in-process metering figures for BENCHMARKS.md (a benchmark, not a test):
//! records/s acknowledged over loopback HTTP with durability on, acknowledgement latency at
//! 1,000 records/s, the sidecar's peak RSS, and in-process `Meter::record_all` throughput.
//!
//! `scripts/bench-meter.sh` builds the static sidecar and runs this with
//! `ENTITLED_METER_STATIC_BIN` set; the sidecar is started as the tests start it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use entitled_emulator::Config;

use entitled_test_support::sidecar as common;

const PRODUCT: &str = common::PRODUCT;
const RECORD: &str = r#"{"dimension":"users","quantity":1,"tags":{"team":"a"}}"#;

/// One keep-alive HTTP/1.1 connection to the sidecar.
struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream: BufReader::new(stream),
        }
    }

    /// POSTs one record and returns the status.
    fn post(&mut self, body: &str) -> u16 {
        let req = format!(
            "POST /v1/usage HTTP/1.1\r\nHost: m\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream.get_mut().write_all(req.as_bytes()).unwrap();
        let mut status = 0;
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            self.stream.read_line(&mut line).unwrap();
            if status == 0 {
                status = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
            } else if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            } else if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).unwrap();
        status
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let emulator = common::emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let bin = common::binary();
    println!(
        "sidecar: {} ({} bytes)",
        bin.display(),
        std::fs::metadata(&bin).unwrap().len()
    );
    let sidecar = common::start(&emulator, journal.path(), common::PRODUCT, &[]);
    let addr = sidecar.address.strip_prefix("http://").unwrap().to_owned();

    // 1. Throughput: concurrent keep-alive clients, each waiting for its 202.
    for clients in [1, 16, 64] {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..clients)
            .map(|_| {
                let (stop, done, addr) = (stop.clone(), done.clone(), addr.clone());
                std::thread::spawn(move || {
                    let mut c = Client::connect(&addr);
                    while !stop.load(Ordering::Relaxed) {
                        assert_eq!(c.post(RECORD), 202);
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs(3));
        stop.store(true, Ordering::Relaxed);
        for t in threads {
            t.join().unwrap();
        }
        let n = done.load(Ordering::Relaxed);
        println!(
            "throughput, {clients:>2} clients: {:>8.0} records/s acknowledged ({n} in {:.2} s)",
            n as f64 / started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }

    // 2. Latency at 1,000 records/s: 4 paced clients at 250/s each for 5 s.
    let per_client = 250u32;
    let seconds = 5u32;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(&addr);
                let interval = Duration::from_secs(1) / per_client;
                let start = Instant::now();
                let mut latencies = Vec::new();
                for i in 0..per_client * seconds {
                    let due = start + interval * i;
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let t = Instant::now();
                    assert_eq!(c.post(RECORD), 202);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    latencies.sort();
    println!(
        "latency at 1,000 records/s ({} records): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        latencies.len(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!(
        "sidecar peak RSS: {:.2} MiB",
        peak_rss_kib(sidecar.child.id()) as f64 / 1024.0
    );
    // SIGTERM reports the partial hour.
    let (code, _) = sidecar.terminate();
    let reported: f64 = emulator.usage().iter().map(|t| t.quantity).sum();
    println!("sidecar exit {code}; emulator total {reported}");

    // 3. In process: Meter::record from 64 concurrent tasks on one runtime thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let journal = tempfile::tempdir().unwrap();
        let meter = Arc::new(
            entitled::meter::Meter::builder()
                .product_code(PRODUCT)
                .dimension("users")
                .journal_dir(journal.path())
                .endpoint_url(emulator.endpoint_url())
                .region("us-east-1")
                .static_credentials(entitled::StaticCredentials {
                    access_key_id: entitled_emulator::DEFAULT_ACCESS_KEY_ID.into(),
                    secret_access_key: entitled_emulator::DEFAULT_SECRET_ACCESS_KEY.into(),
                    session_token: None,
                })
                .build()
                .await
                .unwrap(),
        );
        for tasks in [1, 64] {
            let started = Instant::now();
            let deadline = started + Duration::from_secs(3);
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let meter = meter.clone();
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            meter
                                .record(
                                    entitled::meter::UsageRecord::new("users", 1).tag("team", "a"),
                                )
                                .await
                                .unwrap();
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            let mut n = 0;
            for h in handles {
                n += h.await.unwrap();
            }
            println!(
                "in-process record, {tasks:>2} tasks: {:>8.0} records/s durable",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    });
}
