#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them all.
# Safe to run again; each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# The guard ships as a static musl binary, and the chroot test runs that build.
rustup target add x86_64-unknown-linux-musl >/dev/null
cargo build --locked --release --target x86_64-unknown-linux-musl -p entitled-init

cargo test --locked --workspace --all-targets
# Doc examples are tests too (not run by --all-targets).
cargo test --locked --workspace --doc
