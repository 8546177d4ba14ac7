//! Which product to check and which key to trust: from the flags, or from
//! the values compiled in, never both.

use entitled::{ConfigError, KeySet, KeyVersion, ProductCode, PublicKey};

use crate::cli::Cli;
use crate::compiled::Compiled;
use crate::exit::Failure;

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

/// The product and key version a run checks, as given (compiled in, else
/// from the flags), before they are validated: what the failure line names,
/// whatever step failed.
#[derive(Debug, PartialEq, Eq)]
pub struct Subject {
    /// The product code, if one was given.
    pub product_code: Option<String>,
    /// The key version asked for (1 unless given).
    pub key_version: u32,
}

/// What `cli` asks to check, for the log; compiled-in values win, as
/// [`resolve`] refuses flags that contradict them.
pub fn subject(cli: &Cli, compiled: &Compiled) -> Subject {
    let product_code = compiled
        .product_code
        .map(str::to_owned)
        .or_else(|| cli.product_code.clone());
    let key_version = match compiled.public_key {
        Some((version, _)) => version,
        None => cli.public_key_version.unwrap_or(KeyVersion::FIRST).get(),
    };
    Subject {
        product_code,
        key_version,
    }
}

fn usage(cli: &Cli, message: String) -> Failure {
    Failure::Usage(crate::flags::PROGRAM.usage_error(cli.logger.format, message))
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
        product_sku: None,
        public_key: None,
        locked: false,
    };
    const BOUND: Compiled = Compiled {
        product_code: Some("prod-bound"),
        product_sku: None,
        public_key: Some((3, KEY)),
        locked: true,
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
    fn the_subject_is_what_the_run_checks_compiled_in_first() {
        let given = cli(&["--product-code", "prod-x", "--public-key-version", "2"]);
        assert_eq!(
            subject(&given, &NOTHING),
            Subject {
                product_code: Some("prod-x".into()),
                key_version: 2
            }
        );
        assert_eq!(
            subject(&given, &BOUND),
            Subject {
                product_code: Some("prod-bound".into()),
                key_version: 3
            }
        );
        assert_eq!(
            subject(&cli(&[]), &NOTHING),
            Subject {
                product_code: None,
                key_version: 1
            }
        );
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
        use entitled_verify::build_config::*;
        assert!(check_product_code("prod-abc123").is_ok());
        assert!(check_product_code("").is_err());
        assert!(check_product_code("a b").is_err());
        assert_eq!(check_key_version("2").unwrap().get(), 2);
        assert!(check_key_version("3000000000").is_err());
        assert!(check_key_version("0").is_err());
        assert!(check_key_version("v1").is_err());
    }

    /// A relative `ENTITLED_PUBLIC_KEY_FILE` is resolved from the workspace
    /// root, whatever directory cargo runs in, and an error names the
    /// absolute path tried; a wrong key is refused in the run time's words.
    #[test]
    fn build_time_key_files_resolve_from_the_workspace_root() {
        use entitled_verify::build_config::*;
        use std::path::Path;
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = workspace_root(manifest);
        assert_eq!(root, manifest.parent().unwrap().parent().unwrap());
        let fixtures = "tests/fixtures/TEST-ONLY-";
        let (path, pem) = load_public_key(
            &format!("{fixtures}product-key-v1-rsa3072.public.pem"),
            &root,
        )
        .unwrap();
        assert!(path.is_absolute() && path.starts_with(&root), "{path:?}");
        assert_eq!(pem, KEY);
        let absolute = path.display().to_string();
        assert_eq!(
            load_public_key(&absolute, Path::new("/nowhere")).unwrap().0,
            path
        );
        assert!(load_public_key(
            &format!("{fixtures}product-key-v1-rsa3072.pkcs1-public.pem"),
            &root
        )
        .is_ok());

        let err = load_public_key("keys/missing.pem", &root)
            .unwrap_err()
            .to_string();
        let tried = root.join("keys/missing.pem");
        assert!(
            err.contains(&format!("public key file {}:", tried.display())),
            "{err}"
        );
        assert!(err.starts_with("ENTITLED_PUBLIC_KEY_FILE=keys/missing.pem (relative paths are resolved from the workspace root"), "{err}");

        let cases = [
            ("product-key-v1-rsa3072.private.pem", "a PKCS#8 private key"),
            ("not-rsa-ec-p256.public.pem", "an EC public key"),
            ("not-rsa-ec-p256.private.pem", "an EC private key"),
            ("weak-key-rsa1024.public.pem", "1024 bits"),
            ("product-key-v1-rsa3072.public.der", "not a PEM"),
        ];
        for (name, needle) in cases {
            let err = load_public_key(&format!("{fixtures}{name}"), &root)
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{name}: {err}");
            // The run time says the same thing about the same file.
            let run_time = PublicKey::from_file(root.join(format!("{fixtures}{name}")));
            if let Err(run_time) = run_time {
                assert!(err.ends_with(&run_time.to_string()), "{err} / {run_time}");
            }
        }
    }

    #[test]
    fn the_workspace_root_is_the_nearest_workspace_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("crates/member");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::write(member.join("Cargo.toml"), "[package]\nname = \"member\"\n").unwrap();
        assert_eq!(
            entitled_verify::build_config::workspace_root(&member),
            member
        );
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/member\"]\n",
        )
        .unwrap();
        assert_eq!(
            entitled_verify::build_config::workspace_root(&member),
            dir.path()
        );
    }
}
