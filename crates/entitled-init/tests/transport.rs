//! The ways the guard reaches AWS: ECS container credentials with an
//! Authorization token, and HTTPS trusting a CA given in SSL_CERT_FILE or
//! AWS_CA_BUNDLE.

mod common;

use common::*;
use entitled_emulator::Emulator;

#[test]
fn ecs_container_credentials_with_an_authorization_token() {
    let emu = Emulator::spawn(config().container_authorization("Bearer task-secret-1234")).unwrap();
    let (session_akid, _, _) = emu.session_credentials();

    let out = output_within(
        guard(&emu)
            .env(
                "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                "Bearer task-secret-1234",
            )
            .args(product_flags(PRODUCT))
            .args(["-v", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    let calls = emu.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].caller.as_deref(),
        Some(session_akid.as_str()),
        "signed with the task-role credentials"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("task-secret-1234"),
        "secrets are never logged: {stderr}"
    );

    // A wrong token: the credentials endpoint refuses, so no RegisterUsage call is made.
    emu.clear_calls();
    let out = output_within(
        guard(&emu)
            .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer wrong")
            .args(product_flags(PRODUCT))
            .args(["--deadline", "2s", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 78, "{}", describe(&out));
    assert!(emu.calls().is_empty(), "{:?}", emu.calls());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Its own hint, and no word of a RegisterUsage refusal: none was made.
    assert!(
        stderr.contains("cannot call RegisterUsage (CredentialsRefused"),
        "{stderr}"
    );
    for named in ["authorization token", "credentials URI", "task role"] {
        assert!(
            stderr.contains(named),
            "the hint names the {named}: {stderr}"
        );
    }
    assert!(
        !stderr.contains("Bearer wrong"),
        "secrets are never logged: {stderr}"
    );
}

#[test]
fn https_with_the_ca_from_ssl_cert_file() {
    let emu = Emulator::spawn(config().tls(true)).unwrap();
    assert!(emu.endpoint_url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();

    let out = output_within(
        guard(&emu)
            .env("SSL_CERT_FILE", &ca)
            .args(product_flags(PRODUCT))
            .args(["--", "sh", "-c", "echo ran over TLS"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ran over TLS");
}

/// `AWS_CA_BUNDLE`, the variable the AWS CLI and SDKs read for a custom CA,
/// is honoured for the metering and the credentials endpoint alike.
#[test]
fn https_with_the_ca_from_aws_ca_bundle() {
    let emu = Emulator::spawn(config().tls(true)).unwrap();
    assert!(emu.credentials_url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emu.ca_pem().unwrap()).unwrap();

    let out = output_within(
        guard(&emu)
            .env("AWS_CA_BUNDLE", &ca)
            .args(product_flags(PRODUCT))
            .args(["--deadline", "60s", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 0, "{}", describe(&out));
    assert_eq!(emu.calls().len(), 1, "{:?}", emu.calls());
}

/// How the guard is pointed at a TLS emulator whose certificate it must
/// refuse, and why.
struct Untrusted {
    name: &'static str,
    /// The metering endpoint's emulator.
    tls: Emulator,
    /// Where the credentials come from (the TLS emulator itself, or a plain one).
    credentials_url: String,
    /// The CA to trust, if any.
    trust_ca: bool,
}

/// A certificate that does not verify is a configuration problem, not an
/// outage: 78 after the first attempt, naming SSL_CERT_FILE, for the
/// metering endpoint and the credentials endpoint alike.
#[test]
fn a_certificate_that_does_not_verify_is_rejected_at_once() {
    let plain = emulator();
    let cases = [
        Untrusted {
            name: "metering endpoint, unknown issuer",
            tls: Emulator::spawn(config().tls(true)).unwrap(),
            credentials_url: plain.credentials_url(),
            trust_ca: false,
        },
        {
            let tls = Emulator::spawn(config().tls(true)).unwrap();
            let credentials_url = tls.credentials_url();
            Untrusted {
                name: "credentials endpoint, unknown issuer",
                tls,
                credentials_url,
                trust_ca: false,
            }
        },
        Untrusted {
            // The emulator's leaf names 127.0.0.1, ::1 and localhost only.
            name: "metering endpoint, wrong name",
            tls: Emulator::spawn(config().tls(true).listen("127.0.0.2:0".parse().unwrap()))
                .unwrap(),
            credentials_url: plain.credentials_url(),
            trust_ca: true,
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for case in cases {
        let mut cmd = guard(&case.tls);
        cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &case.credentials_url)
            .args(product_flags(PRODUCT))
            // Long enough that a retried failure would end in 75, not 78.
            .args(["--deadline", "60s", "--check"]);
        if case.trust_ca {
            let ca = dir.path().join("ca.pem");
            std::fs::write(&ca, case.tls.ca_pem().unwrap()).unwrap();
            cmd.env("SSL_CERT_FILE", &ca);
        }
        let out = output_within(&mut cmd, PATIENCE);
        assert_eq!(code(out.status), 78, "{}: {}", case.name, describe(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("TlsCertificateNotTrusted"),
            "{}: {stderr}",
            case.name
        );
        assert!(stderr.contains("SSL_CERT_FILE"), "{}: {stderr}", case.name);
        assert!(
            !stderr.contains("retrying"),
            "{}: not retried: {stderr}",
            case.name
        );
        assert!(case.tls.calls().is_empty(), "{}", case.name);
    }
}
