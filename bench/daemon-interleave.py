#!/usr/bin/python3
"""Interleaved virsh timings of two libvirt-protocol daemons, for ratios that
hold on a shared, noisy machine: every round runs each operation once
against each daemon, alternating which goes first, so load changes hit both
alike.  Medians over the rounds.

  daemon-interleave.py [--rounds N] [--loop L] [--ndoms D] KERNEL NAME=URI NAME=URI

Per operation: the wall time of one virsh process doing the operation L
times in one connection, minus one doing it once, over L-1 (virsh's own
start-up and the connection set-up cancel out).  Also: start to running
(`virsh start`, QEMU up; the destroy is not timed), destroy, and `list --all`
with D extra domains defined.  Domains are named ibench-*; all are removed.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TEMPLATE = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{kernel}</kernel>
  </os>
  <cpu mode='maximum'/>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def virsh(uri, cmds, check=True):
    t0 = time.perf_counter()
    r = subprocess.run(["virsh", "-q", "-c", uri, cmds], capture_output=True, text=True)
    dt = (time.perf_counter() - t0) * 1000
    if check and r.returncode != 0:
        raise RuntimeError(f"virsh -c {uri} '{cmds[:80]}': {r.stderr.strip()}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--loop", type=int, default=50)
    ap.add_argument("--ndoms", type=int, default=100)
    ap.add_argument("kernel")
    ap.add_argument("daemons", nargs=2)
    a = ap.parse_args()
    daemons = [d.split("=", 1) for d in a.daemons]
    work = tempfile.mkdtemp(prefix="ibench-")
    xml = {}
    for name in ["ibench-def", "ibench-run"] + [f"ibench-{i:03d}" for i in range(a.ndoms)]:
        xml[name] = os.path.join(work, name + ".xml")
        with open(xml[name], "w") as f:
            f.write(TEMPLATE.format(name=name, kernel=a.kernel))

    def rep(cmd):
        return "; ".join([cmd] * a.loop)

    ops = [
        ("version", "version"),
        ("domcapabilities", "domcapabilities --arch aarch64 --virttype qemu --machine virt"),
        ("capabilities", "capabilities"),
        ("define+undefine", f"define {xml['ibench-def']}; undefine ibench-def"),
        ("dumpxml", "dumpxml ibench-run"),
        ("list --all (1 dom)", "list --all"),
    ]
    times = {(d, op): [] for d, _ in daemons for op, _ in ops}
    extra = {(d, k): [] for d, _ in daemons for k in ("start", "destroy", "list101")}
    for _, uri in daemons:
        virsh(uri, f"define {xml['ibench-run']}")
        virsh(uri, "domcapabilities --arch aarch64 --virttype qemu --machine virt; capabilities")
    try:
        for r in range(a.rounds):
            order = daemons if r % 2 == 0 else daemons[::-1]
            for op, cmd in ops:
                for d, uri in order:
                    one = virsh(uri, cmd)
                    many = virsh(uri, rep(cmd))
                    times[(d, op)].append((many - one) / (a.loop - 1))
            for d, uri in order:
                extra[(d, "start")].append(virsh(uri, "start ibench-run"))
                time.sleep(0.2)
                extra[(d, "destroy")].append(virsh(uri, "destroy ibench-run"))
        # list --all with ndoms more domains
        for _, uri in daemons:
            virsh(uri, "; ".join(f"define {xml[f'ibench-{i:03d}']}" for i in range(a.ndoms)))
        for r in range(a.rounds):
            order = daemons if r % 2 == 0 else daemons[::-1]
            for d, uri in order:
                one = virsh(uri, "list --all")
                many = virsh(uri, rep("list --all"))
                extra[(d, "list101")].append((many - one) / (a.loop - 1))
    finally:
        for _, uri in daemons:
            virsh(uri, "destroy ibench-run", check=False)
            names = [f"ibench-{i:03d}" for i in range(a.ndoms)] + ["ibench-run", "ibench-def"]
            virsh(uri, "; ".join(f"undefine {n}" for n in names), check=False)
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median
    names = [d for d, _ in daemons]
    print(f"| operation (ms, medians of {a.rounds} interleaved rounds) | " + " | ".join(names) +
          f" | {names[0]} / {names[1]} |")
    print("|---" * (len(names) + 2) + "|")
    rows = [(op, [med(times[(d, op)]) for d in names]) for op, _ in ops]
    rows.append((f"list --all ({a.ndoms + 1} doms)", [med(extra[(d, 'list101')]) for d in names]))
    rows.append(("start to running (whole virsh start)", [med(extra[(d, 'start')]) for d in names]))
    rows.append(("destroy (whole virsh destroy)", [med(extra[(d, 'destroy')]) for d in names]))
    for op, v in rows:
        ratio = v[0] / v[1] if v[1] > 0 else float("nan")
        print(f"| {op} | " + " | ".join(f"{x:.3f}" for x in v) + f" | {ratio:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
