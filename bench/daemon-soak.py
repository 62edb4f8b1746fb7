#!/usr/bin/python3
"""Soak tagvirtd: many python3-libvirt clients at once, each looping a mix of
calls in its own connection; counts errors and samples the daemon's RSS and
open descriptors (start, middle, end, after the clients left).

  daemon-soak.py [--clients N] [--seconds S] [--tap] TAGVIRTD KERNEL [CAPS_CACHE_DIR]

Mix per iteration: getVersion; listAllDomains + state() of each (virsh
list --all); XMLDesc of a shared domain; getDomainCapabilities; define +
undefine of the client's own domain; state() of a shared domain.
Fails (exit 1, or "not ok" with --tap) on any error, on a daemon that
died or does not stop on SIGTERM, on descriptors left open after the
clients left, or on RSS growth past --rss-slack-kib between the middle and
the end sample (a leak grows with the calls; warm-up does not).
Run with Debian's /usr/bin/python3 (python3-libvirt).
"""
import argparse
import glob
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

SHARED = 3
XML = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='maximum'/><devices><emulator>/usr/bin/qemu-system-aarch64</emulator>
<controller type='usb' model='none'/><memballoon model='none'/></devices></domain>"""


def client(uri, kernel, cid, deadline, out):
    ops = errors = 0
    first = None
    name = "soak-client-%d" % cid
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as e:
        out.append((0, 1, "open: %s" % e))
        return
    shared = "soak-shared-%d" % (cid % SHARED)
    while time.monotonic() < deadline:
        try:
            conn.getVersion()
            for d in conn.listAllDomains(0):
                try:
                    d.state()
                except libvirt.libvirtError as e:
                    # another client's own domain may go between the list and the query
                    if not (e.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN and
                            d.name().startswith("soak-client-") and d.name() != name):
                        raise
            dom = conn.lookupByName(shared)
            if ("<name>%s</name>" % shared) not in dom.XMLDesc(0):
                raise RuntimeError("XMLDesc of %s lacks its name" % shared)
            if "<domainCapabilities>" not in conn.getDomainCapabilities(
                    "/usr/bin/qemu-system-aarch64", "aarch64", "virt", "qemu", 0):
                raise RuntimeError("domain capabilities without <domainCapabilities>")
            conn.defineXML(XML.format(name=name, kernel=kernel)).undefine()
            if dom.state()[0] != libvirt.VIR_DOMAIN_SHUTOFF:
                raise RuntimeError("%s is not shut off" % shared)
            ops += 1
        except (libvirt.libvirtError, RuntimeError) as e:
            errors += 1
            first = first or "client %d: %s" % (cid, e)
    conn.close()
    out.append((ops, errors, first))


def process_main(uri, kernel, cids, deadline, queue):
    libvirt.registerErrorHandler(lambda *_: None, None)
    out = []
    threads = [threading.Thread(target=client, args=(uri, kernel, c, deadline, out)) for c in cids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put(out)


def sample(pid):
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir("/proc/%d/fd" % pid))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--per-process", type=int, default=10, help="client threads per process")
    ap.add_argument("--rss-slack-kib", type=int, default=2048)
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("tagvirtd")
    ap.add_argument("kernel")
    ap.add_argument("cache", nargs="?")
    a = ap.parse_args()
    kernel = os.path.abspath(a.kernel)
    root = tempfile.mkdtemp(prefix="tvsoak-")
    uri = "qemu+unix:///system?socket=%s/tagvirtd-sock" % root
    os.makedirs(root + "/cache")
    for f in glob.glob((a.cache or "/nonexistent") + "/*.xml"):
        shutil.copy(f, root + "/cache/")
    log = open(root + "/daemon.log", "wb")
    daemon = subprocess.Popen([os.path.abspath(a.tagvirtd), "--root", root], stdout=log,
                              stderr=log)
    procs = []
    failures = []
    try:
        t_end = time.monotonic() + 60
        while not os.path.exists(root + "/tagvirtd-sock"):
            if daemon.poll() is not None or time.monotonic() > t_end:
                raise RuntimeError("tagvirtd did not come up")
            time.sleep(0.05)
        libvirt.registerErrorHandler(lambda *_: None, None)
        conn = libvirt.open(uri)
        for i in range(SHARED):
            conn.defineXML(XML.format(name="soak-shared-%d" % i, kernel=kernel))
        # warm the capabilities cache so "start" is the steady state
        conn.getDomainCapabilities("/usr/bin/qemu-system-aarch64", "aarch64", "virt", "qemu", 0)
        conn.close()
        time.sleep(0.5)
        samples = {"start": sample(daemon.pid)}
        t0 = time.monotonic()
        deadline = t0 + a.seconds
        queue = multiprocessing.Queue()
        cids = list(range(a.clients))
        for k in range(0, a.clients, a.per_process):
            p = multiprocessing.Process(target=process_main,
                                        args=(uri, kernel, cids[k:k + a.per_process], deadline,
                                              queue))
            p.start()
            procs.append(p)
        time.sleep(max(0, t0 + a.seconds / 2 - time.monotonic()))
        samples["middle"] = sample(daemon.pid)
        time.sleep(max(0, deadline - 0.3 - time.monotonic()))
        samples["end"] = sample(daemon.pid)
        results = []
        for _ in procs:
            results += queue.get(timeout=a.seconds + 120)
        for p in procs:
            p.join(30)
        elapsed = time.monotonic() - t0
        time.sleep(1.5)  # the daemon sees the hang-ups on its next wakeups
        samples["after"] = sample(daemon.pid)
        # an fsync of the config folder after the last undefine may still hold
        # a descriptor for a moment on a busy disk (more than 6 s seen with
        # eight test suites on the machine): a leak is one that stays
        settle = time.monotonic() + 30
        while samples["after"][1] > samples["start"][1] and time.monotonic() < settle:
            time.sleep(0.25)
            samples["after"] = sample(daemon.pid)
        conn = libvirt.open(uri)
        left = sorted(d.name() for d in conn.listAllDomains(0))
        conn.close()
        time.sleep(0.3)
        ops = sum(r[0] for r in results)
        errors = sum(r[1] for r in results)
        firsts = [r[2] for r in results if r[2]]
        print("# %d clients x %.0f s: %d iterations of the mix in %.1f s (%.0f/s), %d errors" %
              (a.clients, a.seconds, ops, elapsed, ops / elapsed, errors))
        for k, (rss, fds) in samples.items():
            print("# %-6s RSS %6d KiB  fds %d" % (k, rss, fds))
        if errors or len(results) != a.clients:
            failures.append("%d errors, %d of %d clients reported; first: %s" %
                            (errors, len(results), a.clients, firsts[:3]))
        if left != ["soak-shared-%d" % i for i in range(SHARED)]:
            failures.append("domains left after the clients: %s" % left)
        if samples["after"][1] > samples["start"][1]:
            failures.append("fds: %d at the start, %d after the clients left" %
                            (samples["start"][1], samples["after"][1]))
        grow = samples["end"][0] - samples["middle"][0]
        if grow > a.rss_slack_kib:
            failures.append("RSS grew %d KiB from the middle to the end (slack %d)" %
                            (grow, a.rss_slack_kib))
    except Exception as e:  # any failure of the harness itself is a failure of the run
        failures.append("%s: %s" % (type(e).__name__, e))
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                rc = daemon.wait(15)
                if rc != 0:
                    failures.append("tagvirtd exited %d on SIGTERM" % rc)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
                failures.append("tagvirtd did not stop within 15 s of SIGTERM")
        else:
            failures.append("tagvirtd died (exit %s)" % daemon.returncode)
        log.close()
        if failures:
            with open(root + "/daemon.log", errors="replace") as f:
                sys.stderr.write(f.read()[-3000:])
        shutil.rmtree(root, ignore_errors=True)
    if a.tap:
        print("1..1")
        print("%s 1 - %d clients for %g s: no error, no leak%s" %
              ("not ok" if failures else "ok", a.clients, a.seconds,
               "" if not failures else " # " + "; ".join(failures)))
        return 0
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
