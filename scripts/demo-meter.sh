#!/usr/bin/env bash
# Custom metering, end to end on this machine: the static `entitled-meter` sidecar meters
# two dimensions for a sample app (a shell loop posting usage with curl), signed with
# task-role credentials from the local emulator; on SIGTERM it reports the partial hour
# with one MeterUsage call per dimension, and the emulator's totals are shown.
#
# Needs: Rust (rustup), a C compiler and curl; no AWS account, no internet beyond
# crates.io for the first build. Run from anywhere: scripts/demo-meter.sh
set -euo pipefail

cd "$(dirname "$0")/.."
MUSL=x86_64-unknown-linux-musl
TARGET_DIR=${CARGO_TARGET_DIR:-target}
if ! rustup target list --installed 2>/dev/null | grep -qx "$MUSL"; then
    rustup target add "$MUSL"
fi
if ! command -v x86_64-linux-musl-gcc >/dev/null && ! command -v musl-gcc >/dev/null; then
    export CC_x86_64_unknown_linux_musl=${CC_x86_64_unknown_linux_musl:-cc}
fi

echo "==> building the static sidecar (release, $MUSL) and the emulator"
cargo build --release --target "$MUSL" -p entitled-meter
cargo build -p entitled-emulator
METER=$TARGET_DIR/$MUSL/release/entitled-meter
EMULATOR=$TARGET_DIR/debug/entitled-emulator

work=$(mktemp -d)
# As in scripts/demo.sh: DEMO_LOG_FORMAT=json, and DEMO_LOG_DIR for each binary's stderr.
log_dir=${DEMO_LOG_DIR:-$work}
log_flags=()
[[ ${DEMO_LOG_FORMAT:-text} == json ]] && log_flags=(--log-format json)
meter_pid=
source scripts/lib/emulator.sh
cleanup() {
    [[ -n $meter_pid ]] && kill "$meter_pid" 2>/dev/null || true
    stop_emulator
    rm -rf "$work"
}
trap cleanup EXIT

echo "==> starting the emulator (product demo-metered, dimensions users and gb_scanned)"
start_emulator "$EMULATOR" "$log_dir/emulator-meter.log" "${log_flags[@]}" --region us-east-1 \
    --product demo-metered --key-file tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem \
    --dimension users --dimension gb_scanned
URL=$endpoint

echo "==> starting entitled-meter (journal $work/journal)"
echo "    \$ entitled-meter --product-code demo-metered --dimension users --dimension gb_scanned --journal DIR"
exec 4< <(exec env -i PATH="$PATH" \
    AWS_ENDPOINT_URL_MARKETPLACE_METERING="$URL" \
    AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/_emulator/credentials" \
    AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    "$METER" --product-code demo-metered --dimension users --dimension gb_scanned \
    --journal "$work/journal" --listen 127.0.0.1:0 -v "${log_flags[@]}" 2>"$log_dir/entitled-meter.log")
meter_pid=$!
read -r -t 30 line <&4
METER_URL=${line#listening on }
echo "    $line"

echo "==> the sample app records usage: 10 requests, each 1 user and some GB scanned"
expected_users=0
expected_gb=0
for i in $(seq 1 10); do
    team=$([[ $((i % 2)) == 0 ]] && echo a || echo b)
    gb=$((i * 3))
    curl -fsS -o /dev/null -X POST "$METER_URL/v1/usage" -H 'Content-Type: application/json' \
        -d "[{\"dimension\": \"users\", \"quantity\": 1, \"tags\": {\"team\": \"$team\"}},
             {\"dimension\": \"gb_scanned\", \"quantity\": $gb}]"
    expected_users=$((expected_users + 1))
    expected_gb=$((expected_gb + gb))
done
echo "    status:  $(curl -fsS "$METER_URL/v1/status")"
echo "    metrics: $(curl -fsS "$METER_URL/metrics" | grep -E '^entitled_meter_(records_accepted_total|pending_quantity)[{ ]' | tr '\n' ' ')"

echo "==> SIGTERM: the sidecar reports the partial hour and exits"
kill -TERM "$meter_pid"
set +e
wait "$meter_pid"
rc=$?
set -e
meter_pid=
sed 's/^/    /' "$log_dir/entitled-meter.log"

echo "==> the emulator's totals (GET /_emulator/usage)"
usage=$(curl -fsS "$URL/_emulator/usage")
echo "$usage" | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print("    %10s  tags=%-16s quantity=%g" % (t["dimension"], json.dumps(t["tags"]), t["quantity"]))'
got_users=$(echo "$usage" | python3 -c 'import json,sys; print(int(sum(t["quantity"] for t in json.load(sys.stdin) if t["dimension"]=="users")))')
got_gb=$(echo "$usage" | python3 -c 'import json,sys; print(int(sum(t["quantity"] for t in json.load(sys.stdin) if t["dimension"]=="gb_scanned")))')
if [[ $rc == 0 && $got_users == "$expected_users" && $got_gb == "$expected_gb" ]]; then
    echo "demo-meter: PASS: exit $rc, users=$got_users gb_scanned=$got_gb reported exactly once"
else
    echo "demo-meter: FAILED: exit $rc, users=$got_users (expected $expected_users), gb_scanned=$got_gb (expected $expected_gb)" >&2
    exit 1
fi
