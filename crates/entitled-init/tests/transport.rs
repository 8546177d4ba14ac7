//! The ways the guard reaches AWS: ECS container credentials with an
//! Authorization token, and HTTPS trusting a CA given in SSL_CERT_FILE.

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
    assert_ne!(code(out.status), 0, "{}", describe(&out));
    assert!(emu.calls().is_empty(), "{:?}", emu.calls());
    let stderr = String::from_utf8_lossy(&out.stderr);
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

    // Without the CA the emulator's certificate is untrusted: a TLS failure,
    // which is treated as the service being unavailable.
    let out = output_within(
        guard(&emu)
            .args(product_flags(PRODUCT))
            .args(["--deadline", "1s", "--check"]),
        PATIENCE,
    );
    assert_eq!(code(out.status), 75, "{}", describe(&out));
}
