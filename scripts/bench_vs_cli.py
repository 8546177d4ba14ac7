#!/usr/bin/env python3
"""Interleaved wall-time and peak-RSS benchmark of entitlement checks.

Run through scripts/bench-vs-cli.sh. Each round runs every contender twice, in
an order that rotates each round, against the same emulator: once spawned
directly for wall time (spawn to reap), once under `/usr/bin/time -f %M` for
peak RSS ("Maximum resident set size" of `time -v`). Not wait4's ru_maxrss of
a direct child: Linux folds the pre-exec address space into it, so a child
of this Python process would report Python's own ~13 MiB.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

GOAL_SPEEDUP = 100.0
GOAL_MEDIAN_MS = 7.0
GOAL_RSS_MIB = 8.0


def spawn(argv, env):
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
    ])
    _, status, _ = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_once(argv, env, rss_file):
    started = time.perf_counter()
    code = spawn(argv, env)
    wall = time.perf_counter() - started
    if code != 0:
        return wall, 0, code
    code = spawn(["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv, env)
    if code != 0:
        return wall, 0, code
    with open(rss_file) as f:
        return wall, int(f.read().split()[-1]), code


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--contenders", required=True, help="JSON: {name: argv}")
    ap.add_argument("--env", required=True, help="JSON: the environment for every contender")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    contenders = json.loads(args.contenders)
    env = json.loads(args.env)
    names = list(contenders)
    rss_file = os.path.join(tempfile.mkdtemp(prefix="bench-rss-"), "rss")

    samples = {name: [] for name in names}
    for rnd in range(args.warmup + args.rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for name in order:
            wall, rss_kib, code = run_once(contenders[name], env, rss_file)
            if code != 0:
                print(f"{name} failed with exit {code}: {contenders[name]}", file=sys.stderr)
                return 1
            if rnd >= args.warmup:
                samples[name].append((wall, rss_kib))

    summary = {}
    for name in names:
        walls = [w for w, _ in samples[name]]
        rss = [r for _, r in samples[name]]
        summary[name] = {
            "median_ms": round(statistics.median(walls) * 1000, 2),
            "min_ms": round(min(walls) * 1000, 2),
            "max_ms": round(max(walls) * 1000, 2),
            "peak_rss_mib": round(max(rss) / 1024, 2),
            "median_rss_mib": round(statistics.median(rss) / 1024, 2),
            "runs": len(walls),
        }
    base = summary[names[0]]
    for name in names:
        summary[name]["x_slower_than_" + names[0]] = round(
            summary[name]["median_ms"] / base["median_ms"], 1)
        summary[name]["x_rss_of_" + names[0]] = round(
            summary[name]["peak_rss_mib"] / base["peak_rss_mib"], 1)

    if args.json:
        print(json.dumps(summary))
    print(f"{'contender':<18}{'median ms':>11}{'min':>9}{'max':>9}{'peak RSS MiB':>14}"
          f"{'x time':>9}{'x RSS':>8}", file=sys.stderr if args.json else sys.stdout)
    for name in names:
        s = summary[name]
        print(f"{name:<18}{s['median_ms']:>11.2f}{s['min_ms']:>9.2f}{s['max_ms']:>9.2f}"
              f"{s['peak_rss_mib']:>14.2f}{s['x_slower_than_' + names[0]]:>9.1f}"
              f"{s['x_rss_of_' + names[0]]:>8.1f}", file=sys.stderr if args.json else sys.stdout)
    guard = summary[names[0]]
    if "aws-cli" in summary:
        speedup = summary["aws-cli"]["median_ms"] / guard["median_ms"]
        out = sys.stderr if args.json else sys.stdout
        print(f"goals: {speedup:.0f}x faster than the AWS CLI (>= {GOAL_SPEEDUP:.0f}x) "
              f"{'met' if speedup >= GOAL_SPEEDUP else 'MISSED'}; "
              f"median {guard['median_ms']:.2f} ms (< {GOAL_MEDIAN_MS} ms) "
              f"{'met' if guard['median_ms'] < GOAL_MEDIAN_MS else 'MISSED'}; "
              f"peak RSS {guard['peak_rss_mib']:.2f} MiB (< {GOAL_RSS_MIB} MiB) "
              f"{'met' if guard['peak_rss_mib'] < GOAL_RSS_MIB else 'MISSED'}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
