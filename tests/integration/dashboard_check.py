#!/usr/bin/env python3
"""Checks a Grafana dashboard's queries against a real /metrics scrape (test helper).

Usage: dashboard_check.py DASHBOARD_JSON METRICS_TEXT
Every metric an expression (or a templating query) names must have samples in the scrape, and
every label it groups by (`by (...)`) or shows in its legend (`{{label}}`) must be a label of
one of the expression's metrics. Prints each problem; exits 1 when any, or when it found no
query at all.
"""
import json
import re
import sys

METRIC = re.compile(r"\bprojector_[a-z_]+\b")
BY = re.compile(r"\bby\s*\(([^)]*)\)")
LEGEND = re.compile(r"\{\{\s*([a-zA-Z_]+)\s*\}\}")
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="')


def scrape_labels(text):
    labels = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m:
            labels.setdefault(m.group(1), set()).update(LABEL.findall(m.group(3) or ""))
    return labels


def queries(dash):
    for p in dash.get("panels", []):
        for t in p.get("targets", []):
            yield p.get("title", "?"), t.get("expr", ""), t.get("legendFormat", "")
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            yield "variable " + v["name"], q, ""


def main():
    dash = json.load(open(sys.argv[1]))
    have = scrape_labels(open(sys.argv[2]).read())
    problems, n = [], 0
    for where, expr, legend in queries(dash):
        n += 1
        names = set(METRIC.findall(expr))
        if not names:
            problems.append(f"{where}: {expr!r} names no projector metric")
        missing = [m for m in sorted(names) if m not in have]
        for m in missing:
            problems.append(f"{where}: {m} is not in the scrape")
        known = set().union(*(have.get(m, set()) for m in names)) | {"le"}
        wanted = {l.strip() for g in BY.findall(expr) for l in g.split(",") if l.strip()}
        wanted |= set(LEGEND.findall(legend))
        for l in sorted(wanted - known):
            if not missing:
                problems.append(f"{where}: label {l} is on none of {sorted(names)}")
    for p in problems:
        print(p)
    print(f"dashboard_check: {n} queries, {len(problems)} problems")
    return 1 if problems or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
