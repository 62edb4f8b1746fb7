#!/usr/bin/env python3
"""Count individual test cases (TAP subtests where a test reports them) from
one or more of meson's testlog.json files and print 'N passed, N failed'.

A skipped test or subtest counts as failed, and is named on a line before the
count: CI installs everything the tests need (scripts/install-deps.sh and the
QEMU fetch scripts), so a skip there means something a test needs is missing
and the run must not look green.  A log file that is missing counts as one
failure (its suites did not run).  Exit status 1 when anything failed."""
import json
import re
import sys

passed = failed = 0
skipped = []  # "test: subtest # SKIP reason"
lines = []
for path in sys.argv[1:]:
    try:
        lines += [(path, line) for line in open(path).readlines()]
    except OSError:
        print(f"test-summary: {path} is missing: its suites did not run")
        failed += 1
for path, line in lines:
    t = json.loads(line)
    name = t.get("name", "?")
    result = t.get("result")
    out = t.get("stdout") or ""
    oks = len(re.findall(r"^ok \d+", out, re.M))
    skips = re.findall(r"^ok \d+.*# SKIP.*$", out, re.M)
    nots = len(re.findall(r"^not ok \d+", out, re.M))
    if oks + nots == 0:  # a test without TAP subtests counts once
        if result == "OK":
            passed += 1
        elif result == "SKIP":
            plan = re.search(r"^1\.\.0.*$", out, re.M)
            skipped.append(f"{name}: {plan.group(0) if plan else 'skipped'}")
        else:
            failed += 1
        continue
    passed += oks - len(skips)
    skipped += [f"{name}: {s}" for s in skips]
    failed += nots
    if result not in ("OK", "SKIP") and nots == 0:
        failed += 1  # crashed or timed out after its last subtest
for s in skipped:
    print(f"skipped, counted as failed: {s}")
failed += len(skipped)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
