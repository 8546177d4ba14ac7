//! Tests only: the child process of `tests/irsa.rs`. One check with the credential chain of
//! its (cleared, test-chosen) environment, reported on stdout as `exit=N source=S attempts=A`
//! and, on failure, an `error=` line.
//!
//! `entitled-irsa-child PRODUCT_CODE PUBLIC_KEY_FILE`
//!
//! A binary of its own rather than a test that re-runs its test binary, so that no test
//! passes for merely being the child's entry point. It requires the `emulator-pod-identity`
//! feature, which only this crate's tests enable, so no release build contains it.

use std::process::ExitCode;
use std::time::Duration;

use entitled::{Backoff, Check, KeySet, KeyVersion, PublicKey};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [product, key_file] = args.as_slice() else {
        eprintln!("usage: entitled-irsa-child PRODUCT_CODE PUBLIC_KEY_FILE");
        return ExitCode::from(64);
    };
    let key = match PublicKey::from_file(key_file) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("entitled-irsa-child: {e}");
            return ExitCode::from(66);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("entitled-irsa-child: tokio runtime: {e}");
            return ExitCode::from(71);
        }
    };
    let result = runtime.block_on(
        Check::builder()
            .product_code(product.as_str())
            .keys(KeySet::new().with(KeyVersion::FIRST, key))
            .deadline(Duration::from_secs(10))
            .attempt_timeout(Duration::from_secs(5))
            .backoff(Backoff::new(
                Duration::from_millis(10),
                Duration::from_millis(40),
            ))
            .run(),
    );
    match result {
        Ok(e) => println!("exit=0 source=- attempts={}", e.attempts()),
        Err(e) => println!(
            "exit={} source={:?} attempts=-\nerror={e}",
            e.exit_code(),
            e.credential_source()
        ),
    }
    ExitCode::SUCCESS
}
