//! STS `AssumeRoleWithWebIdentity` and the EKS Pod Identity agent endpoint, over raw HTTP and
//! the real metering SDK: what IRSA does under every SDK, and the credentials the platform
//! rule refuses.

mod common;

use aws_credential_types::Credentials;
use common::*;
use entitled_emulator::{Config, Emulator, Fault, Role, STS_TARGET};

const ROLE: &str = "arn:aws:iam::123456789012:role/shop-app";

fn emulator(config: Config) -> Emulator {
    Emulator::spawn(config.product(fixtures::product("prod-1"))).unwrap()
}

/// The text of the first `<name>` element.
fn tag(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).map(|i| i + open.len()).unwrap_or(0);
    let end = xml[start..].find(&format!("</{name}>")).unwrap_or(0);
    xml[start..start + end].to_owned()
}

/// An unsigned awsQuery AssumeRoleWithWebIdentity call, as the SDKs send it.
fn assume(emulator: &Emulator, role: &str, token: &str) -> (u16, String, String) {
    let body = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=test-session&WebIdentityToken={token}",
        role.replace(':', "%3A").replace('/', "%2F")
    );
    raw_http(
        emulator.local_addr(),
        "POST",
        "/",
        &[(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        &body,
    )
}

fn session(xml: &str) -> Credentials {
    Credentials::new(
        tag(xml, "AccessKeyId"),
        tag(xml, "SecretAccessKey"),
        Some(tag(xml, "SessionToken")),
        None,
        "test",
    )
}

fn register(emulator: &Emulator, credentials: Credentials) -> Result<(), String> {
    let client = client_with(emulator, credentials, "us-east-1");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        client
            .register_usage()
            .product_code("prod-1")
            .public_key_version(1)
            .nonce("n")
            .send(),
    )
    .map(|_| ())
    .map_err(|e| {
        use aws_sdk_marketplacemetering::error::ProvideErrorMetadata as _;
        e.code().unwrap_or("no code").to_owned()
    })
}

#[test]
fn web_identity_token_becomes_session_credentials_the_metering_api_accepts() {
    let emulator = emulator(Config::new().platform_rule(true));
    let token = emulator.web_identity_token("shop", "app", 3600).unwrap();
    let (status, headers, xml) = assume(&emulator, ROLE, &token);
    assert_eq!(status, 200, "{xml}");
    assert!(
        headers.to_ascii_lowercase().contains("x-amzn-requestid"),
        "{headers}"
    );
    assert!(headers.contains("text/xml"), "{headers}");
    assert!(xml.starts_with("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"), "{xml}");
    assert_eq!(
        tag(&xml, "SubjectFromWebIdentityToken"),
        "system:serviceaccount:shop:app"
    );
    assert_eq!(tag(&xml, "Audience"), "sts.amazonaws.com");
    assert_eq!(
        tag(&xml, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/shop-app/test-session"
    );
    assert!(tag(&xml, "AccessKeyId").starts_with("ASIA"));
    assert!(!tag(&xml, "RequestId").is_empty());

    assert_eq!(register(&emulator, session(&xml)), Ok(()));
    let calls = emulator.calls();
    let sts = &calls[0];
    assert_eq!(sts.operation, "AssumeRoleWithWebIdentity");
    assert_eq!(sts.outcome, "ok");
    let call = &calls[1];
    assert_eq!(call.operation, "RegisterUsage");
    assert_eq!(call.outcome, "ok");
    assert_eq!(
        call.role.as_deref(),
        Some(ROLE),
        "the call log names the role"
    );
    assert_eq!(call.service_account.as_deref(), Some("shop:app"));
}

/// Each row: how the call is wrong, and the STS error code and HTTP status it gets.
#[test]
fn refusals_come_as_sts_xml_errors() {
    let bound: Role = format!("{ROLE}=shop:app").parse().unwrap();
    let emulator = emulator(Config::new().role(bound));
    let good = emulator.web_identity_token("shop", "app", 3600).unwrap();
    let expired = emulator.web_identity_token("shop", "app", -5).unwrap();
    let other_sa = emulator
        .web_identity_token("shop", "intruder", 3600)
        .unwrap();
    let (head, _) = good.rsplit_once('.').unwrap();
    let tampered = format!("{head}.AAAA");
    let rows: [(&str, &str, &str, u16); 5] = [
        (ROLE, &expired, "ExpiredTokenException", 400),
        (ROLE, &tampered, "InvalidIdentityToken", 400),
        (ROLE, &other_sa, "AccessDenied", 403),
        (
            "arn:aws:iam::123456789012:role/other",
            &good,
            "AccessDenied",
            403,
        ),
        ("not-an-arn", &good, "ValidationError", 400),
    ];
    for (role, token, code, status) in rows {
        let (got, _, xml) = assume(&emulator, role, token);
        assert_eq!((got, tag(&xml, "Code")), (status, code.to_owned()), "{xml}");
        assert!(xml.starts_with("<ErrorResponse"), "{xml}");
        assert_eq!(tag(&xml, "Type"), "Sender");
    }
    // Faults aimed at @sts: an error fault answers in STS's own shape.
    emulator.push_fault(STS_TARGET, Fault::error("Throttling"), 1);
    emulator.push_fault(STS_TARGET, Fault::error("InternalFailure"), 1);
    emulator.push_fault(STS_TARGET, Fault::error("IDPCommunicationError"), 1);
    for (code, status) in [
        ("Throttling", 400),
        ("InternalFailure", 500),
        ("IDPCommunicationError", 400),
    ] {
        let (got, _, xml) = assume(&emulator, ROLE, &good);
        assert_eq!((got, tag(&xml, "Code")), (status, code.to_owned()), "{xml}");
    }
    let (ok, _, xml) = assume(&emulator, ROLE, &good);
    assert_eq!(ok, 200, "faults used up: {xml}");
    let outcomes: Vec<String> = emulator.calls().into_iter().map(|c| c.outcome).collect();
    assert_eq!(
        outcomes[..3],
        [
            "ExpiredTokenException",
            "InvalidIdentityToken",
            "AccessDenied"
        ]
    );
}

/// AWS Marketplace accepts the ECS task role and IRSA only: with the platform rule on, Pod
/// Identity, a node role and long-term keys get PlatformNotSupportedException.
#[test]
fn platform_rule_refuses_pod_identity_node_roles_and_long_term_keys() {
    let emulator = emulator(
        Config::new()
            .platform_rule(true)
            .container_authorization("Bearer t"),
    );
    let fetch = |path: &str| {
        let (status, _, body) = raw_http(
            emulator.local_addr(),
            "GET",
            path,
            &[("Authorization", "Bearer t")],
            "",
        );
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        Credentials::new(
            json["AccessKeyId"].as_str().unwrap(),
            json["SecretAccessKey"].as_str().unwrap(),
            json["Token"].as_str().map(str::to_owned),
            None,
            "test",
        )
    };
    let pod_path = emulator
        .pod_identity_url()
        .replace(&emulator.endpoint_url(), "");
    let (status, _, _) = raw_http(emulator.local_addr(), "GET", &pod_path, &[], "");
    assert_eq!(
        status, 401,
        "the Pod Identity agent requires the Authorization header too"
    );
    assert_eq!(
        register(&emulator, fetch(&pod_path)),
        Err("PlatformNotSupportedException".into())
    );
    assert_eq!(register(&emulator, fetch("/_emulator/credentials")), Ok(()));

    // A node role from instance metadata (IMDSv2): refused as well.
    let addr = emulator.local_addr();
    let (status, _, _) = raw_http(
        addr,
        "GET",
        "/latest/meta-data/iam/security-credentials/",
        &[],
        "",
    );
    assert_eq!(status, 401, "IMDSv2 only: a session token is required");
    let (_, _, token) = raw_http(addr, "PUT", "/latest/api/token", &[], "");
    let imds = |path: &str| {
        raw_http(
            addr,
            "GET",
            path,
            &[("X-aws-ec2-metadata-token", &token)],
            "",
        )
    };
    let (status, _, role) = imds("/latest/meta-data/iam/security-credentials/");
    assert_eq!(status, 200);
    let (_, _, body) = imds(&format!(
        "/latest/meta-data/iam/security-credentials/{role}"
    ));
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Code"], "Success");
    let node = Credentials::new(
        json["AccessKeyId"].as_str().unwrap(),
        json["SecretAccessKey"].as_str().unwrap(),
        json["Token"].as_str().map(str::to_owned),
        None,
        "test",
    );
    assert_eq!(
        register(&emulator, node),
        Err("PlatformNotSupportedException".into())
    );
    assert_eq!(
        register(&emulator, default_credentials()),
        Err("PlatformNotSupportedException".into())
    );
}
