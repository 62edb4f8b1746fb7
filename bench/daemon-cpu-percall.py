#!/usr/bin/python3
"""CPU time a daemon spends per quick call, and how much of it on its main
thread (where tagvirtd answers quick calls), through python3-libvirt.  Less
at the mercy of a loaded machine than wall-clock round trips, though not
immune: run it several times.

  daemon-cpu-percall.py [--calls N] KERNEL NAME=PID:URI [NAME=PID:URI ...]

A domain cpubench-0 is defined on each daemon for the domain calls and removed.
Prints a markdown table: CPU µs per call (of it on the main thread), wall µs.
"""
import argparse
import os
import time

import libvirt

XML = """<domain type='qemu'><name>cpubench-0</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='maximum'/><devices><controller type='usb' model='none'/>
<memballoon model='none'/></devices></domain>"""


def cpu_ticks(pid, tid=None):
    path = f"/proc/{pid}/task/{tid}/stat" if tid else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10000)
    ap.add_argument("kernel")
    ap.add_argument("daemons", nargs="+")
    a = ap.parse_args()
    libvirt.registerErrorHandler(lambda *_: None, None)
    us_per_tick = 1e6 / os.sysconf("SC_CLK_TCK")
    results = {}
    for spec in a.daemons:
        name, rest = spec.split("=", 1)
        pid_text, uri = rest.split(":", 1)
        pid = int(pid_text)
        conn = libvirt.open(uri)
        dom = conn.defineXML(XML.format(kernel=os.path.abspath(a.kernel)))
        ops = {
            "XMLDesc": lambda: dom.XMLDesc(0),
            "state": lambda: dom.state(),
            "getVersion": lambda: conn.getVersion(),
            "listAllDomains": lambda: conn.listAllDomains(0),
        }
        for op, call in ops.items():
            call()  # the first call of a kind may take another path (XMLDesc: never formatted)
            total, main_thread, wall = cpu_ticks(pid), cpu_ticks(pid, pid), time.monotonic()
            for _ in range(a.calls):
                call()
            results.setdefault(op, {})[name] = (
                (cpu_ticks(pid) - total) * us_per_tick / a.calls,
                (cpu_ticks(pid, pid) - main_thread) * us_per_tick / a.calls,
                (time.monotonic() - wall) * 1e6 / a.calls)
        dom.undefine()
        conn.close()
    names = [spec.split("=", 1)[0] for spec in a.daemons]
    print("| call | " + " | ".join(f"{n} CPU µs (main thread)" for n in names) + " | " +
          " | ".join(f"{n} wall µs" for n in names) + " |")
    print("|---" * (1 + 2 * len(names)) + "|")
    for op, per in results.items():
        cpu = " | ".join(f"{per[n][0]:.1f} ({per[n][1]:.1f})" for n in names)
        wall = " | ".join(f"{per[n][2]:.0f}" for n in names)
        print(f"| {op} | {cpu} | {wall} |")


if __name__ == "__main__":
    main()
