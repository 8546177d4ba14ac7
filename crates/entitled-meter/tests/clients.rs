//! The client examples (`examples/meter/client.py` and `client.sh`) run as they stand against
//! the built sidecar: over a Unix socket, as the ECS example has it (`METER_URL=unix:PATH`),
//! and over TCP; and the address they use by default is the sidecar's default `--listen`.
//! Needs python3, sh and curl, as the examples do.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use entitled_emulator::Config;
use entitled_test_support::process::{code, output_within};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/meter")
        .join(name)
}

/// Runs a client example with `METER_URL` set to the sidecar's address; returns its stdout.
fn run_client(program: &str, script: &str, sidecar: &Sidecar) -> String {
    let out = output_within(
        Command::new(program)
            .arg(example(script))
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("METER_URL", &sidecar.address),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        code(out.status),
        0,
        "{script} on {}: {stderr}",
        sidecar.address
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn unix_sidecar(emulator: &entitled_emulator::Emulator, dir: &Path) -> Sidecar {
    let listen = format!("unix:{}", dir.join("meter.sock").display());
    start(
        emulator,
        &dir.join("journal"),
        PRODUCT,
        &["--listen", &listen],
    )
}

#[test]
fn the_python_client_records_over_a_unix_socket() {
    let emulator = emulator(Config::new());
    let dir = tempfile::tempdir().unwrap();
    let sidecar = unix_sidecar(&emulator, dir.path());
    assert!(sidecar.address.starts_with("unix:"), "{}", sidecar.address);
    let stdout = run_client("python3", "client.py", &sidecar);
    let status: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let pending: u64 = status["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["quantity"].as_u64().unwrap())
        .sum();
    assert_eq!(pending, 123, "{stdout}");
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        totals(&emulator),
        vec![
            ("gb_scanned".into(), "{}".into(), 120.0),
            ("users".into(), r#"{"team":"a"}"#.into(), 3.0),
        ]
    );
}

#[test]
fn the_python_client_records_over_tcp() {
    let emulator = emulator(Config::new());
    let journal = tempfile::tempdir().unwrap();
    let sidecar = start(&emulator, journal.path(), PRODUCT, &[]);
    assert!(
        sidecar.address.starts_with("http://"),
        "{}",
        sidecar.address
    );
    run_client("python3", "client.py", &sidecar);
    let (code, stderr) = sidecar.terminate();
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(totals(&emulator).len(), 2);
}

#[test]
fn the_shell_client_records_over_a_unix_socket_and_tcp() {
    for unix in [true, false] {
        let emulator = emulator(Config::new());
        let dir = tempfile::tempdir().unwrap();
        let sidecar = if unix {
            unix_sidecar(&emulator, dir.path())
        } else {
            start(&emulator, dir.path(), PRODUCT, &[])
        };
        let stdout = run_client("sh", "client.sh", &sidecar);
        assert!(stdout.contains(r#""verification":"verified""#), "{stdout}");
        let (code, stderr) = sidecar.terminate();
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            totals(&emulator),
            vec![
                ("gb_scanned".into(), "{}".into(), 120.0),
                ("users".into(), r#"{"team":"a"}"#.into(), 3.0),
                ("users".into(), "{}".into(), 1.0),
            ],
            "unix socket: {unix}"
        );
    }
}

/// The address the clients use when given none is where the sidecar listens when told
/// nothing (its `--help` names the default), and where the Kubernetes example points the app.
#[test]
fn the_clients_default_to_the_sidecars_default_address() {
    let help = output_within(
        Command::new(binary()).env_clear().arg("--help"),
        Duration::from_secs(60),
    );
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let default = help
        .lines()
        .find(|l| l.trim_start().starts_with("--listen"))
        .and_then(|l| l.split("default ").nth(1))
        .unwrap_or_else(|| panic!("no --listen default in {help}"))
        .trim();
    let url = format!("http://{default}");
    let read = |name: &str| std::fs::read_to_string(example(name)).unwrap();
    assert!(
        read("client.py").contains(&format!("DEFAULT_URL = \"{url}\"")),
        "client.py"
    );
    assert!(
        read("client.sh").contains(&format!("METER_URL=${{METER_URL:-{url}}}")),
        "client.sh"
    );
    let kubernetes = read("kubernetes-deployment.yaml");
    assert!(
        kubernetes.contains(&format!("value: {url}"))
            && kubernetes.contains(&format!(
                "--listen=0.0.0.0:{}",
                default.rsplit(':').next().unwrap()
            )),
        "kubernetes-deployment.yaml"
    );
    let ecs = read("ecs-task-definition.json");
    assert!(
        ecs.contains(r#""--listen", "unix:/var/lib/entitled-meter/meter.sock""#)
            && ecs.contains(r#""value": "unix:/var/lib/entitled-meter/meter.sock""#),
        "ecs-task-definition.json: the app's METER_URL is the sidecar's socket"
    );
}
