#!/usr/bin/env bash
# The main job, end to end on this machine: the static `entitled` guard
# checks entitlement against the local AWS Marketplace emulator, then
# - for an entitled product, execs the program (which re-verifies the hand-off);
# - for a product the customer is not entitled to, exits 77 and never runs it.
#
# Needs: Rust (rustup) and a C compiler; no AWS account, no Docker, no internet
# beyond crates.io for the first build. Run from anywhere: scripts/demo.sh
set -euo pipefail

cd "$(dirname "$0")/.."
MUSL=x86_64-unknown-linux-musl
TARGET_DIR=${CARGO_TARGET_DIR:-target}

if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
    echo "==> installing the $MUSL target"
    rustup target add "$MUSL"
fi
# ring compiles some C. Without a musl cross compiler, the host's cc builds
# ring's freestanding C for musl just as well.
if ! command -v x86_64-linux-musl-gcc >/dev/null && ! command -v musl-gcc >/dev/null; then
    export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-cc}
fi

echo "==> building the static guard (release, $MUSL)"
cargo build --release --target "$MUSL" -p entitled-init
echo "==> building the emulator and the hand-off example app"
cargo build -p entitled-emulator -p entitled-example-handoff-verify

GUARD=$TARGET_DIR/$MUSL/release/entitled
EMULATOR=$TARGET_DIR/debug/entitled-emulator
APP=$TARGET_DIR/debug/entitled-example-handoff-verify
PRIVATE_KEY=tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem

work=$(mktemp -d)
# DEMO_LOG_FORMAT=json runs every binary with --log-format json; DEMO_LOG_DIR keeps each
# binary's stderr there (entitled.log, emulator.log, entitled-meter.log), for
# scripts/check_demo_logs.py, which parses every line (scripts/test.sh runs both).
log_dir=${DEMO_LOG_DIR:-$work}
log_flags=()
[[ ${DEMO_LOG_FORMAT:-text} == json ]] && log_flags=(--log-format json)
export DEMO_LOG_FORMAT DEMO_LOG_DIR
source scripts/lib/emulator.sh
cleanup() { stop_emulator; rm -rf "$work"; }
trap cleanup EXIT

echo "==> starting the emulator on 127.0.0.1 (a free port)"
start_emulator "$EMULATOR" "$log_dir/emulator.log" "${log_flags[@]}" --region us-east-1 \
    --product demo-product --key-file "$PRIVATE_KEY" \
    --product denied-product --key-file "$PRIVATE_KEY" --deny denied-product \
    --public-key-out "$work/key.pem"
URL=$endpoint
echo "    emulator at $URL"

# Only AWS's standard variables, as in an ECS task: task-role credentials
# from the container credentials endpoint, the Region, the endpoint override.
run_guard() {
    local flags=("${log_flags[@]}" "$@")
    if [[ -n ${DEMO_LOG_DIR:-} ]]; then
        exec 5>>"$DEMO_LOG_DIR/entitled.log"
    else
        exec 5>&2
    fi
    env -i PATH="$PATH" \
        AWS_ENDPOINT_URL_MARKETPLACE_METERING="$URL" \
        AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/_emulator/credentials" \
        AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
        "$GUARD" "${flags[@]}" 2>&5
}

failed=0
echo
echo "==> 1. entitled product: check, then exec the app"
echo "    \$ entitled --product-code demo-product --public-key key.pem -- entitled-example-handoff-verify"
set +e
run_guard --product-code demo-product --public-key "$work/key.pem" -- "$APP"
rc=$?
set -e
if [[ $rc == 0 ]]; then
    echo "    PASS: the check passed, the app ran in the guard's place and re-verified the hand-off (exit $rc)"
else
    echo "    FAIL: expected exit 0, got $rc"
    failed=1
fi

echo
echo "==> 2. product the customer is not entitled to: exit 77, the app never runs"
echo "    \$ entitled --product-code denied-product --public-key key.pem -- sh -c 'echo THE APP RAN'"
set +e
out=$(run_guard --product-code denied-product --public-key "$work/key.pem" -- sh -c 'echo THE APP RAN')
rc=$?
set -e
if [[ $rc == 77 && -z $out ]]; then
    echo "    PASS: not entitled, exit $rc, the app did not run"
else
    echo "    FAIL: expected exit 77 and no output, got exit $rc and output: $out"
    failed=1
fi

echo
echo "==> 3. custom metering: the entitled-meter sidecar (scripts/demo-meter.sh)"
stop_emulator
scripts/demo-meter.sh || failed=1

echo
if [[ $failed == 0 ]]; then
    echo "demo: all results as expected"
else
    echo "demo: FAILED" >&2
fi
exit "$failed"
