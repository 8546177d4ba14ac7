#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a cycle.

    python3 scripts/module_tree.py crates/*/src
    python3 scripts/module_tree.py --self-test

Edges are `crate::X` references outside `#[cfg(test)] mod tests`; items that a
crate root re-exports (`pub use m::{A, B}`) are mapped back to module `m`. It
reads text, not the compiler's resolution, so it is a guard against cycles
creeping back, not a proof: issue 9 asked for module graphs that are trees."""
import re, os, sys, collections
def graph(src):
    mods = set()
    for f in os.listdir(src):
        if f.endswith('.rs') and f not in ('lib.rs', 'main.rs'): mods.add(f[:-3])
        elif os.path.isdir(os.path.join(src, f)): mods.add(f)
    reexp = {}
    for root in ('lib.rs', 'main.rs'):
        p = os.path.join(src, root)
        if not os.path.exists(p): continue
        text = open(p).read()
        for m in re.finditer(r'pub(?:\([a-z]+\))?\s+use\s+([a-z_0-9]+)::(\{[^;]*\}|[A-Za-z_0-9]+)\s*;', text, re.S):
            mod, items = m.group(1), m.group(2)
            for name in re.findall(r'[A-Za-z_0-9]+', items):
                reexp[name] = mod
    edges = collections.defaultdict(set)
    for dp, _, fs in os.walk(src):
        for f in fs:
            if not f.endswith('.rs'): continue
            rel = os.path.relpath(os.path.join(dp, f), src)
            if rel in ('lib.rs', 'main.rs'): continue
            mod = rel.split('/')[0].replace('.rs', '')
            text = re.sub(r'(?m)//.*$', '', open(os.path.join(dp, f)).read())
            # test-only code may reach anywhere
            text = re.split(r'#\[cfg\(test\)\]\s*mod tests', text)[0]
            for m in re.finditer(r'crate::([A-Za-z_0-9]+)', text):
                t = reexp.get(m.group(1), m.group(1))
                if t in mods and t != mod: edges[mod].add(t)
            for m in re.finditer(r'crate::\{([^}]*)\}', text):
                for name in re.findall(r'[A-Za-z_0-9]+', m.group(1)):
                    t = reexp.get(name, name)
                    if t in mods and t != mod: edges[mod].add(t)
    return edges
def cycles(edges):
    found, color = [], {}
    def dfs(u, stack):
        color[u] = 1; stack.append(u)
        for v in sorted(edges.get(u, ())):
            if color.get(v) == 1: found.append(stack[stack.index(v):] + [v])
            elif not color.get(v): dfs(v, stack)
        stack.pop(); color[u] = 2
    for u in sorted(edges):
        if not color.get(u): dfs(u, [])
    return found
def self_test():
    """A two-module and a three-module cycle are found (through a re-export and a
    `crate::{..}` list too); a tree, and test-only references, are not."""
    import tempfile
    cases = {
        "tree": ({"a.rs": "use crate::b::X;", "b.rs": "", "lib.rs": ""}, 0),
        "pair": ({"a.rs": "use crate::b::X;", "b.rs": "fn f() { crate::a::g() }", "lib.rs": ""}, 1),
        "triangle": ({"a.rs": "use crate::b;", "b.rs": "use crate::{c};", "c.rs": "use crate::a;", "lib.rs": ""}, 1),
        "re-export": ({"a.rs": "use crate::Thing;", "b.rs": "use crate::a;",
                       "lib.rs": "pub use b::{Thing};"}, 1),
        "test-only": ({"a.rs": "use crate::b;", "b.rs": "#[cfg(test)]\nmod tests { use crate::a; }",
                       "lib.rs": ""}, 0),
        "comment": ({"a.rs": "use crate::b;", "b.rs": "// see crate::a", "lib.rs": ""}, 0),
    }
    failures = []
    for name, (files, want) in cases.items():
        with tempfile.TemporaryDirectory() as src:
            for f, text in files.items():
                with open(os.path.join(src, f), "w") as out:
                    out.write(text)
            got = len(cycles(graph(src)))
            if got != want:
                failures.append(f"{name}: {got} cycles, expected {want}")
    for f in failures:
        print(f"self-test FAIL {f}", file=sys.stderr)
    if not failures:
        print(f"module_tree self-test: {len(cases)} cases")
    return 1 if failures else 0
if sys.argv[1:] == ["--self-test"]:
    sys.exit(self_test())
total = 0
for src in sys.argv[1:]:
    e = graph(src); c = cycles(e); total += len(c)
    print(f"{src}: {sum(len(v) for v in e.values())} edges, {len(c)} cycles")
    for cyc in c: print("   CYCLE", " -> ".join(cyc))
sys.exit(1 if total else 0)
