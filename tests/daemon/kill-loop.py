#!/usr/bin/python3
"""kill -9 of tagvirtd in the middle of the work of several clients, a few
hundred times; after every restart, and at the end:

  - every QEMU of this test is the one QEMU of a domain the daemon lists as
    running, with the pid of its status file (none unmanaged, none doubled);
  - every running domain has exactly one QEMU;
  - every definition the daemon acknowledged (define answered, no undefine
    answered since) is there, and every acknowledged undefine stayed undone;
  - no temporary file of an interrupted write is left (NAME.xml.XXXXXX);
  - no call failed with INTERNAL_ERROR.

The clients (python3-libvirt, one connection each) loop over start, destroy,
define, undefine, create of a transient domain, suspend/resume, on their own
domain and on one they share; the daemon is killed at a random moment 20-1000
ms after they began (a start takes 100 ms to over a second here, so many
kills land in one, many between).

  kill-loop.py [--cycles N] [--clients K] [--seconds S] [--min-cycles M]
               [--keep-going] TAGVIRTD KERNEL [CAPS_CACHE_DIR]

TAP: one line per check (the per-cycle checks are summed up in one line each,
with the first violation).  --keep-going counts violations over all cycles
instead of stopping at the first (to measure a daemon without the fixes).
--seconds bounds the time (default 900); fewer than --min-cycles cycles done
in it is a failure.  Run with Debian's /usr/bin/python3."""
import argparse
import ctypes
import glob
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import libvirt

XML = """<domain type='qemu'><name>{name}</name>{uuid}<memory unit='MiB'>64</memory>
<vcpu>1</vcpu><os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
<cpu mode='maximum'/><devices><controller type='usb' model='none'/>
<memballoon model='none'/></devices><title>{title}</title></domain>"""
TEMP_RE = re.compile(r"\.xml\.[A-Za-z0-9]{6}$")
SHARED = "kl-shared"

results = []


def check(desc, cond, info=""):
    results.append(bool(cond))
    print(("ok %d - %s" if cond else "not ok %d - %s") % (len(results), desc))
    if not cond and info:
        for line in str(info).splitlines():
            print("# " + line)
    sys.stdout.flush()


def become_subreaper():
    """Orphaned QEMUs (their tagvirtd killed) come back to us, not to PID 1
    (which reaps them late here); we reap them between cycles."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class Daemon:
    def __init__(self, tagvirtd, root):
        self.tagvirtd, self.root = tagvirtd, root
        self.uri = "qemu+unix:///system?socket=%s/tagvirtd-sock" % root
        self.proc = None

    def start(self):
        log = open(self.root + "/daemon.log", "ab")
        self.proc = subprocess.Popen([self.tagvirtd, "--root", self.root], stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                libvirt.open(self.uri).close()
                return
            except libvirt.libvirtError:
                time.sleep(0.01)
        raise RuntimeError("tagvirtd did not come up:\n" + self.log_tail())

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung (killed)"

    def log_tail(self, n=4000):
        try:
            return open(self.root + "/daemon.log", errors="replace").read()[-n:]
        except OSError:
            return ""


class Ledger:
    """What the daemon acknowledged about each persistent name."""

    def __init__(self):
        self.lock = threading.Lock()
        self.defined = {}  # name -> True (defined) / False (undefined) / None (unknown)
        self.internal_errors = []
        self.calls = 0
        self.qemus_seen = 0  # QEMUs found after the restarts, summed: the checks saw some

    def set(self, name, value):
        with self.lock:
            self.defined[name] = value


def domain_xml(name, kernel, uuid=None, title="t"):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return XML.format(name=name, uuid=u, kernel=kernel, title=title)


def client(uri, kernel, cid, uuids, ledger, stop, seed):
    rnd = random.Random(seed)
    own = "kl-%d" % cid
    transient = "kl-t%d" % cid
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError:
        return

    def call(kind, fn, *args):
        with ledger.lock:
            ledger.calls += 1
        try:
            r = fn(*args)
        except libvirt.libvirtError as e:
            if e.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR and not stop.is_set():
                with ledger.lock:
                    ledger.internal_errors.append("%s: %s" % (kind, e.get_error_message()))
            if kind in ("define", "undefine") and stop.is_set():
                ledger.set(own, None)  # sent, maybe done: unknown
            return None
        if kind == "define":
            ledger.set(own, True)
        elif kind == "undefine":
            ledger.set(own, False)
        return r if r is not None else True

    def lookup(name):
        try:
            return conn.lookupByName(name)
        except libvirt.libvirtError:
            return None

    while not stop.is_set():
        op = rnd.random()
        dom = lookup(own)
        if op < 0.30:
            if dom:
                call("start", dom.create)
        elif op < 0.48:
            if dom:
                call("destroy", dom.destroy)
        elif op < 0.60:
            call("define", conn.defineXML,
                 domain_xml(own, kernel, uuids[own], "t%d" % rnd.randrange(1000)))
        elif op < 0.66:
            if dom and call("undefine", dom.undefine):
                call("define", conn.defineXML, domain_xml(own, kernel, uuids[own]))
        elif op < 0.80:
            d = call("create", conn.createXML, domain_xml(transient, kernel), 0)
            if d and d is not True:
                call("destroy", d.destroy)
        elif op < 0.92:
            shared = lookup(SHARED)
            if shared:
                call("start", shared.create) if rnd.random() < 0.5 else call(
                    "destroy", shared.destroy)
        else:
            if dom:
                call("suspend", dom.suspend)
                call("resume", dom.resume)
    try:
        conn.close()
    except libvirt.libvirtError:
        pass


def sockets_under(root):
    """Inodes of the unix sockets bound at a path under root (/proc/net/unix):
    the monitor sockets tagvirtd makes and passes to QEMU as an fd."""
    inodes = set()
    for line in open("/proc/net/unix").read().splitlines()[1:]:
        f = line.split(None, 7)
        if len(f) == 8 and f[7].startswith(root + "/"):
            inodes.add(f[6])
    return inodes


def qemus_of(root):
    """{pid: guest name} of the live (not zombie) QEMUs of this test: with
    root in their command line or holding a socket bound under root."""
    out = {}
    sockets = sockets_under(root)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % entry, "rb").read().split(b"\0")
            stat = open("/proc/%s/stat" % entry).read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2] in "ZX" or b"-name" not in cmd:
            continue
        ours = any(root.encode() in a for a in cmd)
        if not ours:
            try:
                fds = os.listdir("/proc/%s/fd" % entry)
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink("/proc/%s/fd/%s" % (entry, fd))
                except OSError:
                    continue
                if target.startswith("socket:[") and target[8:-1] in sockets:
                    ours = True
                    break
        i = cmd.index(b"-name")
        m = re.match(rb"guest=([^,]*)", cmd[i + 1]) if i + 1 < len(cmd) else None
        if ours and m:
            out[int(entry)] = m.group(1).decode()
    return out


def status_pid(root, name):
    try:
        text = open("%s/state/%s.xml" % (root, name)).read()
    except OSError:
        return None
    m = re.search(r"<domstatus [^>]*pid='(\d+)'", text)
    return int(m.group(1)) if m else None


def invariants(daemon, ledger):
    """The violations (a list of strings) after a restart."""
    bad = []
    root = daemon.root
    conn = libvirt.open(daemon.uri)
    active = {d.name(): d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
    qemus = qemus_of(root)
    ledger.qemus_seen += len(qemus)
    per_name = {}
    for pid, name in qemus.items():
        per_name.setdefault(name, []).append(pid)
        if name not in active:
            bad.append("QEMU pid %d of '%s' runs, but the daemon lists '%s' as not running "
                       "(unmanaged)" % (pid, name, name))
        elif status_pid(root, name) != pid:
            bad.append("QEMU pid %d of '%s' is not the one its status file names (%s)"
                       % (pid, name, status_pid(root, name)))
    for name, pids in per_name.items():
        if len(pids) > 1:
            bad.append("'%s' has %d QEMUs: %s (doubled)" % (name, len(pids), pids))
    for name in active:
        if name not in per_name:
            bad.append("'%s' is listed as running but has no QEMU" % name)
    with ledger.lock:
        expected = dict(ledger.defined)
    for name, defined in expected.items():
        if defined is None:
            continue
        try:
            persistent = conn.lookupByName(name).isPersistent() == 1
        except libvirt.libvirtError:
            persistent = False
        if defined and not persistent:
            bad.append("the acknowledged definition of '%s' is lost" % name)
        if not defined and persistent:
            bad.append("'%s' is defined again after an acknowledged undefine" % name)
    for sub in ("config", "state"):
        for f in os.listdir(os.path.join(root, sub)):
            if TEMP_RE.search(f):
                bad.append("temporary file %s/%s left after the restart" % (sub, f))
    conn.close()
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=300)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=900)
    ap.add_argument("--min-cycles", type=int, default=100)
    ap.add_argument("--keep-going", action="store_true")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("tagvirtd")
    ap.add_argument("kernel")
    ap.add_argument("cache", nargs="?")
    args = ap.parse_args()
    libvirt.registerErrorHandler(lambda *_: None, None)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rnd = random.Random(seed)
    print("1..7")
    print("# seed %d (--seed to repeat), %d cycles, %d clients" % (seed, args.cycles, args.clients))
    become_subreaper()
    root = tempfile.mkdtemp(prefix="tvkill-")
    os.makedirs(root + "/cache")
    for f in glob.glob((args.cache or "/nonexistent") + "/*.xml"):
        shutil.copy(f, root + "/cache/")
    daemon = Daemon(os.path.abspath(args.tagvirtd), root)
    kernel = os.path.abspath(args.kernel)
    ledger = Ledger()
    uuids = {}
    violations = []
    cycles = 0
    t0 = time.monotonic()
    try:
        daemon.start()
        conn = libvirt.open(daemon.uri)
        for name in ["kl-%d" % c for c in range(args.clients)] + [SHARED]:
            uuids[name] = conn.defineXML(domain_xml(name, kernel)).UUIDString()
            ledger.set(name, True)
        conn.close()
        while cycles < args.cycles and time.monotonic() - t0 < args.seconds:
            stop = threading.Event()
            threads = [threading.Thread(target=client, args=(
                daemon.uri, kernel, c, uuids, ledger, stop, rnd.randrange(1 << 30)))
                for c in range(args.clients)]
            for t in threads:
                t.start()
            time.sleep(rnd.uniform(0.02, 1.0))
            stop.set()
            daemon.kill9()
            for t in threads:
                t.join(60)
            reap_orphans()
            daemon.start()
            cycles += 1
            bad = invariants(daemon, ledger)
            for b in bad:
                violations.append("cycle %d: %s" % (cycles, b))
            if bad and not args.keep_going:
                break
        elapsed = time.monotonic() - t0
        print("# %d cycles in %.0f s, %d calls" % (cycles, elapsed, ledger.calls))
        log = daemon.log_tail(1 << 30)
        interrupted = log.count("its start was interrupted (")
        print("# the restarts ended %d interrupted starts (%d with a QEMU to kill), killed %d "
              "other QEMUs, removed %d temporary files" % (
                  interrupted, interrupted - log.count("no QEMU of it was running"),
                  log.count("killed (the status file does not name it)") +
                  log.count("cannot be taken over"),
                  log.count("a temporary file left by an interrupted write")))
        check("at least %d kill -9 cycles done (%d in %.0f s), QEMUs running after the restarts "
              "(%d, summed over them)" % (args.min_cycles, cycles, elapsed, ledger.qemus_seen),
              cycles >= min(args.min_cycles, args.cycles) and ledger.qemus_seen > 0)
        unmanaged = [v for v in violations if "unmanaged" in v or "not the one" in v]
        doubled = [v for v in violations if "doubled" in v]
        lost = [v for v in violations if "lost" in v or "defined again" in v]
        temps = [v for v in violations if "temporary" in v]
        others = [v for v in violations if v not in unmanaged + doubled + lost + temps]
        check("after every restart: no QEMU that the daemon does not manage (%d seen)"
              % len(unmanaged), not unmanaged, "\n".join(unmanaged[:20]))
        check("after every restart: no domain with two QEMUs, none running without one "
              "(%d seen)" % (len(doubled) + len(others)), not doubled and not others,
              "\n".join((doubled + others)[:20]))
        check("no acknowledged define or undefine lost (%d seen)" % len(lost), not lost,
              "\n".join(lost[:20]))
        check("no temporary file of an interrupted write left", not temps, "\n".join(temps[:20]))
        check("no call answered INTERNAL_ERROR (%d)" % len(ledger.internal_errors),
              not ledger.internal_errors, "\n".join(ledger.internal_errors[:20]))
        # the end: what runs, runs once; the daemon stops cleanly (in the
        # sanitizer build: without a leak report)
        final = invariants(daemon, ledger)
        conn = libvirt.open(daemon.uri)
        running = sorted(d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
        conn.close()
        print("# at the end: running %s; QEMUs %s" % (running, sorted(qemus_of(root).values())))
        rc = daemon.stop()
        check("at the end: one QEMU per running domain, none unmanaged; tagvirtd exits 0 on "
              "SIGTERM", not final and rc == 0,
              "\n".join(final) + "\nexit status %s; the end of its log:\n%s" % (rc, daemon.log_tail()))
    except Exception as e:
        import traceback
        check("no exception", False, traceback.format_exc() + "\n" + daemon.log_tail())
    finally:
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
        for pid in qemus_of(root):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        reap_orphans()
        if not os.environ.get("KEEP_ROOT"):
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("# kept " + root)
    return 0 if results and all(results) else 1


sys.exit(main())
