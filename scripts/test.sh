#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them all.
# Safe to run again; each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# One crypto stack: ring. Neither aws-lc-sys nor openssl-sys may enter the tree.
if cargo tree --locked --workspace -e normal --prefix none | grep -E '^(aws-lc-sys|aws-lc-rs|openssl-sys) '; then
  echo "error: a second crypto stack entered the dependency tree (see above); keep aws-* default features off" >&2
  exit 1
fi

# The guard ships as a static musl binary, and the chroot test runs that build.
rustup target add x86_64-unknown-linux-musl >/dev/null
cargo build --locked --release --target x86_64-unknown-linux-musl -p entitled-init
export ENTITLED_STATIC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-musl/release/entitled"
# The metering sidecar ships the same way; its end-to-end, crash and disk-full tests drive
# that build (the disk-full test mounts a small tmpfs, so it needs root).
cargo build --locked --release --target x86_64-unknown-linux-musl -p entitled-meter
export ENTITLED_METER_STATIC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-musl/release/entitled-meter"

# Unit, integration and doc tests of every crate. Benchmarks are not tests:
# they print figures (see BENCHMARKS.md).
cargo test --locked --workspace
