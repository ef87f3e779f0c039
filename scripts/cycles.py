#!/usr/bin/env python3
"""Fails when files call each other.

Draws the graph "a.c calls a function (or reads a variable) defined in b.c"
from the objects' symbol tables (nm), for every source the Makefile builds
into the program (lib/*/*.c, server/*.c, server/*/*.c, cmd/*.c), and prints
each group of two or more files that reach one another through it (a
strongly connected component).  Layering reads one way: a dispatcher calls
its rule files, a rule file calls shared helpers, and nothing calls back
up.  See docs/layout.md.

Usage: cycles.py [--root DIR] BUILD
  BUILD  the build directory holding the objects (make test-bins first)
  DIR    the source tree (default: the one this script lives in)
Exits 0 when every group is in ALLOWED, 1 otherwise, 2 on bad usage or a
missing object (fail closed: no objects must not read as no circles).
"""
import glob
import os
import subprocess
import sys

# Groups we keep on purpose, each with the reason.  A group must match
# exactly: a third file joining the proxy's pair is a new circle.
ALLOWED = {
    # proxy.c starts the loops, each loop starts its HTTPS daemon, and the
    # daemon's callbacks (authentication, dispatch) are proxy.c's; breaking
    # it would take a function pointer that says the same less plainly
    # (server/proxy/internal.h).
    frozenset({"server/proxy/loop", "server/proxy/proxy"}),
}

SOURCES = ("lib/*/*.c", "server/*.c", "server/*/*.c", "cmd/*.c")


def symbols(obj):
    """(defined globals, undefined references) of one object."""
    out = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRCGSVW":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            used.add(f[1])
    return defined, used


def components(graph):
    """Strongly connected components (Tarjan's, without recursion)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                out.append(comp)
    return out


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(argv) == 3 and argv[0] == "--root":
        root, argv = argv[1], argv[2:]
    if len(argv) != 1:
        sys.stderr.write("usage: cycles.py [--root DIR] BUILD\n")
        return 2
    build = argv[0]
    files = sorted(
        os.path.relpath(p, root)[:-2] for pat in SOURCES for p in glob.glob(os.path.join(root, pat))
    )
    if not files:
        sys.stderr.write("cycles.py: no sources under %s\n" % root)
        return 2
    owner, uses = {}, {}
    for f in files:
        obj = os.path.join(build, f + ".o")
        if not os.path.exists(obj):
            sys.stderr.write("cycles.py: %s: no such object (build first)\n" % obj)
            return 2
        defined, uses[f] = symbols(obj)
        for s in defined:
            owner[s] = f
    graph = {f: {owner[s] for s in uses[f] if s in owner and owner[s] != f} for f in files}
    bad = 0
    for comp in sorted(components(graph), key=sorted):
        if len(comp) < 2:
            continue
        allowed = frozenset(comp) in ALLOWED
        bad += not allowed
        print("%s: %s" % ("allowed" if allowed else "circle", " ".join(sorted(comp))))
        if not allowed:
            for f in sorted(comp):
                for s in sorted(uses[f]):
                    if owner.get(s) in comp and owner[s] != f:
                        print("  %s -> %s (%s)" % (f, owner[s], s))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
