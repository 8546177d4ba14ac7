//! AWS Signature Version 4 verification (header form), written against the public spec with
//! ring's HMAC-SHA256 and SHA-256.
//!
//! Checked, in order: the `Authorization` header parses; the algorithm is `AWS4-HMAC-SHA256`;
//! the credential scope is `<date>/<region>/<service>/aws4_request`, where `<service>` is the
//! signing name of the service the call's `X-Amz-Target` names (`aws-marketplace` for the
//! Metering Service, `license-manager` for License Manager) and `<date>` is the date of
//! `X-Amz-Date`; `host` and `x-amz-date` are signed; the access key is known; the
//! session token matches for session credentials (and is absent for long-term keys); the request
//! time is within 15 minutes of now; `x-amz-content-sha256`, when present, matches the body; the
//! signature matches.

use std::collections::HashMap;
use std::sync::RwLock;

use http::HeaderMap;
use ring::{digest, hmac};

use crate::encoding::{hex, percent_decode, unhex};

/// The SigV4 signing name of the Marketplace Metering Service.
pub(crate) const SERVICE: &str = "aws-marketplace";
/// The SigV4 signing name of AWS License Manager.
pub(crate) const LICENSE_MANAGER_SERVICE: &str = "license-manager";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far the request time may be from now, as AWS allows.
const MAX_SKEW_SECONDS: u64 = 15 * 60;

/// One set of credentials the emulator accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// `Some` for session (temporary) credentials, which must send `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

/// The credentials the emulator knows, by access key id. STS adds the session credentials it
/// issues while the emulator runs, hence the lock.
#[derive(Debug, Default)]
pub(crate) struct CredentialStore {
    by_key: RwLock<HashMap<String, Credential>>,
}

impl CredentialStore {
    pub fn insert(&self, credential: Credential) {
        self.by_key
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(credential.access_key_id.clone(), credential);
    }

    fn get(&self, access_key_id: &str) -> Option<Credential> {
        self.by_key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(access_key_id)
            .cloned()
    }
}

/// The parts of an HTTP request that SigV4 covers.
pub(crate) struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// A request whose signature checked out. Only [`verify`] builds one.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub access_key_id: String,
    pub region: String,
    /// True when signed with session credentials (a task role or IRSA in real AWS).
    pub session: bool,
}

/// Why a request's authentication failed. Each maps to one AWS error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("Missing Authentication Token")]
    Missing,
    #[error("{0}")]
    Incomplete(String),
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    #[error("The security token included in the request is invalid.")]
    BadSessionToken,
    #[error("{0}")]
    BadScope(String),
    #[error("Signature expired: {0}")]
    Expired(String),
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    Mismatch,
}

impl AuthError {
    /// The AWS error code for this failure.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "MissingAuthenticationTokenException",
            AuthError::Incomplete(_) => "IncompleteSignatureException",
            AuthError::UnknownKey | AuthError::BadSessionToken => "UnrecognizedClientException",
            AuthError::BadScope(_) | AuthError::Expired(_) | AuthError::Mismatch => {
                "InvalidSignatureException"
            }
        }
    }
}

struct AuthHeader<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminal: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_auth_header(value: &str) -> Result<AuthHeader<'_>, AuthError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').ok_or_else(|| {
        AuthError::Incomplete("Authorization header requires a signature algorithm".into())
    })?;
    if algorithm != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "Unsupported signature algorithm '{algorithm}'; use {ALGORITHM}"
        )));
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let missing = |what: &str| {
        AuthError::Incomplete(format!("Authorization header requires '{what}' parameter"))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed = signed.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let mut scope = credential.split('/');
    let (Some(access_key_id), Some(date), Some(region), Some(service), Some(terminal), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(AuthError::Incomplete(format!(
            "Credential '{credential}' must be <access key>/<date>/<region>/<service>/aws4_request"
        )));
    };
    Ok(AuthHeader {
        access_key_id,
        date,
        region,
        service,
        terminal,
        signed_headers: signed.split(';').collect(),
        signature,
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Verifies `req`, signed for the service whose signing name is `service`, against `store` at
/// time `now` (epoch seconds).
pub(crate) fn verify(
    req: &SignedRequest<'_>,
    store: &CredentialStore,
    now: u64,
    service: &str,
) -> Result<Verified, AuthError> {
    let auth = header_str(req.headers, "authorization").ok_or(AuthError::Missing)?;
    let auth = parse_auth_header(auth)?;
    if auth.service != service {
        return Err(AuthError::BadScope(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    if auth.terminal != "aws4_request" {
        return Err(AuthError::BadScope(
            "Credential should be scoped with a valid terminator: 'aws4_request'.".into(),
        ));
    }
    for required in ["host", "x-amz-date"] {
        if !auth.signed_headers.contains(&required) {
            return Err(AuthError::Incomplete(format!(
                "'{required}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    let amz_date = header_str(req.headers, "x-amz-date").ok_or_else(|| {
        AuthError::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                .into(),
        )
    })?;
    let request_time = crate::clock::parse_amz_date(amz_date).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "X-Amz-Date '{amz_date}' is not in the form YYYYMMDDTHHMMSSZ"
        ))
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(AuthError::BadScope(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'",
            auth.date,
            &amz_date[..8]
        )));
    }
    let credential = store.get(auth.access_key_id).ok_or(AuthError::UnknownKey)?;
    let token = header_str(req.headers, "x-amz-security-token");
    match (&credential.session_token, token) {
        (Some(expected), Some(got)) if expected == got => {}
        (None, None) => {}
        _ => return Err(AuthError::BadSessionToken),
    }
    if now.abs_diff(request_time) > MAX_SKEW_SECONDS {
        return Err(AuthError::Expired(format!(
            "{} is more than 15 minutes from the server time {}.",
            crate::clock::rfc3339(request_time),
            crate::clock::rfc3339(now)
        )));
    }
    let body_hash = hex(digest::digest(&digest::SHA256, req.body).as_ref());
    let payload_hash = match header_str(req.headers, "x-amz-content-sha256") {
        Some("UNSIGNED-PAYLOAD") => "UNSIGNED-PAYLOAD".to_owned(),
        Some(claimed) if claimed.eq_ignore_ascii_case(&body_hash) => claimed.to_owned(),
        Some(_) => {
            return Err(AuthError::BadScope(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ))
        }
        None => body_hash,
    };
    let canonical = canonical_request(req, &auth.signed_headers, &payload_hash);
    let scope = format!(
        "{}/{}/{}/aws4_request",
        auth.date, auth.region, auth.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = signing_key(
        &credential.secret_access_key,
        auth.date,
        auth.region,
        auth.service,
    );
    let provided = unhex(auth.signature).ok_or(AuthError::Mismatch)?;
    // hmac::verify compares in constant time.
    hmac::verify(&key, string_to_sign.as_bytes(), &provided).map_err(|_| AuthError::Mismatch)?;
    Ok(Verified {
        access_key_id: credential.access_key_id.clone(),
        region: auth.region.to_owned(),
        session: credential.session_token.is_some(),
    })
}

fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mac = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = mac(format!("AWS4{secret}").as_bytes(), date);
    let k_region = mac(k_date.as_ref(), region);
    let k_service = mac(k_region.as_ref(), service);
    let k_signing = mac(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// Builds the SigV4 canonical request.
fn canonical_request(
    req: &SignedRequest<'_>,
    signed_headers: &[&str],
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let values: Vec<String> = req
            .headers
            .get_all(*name)
            .iter()
            .map(|v| canonical_header_value(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// Trims and collapses runs of spaces, as the spec asks.
fn canonical_header_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Non-S3 services encode each path segment twice: the received (encoded) path is encoded again.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding of everything but unreserved characters.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Signs a request the way an AWS SDK would. Test and benchmark helper.
#[cfg(test)]
pub(crate) fn sign_for_test(
    headers: &mut HeaderMap,
    method: &str,
    path: &str,
    body: &[u8],
    credential: &Credential,
    region: &str,
    amz_date: &str,
) {
    use http::HeaderValue;
    headers.insert("x-amz-date", HeaderValue::from_str(amz_date).unwrap());
    if let Some(t) = &credential.session_token {
        headers.insert("x-amz-security-token", HeaderValue::from_str(t).unwrap());
    }
    let mut names: Vec<&str> = headers.keys().map(|k| k.as_str()).collect();
    names.sort();
    names.dedup();
    let req = SignedRequest {
        method,
        path,
        query: "",
        headers,
        body,
    };
    let payload = hex(digest::digest(&digest::SHA256, body).as_ref());
    let canonical = canonical_request(&req, &names, &payload);
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{SERVICE}/aws4_request");
    let sts = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = signing_key(&credential.secret_access_key, date, region, SERVICE);
    let sig = hex(hmac::sign(&key, sts.as_bytes()).as_ref());
    let auth = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
        credential.access_key_id,
        names.join(";")
    );
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// The "get-vanilla" example of the AWS SigV4 test suite.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
        headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let payload = hex(digest::digest(&digest::SHA256, b"").as_ref());
        let canonical = canonical_request(&req, &["host", "x-amz-date"], &payload);
        let sts = format!(
            "{ALGORITHM}\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
        );
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "service",
        );
        assert_eq!(
            hex(hmac::sign(&key, sts.as_bytes()).as_ref()),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    fn store() -> (CredentialStore, Credential) {
        let cred = Credential {
            access_key_id: "AKIDTEST".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        };
        let s = CredentialStore::default();
        s.insert(cred.clone());
        (s, cred)
    }

    #[test]
    fn verifies_and_rejects() {
        let (store, cred) = store();
        let now = crate::clock::parse_amz_date("20240102T030405Z").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:1"));
        sign_for_test(
            &mut headers,
            "POST",
            "/",
            b"{}",
            &cred,
            "us-east-1",
            "20240102T030405Z",
        );
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        let ok = verify(&req, &store, now, SERVICE).unwrap();
        assert_eq!(ok.region, "us-east-1");
        let tampered = SignedRequest {
            body: b"{ }",
            ..req
        };
        assert_eq!(
            verify(&tampered, &store, now, SERVICE).unwrap_err(),
            AuthError::Mismatch
        );
        let late = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        assert!(matches!(
            verify(&late, &store, now + 16 * 60, SERVICE),
            Err(AuthError::Expired(_))
        ));
        let other = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: b"{}",
        };
        assert_eq!(
            verify(&other, &store, now, LICENSE_MANAGER_SERVICE).unwrap_err(),
            AuthError::BadScope(
                "Credential should be scoped to correct service: 'license-manager'.".into()
            ),
            "a metering signature is not a License Manager one"
        );
    }
}
