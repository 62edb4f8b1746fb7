#!/usr/bin/python3
"""What tagvirtd adds to QEMU's own start-up: interleaved rounds of
(a) the domain's QEMU command line started by hand, timed to the reply of
'cont' on its QMP socket (the guest runs), and (b) python3-libvirt's
dom.create() through tagvirtd for the same domain (returns once the guest
runs).  No virsh start-up in either.  Medians.

  daemon-start-overhead.py URI DOMAIN TAGVIRT_BUILD_DIR [ROUNDS] [LABEL=URI ...]

DOMAIN must be defined and shut off; it is destroyed after each start.
Further LABEL=URI daemons (with DOMAIN defined alike, e.g. a tagvirtd with
prefork_qemu = 0, or libvirtd) join the interleaving.
Run with Debian's /usr/bin/python3 (python3-libvirt)."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import libvirt

uri, name, build = sys.argv[1], sys.argv[2], sys.argv[3]
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 15
conn = libvirt.open(uri)
dom = conn.lookupByName(name)
others = [(a.split("=", 1)[0], libvirt.open(a.split("=", 1)[1]).lookupByName(name))
          for a in sys.argv[5:]]
with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
    f.write(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
native = subprocess.run([build + "/tools/tagvirt", "domxml-to-native", f.name], check=True,
                        capture_output=True, text=True).stdout
os.unlink(f.name)
argv = [a for a in native.replace("\\\n", " ").split() if a]
mon = tempfile.mktemp(prefix="tvso-", suffix=".mon", dir="/tmp")
argv += ["-S", "-chardev", f"socket,id=mon,path={mon},server=on,wait=off",
         "-mon", "chardev=mon,mode=control"]
env = dict(os.environ, GLIBC_TUNABLES="glibc.malloc.hugetlb=1")  # what the runtime gives QEMU


def by_hand():
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = socket.socket(socket.AF_UNIX)
    while True:
        try:
            s.connect(mon)
            break
        except OSError:
            if p.poll() is not None:
                raise RuntimeError("QEMU exited")
            time.sleep(0.001)
    f = s.makefile("rw")
    f.readline()
    for cmd in ("qmp_capabilities", "cont"):
        f.write(json.dumps({"execute": cmd}) + "\n")
        f.flush()
        f.readline()
    dt = (time.perf_counter() - t0) * 1000
    p.kill()
    p.wait()
    s.close()
    os.unlink(mon)
    return dt


def create(d):
    t0 = time.perf_counter()
    d.create()
    dt = (time.perf_counter() - t0) * 1000
    d.destroy()
    return dt


runs = [("QEMU by hand to running", by_hand, [])]
runs.append(("dom.create() through tagvirtd", lambda: create(dom), []))
runs += [(f"dom.create() through {label}", (lambda d=d: create(d)), []) for label, d in others]
for r in range(rounds):
    order = runs if r % 2 == 0 else list(reversed(runs))
    for _, fn, out in order:
        out.append(fn())
        time.sleep(0.1)
mh = statistics.median(runs[0][2])
for what, _, out in runs:
    print(f"{what}: median {statistics.median(out):.1f} ms (min {min(out):.1f})")
mt = statistics.median(runs[1][2])
print(f"tagvirtd's share: {mt - mh:+.1f} ms ({mt / mh:.2f}x)")
