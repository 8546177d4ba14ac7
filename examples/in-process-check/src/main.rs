//! A paid application that checks its entitlement itself, at start-up,
//! before doing any work: AWS's recommended shape, since a buyer can
//! override a container's ENTRYPOINT but not the code inside the app.
//!
//! The product code and key are constants compiled into the app, never read
//! from the environment or the command line, which the buyer controls.
//!
//! Try it against the emulator:
//!
//! ```text
//! cargo run -p entitled-emulator -- --product demo-product \
//!     --key-file tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem
//! # listening on http://127.0.0.1:PORT
//! env AWS_ENDPOINT_URL_MARKETPLACE_METERING=http://127.0.0.1:PORT \
//!     AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/_emulator/credentials \
//!     AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
//!     cargo run -p entitled-example-in-process-check
//! ```

use std::process::ExitCode;
use std::time::Duration;

use entitled::{Check, CheckError, ConfigError, Entitlement, KeySet, KeyVersion, PublicKey};

/// Your product code from the AWS Marketplace Management Portal.
const PRODUCT_CODE: &str = "demo-product";
/// Your product's public key and its version, as AWS Marketplace gave them.
/// This one is a TEST-ONLY key from this repository.
const PUBLIC_KEY_PEM: &[u8] =
    include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
const KEY_VERSION: KeyVersion = KeyVersion::FIRST;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(70);
        }
    };
    match runtime.block_on(check_entitlement()) {
        Ok(entitlement) => {
            eprintln!(
                "entitled to {} after {} attempt(s)",
                entitlement.product_code(),
                entitlement.attempts()
            );
            if entitlement.key_rotation().is_some() {
                eprintln!("warning: key version {KEY_VERSION} has expired; ship the new key");
            }
            serve()
        }
        Err(err) => {
            // One line naming the cause and the fix; the exit code tells the
            // class (77: not entitled, 75: AWS unavailable, ...).
            eprintln!("{err}");
            ExitCode::from(err.exit_code())
        }
    }
}

async fn check_entitlement() -> Result<Entitlement, CheckError> {
    let key = PublicKey::from_pem(PUBLIC_KEY_PEM).map_err(ConfigError::from)?;
    let keys = KeySet::new().with(KEY_VERSION, key);
    Check::builder()
        .product_code(PRODUCT_CODE)
        .keys(keys)
        .key_version(KEY_VERSION)
        // AWS advises retrying transient failures for up to 30 minutes.
        .deadline(Duration::from_secs(30 * 60))
        .on_retry(|event| {
            eprintln!(
                "attempt {} failed: {}; retrying",
                event.attempt, event.reason
            )
        })
        .run()
        .await
}

/// The application's real work.
fn serve() -> ExitCode {
    println!("hello from the paid application");
    ExitCode::SUCCESS
}
