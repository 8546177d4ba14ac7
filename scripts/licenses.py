#!/usr/bin/env python3
"""Licences and dependency lists for the shipped binaries.

  licenses.py check [--metadata FILE]
      Every package in the workspace's dependency graph (all kinds, all
      platforms) must have a licence expression that the allow-list in
      deny.toml ([licenses] allow, cargo-deny's format) satisfies. Exit 1
      with one line per offending package otherwise.
  licenses.py embedded BINARY
      Lists the dependencies embedded in BINARY's `.dep-v0` section (what
      `cargo auditable` writes and `cargo audit bin`, Trivy and Grype read).
  licenses.py sbom BINARY OUT
      A CycloneDX 1.5 JSON SBOM of BINARY, built from its embedded list.
  licenses.py notice OUT BINARY...
      The third-party licence notice: every dependency compiled into the
      BINARYs, with its licence expression and licence texts.

The embedded list, not a fresh resolution, decides what is "compiled in", so
the SBOM and the notice describe exactly the bytes that ship. Licence fields
and texts come from `cargo metadata` (offline, from the local registry
cache). Output is deterministic: no clocks except SOURCE_DATE_EPOCH.
"""

import datetime
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
import tomllib
import uuid
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "deny.toml"


class Failure(Exception):
    """A problem with a one-line explanation and fix."""


# --- SPDX expressions -------------------------------------------------------

def _tokens(expression):
    # Old crates write "MIT/Apache-2.0", which means OR.
    return re.findall(r"\(|\)|[A-Za-z0-9.+-]+", expression.replace("/", " OR "))


def satisfied(expression, allowed):
    """True when the SPDX `expression` can be met using only `allowed` ids.

    `X WITH Y` counts as allowed when the whole `X WITH Y` is listed.
    Unknown syntax is never allowed: the check fails closed.
    """
    if not expression:
        return False
    tokens = _tokens(expression)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def atom():
        token = take() if peek() else None
        if token == "(":
            value = any_of()
            if take() != ")":
                raise ValueError("unbalanced parentheses")
            return value
        if token in (None, ")", "AND", "OR", "WITH"):
            raise ValueError(f"unexpected {token!r}")
        if peek() == "WITH":
            take()
            return f"{token} WITH {take()}" in allowed
        return token in allowed

    def all_of():
        value = atom()
        while peek() == "AND":
            take()
            value = atom() and value
        return value

    def any_of():
        value = all_of()
        while peek() == "OR":
            take()
            value = all_of() or value
        return value

    try:
        value = any_of()
    except (ValueError, IndexError):
        return False
    return value and position == len(tokens)


def load_policy(path=POLICY):
    """The allow-list and per-crate exceptions from deny.toml."""
    with open(path, "rb") as f:
        licenses = tomllib.load(f).get("licenses", {})
    allowed = set(licenses.get("allow", []))
    exceptions = {e["name"]: set(e["allow"]) for e in licenses.get("exceptions", [])}
    return allowed, exceptions


def cargo_metadata(*extra):
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", *extra],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout)


def violations(metadata, allowed, exceptions):
    """One line per package whose licence the policy does not allow."""
    lines = []
    for package in sorted(metadata["packages"], key=lambda p: (p["name"], p["version"])):
        ok = allowed | exceptions.get(package["name"], set())
        license = package.get("license")
        if not satisfied(license, ok):
            what = f'licensed "{license}"' if license else "has no SPDX licence expression"
            lines.append(
                f"error: crate {package['name']} {package['version']} {what}, which the "
                f"allow-list in deny.toml does not cover; replace the crate, or after a "
                f"licence review add it to [licenses] allow or exceptions"
            )
    return lines


def check(metadata_file=None):
    metadata = json.loads(Path(metadata_file).read_text()) if metadata_file else cargo_metadata()
    allowed, exceptions = load_policy()
    problems = violations(metadata, allowed, exceptions)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return 1
    print(f"licences: all {len(metadata['packages'])} packages allowed by deny.toml")
    return 0


# --- The embedded dependency list --------------------------------------------

def elf_section(binary, name):
    """The bytes of section `name` of a 64-bit little-endian ELF file."""
    data = Path(binary).read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise Failure(f"{binary}: not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)

    names = header(shstrndx)
    strtab = data[names[4]:names[4] + names[5]]
    for i in range(shnum):
        h = header(i)
        end = strtab.index(b"\0", h[0])
        if strtab[h[0]:end].decode() == name:
            return data[h[4]:h[4] + h[5]]
    raise Failure(f"{binary}: no {name} section; build it with `cargo auditable build` (scripts/release.sh does)")


def embedded(binary):
    """The `cargo auditable` dependency list of `binary`."""
    return json.loads(zlib.decompress(elf_section(binary, ".dep-v0")))


def runtime_packages(audit):
    """Packages linked into the binary: not build-only, not the root itself."""
    return [p for p in audit["packages"] if p.get("kind", "runtime") == "runtime" and not p.get("root")]


def _by_name_version(metadata):
    return {(p["name"], p["version"]): p for p in metadata["packages"]}


def _purl(package):
    return f"pkg:cargo/{package['name']}@{package['version']}"


def _source_date():
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sbom(binary, out):
    audit = embedded(binary)
    known = _by_name_version(cargo_metadata())
    digest = hashlib.sha256(Path(binary).read_bytes()).hexdigest()
    root = next(p for p in audit["packages"] if p.get("root"))
    root_entry, components, dependencies = None, [], []
    for package in audit["packages"]:
        meta = known.get((package["name"], package["version"]), {})
        entry = {
            "type": "application" if package.get("root") else "library",
            "bom-ref": _purl(package),
            "name": package["name"],
            "version": package["version"],
            "purl": _purl(package),
            # CycloneDX: "excluded" is not part of the running binary.
            "scope": "required" if package.get("kind", "runtime") == "runtime" else "excluded",
        }
        if meta.get("license"):
            entry["licenses"] = [{"expression": meta["license"]}]
        if package.get("root"):
            entry["hashes"] = [{"alg": "SHA-256", "content": digest}]
            root_entry = entry
        else:
            components.append(entry)
        dependencies.append({
            "ref": _purl(package),
            "dependsOn": sorted(_purl(audit["packages"][i]) for i in package.get("dependencies", [])),
        })
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        # Derived from the binary, so a rebuild of the same bytes gives the same SBOM.
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'sha256:' + digest)}",
        "version": 1,
        "metadata": {
            "timestamp": _source_date(),
            "tools": {"components": [{"type": "application", "name": "scripts/licenses.py"}]},
            "component": root_entry,
        },
        "components": sorted(components, key=lambda c: c["bom-ref"]),
        "dependencies": sorted(dependencies, key=lambda d: d["ref"]),
    }
    Path(out).write_text(json.dumps(document, indent=2) + "\n")
    print(f"{out}: {len(components)} components ({root['name']} {root['version']})")


LICENSE_FILE = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE|COPYRIGHT|UNLICENSE)", re.IGNORECASE)


def _license_texts(meta):
    directory = Path(meta["manifest_path"]).parent
    files = sorted(f for f in directory.iterdir() if f.is_file() and LICENSE_FILE.match(f.name))
    return [(f.name, f.read_text(errors="replace").strip()) for f in files]


def notice(out, binaries):
    known = _by_name_version(cargo_metadata())
    packages = {}
    for binary in binaries:
        for package in runtime_packages(embedded(binary)):
            if package.get("source") != "local":
                packages[(package["name"], package["version"])] = package
    missing = [f"{n} {v}" for n, v in packages if (n, v) not in known]
    if missing:
        raise Failure(f"not in `cargo metadata`: {', '.join(missing)}; run from the commit the binaries were built from")
    lines = [
        "Third-party software in the entitled release binaries",
        "=====================================================",
        "",
        "These binaries are statically linked and contain the following crates.",
        "Each is listed with its licence expression; the texts follow, each text",
        "once, with the crates it belongs to.",
        "",
    ]
    texts = {}
    for name, version in sorted(packages):
        meta = known[(name, version)]
        lines.append(f"- {name} {version}: {meta.get('license') or 'see licence file'}")
        found = _license_texts(meta)
        if not found:
            found = [("(no licence file in the crate)", f"SPDX: {meta.get('license')}")]
        for file_name, text in found:
            texts.setdefault(text, []).append(f"{name} {version} ({file_name})")
    lines.append("")
    for text, owners in sorted(texts.items(), key=lambda t: t[1][0]):
        lines += ["-" * 72, "Applies to: " + ", ".join(owners), "", text, ""]
    Path(out).write_text("\n".join(lines) + "\n")
    print(f"{out}: {len(packages)} crates, {len(texts)} distinct licence texts")


def main(argv):
    try:
        match argv:
            case ["check"]:
                return check()
            case ["check", "--metadata", path]:
                return check(path)
            case ["embedded", binary]:
                for p in embedded(binary)["packages"]:
                    print(f"{p['name']} {p['version']} {p.get('source', '')} {p.get('kind', 'runtime')}")
                return 0
            case ["sbom", binary, out]:
                sbom(binary, out)
                return 0
            case ["notice", out, *binaries] if binaries:
                notice(out, binaries)
                return 0
            case _:
                print(__doc__, file=sys.stderr)
                return 64
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
