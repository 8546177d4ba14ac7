#!/usr/bin/env bash
# Metering figures for BENCHMARKS.md: the static sidecar's acknowledged records/s over
# loopback HTTP (durability on), latency at 1,000 records/s, peak RSS, binary size, and
# in-process Meter::record throughput. Everything talks to a loopback emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
export AWS_EC2_METADATA_DISABLED=true
cargo build --locked --release --target x86_64-unknown-linux-musl -p entitled-meter
export ENTITLED_METER_STATIC_BIN="${CARGO_TARGET_DIR:-$PWD/target}/x86_64-unknown-linux-musl/release/entitled-meter"
cargo bench --locked -p entitled-meter --bench meter
