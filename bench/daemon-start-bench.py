#!/usr/bin/python3
"""`virsh start` as a user runs it (the whole command: virsh's own start-up,
connection, lookup, create; returns once QEMU runs), against several
libvirt-protocol daemons, interleaved (each round runs every daemon once,
the order alternating), plus `virsh domstate` on the same connection kind:
the part of a virsh command that is virsh's and the connection's, not the
start's.  Medians.

  daemon-start-bench.py [--rounds N] DOMAIN LABEL=URI [LABEL=URI ...]

DOMAIN must be defined and shut off on every daemon; it is destroyed
(untimed) after each start.  Run with Debian's /usr/bin/python3 or any
python3: only virsh is used.
"""
import argparse
import statistics
import subprocess
import time


def virsh(uri, *args):
    t0 = time.perf_counter()
    r = subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True)
    dt = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        raise RuntimeError(f"virsh -c {uri} {' '.join(args)}: {r.stderr.strip()}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("domain")
    ap.add_argument("daemons", nargs="+")
    a = ap.parse_args()
    daemons = [tuple(d.split("=", 1)) for d in a.daemons]
    start = {d: [] for d, _ in daemons}
    state = {d: [] for d, _ in daemons}
    for r in range(a.rounds):
        order = daemons if r % 2 == 0 else list(reversed(daemons))
        for d, uri in order:
            state[d].append(virsh(uri, "domstate", a.domain))
            start[d].append(virsh(uri, "start", a.domain))
            time.sleep(0.05)
            virsh(uri, "destroy", a.domain)
            time.sleep(0.05)
    print(f"{'daemon':<28} {'virsh start (ms)':>18} {'min':>7} {'virsh domstate (ms)':>20} {'start - domstate':>17}")
    for d, _ in daemons:
        ms, md = statistics.median(start[d]), statistics.median(state[d])
        print(f"{d:<28} {ms:>18.1f} {min(start[d]):>7.1f} {md:>20.1f} {ms - md:>17.1f}")


if __name__ == "__main__":
    main()
