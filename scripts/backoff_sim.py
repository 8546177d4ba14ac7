#!/usr/bin/env python3
"""Simulates a fleet-start storm to choose backoff defaults without a fleet.

N guards call at t=0 (spread over the measured spawn time) against a token
bucket of R calls/s with burst max(1, R), as the emulator and AWS do. A
throttled guard sleeps per the policy and calls again. Prints, per policy, the
last finish against N/R and calls per guard (means over --trials runs).

    python3 scripts/backoff_sim.py 300 5
    python3 scripts/backoff_sim.py 40 20 --spawn 0.17
    python3 scripts/backoff_sim.py 20 5 --policies full:1:20 decorr:1:10

Policies: full(first, cap)  = the library's until issue 8: uniform [0, min(cap, first*2^(n-1))]
          decorr(base, cap) = AWS "decorrelated jitter", the library's default
                              (base 1 s, cap 10 s): min(cap, uniform(base, 3*prev)),
                              prev = base before the first retry
The lower bound on calls/guard when all start at once is 2 - burst/N: every
guard's first call lands in the same instant and only `burst` of them pass.
"""
import argparse
import heapq
import random
import statistics


def simulate(n, rate, spawn, policy, rng):
    burst = max(1.0, rate)
    tokens, last = burst, 0.0
    events = [(spawn * i / n, i, 1, 0.0) for i in range(n)]  # (time, guard, attempt, prev delay)
    heapq.heapify(events)
    calls, finish = 0, 0.0
    while events:
        t, g, attempt, prev = heapq.heappop(events)
        tokens = min(burst, tokens + (t - last) * rate)
        last = t
        calls += 1
        if tokens >= 1.0:
            tokens -= 1.0
            finish = max(finish, t)
            continue
        delay = policy(attempt, prev, rng)
        heapq.heappush(events, (t + delay, g, attempt + 1, delay))
    return finish, calls / n


def full(first, cap):
    def delay(attempt, _prev, rng):
        return rng.uniform(0, min(cap, first * 2 ** (attempt - 1)))
    delay.name = f"full jitter first={first:g}s cap={cap:g}s"
    return delay


def decorr(base, cap):
    def delay(_attempt, prev, rng):
        return min(cap, rng.uniform(base, max(base, prev) * 3))
    delay.name = f"decorrelated base={base:g}s cap={cap:g}s"
    return delay


def parse_policy(text):
    kind, a, b = text.split(":")
    return {"full": full, "decorr": decorr}[kind](float(a), float(b))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("rate", type=float)
    ap.add_argument("--spawn", type=float, default=0.5, help="seconds to start all N")
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--policies", nargs="+", metavar="KIND:A:B", type=parse_policy,
                    help="policies to compare, e.g. full:1:20 decorr:1:10 (default: a sweep)")
    args = ap.parse_args()
    policies = args.policies or [
        full(1, 20), full(1, 60), full(2, 60), full(5, 60), full(2, 120), full(5, 120),
        full(10, 120), decorr(1, 10), decorr(1, 20), decorr(1, 60), decorr(2, 120)]
    ideal = args.n / args.rate
    print(f"N={args.n} R={args.rate:g}: ideal {ideal:.1f} s; "
          f"lower bound {2 - max(1, args.rate) / args.n:.2f} calls/guard")
    print(f"{'policy':<40}{'last/ideal':>11}{'calls/guard':>13}")
    for policy in policies:
        rng = random.Random(1)
        runs = [simulate(args.n, args.rate, args.spawn, policy, rng) for _ in range(args.trials)]
        ratio = statistics.mean(f for f, _ in runs) / ideal
        calls = statistics.mean(c for _, c in runs)
        print(f"{policy.name:<40}{ratio:>11.2f}{calls:>13.2f}")


if __name__ == "__main__":
    main()
