#!/usr/bin/env python3
"""Fleet-start storm: N guards at once against one emulator throttling at R calls/s.

Run through scripts/storm.sh, which builds the binaries and starts the emulator.
Standard library only. Prints a human summary and, with --json, one JSON object.

Reports
  (a) time until the last guard finished, against the ideal N/R;
  (b) RegisterUsage calls per guard, from GET /_emulator/calls.
Exits 1 if any guard failed, or if --enforce is given and a goal is missed.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

GOAL_TIME_RATIO = 1.25
GOAL_CALLS_PER_GUARD = 1.5


def fetch_calls(endpoint: str) -> list:
    with urllib.request.urlopen(f"{endpoint}/_emulator/calls", timeout=10) as r:
        return json.load(r)


def clear_calls(endpoint: str) -> None:
    req = urllib.request.Request(f"{endpoint}/_emulator/calls", method="DELETE")
    urllib.request.urlopen(req, timeout=10).read()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("rate", type=float)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--guard", required=True)
    ap.add_argument("--product", required=True)
    ap.add_argument("--public-key", required=True)
    ap.add_argument("--mode", choices=["check", "exec"], default="check")
    ap.add_argument("--deadline", default="10m")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--enforce", action="store_true", help="exit 1 when a goal is missed")
    args = ap.parse_args()

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_ENDPOINT_URL_MARKETPLACE_METERING": args.endpoint,
        "AWS_ACCESS_KEY_ID": "AKIAEMULATOREXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "emulator-secret-access-key",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # No profile files in the way; the guard must not need them.
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    guard = [args.guard, "--product-code", args.product, "--public-key", args.public_key,
             "--deadline", args.deadline, "--quiet"]
    if args.mode == "check":
        guard.append("--check")
    else:
        # The exec'd program proves it was handed a token.
        guard += ["--", "/bin/sh", "-c", 'test -n "$ENTITLED_TOKEN" && test -n "$ENTITLED_NONCE"']

    clear_calls(args.endpoint)
    logs = tempfile.mkdtemp(prefix="storm-")
    procs = []
    started = time.monotonic()
    for i in range(args.n):
        err = open(os.path.join(logs, f"guard-{i}.log"), "wb")
        procs.append((subprocess.Popen(guard, env=env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=err), err))
    spawned = time.monotonic() - started

    # Reap in completion order so each guard's finish time is exact.
    finish = {}
    by_pid = {p.pid: (i, p) for i, (p, _) in enumerate(procs)}
    codes = {}
    while len(finish) < args.n:
        pid, status = os.wait()
        if pid not in by_pid:
            continue
        i, p = by_pid[pid]
        finish[i] = time.monotonic() - started
        codes[i] = os.waitstatus_to_exitcode(status)
        p.returncode = codes[i]
    for _, err in procs:
        err.close()

    calls = [c for c in fetch_calls(args.endpoint) if c.get("operation") == "RegisterUsage"]
    outcomes = {}
    for c in calls:
        outcomes[str(c.get("outcome"))] = outcomes.get(str(c.get("outcome")), 0) + 1

    failed = sorted(i for i, c in codes.items() if c != 0)
    times = sorted(finish.values())
    ideal = args.n / args.rate
    last = times[-1]
    result = {
        "n": args.n,
        "rate": args.rate,
        "mode": args.mode,
        "spawn_secs": round(spawned, 3),
        "ideal_secs": round(ideal, 3),
        "last_secs": round(last, 3),
        "ratio_to_ideal": round(last / ideal, 3),
        "p50_secs": round(statistics.median(times), 3),
        "p90_secs": round(times[int(0.9 * (len(times) - 1))], 3),
        "register_usage_calls": len(calls),
        "calls_per_guard": round(len(calls) / args.n, 3),
        "outcomes": outcomes,
        "failed_guards": len(failed),
        "exit_codes": sorted(set(codes.values())),
        "logs": logs,
    }
    met_time = result["ratio_to_ideal"] <= GOAL_TIME_RATIO
    met_calls = result["calls_per_guard"] <= GOAL_CALLS_PER_GUARD
    if args.json:
        print(json.dumps(result))
    else:
        print(f"storm: N={args.n} guards ({args.mode}) vs R={args.rate:g} calls/s "
              f"(spawned in {spawned:.2f} s)")
        print(f"  last guard done  {last:8.2f} s   ideal N/R {ideal:.2f} s   "
              f"ratio {last / ideal:.2f}  (goal <= {GOAL_TIME_RATIO}) "
              f"{'met' if met_time else 'MISSED'}")
        print(f"  median / p90     {result['p50_secs']:8.2f} s / {result['p90_secs']:.2f} s")
        print(f"  RegisterUsage    {len(calls)} calls = {len(calls) / args.n:.2f} per guard "
              f"(goal <= {GOAL_CALLS_PER_GUARD}) {'met' if met_calls else 'MISSED'}")
        print(f"  outcomes         {outcomes}")
        print(f"  failed guards    {len(failed)} (exit codes {result['exit_codes']}); logs in {logs}")
    if failed:
        for i in failed[:5]:
            with open(os.path.join(logs, f"guard-{i}.log"), errors="replace") as f:
                sys.stderr.write(f"guard {i} exit {codes[i]}:\n{f.read()[-2000:]}\n")
        return 1
    if args.enforce and not (met_time and met_calls):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
