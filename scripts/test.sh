#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them all.
# Safe to run again; each step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# Prerequisites on a fresh Debian machine (as root): file, for the static-binary
# checks; gcc-aarch64-linux-gnu, for ring's C in the arm64 guard;
# qemu-user-static, to run that guard; python3, for the licence and module
# checks; curl, for the README's CI snippet; buildah, to build and run the
# images (scripts/images.sh). Then the two musl targets.
missing=()
command -v file >/dev/null 2>&1 || missing+=(file)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || missing+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
# The examples are validated with pinned Python packages in a venv.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup target add x86_64-unknown-linux-musl aarch64-unknown-linux-musl >/dev/null

# --- Script checks and their self-tests (issue 18) ---
# One crypto stack: ring. Neither aws-lc nor OpenSSL may enter the tree; a failing
# `cargo tree` fails the check too. The self-test shows it catches each.
python3 scripts/crypto_stack.py --self-test
python3 scripts/crypto_stack.py

# Each crate's modules form a tree: no module imports another that imports it back.
# The self-test shows the checker finds a cycle.
python3 scripts/module_tree.py --self-test
python3 scripts/module_tree.py crates/*/src
# --- end of script checks ---

# Every code block in the READMEs is run by a test or marked a fragment; the
# checker's self-test proves it fails on an unmarked or drifted block.
python3 scripts/check_readme_blocks.py --self-test
python3 scripts/check_readme_blocks.py

# --- Release binaries and images (issue 20) ---
# scripts/release.sh builds every shipped binary once, static, for both
# architectures, into dist/ (cargo auditable, remapped paths: the bytes that
# ship); the tests below drive those very binaries: the chroot and qemu tests
# the guard, the sidecar tests the sidecar. Then the images are assembled from
# dist/ with buildah (installed when missing), built twice to prove their
# digests reproducible, and run by scripts/test_images.py (further down, once
# the examples venv has boto3 and PyJWT).
scripts/release.sh
release_version=$(python3 -c 'import tomllib; print(tomllib.load(open("Cargo.toml", "rb"))["workspace"]["package"]["version"])')
export ENTITLED_STATIC_BIN=$PWD/dist/entitled-$release_version-x86_64-linux
export ENTITLED_METER_STATIC_BIN=$PWD/dist/entitled-meter-$release_version-x86_64-linux
# The aarch64 guard, run under qemu-aarch64-static by
# crates/entitled-init/tests/arm64_qemu.rs.
export ENTITLED_AARCH64_GUARD=$PWD/dist/entitled-$release_version-aarch64-linux
scripts/images.sh
scripts/images.sh --verify-reproducible
# --- end of release binaries and images ---

target_dir=${CARGO_TARGET_DIR:-$PWD/target}
# The locked guard (ENTITLED_LOCKED=1: AWS's endpoints and the Amazon roots
# only), for crates/entitled-init/tests/pinning.rs. A debug build in the usual
# target directory, selected as the test run below selects it (--workspace
# with a test target, so dev-dependency features match): it reuses every
# compiled dependency, and only entitled-init is rebuilt, then again unlocked
# by the test run. Copied out first.
ENTITLED_LOCKED=1 cargo build --locked --workspace --bin entitled --test pinning
mkdir -p "$target_dir/locked-guard"
cp "$target_dir/debug/entitled" "$target_dir/locked-guard/entitled"
export ENTITLED_LOCKED_BIN="$target_dir/locked-guard/entitled"

# --- The demo's log lines (issue 18) ---
# The demo end to end with --log-format json in all three binaries: every line each one
# prints is parsed as one object of the shared shape (time, level, program, event,
# message). The checker's self-test shows it fails on a line that is not.
python3 scripts/check_demo_logs.py --self-test
demo_logs=$(mktemp -d)
DEMO_LOG_FORMAT=json DEMO_LOG_DIR="$demo_logs" scripts/demo.sh >/dev/null
python3 scripts/check_demo_logs.py "$demo_logs"
rm -rf "$demo_logs"
# --- end of the demo's log lines ---

# --- Release checks (issue 13): licences. ---
# Every dependency's licence is on deny.toml's allow-list; the checker's own
# tests prove it fails on one that is not.
python3 scripts/test_licenses.py
python3 scripts/licenses.py check
# --- end of release checks ---

# The deployment examples (Kubernetes manifests, ECS task definitions, IAM
# policies), validated offline against the kubernetes client's models and
# botocore's ECS model. The packages are pinned and installed into a venv under
# target/; a failed install fails the run, it never skips the check.
examples_venv="${CARGO_TARGET_DIR:-$PWD/target}/examples-venv"
# A venv copied or moved from another directory has scripts whose #! names the
# old path: rebuild it (--clear) unless its python and aws both run.
if ! "$examples_venv/bin/python" -c 'import kubernetes, botocore, yaml, boto3, jwt, check_jsonschema' 2>/dev/null ||
  ! "$examples_venv/bin/aws" --version >/dev/null 2>&1; then
  python3 -m venv --clear "$examples_venv"
  "$examples_venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    'kubernetes==31.0.0' 'botocore==1.44.8' 'PyYAML==6.0.4' 'awscli==1.46.3' \
    'boto3==1.44.8' 'PyJWT==2.15.1' 'cryptography==50.0.2' 'check-jsonschema==0.39.0'
fi
# ... and each example image's Dockerfile holds every path the task definitions
# and manifests name; the validator's own tests prove it catches a wrong one.
"$examples_venv/bin/python" scripts/validate_examples.py examples
"$examples_venv/bin/python" scripts/test_validate_examples.py
# --- Images (issue 20): run them against the emulator image. ---
"$examples_venv/bin/python" scripts/test_images.py
# --- end of images ---
# The README's HTTPS example runs the AWS CLI from this venv.
export ENTITLED_AWS_CLI=$examples_venv/bin/aws

# Unit and integration tests of every crate, then the doc tests. Benchmarks
# are not tests: they print figures (see BENCHMARKS.md). cargo-nextest runs
# every test binary at once rather than one after another, so tests that wait
# on a deadline overlap instead of adding up; it is on the project's machines,
# and is installed here (pinned) where missing.
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest --version 0.9.143
fi
cargo nextest run --locked --workspace --no-fail-fast
cargo test --locked --workspace --doc
