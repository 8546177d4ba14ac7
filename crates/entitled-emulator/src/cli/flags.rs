//! Every flag of `entitled-emulator`, defined once: name, value name, help and parser.
//! The shared shell (`entitled-shell`) parses by [`FLAGS`], adds the flags every binary has
//! (`--log-format`, `-q`, `-v`, `-h`, `-V`) and renders `--help` from both; a test holds the
//! crate README's flag list to the rendering.

use entitled_emulator::KeySpec;
use entitled_shell::{Flag, Repeat};
use entitled_verify::ProductCode;

use super::Args;

/// The flags in the order `--help` lists them.
pub const FLAGS: &[Flag<Args>] = &[
    Flag {
        long: "--listen",
        short: None,
        value: Some("ADDR"),
        help: "address to listen on [default: 127.0.0.1:0, a free port]",
        repeat: Repeat::Once,
        apply: |a, v| {
            let addr = v
                .parse()
                .map_err(|e| format!("{v:?} is not IP:PORT ({e}); e.g. 127.0.0.1:0"))?;
            a.listen = Some(addr);
            Ok(())
        },
    },
    Flag {
        long: "--tls",
        short: None,
        value: None,
        help: "serve HTTPS with a generated CA and a leaf for 127.0.0.1, ::1, localhost",
        repeat: Repeat::Once,
        apply: |a, _| {
            a.tls = true;
            Ok(())
        },
    },
    Flag {
        long: "--ca-out",
        short: None,
        value: Some("PATH"),
        help: "write the CA certificate PEM (with --tls); trust it via SSL_CERT_FILE\nor AWS_CA_BUNDLE",
        repeat: Repeat::Once,
        apply: |a, v| {
            a.ca_out = Some(v.into());
            Ok(())
        },
    },
    Flag {
        long: "--public-key-out",
        short: None,
        value: Some("PATH"),
        help: "write the SPKI PEM public key of version 1 of the first --product\n(or of `demo-product` when there is none)",
        repeat: Repeat::Once,
        apply: |a, v| {
            a.public_key_out = Some(v.into());
            Ok(())
        },
    },
    Flag {
        long: "--product",
        short: None,
        value: Some("CODE"),
        help: "configure a product (repeatable); --key-file, --generate-key,\n--expired and --dimension apply to the last one (to `demo-product`\nbefore any). Without --key-file its version 1 key is RSA-3072,\ngenerated. Unconfigured product codes are served too, with a\nversion-1 key generated on first use.",
        repeat: Repeat::Many,
        apply: |a, v| {
            // Refused here, not at start-up, so the message names the flag.
            let code = v.parse::<ProductCode>().map_err(|e| e.to_string())?;
            a.products.push(entitled_emulator::ProductSpec::new(code.as_str()));
            Ok(())
        },
    },
    Flag {
        long: "--key-file",
        short: None,
        value: Some("[VERSION:]PATH"),
        help: "sign VERSION (default 1) with this PKCS#8 PEM RSA private key\n(repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            let (version, path) = match v.split_once(':') {
                Some((n, p)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    let n = n.parse().map_err(|_| "version too large".to_owned())?;
                    (n, p.to_owned())
                }
                _ => (1, v),
            };
            a.current_product().keys.push(KeySpec {
                version,
                key_file: Some(path.into()),
                expired_at: None,
            });
            Ok(())
        },
    },
    Flag {
        long: "--generate-key",
        short: None,
        value: Some("VERSION"),
        help: "generate an RSA-3072 key for VERSION at start (repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            let version = v.parse().map_err(|_| format!("{v:?} is not a key version"))?;
            a.current_product().keys.push(KeySpec {
                version,
                key_file: None,
                expired_at: None,
            });
            Ok(())
        },
    },
    Flag {
        long: "--expired",
        short: None,
        value: Some("VERSION:EPOCH"),
        help: "VERSION still works but responses carry\nPublicKeyRotationTimestamp=EPOCH (repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            let parsed = v
                .split_once(':')
                .and_then(|(n, e)| Some((n.parse().ok()?, e.parse().ok()?)));
            let (version, epoch) =
                parsed.ok_or_else(|| format!("{v:?} is not VERSION:EPOCH_SECONDS"))?;
            a.expire(version, epoch);
            Ok(())
        },
    },
    Flag {
        long: "--dimension",
        short: None,
        value: Some("NAME"),
        help: "restrict MeterUsage/BatchMeterUsage dimensions (repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            a.current_product()
                .dimensions
                .get_or_insert_with(Vec::new)
                .push(v);
            Ok(())
        },
    },
    Flag {
        long: "--deny",
        short: None,
        value: Some("CODE"),
        help: "product CODE is not entitled: CustomerNotEntitledException (repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            a.deny.push(v);
            Ok(())
        },
    },
    Flag {
        long: "--deny-caller",
        short: None,
        value: Some("AKID"),
        help: "calls signed by AKID are not entitled (repeatable)",
        repeat: Repeat::Many,
        apply: |a, v| {
            a.deny_callers.push(v);
            Ok(())
        },
    },
    Flag {
        long: "--credentials",
        short: None,
        value: Some("AKID:SECRET[:SESSION_TOKEN]"),
        help: "accept these credentials (repeatable). Always accepted as well:\nAKIAEMULATOREXAMPLE / emulator-secret-access-key (long-term) and the\nsession credentials served at /_emulator/credentials",
        repeat: Repeat::Many,
        apply: |a, v| {
            let mut parts = v.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(id), Some(secret), token) if !id.is_empty() && !secret.is_empty() => {
                    a.credentials
                        .push((id.to_owned(), secret.to_owned(), token.map(str::to_owned)));
                    Ok(())
                }
                _ => Err("expected AKID:SECRET[:SESSION_TOKEN]".to_owned()),
            }
        },
    },
    Flag {
        long: "--container-authorization",
        short: None,
        value: Some("TOKEN"),
        help: "/_emulator/credentials requires `Authorization: TOKEN`\n(AWS_CONTAINER_AUTHORIZATION_TOKEN): missing 401, wrong 403",
        repeat: Repeat::Once,
        apply: |a, v| {
            a.container_authorization = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--role",
        short: None,
        value: Some("ARN[=NS:NAME]"),
        help: "STS AssumeRoleWithWebIdentity admits only the roles given (repeatable;\nby default any role ARN); with =NS:NAME only that service account;\nwith =license-manager License Manager access tokens (Anywhere) only",
        repeat: Repeat::Many,
        apply: |a, v| {
            a.roles.push(v.parse()?);
            Ok(())
        },
    },
    Flag {
        long: "--license",
        short: None,
        value: Some("SKU=ENTITLEMENTS"),
        help: "seed a License Manager licence for the default account 123456789012\n(repeatable): ENTITLEMENTS is NAME (a tier) or NAME:COUNT (units), comma\nseparated, e.g. prod-sku=Premium,Users:5; AWS Marketplace's issuer\nfingerprint, valid for a year, 60-minute provisional time-to-live",
        repeat: Repeat::Many,
        apply: |a, v| {
            a.licenses.push(v.parse()?);
            Ok(())
        },
    },
    Flag {
        long: "--region",
        short: None,
        value: Some("REGION"),
        help: "pin the Region: calls signed for others get InvalidRegionException",
        repeat: Repeat::Once,
        apply: |a, v| {
            a.region = Some(v);
            Ok(())
        },
    },
    Flag {
        long: "--platform-rule",
        short: None,
        value: None,
        help: "RegisterUsage and MeterUsage signed with long-term keys, EKS Pod Identity\nor node-role (instance metadata) credentials get\nPlatformNotSupportedException, as AWS Marketplace answers them; the ECS\ntask role and IRSA (STS) pass",
        repeat: Repeat::Once,
        apply: |a, _| {
            a.platform_rule = true;
            Ok(())
        },
    },
    Flag {
        long: "--throttle",
        short: None,
        value: Some("RATE"),
        help: "token bucket on RegisterUsage: RATE calls/s, burst max(1, RATE);\nexcess calls get ThrottlingException (AWS's quota is 5/s)",
        repeat: Repeat::Once,
        apply: |a, v| {
            let rate = v
                .parse()
                .ok()
                .filter(|r: &f64| r.is_finite() && *r > 0.0)
                .ok_or_else(|| format!("{v:?} is not a positive number of calls per second"))?;
            a.throttle = Some(rate);
            Ok(())
        },
    },
    Flag {
        long: "--known-products-only",
        short: None,
        value: None,
        help: "unconfigured product codes get InvalidProductCodeException from\nRegisterUsage and MeterUsage",
        repeat: Repeat::Once,
        apply: |a, _| {
            a.known_products_only = true;
            Ok(())
        },
    },
    Flag {
        long: "--config",
        short: None,
        value: Some("FILE"),
        help: "JSON config, applied before every other flag (see below)",
        repeat: Repeat::Once,
        apply: |a, v| {
            a.config = Some(v.into());
            Ok(())
        },
    },
];
