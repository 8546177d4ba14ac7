//! The check with the credential chain it uses in production, against the emulator over real
//! HTTP on loopback: EKS IRSA through the emulator's STS, EKS Pod Identity and long-term keys
//! refused by the platform rule, each failure with its exit code and credential source.
//!
//! The chain reads the process environment, so each case runs the check in a child process
//! (`entitled-irsa-child`, `tests/support/irsa_child.rs`) with a cleared environment.

use std::path::Path;
use std::process::Command;

use entitled_emulator::{Config, Emulator, Fault, Product, Role, STS_TARGET};

mod fixtures;
use fixtures::{private_pem, KEY_V1, PRODUCT};

const ROLE: &str = "arn:aws:iam::123456789012:role/shop-app";
fn emulator(config: Config) -> Emulator {
    let product = Product::new(PRODUCT)
        .key_pem(1, &private_pem(KEY_V1))
        .unwrap();
    Emulator::spawn(
        config
            .region("us-east-1")
            .platform_rule(true)
            .role(format!("{ROLE}=shop:app").parse::<Role>().unwrap())
            .product(product),
    )
    .unwrap()
}

/// Runs the child check with only `env` (plus the loopback endpoints) and returns its report.
fn run_check(emulator: &Emulator, env: &[(&str, &str)]) -> String {
    let key = fixtures::path(&format!("TEST-ONLY-{KEY_V1}.public.pem"));
    let out = Command::new(env!("CARGO_BIN_EXE_entitled-irsa-child"))
        .arg(PRODUCT)
        .arg(&key)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", "us-east-1")
        .env(
            "AWS_ENDPOINT_URL_MARKETPLACE_METERING",
            emulator.endpoint_url(),
        )
        .env("AWS_ENDPOINT_URL_STS", emulator.endpoint_url())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The child reports every outcome of the check on stdout and exits 0; anything else is
    // the child itself failing.
    assert!(
        out.status.success() && stdout.starts_with("exit="),
        "child: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout.trim_end().to_owned()
}

fn token_file(dir: &Path, token: &str) -> String {
    let path = dir.join("token");
    std::fs::write(&path, token).unwrap();
    path.to_str().unwrap().to_owned()
}

fn irsa_env(token_file: &str) -> Vec<(&str, &str)> {
    vec![
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file),
        ("AWS_ROLE_ARN", ROLE),
        ("AWS_ROLE_SESSION_NAME", "entitled-test"),
    ]
}

fn count(emulator: &Emulator, operation: &str) -> usize {
    emulator
        .calls()
        .iter()
        .filter(|c| c.operation == operation)
        .count()
}

#[test]
fn irsa_passes_through_sts_and_the_call_log_names_role_and_service_account() {
    let emulator = emulator(Config::new());
    let dir = tempfile::tempdir().unwrap();
    let token = emulator.web_identity_token("shop", "app", 3600).unwrap();
    let file = token_file(dir.path(), &token);
    let report = run_check(&emulator, &irsa_env(&file));
    assert_eq!(report, "exit=0 source=- attempts=1");
    let register = emulator
        .calls()
        .into_iter()
        .find(|c| c.operation == "RegisterUsage")
        .unwrap();
    assert_eq!(register.outcome, "ok");
    assert_eq!(register.role.as_deref(), Some(ROLE));
    assert_eq!(register.service_account.as_deref(), Some("shop:app"));
}

/// Credentials are fetched once per check: three RegisterUsage attempts, one STS call.
#[test]
fn three_attempts_take_one_sts_call() {
    let emulator = emulator(Config::new());
    emulator.push_fault(PRODUCT, Fault::error("ThrottlingException"), 2);
    let dir = tempfile::tempdir().unwrap();
    let file = token_file(
        dir.path(),
        &emulator.web_identity_token("shop", "app", 3600).unwrap(),
    );
    let report = run_check(&emulator, &irsa_env(&file));
    assert_eq!(report, "exit=0 source=- attempts=3");
    assert_eq!(count(&emulator, "RegisterUsage"), 3);
    assert_eq!(count(&emulator, "AssumeRoleWithWebIdentity"), 1);
}

/// STS throttling and server errors are transient: retried, then the check passes.
#[test]
fn sts_throttling_and_server_errors_are_retried() {
    for code in ["Throttling", "InternalFailure", "ServiceUnavailable"] {
        let emulator = emulator(Config::new());
        emulator.push_fault(STS_TARGET, Fault::error(code), 2);
        let dir = tempfile::tempdir().unwrap();
        let file = token_file(
            dir.path(),
            &emulator.web_identity_token("shop", "app", 3600).unwrap(),
        );
        let report = run_check(&emulator, &irsa_env(&file));
        assert_eq!(report, "exit=0 source=- attempts=3", "{code}");
        assert_eq!(count(&emulator, "AssumeRoleWithWebIdentity"), 3, "{code}");
    }
}

/// Every way IRSA can be refused ends the check with 78, names IRSA as the source, and
/// points at the service account and the role's trust policy.
#[test]
fn irsa_refusals_exit_78_with_the_service_account_hint() {
    let emulator = emulator(Config::new());
    let dir = tempfile::tempdir().unwrap();
    let expired = emulator.web_identity_token("shop", "app", -10).unwrap();
    let intruder = emulator
        .web_identity_token("shop", "intruder", 3600)
        .unwrap();
    let missing = dir.path().join("missing").to_str().unwrap().to_owned();
    let unreadable = dir.path().to_str().unwrap().to_owned(); // a directory
    let rows: [(&str, String, &str); 4] = [
        ("missing token file", missing, "No such file"),
        ("unreadable token file", unreadable, "directory"),
        (
            "expired token",
            token_file(dir.path(), &expired),
            "ExpiredTokenException",
        ),
        (
            "role not trusted for this service account",
            {
                let p = dir.path().join("intruder");
                std::fs::write(&p, &intruder).unwrap();
                p.to_str().unwrap().to_owned()
            },
            "AccessDenied",
        ),
    ];
    for (case, file, cause) in rows {
        let report = run_check(&emulator, &irsa_env(&file));
        assert!(
            report.starts_with("exit=78 source=Some(Irsa)"),
            "{case}: {report}"
        );
        assert!(report.contains("WebIdentityRefused"), "{case}: {report}");
        assert!(
            report.contains(&format!("AWS_ROLE_ARN={ROLE}")),
            "{case}: {report}"
        );
        assert!(report.contains(cause), "{case}: {report}");
        assert!(
            report.contains("service account") && report.contains("trust policy"),
            "{case}: {report}"
        );
    }
    assert_eq!(
        count(&emulator, "RegisterUsage"),
        0,
        "no call without credentials"
    );
}

/// With the platform rule, AWS Marketplace refuses Pod Identity and long-term keys; the error
/// names the source and says which ones are accepted.
#[test]
fn platform_refusals_name_the_credential_source() {
    let emulator = emulator(Config::new().container_authorization("Bearer pod"));
    let pod = emulator.pod_identity_url();
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth");
    std::fs::write(&auth, "Bearer pod").unwrap();
    let rows: [(Vec<(&str, &str)>, &str); 2] = [
        (
            vec![
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", pod.as_str()),
                (
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                    auth.to_str().unwrap(),
                ),
            ],
            "PodIdentity",
        ),
        (
            vec![
                (
                    "AWS_ACCESS_KEY_ID",
                    entitled_emulator::DEFAULT_ACCESS_KEY_ID,
                ),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    entitled_emulator::DEFAULT_SECRET_ACCESS_KEY,
                ),
            ],
            "EnvironmentKeys",
        ),
    ];
    for (env, source) in rows {
        let report = run_check(&emulator, &env);
        assert!(
            report.starts_with(&format!("exit=78 source=Some({source})")),
            "{report}"
        );
        assert!(report.contains("PlatformNotSupportedException"), "{report}");
        assert!(
            report.contains("only the ECS task role, or IRSA on EKS"),
            "{report}"
        );
    }
    // The ECS task role passes the same rule.
    let ecs = emulator.credentials_url();
    let report = run_check(
        &emulator,
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", ecs.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer pod"),
        ],
    );
    assert_eq!(report, "exit=0 source=- attempts=1");
}
