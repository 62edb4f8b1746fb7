#!/usr/bin/python3
"""Storage volume calls as virsh users make them, against several
libvirt-protocol daemons in one sitting (issue 9: `vol-create-as` of a 1 GiB
qcow2 and `vol-list` of 100 volumes at most libvirtd's time).

  storage-bench.py [--rounds N] [--volumes V] NAME=URI NAME=URI ...

Each daemon gets a transient directory pool `sbench` on its own new folder
under /tmp (`pool-create-as`), with V raw volumes of 1 MiB made in it first.
Then N rounds; each round runs every timed command once against every
daemon, the order turning by one each round, so load changes hit all alike:

  create  `virsh vol-create-as sbench sbench-new.qcow2 1G --format qcow2`
          (the volume is deleted again, untimed, before the next daemon)
  list    `virsh vol-list sbench` (V volumes)
  details `virsh vol-list sbench --details` (a volume's info each)

A figure is the wall time of the whole virsh command (its start-up and
connection included, as a user waits for it): median and 10th percentile
over the rounds, and their ratios to the last daemon named (libvirtd, say).
Every command's output is checked (the new volume is a 1 GiB qcow2; the
listing has V + 1 rows or V).  The pools are destroyed and their folders
removed at the end."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

POOL = "sbench"
NEW = "sbench-new.qcow2"


def virsh(uri, cmds):
    t0 = time.perf_counter()
    r = subprocess.run(["virsh", "-q", "-c", uri, cmds], capture_output=True, text=True)
    dt = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        sys.exit("virsh -c %s '%s' failed: %s" % (uri, cmds, r.stderr.strip()))
    return dt, r.stdout


def p10(values):
    return sorted(values)[len(values) // 10]


def qcow2_size(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", path], capture_output=True,
                         text=True, check=True).stdout
    info = json.loads(out)
    return info["format"], info["virtual-size"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--volumes", type=int, default=100)
    ap.add_argument("daemons", nargs="+", metavar="NAME=URI")
    a = ap.parse_args()
    daemons = dict(d.split("=", 1) for d in a.daemons)
    base = tempfile.mkdtemp(prefix="sbench-")
    os.chmod(base, 0o755)
    dirs, made = {}, []
    try:
        for name, uri in daemons.items():
            dirs[name] = os.path.join(base, name)
            os.mkdir(dirs[name], 0o755)
            virsh(uri, "pool-create-as %s dir --target %s" % (POOL, dirs[name]))
            made.append(name)
            virsh(uri, "; ".join("vol-create-as %s sbench-%03d.img 1M --format raw" % (POOL, i)
                                 for i in range(a.volumes)))
        print("# load average %.1f %.1f %.1f, %d rounds, %d volumes" % (
            os.getloadavg() + (a.rounds, a.volumes)))
        ops = ("create", "list", "details")
        times = {op: {name: [] for name in daemons} for op in ops}
        names = list(daemons)
        for r in range(a.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                uri = daemons[name]
                dt, _ = virsh(uri, "vol-create-as %s %s 1G --format qcow2" % (POOL, NEW))
                times["create"][name].append(dt)
                fmt, size = qcow2_size(os.path.join(dirs[name], NEW))
                if fmt != "qcow2" or size != 1 << 30:
                    sys.exit("%s made a %s of %d bytes" % (name, fmt, size))
                virsh(uri, "vol-delete %s --pool %s" % (NEW, POOL))
            for op, cmd in (("list", "vol-list %s" % POOL),
                            ("details", "vol-list %s --details" % POOL)):
                for name in order:
                    dt, out = virsh(daemons[name], cmd)
                    rows = [line for line in out.splitlines() if line.strip()]
                    if len(rows) != a.volumes:
                        sys.exit("%s: %s gave %d rows, not %d" % (name, cmd, len(rows), a.volumes))
                    times[op][name].append(dt)
        ref = names[-1]
        print("%-8s %-12s %9s %9s %6s %6s" % ("command", "daemon", "median", "p10", "ratio", "p10"))
        for op in ops:
            ref_med, ref_p = statistics.median(times[op][ref]), p10(times[op][ref])
            for name in names:
                med, p = statistics.median(times[op][name]), p10(times[op][name])
                print("%-8s %-12s %9.1f %9.1f %6.2f %6.2f" % (op, name, med, p, med / ref_med,
                                                            p / ref_p))
        print("# load average %.1f %.1f %.1f (ms; ratios to %s)" % (os.getloadavg() + (ref,)))
    finally:
        for name in made:
            subprocess.run(["virsh", "-q", "-c", daemons[name], "pool-destroy", POOL],
                           capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
