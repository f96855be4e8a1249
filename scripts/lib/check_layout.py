#!/usr/bin/env python3
"""Checks the shape of projector/: no source file over 800 lines, no function over 80 lines, and
no circle of calls between source files (from the symbols each object file of the build defines
and uses). Usage: check_layout.py SOURCE_ROOT BUILD_DIR. Prints each problem; exits 1 if any."""
import glob
import os
import subprocess
import sys

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 80


def long_functions(path):
    """Functions whose body (between a '{' and a '}' in column 0) is over the limit."""
    lines = open(path, encoding="utf-8").read().split("\n")
    start = None
    for i, line in enumerate(lines):
        if line.startswith("{") and start is None:
            start = i
        elif line.startswith("}") and start is not None:
            if i - start - 1 > MAX_FUNCTION_LINES:
                j = start - 1
                while j > 0 and lines[j - 1].strip() and not lines[j - 1].endswith((";", "*/", "}")):
                    j -= 1
                yield start + 1, i - start - 1, lines[j].strip()
            start = None


def call_graph(root, build):
    """Edges source file -> source files whose functions it calls, from nm over the libraries of
    the folders (one per folder of projector/)."""
    defined, used = {}, {}
    folders = [d for d in os.listdir(os.path.join(root, "projector"))
               if os.path.isdir(os.path.join(root, "projector", d))]
    for folder in folders:
        lib = os.path.join(build, "libprojector_" + folder + ".a")
        if not os.path.exists(lib):
            sys.exit(f"layout: {lib} not built")
        out = subprocess.run(["nm", "-A", lib], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            obj = parts[0].split(":")[1] if parts[0].count(":") >= 2 else parts[0].rstrip(":")
            obj = obj.replace(".c.o", ".c")
            kind, sym = parts[-2], parts[-1]
            if kind in ("T", "D", "B", "R"):
                defined[sym] = obj
            elif kind == "U":
                used.setdefault(obj, set()).add(sym)
    graph = {}
    for obj, syms in used.items():
        graph[obj] = {defined[s] for s in syms if s in defined and defined[s] != obj}
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    root, build = sys.argv[1], sys.argv[2]
    problems = []
    for path in sorted(glob.glob(os.path.join(root, "projector", "**", "*.[ch]"), recursive=True)):
        rel = os.path.relpath(path, root)
        n = sum(1 for _ in open(path, encoding="utf-8"))
        if n > MAX_FILE_LINES:
            problems.append(f"{rel}: {n} lines (at most {MAX_FILE_LINES})")
        if path.endswith(".c"):
            for line, length, name in long_functions(path):
                problems.append(f"{rel}:{line}: function of {length} lines (at most "
                                f"{MAX_FUNCTION_LINES}): {name}")
    for comp in cycles(call_graph(root, build)):
        problems.append("a circle of calls between " + ", ".join(comp) +
                        " (move what they share into a module below them)")
    for p in problems:
        print("layout: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
