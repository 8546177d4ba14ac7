#!/usr/bin/env python3
"""Fails when a second crypto stack (aws-lc or OpenSSL) enters the dependency tree.

    crypto_stack.py              runs `cargo tree` for the workspace and checks it
    crypto_stack.py --self-test  shows the check fails on an aws-lc or openssl crate,
                                 and when `cargo tree` itself fails

One crypto stack: ring. A failing `cargo tree` is a failure, never a pass: the check
used to sit in a shell `if`, where a command that failed looked like a clean tree.
"""
import re
import subprocess
import sys

FORBIDDEN = re.compile(r"^(aws-lc-sys|aws-lc-rs|openssl-sys|openssl) v", re.M)
COMMAND = ["cargo", "tree", "--locked", "--workspace", "-e", "normal", "--prefix", "none"]


def problems(returncode, tree, stderr=""):
    """What is wrong with one run of `cargo tree`: its exit code, stdout and stderr."""
    if returncode != 0:
        return [f"`{' '.join(COMMAND)}` failed (exit {returncode}): {stderr.strip()}"]
    if not tree.strip():
        return ["`cargo tree` printed no dependency"]
    found = sorted(set(m.group(0)[:-2] for m in FORBIDDEN.finditer(tree)))
    return [
        f"{name} entered the dependency tree; keep the aws-* crates' default features off "
        "(one crypto stack: ring)"
        for name in found
    ]


def self_test():
    clean = "entitled v0.1.0\nring v0.17.8\nrustls v0.23.0\n"
    cases = [
        ("clean", (0, clean, ""), []),
        ("aws-lc-sys", (0, clean + "aws-lc-sys v0.21.0\n", ""), ["aws-lc-sys"]),
        ("aws-lc-rs", (0, clean + "aws-lc-rs v1.9.0\n", ""), ["aws-lc-rs"]),
        ("openssl-sys", (0, clean + "openssl-sys v0.9.0\n", ""), ["openssl-sys"]),
        ("cargo tree fails", (101, "", "error: the lock file needs to be updated"), ["failed"]),
        ("empty tree", (0, "", ""), ["no dependency"]),
    ]
    failures = []
    for name, run, expected in cases:
        got = problems(*run)
        if not expected and got:
            failures.append(f"{name}: unexpected {got}")
        for needle in expected:
            if not any(needle in p for p in got):
                failures.append(f"{name}: expected a problem naming {needle!r}, got {got}")
    for f in failures:
        print(f"self-test FAIL {f}", file=sys.stderr)
    if not failures:
        print(f"crypto_stack self-test: {len(cases)} cases")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    run = subprocess.run(COMMAND, capture_output=True, text=True)
    found = problems(run.returncode, run.stdout, run.stderr)
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    if not found:
        print("crypto_stack: ring only")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
