#!/usr/bin/env python3
"""Every line the demo's binaries print under --log-format json has the shared shape.

    DEMO_LOG_FORMAT=json DEMO_LOG_DIR=DIR scripts/demo.sh
    check_demo_logs.py DIR          parses every line of DIR/*.log
    check_demo_logs.py --self-test  shows it fails on a text line, a missing member, a
                                    time without milliseconds and another program's line

The shape (crates/entitled-shell): one JSON object per line with `time` (RFC 3339, UTC,
milliseconds), `level`, `program`, `event` and `message`, then the event's own fields.
Each file is one program's stderr: entitled.log, entitled-meter.log, emulator*.log.
"""
import glob
import json
import os
import re
import sys
import tempfile

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MEMBERS = ("time", "level", "program", "event", "message")
LEVELS = {"error", "warn", "info", "debug"}


def program_of(path):
    name = os.path.basename(path)
    if name.startswith("emulator"):
        return "entitled-emulator"
    return name[: -len(".log")]


def problems_in(path):
    want = program_of(path)
    found = []
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines:
        found.append(f"{path}: no line: the demo ran {want}, which logs at least its start")
    for n, line in enumerate(lines, 1):
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except ValueError:
            found.append(f"{where}: not JSON: {line[:120]}")
            continue
        if not isinstance(obj, dict):
            found.append(f"{where}: not one object: {line[:120]}")
            continue
        missing = [m for m in MEMBERS if not isinstance(obj.get(m), str)]
        if missing:
            found.append(f"{where}: lacks {', '.join(missing)}: {line[:120]}")
            continue
        if not TIME.match(obj["time"]):
            found.append(f"{where}: time {obj['time']!r} is not RFC 3339 UTC with milliseconds")
        if obj["level"] not in LEVELS:
            found.append(f"{where}: level {obj['level']!r}")
        if obj["program"] != want:
            found.append(f"{where}: program {obj['program']!r} in {want}'s log")
    return found, len(lines)


def check(directory):
    paths = sorted(glob.glob(os.path.join(directory, "*.log")))
    programs = {program_of(p) for p in paths}
    found = [f"{directory}: no log of {p}" for p in ("entitled", "entitled-meter", "entitled-emulator")
             if p not in programs]
    count = 0
    for path in paths:
        more, n = problems_in(path)
        found += more
        count += n
    return found, count


def self_test():
    good = json.dumps({"time": "2026-12-05T16:01:12.345Z", "level": "info", "program": "entitled",
                       "event": "entitled", "message": "check passed", "attempts": 1})
    cases = {
        "text line": ("2026-12-05T16:01:12.345Z entitled: check passed", "not JSON"),
        "missing member": (json.dumps({"time": "2026-12-05T16:01:12.345Z", "level": "info",
                                       "program": "entitled", "message": "m"}), "lacks event"),
        "time without milliseconds": (good.replace("12.345Z", "12Z"), "not RFC 3339"),
        "another program's line": (good.replace('"program": "entitled"', '"program": "x"'), "program 'x'"),
        "no line": ("", "no line"),
    }
    failures = []
    for name, (line, expected) in list(cases.items()) + [("good", (good, None))]:
        with tempfile.TemporaryDirectory() as d:
            for program in ("entitled-meter", "emulator"):
                other = good.replace('"program": "entitled"', '"program": "%s"' % (
                    "entitled-emulator" if program == "emulator" else program))
                with open(os.path.join(d, program + ".log"), "w") as f:
                    f.write(other + "\n")
            with open(os.path.join(d, "entitled.log"), "w") as f:
                f.write(line + ("\n" if line else ""))
            found, _ = check(d)
            if expected is None and found:
                failures.append(f"{name}: unexpected {found}")
            if expected is not None and not any(expected in p for p in found):
                failures.append(f"{name}: expected a problem with {expected!r}, got {found}")
    for f in failures:
        print(f"self-test FAIL {f}", file=sys.stderr)
    if not failures:
        print(f"check_demo_logs self-test: {len(cases) + 1} cases")
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    found, count = check(sys.argv[1])
    for p in found:
        print(f"error: {p}", file=sys.stderr)
    if not found:
        print(f"check_demo_logs: {count} lines, each one object of the shared shape")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
