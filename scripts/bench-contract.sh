#!/usr/bin/env bash
# The guard's start-up cost per pricing model, for BENCHMARKS.md: `entitled --check`
# (RegisterUsage, PS256 verified) next to `entitled --contract --check` (CheckoutLicense,
# then CheckInLicense), the static release guard against a release emulator on loopback.
# Prints hyperfine's median, min and max of 100 runs each. Needs hyperfine.
#
#   scripts/bench-contract.sh [GUARD]   GUARD defaults to the x86_64 guard in dist/
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "error: hyperfine is missing; apt-get install -y hyperfine" >&2; exit 1; }
guard=${1:-$(ls dist/entitled-*-x86_64-linux 2>/dev/null | head -n1)}
[[ -x $guard ]] || { echo "error: no guard at '${guard}'; run scripts/release.sh or pass its path" >&2; exit 1; }
cargo build --locked --release -p entitled-emulator >&2
emulator=${CARGO_TARGET_DIR:-$PWD/target}/release/entitled-emulator

work=$(mktemp -d)
coproc EMULATOR { exec "$emulator" --product demo-product --public-key-out "$work/key.pem" \
  --license 'bench-sku=Premium' 2>"$work/err"; }
pid=$EMULATOR_PID
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
# Its one stdout line, once it accepts connections: `listening on URL`.
read -r line <&"${EMULATOR[0]}" || { cat "$work/err" >&2; exit 1; }
url=${line#listening on }

# Loopback only: the emulator's endpoints and credentials, no IMDS, no profiles.
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 \
  AWS_ENDPOINT_URL_MARKETPLACE_METERING="$url" AWS_ENDPOINT_URL_LICENSE_MANAGER="$url" \
  AWS_CONTAINER_CREDENTIALS_FULL_URI="$url/_emulator/credentials" \
  AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent
hyperfine -N --warmup 5 --runs 100 --export-json "$work/runs.json" \
  --command-name 'entitled --check (RegisterUsage)' \
  "$guard --product-code demo-product --public-key $work/key.pem --check -q" \
  --command-name 'entitled --contract --check (CheckoutLicense + CheckInLicense)' \
  "$guard --contract --product-sku bench-sku --entitlement Basic --entitlement Premium --check -q" \
  >/dev/null
python3 - "$work/runs.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    ms = lambda s: f"{s * 1000:.2f} ms"
    print(f"{r['command']}: median {ms(r['median'])} (min {ms(r['min'])}, max {ms(r['max'])})")
PY
