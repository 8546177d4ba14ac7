#!/usr/bin/env python3
"""Tests of scripts/licenses.py: the allow-list check must fail on a
licence it does not allow, and the embedded-list reader must read what
cargo auditable writes. Run: python3 scripts/test_licenses.py"""

import json
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import licenses  # noqa: E402

ALLOWED = {"Apache-2.0", "MIT", "ISC"}


class Expressions(unittest.TestCase):
    def test_table(self):
        table = [
            ("MIT", True),
            ("MIT OR Apache-2.0", True),
            ("MIT/Apache-2.0", True),
            ("Apache-2.0 / MIT", True),
            ("GPL-3.0-only", False),
            ("MIT OR GPL-3.0-only", True),
            ("MIT AND GPL-3.0-only", False),
            ("(MIT OR Apache-2.0) AND Unicode-3.0", False),
            ("(MIT OR Apache-2.0) AND ISC", True),
            ("Apache-2.0 WITH LLVM-exception", False),
            ("Apache-2.0 WITH LLVM-exception OR MIT", True),
            ("LGPL-2.1-or-later", False),
            ("", False),
            (None, False),
            ("MIT OR", False),
            ("(MIT", False),
            ("MIT Apache-2.0", False),
        ]
        for expression, expected in table:
            with self.subTest(expression=expression):
                self.assertEqual(licenses.satisfied(expression, ALLOWED), expected)


def metadata(*packages):
    return {"packages": [{"name": n, "version": "1.0.0", "license": l} for n, l in packages]}


class Check(unittest.TestCase):
    def run_check(self, meta):
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(meta, f)
            f.flush()
            return subprocess.run(
                [sys.executable, licenses.__file__, "check", "--metadata", f.name],
                capture_output=True, text=True,
            )

    def test_a_disallowed_licence_fails_and_names_the_crate(self):
        out = self.run_check(metadata(("fine", "MIT"), ("copyleft", "GPL-3.0-only")))
        self.assertEqual(out.returncode, 1, out.stderr)
        self.assertIn('crate copyleft 1.0.0 licensed "GPL-3.0-only"', out.stderr)
        self.assertNotIn("fine", out.stderr)

    def test_a_missing_licence_fails(self):
        out = self.run_check(metadata(("unlabelled", None)))
        self.assertEqual(out.returncode, 1)
        self.assertIn("unlabelled 1.0.0 has no SPDX licence expression", out.stderr)

    def test_allowed_licences_pass(self):
        out = self.run_check(metadata(("a", "MIT OR Apache-2.0"), ("b", "Apache-2.0 AND ISC")))
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_exceptions_apply_to_their_crate_only(self):
        policy = ({"MIT"}, {"special": {"MPL-2.0"}})
        found = licenses.violations(metadata(("special", "MPL-2.0"), ("other", "MPL-2.0")), *policy)
        self.assertEqual(len(found), 1)
        self.assertIn("crate other", found[0])


def tiny_elf(sections):
    """A minimal 64-bit little-endian ELF file with the given sections."""
    names = b"\0" + b"".join(n.encode() + b"\0" for n in [".shstrtab", *sections])
    body = bytearray(b"\x7fELF\x02\x01\x01" + bytes(57))
    blobs = [names, *sections.values()]
    offsets = []
    for blob in blobs:
        offsets.append(len(body))
        body += blob
    shoff = len(body)
    body += bytes(64)  # the null section
    name_at = 1
    for name, blob, offset in zip([".shstrtab", *sections], blobs, offsets):
        body += struct.pack("<IIQQQQIIQQ", name_at, 1, 0, 0, offset, len(blob), 0, 0, 1, 0)
        name_at += len(name) + 1
    struct.pack_into("<Q", body, 0x28, shoff)
    struct.pack_into("<HHH", body, 0x3A, 64, len(blobs) + 1, 1)
    return bytes(body)


class Embedded(unittest.TestCase):
    def test_reads_the_dep_v0_section(self):
        audit = {"packages": [
            {"name": "app", "version": "0.1.0", "source": "local", "dependencies": [1, 2], "root": True},
            {"name": "ring", "version": "0.17.14", "source": "crates.io"},
            {"name": "cc", "version": "1.2.0", "source": "crates.io", "kind": "build"},
        ]}
        with tempfile.NamedTemporaryFile(suffix=".elf") as f:
            f.write(tiny_elf({".text": b"\x90" * 8, ".dep-v0": zlib.compress(json.dumps(audit).encode())}))
            f.flush()
            found = licenses.embedded(f.name)
        self.assertEqual(found, audit)
        self.assertEqual([p["name"] for p in licenses.runtime_packages(found)], ["ring"])

    def test_a_binary_without_the_section_is_refused(self):
        with tempfile.NamedTemporaryFile(suffix=".elf") as f:
            f.write(tiny_elf({".text": b"\x90"}))
            f.flush()
            with self.assertRaisesRegex(licenses.Failure, "no .dep-v0 section; build it with `cargo auditable build`"):
                licenses.embedded(f.name)


if __name__ == "__main__":
    unittest.main()
