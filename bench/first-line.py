#!/usr/bin/python3
"""Time from starting a command to the first line on its stdout, for several
commands run in turn (interleaved, so machine load hits them alike).

  first-line.py RUNS NAME=COMMAND NAME=COMMAND ...

Prints one line per command: name, median, min, max in ms, and the ratio of
each median to the first command's."""
import os
import statistics
import subprocess
import sys
import time


def first_line_ms(cmd):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    line = p.stdout.readline()
    t1 = time.monotonic()
    p.stdout.read()
    p.wait()
    if not line:
        sys.exit(f"no output from: {cmd}")
    return (t1 - t0) * 1000.0


def main():
    runs = int(sys.argv[1])
    cmds = [a.split("=", 1) for a in sys.argv[2:]]
    times = {name: [] for name, _ in cmds}
    for name, cmd in cmds:  # warm-up: caches, page cache
        first_line_ms(cmd)
    for _ in range(runs):
        for name, cmd in cmds:
            times[name].append(first_line_ms(cmd))
    base = statistics.median(times[cmds[0][0]])
    for name, _ in cmds:
        t = times[name]
        med = statistics.median(t)
        print(f"{name:12s} median {med:7.1f} ms  min {min(t):7.1f}  max {max(t):7.1f}  "
              f"ratio {med / base:5.2f}  (n={len(t)})")


main()
