#!/usr/bin/env bash
# Fleet-start storm: N guards start at once against one emulator that throttles
# RegisterUsage at R calls/s (AWS's quota is 5/s per account and Region).
#
#   scripts/storm.sh N R [--mode check|exec] [--json] [--enforce]
#   scripts/storm.sh 300 5      # a DaemonSet-sized scale-out
#   scripts/storm.sh 40 20      # small, CI-sized
#
# Reports the time until the last guard finished against the ideal N/R, and
# RegisterUsage calls per guard (goals: <= 1.25x and <= 1.5). Exits non-zero
# if any guard failed (or, with --enforce, if a goal is missed).
#
# Binaries: ENTITLED_BIN (default: the release musl build) and EMULATOR_BIN
# (default: target/release/entitled-emulator); built when missing.
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,14p' "$0" >&2
  exit 64
fi
n=$1 rate=$2
shift 2

root=$(cd "$(dirname "$0")/.." && pwd)
guard=${ENTITLED_BIN:-$root/target/x86_64-unknown-linux-musl/release/entitled}
emulator=${EMULATOR_BIN:-$root/target/release/entitled-emulator}
product=prod-storm-test
key=$root/tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem

if [[ ! -x $guard ]]; then
  (cd "$root" && cargo build --release --target x86_64-unknown-linux-musl -p entitled-init)
fi
if [[ ! -x $emulator ]]; then
  (cd "$root" && cargo build --release -p entitled-emulator --bin entitled-emulator)
fi

# Each guard and its stderr log take descriptors in this process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d)
source "$root/scripts/lib/emulator.sh"
cleanup() { stop_emulator; rm -rf "$work"; }
trap cleanup EXIT
start_emulator "$emulator" "$work/emulator.log" --throttle "$rate" \
  --product "$product" --key-file "$key" --public-key-out "$work/key.pem"

python3 "$root/scripts/storm.py" "$n" "$rate" --endpoint "$endpoint" --guard "$guard" \
  --product "$product" --public-key "$work/key.pem" "$@"
