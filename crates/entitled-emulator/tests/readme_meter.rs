//! The README's "A first run on your machine" recipe for custom metering, run as it stands
//! with bash in an empty directory, the built emulator and the sidecar under test on PATH by
//! the names the README uses: the sidecar starts verified, takes usage from curl, reports it
//! on SIGTERM and exits 0, and the emulator's totals are the usage sent. Needs bash and curl,
//! as the recipe does.

use std::process::Command;
use std::time::Duration;

use entitled_test_support::process::{code, wait_output};

const EMULATOR: &str = env!("CARGO_BIN_EXE_entitled-emulator");
const HEADING: &str = "### A first run on your machine\n";

/// The bash block under [`HEADING`] in the repository README.
fn recipe() -> String {
    let readme = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let text = std::fs::read_to_string(readme).unwrap();
    let section = &text[text.find(HEADING).expect("the first-run section")..];
    let start = section.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let len = section[start..].find("```\n").expect("the block's end");
    section[start..start + len].to_owned()
}

/// Kills what the recipe started if it fails half-way: its bash leads its own process group.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .status();
    }
}

#[test]
fn the_first_run_recipe_meters_and_the_emulator_shows_the_totals() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(EMULATOR, bin.join("entitled-emulator")).unwrap();
    std::os::unix::fs::symlink(
        entitled_test_support::sidecar::binary(),
        bin.join("entitled-meter"),
    )
    .unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut bash = Command::new("bash");
    bash.args(["-c", &recipe()])
        .current_dir(&work)
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        );
    std::os::unix::process::CommandExt::process_group(&mut bash, 0);
    let child = bash
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let _group = Group(child.id());
    let out = wait_output(child, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let logs = |name: &str| std::fs::read_to_string(work.join(name)).unwrap_or_default();
    let why = format!(
        "stdout:\n{stdout}\nstderr:\n{stderr}\nemulator.err:\n{}\nmeter.err:\n{}",
        logs("emulator.err"),
        logs("meter.err")
    );
    assert_eq!(code(out.status), 0, "{why}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("listening on http://127.0.0.1:"),
        "{why}"
    );
    assert_eq!(lines[1], r#"{"accepted":2}"#, "{why}");
    let status: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(status["verification"], "verified", "{why}");
    assert_eq!(lines[3], "entitled-meter exited 0", "{why}");
    let usage: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
    let mut totals: Vec<(String, String, f64)> = usage
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["product_code"].as_str().unwrap().to_owned(),
                t["dimension"].as_str().unwrap().to_owned(),
                t["quantity"].as_f64().unwrap(),
            )
        })
        .collect();
    totals.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        totals,
        vec![
            ("prod-abc123".into(), "gb_scanned".into(), 40.0),
            ("prod-abc123".into(), "users".into(), 3.0),
        ],
        "{why}"
    );
    assert!(work.join("meter-journal").is_dir());
}
