#!/usr/bin/env python3
"""Every fenced code block in the READMEs is run by a test or marked a fragment.

    check_readme_blocks.py [--self-test]

A block qualifies when one of the HTML comments directly above its opening
fence (shown in the Markdown source, hidden when rendered) is one of these:

    <!-- run by: PATH -->    PATH is a test (or test script) that runs or
                             compares this block; it must exist and name the
                             README it reads by a path that leads to it, from
                             PATH's directory (`../README.md`), its crate's
                             (`{crate_dir}/README.md`) or the repository
                             root (`crates/x/README.md`)
    <!-- from: PATH -->      the block's text appears verbatim in PATH, a
                             file the test command builds and runs
    <!-- fragment: WHY -->   not runnable as it stands, and says why

or when its first line is a comment starting `fragment:` (`# fragment: ...`,
`// fragment: ...`), which stays visible to whoever copies the block.

Exits 1 naming each README line that breaks the rule, with the fix.
"""
import glob
import os
import re
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MARKER = re.compile(r"^\s*<!--\s*(run by|from|fragment):\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+|~~~+)(.*)$")
FIRST_LINE_FRAGMENT = re.compile(r"^\s*(#|//|--|;|<!--)\s*fragment:")


def readmes(root):
    found = glob.glob(os.path.join(root, "README.md"))
    for pattern in ("crates/*/README.md", "examples/**/README.md", "tests/**/README.md", "docker/**/README.md"):
        found += glob.glob(os.path.join(root, pattern), recursive=True)
    return sorted(set(found))


def blocks(text):
    """(line number of the opening fence, the marker above it or None, block text)."""
    lines = text.splitlines(keepends=True)
    i, comments = 0, []
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            stripped = lines[i].strip()
            if stripped.startswith("<!--") and stripped.endswith("-->"):
                comments.append(lines[i])
            elif stripped:
                comments = []
            i += 1
            continue
        indent, fence = m.group(1), m.group(2)
        start, body = i, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            i += 1
        marker = next((c for c in comments if MARKER.match(c)), None)
        yield start + 1, marker, "".join(body)
        comments = []
        i += 1


def check_block(readme, root, line, marker, body):
    where = f"{os.path.relpath(readme, root)}:{line}"
    first = body.splitlines()[0] if body.strip() else ""
    m = MARKER.match(marker) if marker else None
    if m is None:
        if FIRST_LINE_FRAGMENT.match(first):
            return []
        return [f"{where}: a code block that no test runs and that is not marked; put "
                "<!-- run by: TEST -->, <!-- from: FILE --> or <!-- fragment: why --> on the line "
                "before it, or start it with a `# fragment: why` comment"]
    kind, arg = m.group(1), m.group(2)
    if kind == "fragment":
        return [] if arg else [f"{where}: <!-- fragment: --> needs the reason it cannot run"]
    path = os.path.join(root, arg)
    if not os.path.isfile(path):
        return [f"{where}: <!-- {kind}: {arg} -->: no such file"]
    with open(path) as f:
        content = f.read()
    if kind == "from" and body not in content:
        return [f"{where}: the block is not verbatim in {arg}; copy the file's text into the README again"]
    if kind == "run by" and not names_readme(content, path, readme, root):
        return [f"{where}: {arg} does not name {os.path.relpath(readme, root)}, so it cannot run this block"]
    return []


README_PATH = re.compile(r"[A-Za-z0-9_./-]*README\.md")


def names_readme(content, test_path, readme, root):
    """Whether the test names this README by a path that leads to it."""
    want = os.path.normpath(readme)
    crate = os.path.dirname(test_path)
    while crate != root and not os.path.isfile(os.path.join(crate, "Cargo.toml")):
        crate = os.path.dirname(crate)
    for named in README_PATH.findall(content):
        for base in (os.path.dirname(test_path), crate, root):
            if os.path.normpath(os.path.join(base, named.lstrip("/"))) == want:
                return True
    return False


def check(root):
    problems, count = [], 0
    for readme in readmes(root):
        with open(readme) as f:
            text = f.read()
        for line, marker, body in blocks(text):
            count += 1
            problems += check_block(readme, root, line, marker, body)
    return problems, count


def self_test():
    """The rule fails on an unmarked block, a drifted excerpt and a missing test."""
    cases = {
        "unmarked": ("```sh\necho hi\n```\n", "that no test runs"),
        "drifted": ("<!-- from: src.rs -->\n```rust\nfn other() {}\n```\n", "not verbatim"),
        "no such test": ("<!-- run by: tests/none.rs -->\n```bash\ntrue\n```\n", "no such file"),
        "test reads no README": ("<!-- run by: src.rs -->\n```bash\ntrue\n```\n", "does not name README.md"),
        "test names another README": ("<!-- run by: other.rs -->\n```bash\ntrue\n```\n", "does not name README.md"),
        "fragment without reason": ("<!-- fragment: -->\n```sh\nx\n```\n", "needs the reason"),
    }
    good = ("<!-- from: src.rs -->\n```rust\nfn main() {}\n```\n\n"
            "<!-- run by: sub/reads.rs -->\n```bash\ntrue\n```\n\n"
            "```sh\n# fragment: needs a cluster\nkubectl apply -f x.yaml\n```\n\n"
            "   <!-- fragment: needs Docker -->\n   <!-- another comment -->\n   ```sh\n   docker build .\n   ```\n")
    failures = []
    for name, (text, expected) in list(cases.items()) + [("good", (good, None))]:
        with tempfile.TemporaryDirectory() as root:
            with open(os.path.join(root, "src.rs"), "w") as f:
                f.write("fn main() {}\n")
            # Mentions a README, but not this one: the word alone is not enough.
            with open(os.path.join(root, "other.rs"), "w") as f:
                f.write('include_str!("docs/README.md"); // README\n')
            os.mkdir(os.path.join(root, "sub"))
            with open(os.path.join(root, "sub", "reads.rs"), "w") as f:
                f.write('include_str!("../README.md");\n')
            with open(os.path.join(root, "README.md"), "w") as f:
                f.write("# t\n\n" + text)
            problems, _ = check(root)
            if expected is None and problems:
                failures.append(f"{name}: unexpected {problems}")
            if expected is not None and not any(expected in p for p in problems):
                failures.append(f"{name}: expected a problem with {expected!r}, got {problems}")
    for f in failures:
        print(f"self-test FAIL {f}", file=sys.stderr)
    return 1 if failures else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    problems, count = check(ROOT)
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if not problems:
        print(f"check_readme_blocks: {count} code blocks, each run by a test or marked")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
