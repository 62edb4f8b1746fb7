#!/usr/bin/env python3
"""Count individual test cases (TAP subtests where a test reports them) from
one or more of meson's testlog.json files and print 'N passed, N failed[, N skipped]'."""
import json
import re
import sys

passed = failed = skipped = 0
lines = []
for path in sys.argv[1:]:
    try:
        lines += open(path).readlines()
    except OSError:
        failed += 1  # a suite that left no log did not run
for line in lines:
    t = json.loads(line)
    result = t.get("result")
    out = t.get("stdout") or ""
    oks = len(re.findall(r"^ok \d+", out, re.M))
    skips = len(re.findall(r"^ok \d+.*# SKIP", out, re.M))
    nots = len(re.findall(r"^not ok \d+", out, re.M))
    if oks + nots == 0:  # a test without TAP subtests counts once
        if result == "OK":
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
        continue
    passed += oks - skips
    skipped += skips
    failed += nots
    if result not in ("OK", "SKIP") and nots == 0:
        failed += 1  # crashed or timed out after its last subtest
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
