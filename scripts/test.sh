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

# The deployment examples (Kubernetes manifests, ECS task definitions, IAM
# policies), validated offline against the kubernetes client's models and
# botocore's ECS model. The packages are pinned and installed into a venv under
# target/; a failed install fails the run, it never skips the check.
examples_venv="${CARGO_TARGET_DIR:-$PWD/target}/examples-venv"
if [[ ! -x $examples_venv/bin/python ]] || ! "$examples_venv/bin/python" -c 'import kubernetes, botocore, yaml' 2>/dev/null; then
  python3 -m venv "$examples_venv"
  "$examples_venv/bin/pip" install --quiet --disable-pip-version-check \
    'kubernetes==31.0.0' 'botocore==1.44.8' 'PyYAML==6.0.4'
fi
"$examples_venv/bin/python" scripts/validate_examples.py examples

# Unit, integration and doc tests of every crate. Benchmarks are not tests:
# they print figures (see BENCHMARKS.md).
cargo test --locked --workspace
