#!/usr/bin/env python3
"""check_layers.py -- the emulator's layers, checked from its #include lines.

Every file under emulator/ belongs to the layer its directory names (main.c and vendor_list.c,
directly in emulator/, are the top). A file may include headers of its own layer and of the
layers below it, never above or beside it, and no chain of includes between files may come
back to where it started. Every layer directory is on the compiler's include path, so an
#include "name.h" is resolved the way the build resolves it: the including file's own
directory first, then emulator/, then each layer directory.

    python3 tests/check_layers.py [ROOT]     (ROOT: the repository; default: this file's ..)

Prints each problem as "file:line: sentence" and exits 1 when there is any.
"""
import os
import re
import sys

# Each layer with the layers it may include (besides itself). vendors/<name> is one layer per
# vendor: a vendor may not include another vendor's headers.
BELOW = {
    "base": set(),
    "store": {"base"},
    "net": {"base"},
    "core": {"base", "store"},
    "toolkit": {"base", "store", "net", "core"},
    "server": {"base", "store", "net", "core", "toolkit"},
    "admin": {"base", "store", "core", "toolkit"},
    "vendor": {"base", "store", "core", "toolkit"},
    "top": {"base", "store", "net", "core", "toolkit", "server", "admin", "vendor"},
}
LAYER_DIRS = ["base", "store", "net", "core", "toolkit", "server", "admin"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    """The layer of a path relative to emulator/, and its name for messages."""
    parts = rel.split("/")
    if len(parts) == 1:
        return "top", "top"
    if parts[0] == "vendors" and len(parts) >= 3:
        return "vendor", "vendors/" + parts[1]
    if parts[0] in BELOW and len(parts) == 2:
        return parts[0], parts[0]
    return None, None


def resolve(emu, including, name):
    """The file (relative to emulator/) an #include "name" in including names, or None."""
    candidates = [os.path.join(os.path.dirname(including), name), name]
    candidates += [os.path.join(d, name) for d in LAYER_DIRS]
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(emu, c)):
            return c
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    emu = os.path.join(root, "emulator")
    files = []
    for d, _, names in os.walk(emu):
        for n in names:
            if n.endswith((".c", ".h")):
                files.append(os.path.relpath(os.path.join(d, n), emu))
    files.sort()
    problems = []
    edges = {f: [] for f in files}
    for f in files:
        layer, label = layer_of(f)
        if layer is None:
            problems.append(f"emulator/{f}:1: not in a layer directory")
            continue
        with open(os.path.join(emu, f), encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = resolve(emu, f, m.group(1))
                if target is None:
                    problems.append(f'emulator/{f}:{lineno}: "{m.group(1)}" is no file here')
                    continue
                edges[f].append((target, lineno))
                tlayer, tlabel = layer_of(target)
                if tlabel == label:
                    continue
                if tlayer not in BELOW[layer] or (tlayer == "vendor" and layer == "vendor"):
                    problems.append(
                        f"emulator/{f}:{lineno}: {label} includes {target}, of {tlabel}, "
                        f"which is not below it")
    problems += cycles(edges, "include cycle")
    # A module is a .c file and its .h: a.c including b.h while b.c includes a.h is a cycle
    # between the two modules even though no header includes another.
    modules = {}
    for f, targets in edges.items():
        mod = os.path.splitext(f)[0]
        for target, lineno in targets:
            tmod = os.path.splitext(target)[0]
            if tmod != mod:
                modules.setdefault(mod, []).append((tmod, lineno, f))
    problems += cycles(
        {m: [(t, n) for t, n, _ in ts] for m, ts in modules.items()}, "module cycle",
        {m: ts[0][2] for m, ts in modules.items()})
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"layers: {len(files)} files, every include points downwards, no cycles")
    return 0


def cycles(edges, what, where=None):
    """One problem per cycle found in edges (depth-first search); where names a node's file."""
    found, state, stack = [], {}, []

    def visit(f):
        state[f] = 1
        stack.append(f)
        for target, lineno in edges.get(f, []):
            if state.get(target) == 1:
                loop = stack[stack.index(target):] + [target]
                name = where.get(f, f) if where else f
                found.append(f"emulator/{name}:{lineno}: {what}: " + " -> ".join(loop))
            elif target not in state:
                visit(target)
        stack.pop()
        state[f] = 2

    for f in sorted(edges):
        if f not in state:
            visit(f)
    return found


if __name__ == "__main__":
    sys.exit(main())
