#!/usr/bin/python3
"""What tagvirtd adds to QEMU's own start-up: interleaved rounds of
(a) the domain's QEMU command line started by hand, timed to the reply of
'cont' on its QMP socket (the guest runs), and (b) python3-libvirt's
dom.create() through tagvirtd for the same domain (returns once the guest
runs).  No virsh start-up in either.  Medians.

  daemon-start-overhead.py URI DOMAIN TAGVIRT_BUILD_DIR [ROUNDS]

DOMAIN must be defined and shut off; it is destroyed after each start.
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


def daemon():
    t0 = time.perf_counter()
    dom.create()
    dt = (time.perf_counter() - t0) * 1000
    dom.destroy()
    return dt


hand, tv = [], []
for r in range(rounds):
    for fn, out in ((by_hand, hand), (daemon, tv)) if r % 2 == 0 else ((daemon, tv), (by_hand, hand)):
        out.append(fn())
        time.sleep(0.1)
mh, mt = statistics.median(hand), statistics.median(tv)
print(f"QEMU by hand to running: median {mh:.1f} ms (min {min(hand):.1f})")
print(f"dom.create() through tagvirtd: median {mt:.1f} ms (min {min(tv):.1f})")
print(f"tagvirtd's share: {mt - mh:+.1f} ms ({mt / mh:.2f}x)")
