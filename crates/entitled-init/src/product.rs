//! Which product to check and which key to trust: from the flags, or from
//! the values compiled in, never both.

use entitled::{ConfigError, KeySet, KeyVersion, ProductCode, PublicKey};

use crate::cli::Cli;
use crate::compiled::Compiled;
use crate::exit::Failure;
use crate::usage::UsageError;

/// The product this run checks.
#[derive(Debug)]
pub struct Product {
    /// The product code.
    pub code: ProductCode,
    /// The trusted key, under its version.
    pub keys: KeySet,
    /// The key version asked for.
    pub key_version: KeyVersion,
}

fn usage(cli: &Cli, message: String) -> Failure {
    Failure::Usage(UsageError {
        message,
        format: cli.logger.format,
    })
}

/// Resolves the product code and key. A compiled-in value cannot be
/// overridden: a flag for it is an error, so a command line cannot point a
/// product-bound binary at another product or key.
pub fn resolve(cli: &Cli, compiled: &Compiled) -> Result<Product, Failure> {
    let code = match (compiled.product_code, &cli.product_code) {
        (Some(built), Some(_)) => {
            return Err(usage(
                cli,
                format!("--product-code is refused: this binary was built for product {built}, which cannot be changed at run time; remove the flag"),
            ))
        }
        (Some(built), None) => built.parse().map_err(ConfigError::from)?,
        (None, Some(flag)) => flag.parse().map_err(ConfigError::from)?,
        (None, None) => {
            return Err(usage(cli, "--product-code is missing; pass the product code from AWS Marketplace".into()))
        }
    };

    let (key_version, key) = match compiled.public_key {
        Some((version, pem)) => {
            if cli.public_key.is_some() || cli.public_key_version.is_some() {
                let flag = if cli.public_key.is_some() {
                    "--public-key"
                } else {
                    "--public-key-version"
                };
                return Err(usage(
                    cli,
                    format!("{flag} is refused: this binary was built with public key version {version}, which cannot be changed at run time; remove the flag"),
                ));
            }
            (
                KeyVersion::try_from(version).map_err(ConfigError::from)?,
                PublicKey::from_pem(pem).map_err(ConfigError::from)?,
            )
        }
        None => {
            let Some(path) = &cli.public_key else {
                return Err(usage(
                    cli,
                    "--public-key is missing; pass the product's PEM public key file from AWS Marketplace".into(),
                ));
            };
            let version = cli.public_key_version.unwrap_or(KeyVersion::FIRST);
            (
                version,
                PublicKey::from_file(path).map_err(ConfigError::from)?,
            )
        }
    };
    let keys = KeySet::new().with(key_version, key);
    Ok(Product {
        code,
        keys,
        key_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    const KEY: &[u8] =
        include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
    const KEY_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem"
    );

    fn cli(args: &[&str]) -> Cli {
        let mut args: Vec<OsString> = args.iter().map(OsString::from).collect();
        args.push("--check".into());
        match crate::cli::parse(args).unwrap() {
            crate::cli::Parsed::Run(cli) => cli,
            other => panic!("{other:?}"),
        }
    }

    const NOTHING: Compiled = Compiled {
        product_code: None,
        public_key: None,
    };
    const BOUND: Compiled = Compiled {
        product_code: Some("prod-bound"),
        public_key: Some((3, KEY)),
    };

    #[test]
    fn flags_when_nothing_is_compiled_in() {
        let p = resolve(
            &cli(&["--product-code", "prod-x", "--public-key", KEY_PATH]),
            &NOTHING,
        )
        .unwrap();
        assert_eq!((p.code.as_str(), p.key_version.get()), ("prod-x", 1));
        let p = resolve(
            &cli(&[
                "--product-code",
                "prod-x",
                "--public-key",
                KEY_PATH,
                "--public-key-version",
                "2",
            ]),
            &NOTHING,
        )
        .unwrap();
        assert_eq!(p.key_version.get(), 2);
        assert!(p.keys.get(p.key_version).is_some());
    }

    #[test]
    fn compiled_in_values_are_used_and_cannot_be_overridden() {
        let p = resolve(&cli(&[]), &BOUND).unwrap();
        assert_eq!((p.code.as_str(), p.key_version.get()), ("prod-bound", 3));
        for args in [
            &["--product-code", "prod-cheaper"][..],
            &["--product-code", "prod-bound"],
            &["--public-key", KEY_PATH],
            &["--public-key-version", "3"],
        ] {
            let err = resolve(&cli(args), &BOUND).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{args:?}");
            assert!(
                err.to_string().contains("cannot be changed at run time"),
                "{err}"
            );
        }
    }

    #[test]
    fn missing_or_bad_keys_are_configuration_errors() {
        let cases: &[(&[&str], &str)] = &[
            (&["--public-key", KEY_PATH], "--product-code is missing"),
            (&["--product-code", "p"], "--public-key is missing"),
            (
                &[
                    "--product-code",
                    "p",
                    "--public-key",
                    "/nonexistent/key.pem",
                ],
                "/nonexistent/key.pem",
            ),
            (
                &[
                    "--product-code",
                    "p",
                    "--public-key",
                    concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/../../tests/fixtures/TEST-ONLY-weak-key-rsa1024.public.pem"
                    ),
                ],
                "1024 bits",
            ),
        ];
        for (args, needle) in cases {
            let err = resolve(&cli(args), &NOTHING).unwrap_err();
            assert_eq!(err.exit_code(), 64, "{args:?}");
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn build_time_checks() {
        use crate::build_check::*;
        assert!(check_product_code("prod-abc123").is_ok());
        assert!(check_product_code("").is_err());
        assert!(check_product_code("a b").is_err());
        assert_eq!(check_key_version("2").map(|v| v.get()), Ok(2));
        assert!(check_key_version("3000000000").is_err());
        assert!(check_key_version("0").is_err());
        assert!(check_key_version("v1").is_err());
        assert!(check_public_key_pem(KEY).is_ok());
        let pkcs1 = include_bytes!(
            "../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.pkcs1-public.pem"
        );
        assert!(check_public_key_pem(pkcs1).is_ok());
        let private =
            include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem");
        assert!(check_public_key_pem(private)
            .unwrap_err()
            .contains("PRIVATE"));
        let ec = include_bytes!("../../../tests/fixtures/TEST-ONLY-not-rsa-ec-p256.public.pem");
        assert!(check_public_key_pem(ec).is_err());
        let truncated = &KEY[..KEY.len() / 2];
        assert!(check_public_key_pem(truncated).is_err());
        assert!(check_public_key_pem(b"hello").is_err());
    }
}
