#!/usr/bin/python3
"""Per-command wall time as virsh itself reports it (`virsh -t`), for
libvirt-protocol daemons side by side: every round runs one virsh per daemon
doing CMD N times in one connection, alternating the order; virsh's start-up
and the first command (connection warm-up) are left out.

  daemon-virsh-t.py [--rounds R] [-n N] [--cmd CMD] NAME=URI [NAME=URI ...]

A NAME ending in "-k0" runs its virsh with `-k 0` (no keepalive), to show
the client's own keepalive cost.  Prints per daemon the median of the
per-round medians and the quartiles of all samples (ms), and ratios to the
last daemon.  Less noisy than (50 calls - 1 call) / 49 in
daemon-interleave.py, which also counts virsh's start-up spread.
"""
import argparse
import re
import statistics
import subprocess
import sys


def quantile(values, q):
    values = sorted(values)
    return values[int(q * (len(values) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--cmd", default="dumpxml ibench-run")
    ap.add_argument("daemons", nargs="+")
    a = ap.parse_args()
    daemons = [d.split("=", 1) for d in a.daemons]
    per_round = {d: [] for d, _ in daemons}
    samples = {d: [] for d, _ in daemons}
    for r in range(a.rounds):
        order = daemons[r % len(daemons):] + daemons[:r % len(daemons)]
        if r % 2:
            order = order[::-1]
        for name, uri in order:
            opts = ["-k", "0"] if name.endswith("-k0") else []
            p = subprocess.run(["virsh"] + opts + ["-t", "-q", "-c", uri, "; ".join([a.cmd] * a.n)],
                               capture_output=True, text=True)
            if p.returncode != 0:
                sys.exit(f"virsh -c {uri}: {p.stderr.strip()}")
            times = [float(x) for x in re.findall(r"\(Time: ([\d.]+) ms\)", p.stdout)][1:]
            per_round[name].append(statistics.median(times))
            samples[name] += times
    ref = daemons[-1][0]
    ref_med = statistics.median(per_round[ref])
    print(f"{a.cmd!r} x{a.n} per virsh, {a.rounds} interleaved rounds (ms per command)")
    print("| daemon | median | p25 | p75 | / " + ref + " |")
    print("|---|---|---|---|---|")
    for name, _ in daemons:
        med = statistics.median(per_round[name])
        print(f"| {name} | {med:.3f} | {quantile(samples[name], .25):.3f} | "
              f"{quantile(samples[name], .75):.3f} | {med / ref_med:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
