#!/usr/bin/python3
"""Per-call round trip (µs) of libvirt-protocol daemons through python3-libvirt,
no virsh start-up: every round times N calls of each operation against each
daemon, alternating which goes first; medians over the rounds.

  daemon-percall.py [--rounds R] [--calls N] KERNEL NAME=URI [NAME=URI ...]

A domain pcbench-0 is defined on each daemon for the domain calls and removed.
"""
import argparse
import os
import statistics
import sys
import time

import libvirt

XML = """<domain type='qemu'><name>pcbench-0</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='maximum'/><devices><emulator>/usr/bin/qemu-system-aarch64</emulator>
<controller type='usb' model='none'/><memballoon model='none'/></devices></domain>"""

OPS = {
    "getVersion": lambda c, d: c.getVersion(),
    "lookupByName": lambda c, d: c.lookupByName("pcbench-0"),
    "state": lambda c, d: d.state(),
    "XMLDesc": lambda c, d: d.XMLDesc(0),
    "listAllDomains": lambda c, d: c.listAllDomains(0),
    "isActive": lambda c, d: d.isActive(),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("kernel")
    ap.add_argument("daemons", nargs="+")
    a = ap.parse_args()
    a.kernel = os.path.abspath(a.kernel)
    libvirt.registerErrorHandler(lambda *_: None, None)
    targets = []
    for spec in a.daemons:
        name, uri = spec.split("=", 1)
        conn = libvirt.open(uri)
        try:
            conn.lookupByName("pcbench-0").undefine()
        except libvirt.libvirtError:
            pass
        dom = conn.defineXML(XML.format(kernel=a.kernel))
        targets.append((name, conn, dom))
    times = {(n, op): [] for n, _, _ in targets for op in OPS}
    for r in range(a.rounds):
        order = targets if r % 2 == 0 else targets[::-1]
        for op, fn in OPS.items():
            for name, conn, dom in order:
                t0 = time.perf_counter()
                for _ in range(a.calls):
                    fn(conn, dom)
                times[(name, op)].append((time.perf_counter() - t0) * 1e6 / a.calls)
    names = [n for n, _, _ in targets]
    print("| call | " + " | ".join(f"{n} µs" for n in names) +
          (" | ratio |" if len(names) == 2 else " |"))
    print("|---" * (len(names) + 1 + (len(names) == 2)) + "|")
    for op in OPS:
        meds = [statistics.median(times[(n, op)]) for n in names]
        row = f"| {op} | " + " | ".join(f"{m:.1f}" for m in meds)
        if len(names) == 2:
            row += f" | {meds[0] / meds[1]:.2f}"
        print(row + " |")
    for _, conn, dom in targets:
        dom.undefine()
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
