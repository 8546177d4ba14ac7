#!/usr/bin/env bash
# `entitled --check` against the emulator (loopback HTTP) with a clean
# environment and with the CA variables Debian-based CI images set
# (SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt, SSL_CERT_DIR=/etc/ssl/certs),
# interleaved: median wall time and the guard's own CPU (user + system, from
# wait4) per check.
#
#   scripts/bench-trust.sh [ROUNDS]          # default 41
#   scripts/bench-trust.sh --tls [ROUNDS]    # the emulator over HTTPS, its CA in
#                                            # SSL_CERT_FILE, with and without
#                                            # SSL_CERT_DIR=/etc/ssl/certs
#
# Binaries: ENTITLED_BIN (default the static release guard) and EMULATOR_BIN,
# as in bench-vs-cli.sh; built when missing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
guard=${ENTITLED_BIN:-$root/target/x86_64-unknown-linux-musl/release/entitled}
emulator=${EMULATOR_BIN:-$root/target/release/entitled-emulator}
tls=false
if [[ ${1:-} == --tls ]]; then
  tls=true
  shift
fi
rounds=${1:-41}
product=prod-bench-test
key=$root/tests/fixtures/TEST-ONLY-product-key-v1-rsa3072.private.pem

if [[ ! -x $guard ]]; then
  (cd "$root" && cargo build --release --target x86_64-unknown-linux-musl -p entitled-init)
fi
if [[ ! -x $emulator ]]; then
  (cd "$root" && cargo build --release -p entitled-emulator --bin entitled-emulator)
fi

work=$(mktemp -d)
source "$root/scripts/lib/emulator.sh"
cleanup() { stop_emulator; rm -rf "$work"; }
trap cleanup EXIT
tls_args=()
if $tls; then
  tls_args=(--tls --ca-out "$work/ca.pem")
fi
start_emulator "$emulator" "$work/emulator.log" \
  --product "$product" --key-file "$key" --public-key-out "$work/key.pem" "${tls_args[@]}"

echo "endpoint $endpoint; guard $guard ($(stat -c %s "$guard") bytes); $(nproc) CPUs; $(uname -r); $(ls /etc/ssl/certs | wc -l) entries in /etc/ssl/certs"
python3 - "$guard" "$endpoint" "$work" "$product" "$rounds" "$tls" <<'PY'
import os, statistics, subprocess, sys, time
guard, endpoint, work, product, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
tls = sys.argv[6] == "true"
base = {
    "PATH": "/usr/bin:/bin",
    "AWS_ENDPOINT_URL_MARKETPLACE_METERING": endpoint,
    "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "emulator-secret-access-key",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": f"{work}/no-config",
    "AWS_SHARED_CREDENTIALS_FILE": f"{work}/no-credentials",
}
if tls:
    variants = {
        "https, the emulator's CA in SSL_CERT_FILE": dict(base, SSL_CERT_FILE=f"{work}/ca.pem"),
        "https, that and SSL_CERT_DIR=/etc/ssl/certs": dict(
            base, SSL_CERT_FILE=f"{work}/ca.pem", SSL_CERT_DIR="/etc/ssl/certs"
        ),
    }
else:
    variants = {
        "clean": base,
        "SSL_CERT_FILE + SSL_CERT_DIR (Debian)": dict(
            base,
            SSL_CERT_FILE="/etc/ssl/certs/ca-certificates.crt",
            SSL_CERT_DIR="/etc/ssl/certs",
        ),
    }
argv = [guard, "--check", "--quiet", "--product-code", product, "--public-key", f"{work}/key.pem"]

def once(env):
    start = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the guard failed: {status}")
    return wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000

results = {name: ([], []) for name in variants}
names = list(variants)
for r in range(rounds + 2):
    for name in names[r % 2:] + names[: r % 2]:
        wall, cpu = once(variants[name])
        if r >= 2:
            results[name][0].append(wall)
            results[name][1].append(cpu)
print(f"| environment | median wall | min | max | median guard CPU (user+sys) |")
print(f"|---|---|---|---|---|")
for name, (walls, cpus) in results.items():
    print(f"| {name} | {statistics.median(walls):.2f} ms | {min(walls):.2f} | {max(walls):.2f} | {statistics.median(cpus):.2f} ms |")
PY
