#!/usr/bin/env bash
# `entitled --check` against the AWS CLI's `register-usage` and a boto3+PyJWT
# full check, interleaved, on one emulator over loopback HTTP.
#
#   scripts/bench-vs-cli.sh [--rounds N] [--json]
#   scripts/bench-vs-cli.sh --profile     # also strace the guard's start-up
#
# Reports median wall time, peak RSS and the ratios against the goals (>= 100x
# faster than the AWS CLI, < 7 ms median, < 8 MiB peak RSS).
#
# Python tooling: VENV (default /tmp/entitled-bench-venv) gets awscli, boto3,
# pyjwt and cryptography from PyPI on first use. Binaries: ENTITLED_BIN and
# EMULATOR_BIN, as in storm.sh; built when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
guard=${ENTITLED_BIN:-$root/target/x86_64-unknown-linux-musl/release/entitled}
emulator=${EMULATOR_BIN:-$root/target/release/entitled-emulator}
venv=${VENV:-/tmp/entitled-bench-venv}
product=prod-bench-test
key=$root/tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem

profile=false
args=()
for a in "$@"; do
  case $a in
    --profile) profile=true ;;
    *) args+=("$a") ;;
  esac
done

if [[ ! -x $guard ]]; then
  (cd "$root" && cargo build --release --target x86_64-unknown-linux-musl -p entitled-init)
fi
if [[ ! -x $emulator ]]; then
  (cd "$root" && cargo build --release -p entitled-emulator --bin entitled-emulator)
fi
if [[ ! -x $venv/bin/aws ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q awscli boto3 pyjwt cryptography
fi

work=$(mktemp -d)
source "$root/scripts/lib/emulator.sh"
cleanup() { stop_emulator; rm -rf "$work"; }
trap cleanup EXIT
start_emulator "$emulator" "$work/emulator.log" \
  --product "$product" --key-file "$key" --public-key-out "$work/key.pem"

# One environment for all three: static credentials the emulator knows, no
# profile files (as in a container), no IMDS.
env_json=$(python3 - "$endpoint" "$work" <<'PY'
import json, os, sys
endpoint, work = sys.argv[1], sys.argv[2]
print(json.dumps({
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "HOME": work,
    "AWS_ENDPOINT_URL_MARKETPLACE_METERING": endpoint,
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret-access-key",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": f"{work}/no-config",
    "AWS_SHARED_CREDENTIALS_FILE": f"{work}/no-credentials",
}))
PY
)
contenders=$(python3 - "$guard" "$venv" "$root" "$product" "$work/key.pem" "$endpoint" <<'PY'
import json, sys
guard, venv, root, product, key, endpoint = sys.argv[1:]
print(json.dumps({
    "entitled --check": [guard, "--check", "--quiet", "--product-code", product, "--public-key", key],
    "aws-cli": [f"{venv}/bin/python", f"{venv}/bin/aws", "meteringmarketplace", "register-usage",
                "--product-code", product, "--public-key-version", "1",
                "--nonce", "bench-nonce", "--endpoint-url", endpoint, "--region", "us-east-1"],
    "boto3+pyjwt": [f"{venv}/bin/python", f"{root}/scripts/boto3_check.py", product, key],
}))
PY
)

echo "endpoint $endpoint; guard $guard ($(stat -c %s "$guard") bytes); $(nproc) CPUs; $(uname -r)"
python3 "$root/scripts/bench_vs_cli.py" --contenders "$contenders" --env "$env_json" "${args[@]}"

if $profile; then
  run_guard() {
    env -i $(python3 -c 'import json,sys; print(" ".join(f"{k}={v}" for k, v in json.loads(sys.argv[1]).items()))' "$env_json") \
      "$@" "$guard" --check --quiet --product-code "$product" --public-key "$work/key.pem"
  }
  echo
  echo "== strace -f -c (system calls of one guard --check)"
  run_guard strace -f -c -o "$work/strace-c.txt" && cat "$work/strace-c.txt"
  echo
  echo "== files the guard opens (strace -f -e trace=openat,open,stat,statx,readlink)"
  run_guard strace -f -e trace=openat,open,stat,statx,newfstatat,readlink -o "$work/strace-files.txt"
  echo "$(grep -c . "$work/strace-files.txt") calls; $(grep -v ENOENT "$work/strace-files.txt" | grep -o '"[^"]*"' | sort -u | wc -l) distinct paths found, by directory:"
  grep -v ENOENT "$work/strace-files.txt" | grep -o '"[^"]*"' | sort -u | sed 's|/[^/]*"$|/|; s|^"||' | sort | uniq -c | sort -rn
  echo "-- paths looked for and not found:"
  grep ENOENT "$work/strace-files.txt" | grep -o '"[^"]*"' | sort | uniq -c | sort -rn
  echo "-- first 25 file system calls, in order:"
  grep -v '^[0-9]* +++' "$work/strace-files.txt" | sed -n '1,25p'
fi
