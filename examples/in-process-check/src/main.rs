//! A paid application that checks its AWS Marketplace entitlement itself, at
//! start-up: a buyer can replace a container's ENTRYPOINT and its flags, not
//! the code inside the application. The product code and key are compiled in;
//! the environment and the command line belong to the buyer.

use std::process::ExitCode;

use entitled::{Check, CheckError, Entitlement, KeySet, KeyVersion, PublicKey};

/// The product code from the AWS Marketplace Management Portal.
const PRODUCT_CODE: &str = "demo-product";
/// The product's public key as AWS Marketplace gave it, and its version.
/// This one is a TEST-ONLY key from this repository: use your product's.
const PUBLIC_KEY_PEM: &[u8] =
    include_bytes!("../../../tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.public.pem");
const KEY_VERSION: KeyVersion = KeyVersion::FIRST;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(70); // EX_SOFTWARE
        }
    };
    match runtime.block_on(check_entitlement()) {
        Ok(entitlement) => run(&entitlement),
        Err(err) => {
            // One line naming the cause and the fix; the code tells the class:
            // 64 config, 65 forged token, 75 AWS unavailable, 77 not entitled,
            // 78 rejected.
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// RegisterUsage with a fresh nonce, the token verified with the compiled-in
/// key; transient failures are retried for 30 minutes, as AWS advises.
///
/// The token's signature is what protects an hourly product, so this check
/// honours the environment's endpoint and CA variables (its tests point it at
/// the emulator). A check whose answer carries no signature a seller can
/// verify (contract pricing) adds `.locked()`: AWS's endpoints and the Amazon
/// roots only, whatever the buyer sets.
async fn check_entitlement() -> Result<Entitlement, CheckError> {
    let key = PublicKey::from_pem(PUBLIC_KEY_PEM)?;
    Check::builder()
        .product_code(PRODUCT_CODE)
        .keys(KeySet::new().with(KEY_VERSION, key))
        .key_version(KEY_VERSION)
        .on_retry(|event| {
            eprintln!(
                "warning: attempt {} failed: {}; retrying in {} ms",
                event.attempt,
                event.reason,
                event.delay.as_millis()
            )
        })
        .run()
        .await
}

/// The application's real work, started only once the check has passed.
fn run(entitlement: &Entitlement) -> ExitCode {
    if let Some(expired) = entitlement.key_rotation_rfc3339() {
        // The one line a seller must act on: the next release needs the new key.
        eprintln!(
            "warning: public key version {} expired at {}; ship the new key and key version from AWS Marketplace",
            entitlement.key_version(),
            expired
        );
    }
    println!(
        "entitled to {} after {} attempt(s); the paid application starts",
        entitlement.product_code(),
        entitlement.attempts()
    );
    ExitCode::SUCCESS
}
