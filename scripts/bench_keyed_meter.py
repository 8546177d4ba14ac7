#!/usr/bin/env python3
"""Memory and journal under keyed traffic: drives the sidecar at RATE requests/s, each with
its own Idempotency-Key (and 1 in 100 a resend of an earlier key), for DURATION seconds,
against a loopback emulator. A benchmark that prints figures, not a test.

    scripts/bench_keyed_meter.py [--duration 1800] [--rate 1000]
        [--meter target/release/entitled-meter] [--emulator target/debug/entitled-emulator]

Build first: cargo build --release -p entitled-meter && cargo build -p entitled-emulator.
Prints a line every 60 s, then: requests acknowledged, achieved rate, peak RSS (VmHWM from
/proc/PID/status), the largest and final journal size, latency p50/p99, the sidecar's
idempotent replays, and the emulator's reported total against the acknowledged total
(after SIGTERM reports the partial hour). Exits 1 if a request failed or totals differ.
Standard library only.
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

PRODUCT = "prod-bench"
THREADS = 8
RESEND_EVERY = 100


def first_line(proc, what):
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        sys.exit(f"{what} did not start: {line!r}")
    return line[len("listening on "):]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=1800)
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--meter", default="target/release/entitled-meter")
    ap.add_argument("--emulator", default="target/debug/entitled-emulator")
    args = ap.parse_args()
    env = {"AWS_EC2_METADATA_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    emulator = subprocess.Popen(
        [args.emulator, "--product", PRODUCT, "--dimension", "users"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    endpoint = first_line(emulator, "the emulator")
    journal = tempfile.mkdtemp(prefix="bench-keyed-")
    meter_env = dict(env, AWS_REGION="us-east-1", AWS_ACCESS_KEY_ID="AKIAEMULATOREXAMPLE",
                     AWS_SECRET_ACCESS_KEY="emulator-secret-access-key",
                     AWS_ENDPOINT_URL_MARKETPLACE_METERING=endpoint)
    meter = subprocess.Popen(
        [args.meter, "--product-code", PRODUCT, "--dimension", "users", "--journal", journal,
         "--listen", "127.0.0.1:0", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=meter_env)
    addr = first_line(meter, "the sidecar")[len("http://"):]
    host, port = addr.rsplit(":", 1)
    journal_file = os.path.join(journal, "usage.journal")

    lock = threading.Lock()
    acked = [0]
    resends = [0]
    failures = []
    latencies = []
    start = time.monotonic()
    stop_at = start + args.duration

    def drive(index):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        n = index
        mine = []
        while True:
            due = start + n / args.rate
            now = time.monotonic()
            if due >= stop_at:
                break
            if due > now:
                time.sleep(due - now)
            resend = n % RESEND_EVERY == RESEND_EVERY - 1 and n > 10 * RESEND_EVERY
            key = f"bench-{n - 5 * RESEND_EVERY - 1}" if resend else f"bench-{n}"
            body = b'{"dimension":"users","quantity":1}'
            t0 = time.monotonic()
            try:
                conn.request("POST", "/v1/usage", body,
                             {"Content-Type": "application/json", "Idempotency-Key": key})
                r = conn.getresponse()
                r.read()
                status = r.status
            except OSError as e:
                status = str(e)
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
            mine.append(time.monotonic() - t0)
            with lock:
                if status == 202:
                    if resend:
                        resends[0] += 1
                    else:
                        acked[0] += 1
                else:
                    failures.append(status)
            n += THREADS
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(THREADS)]
    for t in threads:
        t.start()
    peak_journal = 0
    next_print = start + 60
    while any(t.is_alive() for t in threads):
        time.sleep(1)
        size = os.path.getsize(journal_file) if os.path.exists(journal_file) else 0
        peak_journal = max(peak_journal, size)
        if time.monotonic() >= next_print:
            next_print += 60
            print(f"  t={time.monotonic() - start:5.0f}s acked={acked[0]} "
                  f"rss={status_kib(meter.pid, 'VmRSS') / 1024:.1f}MiB "
                  f"hwm={status_kib(meter.pid, 'VmHWM') / 1024:.1f}MiB "
                  f"journal={size / 2**20:.1f}MiB", flush=True)
    elapsed = time.monotonic() - start
    hwm = status_kib(meter.pid, "VmHWM")
    final_journal = os.path.getsize(journal_file)
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as r:
        metrics = r.read().decode()
    replays = next((int(l.split()[-1]) for l in metrics.splitlines()
                    if l.startswith("entitled_meter_idempotent_replays_total")), -1)
    meter.terminate()
    code = meter.wait(timeout=60)
    with urllib.request.urlopen(f"{endpoint}/_emulator/usage", timeout=10) as r:
        reported = sum(t["quantity"] for t in json.load(r))
    emulator.terminate()
    emulator.wait()
    latencies.sort()
    pct = lambda p: latencies[int((len(latencies) - 1) * p)] * 1000 if latencies else 0
    print(f"duration {elapsed:.0f} s, {acked[0]} keyed requests acknowledged "
          f"plus {resends[0]} resends ({(acked[0] + resends[0]) / elapsed:.0f} requests/s), "
          f"{len(failures)} failures")
    print(f"peak RSS (VmHWM) {hwm / 1024:.1f} MiB")
    print(f"journal: largest {peak_journal / 2**20:.1f} MiB, final {final_journal / 2**20:.1f} MiB")
    print(f"latency p50 {pct(0.5):.2f} ms, p99 {pct(0.99):.2f} ms")
    print(f"idempotent replays {replays}; sidecar exit {code}; "
          f"emulator reported {reported:.0f}, acknowledged {acked[0]}")
    if failures:
        print(f"first failures: {failures[:5]}")
    ok = not failures and code == 0 and reported == acked[0] and replays == resends[0]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
