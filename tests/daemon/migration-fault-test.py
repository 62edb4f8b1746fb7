#!/usr/bin/python3
"""Migrations that lose a party half-way (docs/migration.rst, "Nothing
lost"), between two tagvirtd on this machine with Debian's virsh and
python3-libvirt.  The looping guest with 64 MiB of random data copies at
8 MiB/s, so there are seconds to strike once `domjobinfo` shows progress:

- the virsh process of a client-managed migration is killed (-9): the
  destination's incoming QEMU goes when its Prepare connection closes, the
  source cancels the copy when its Perform connection closes;
- the destination daemon of a --p2p migration is killed (-9) or stopped
  (SIGSTOP): the source cancels; the destination daemon of a client-managed
  one is killed and restarted mid-copy: it stops the incoming QEMU it finds;
- the source daemon of a --p2p migration is killed (-9) and restarted: it
  finds its QEMU migrating (or the copy failed), cancels, runs the guest on;
  one killed after QEMU completed the copy but before Perform answered runs
  the guest on too (no Finish can have run it elsewhere);
- an incoming migration whose stream never comes expires
  (migration_incoming_timeout).

After each: the source guest runs in the same QEMU, counting on, with one
definition; the destination has no domain and no QEMU under its root.  TAP.

Usage: migration-fault-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]"""
import os
import random
import re
import signal
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
T = tvtest.Tap()
CHECK = re.compile(r"tags intact \(check (\d+)\)")
EXPIRY_S = 2


def virsh(uri, *args):
    p = subprocess.run(["timeout", "120", "virsh", "-q", "-c", uri] + list(args),
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def checks(path):
    try:
        return [int(n) for n in CHECK.findall(open(path, errors="replace").read())]
    except OSError:
        return []


def counting_on(path, timeout=30):
    """a tag check numbered above the last one seen now shows"""
    before = checks(path)
    last = before[-1] if before else 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = checks(path)
        if now and now[-1] > last:
            return True, "check %d -> %d" % (last, now[-1])
        time.sleep(0.3)
    return False, "no check after %d" % last


def wait_progress(uri, name, timeout=30):
    """virsh domjobinfo on the source shows data processed > 0"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rc, out = virsh(uri, "domjobinfo", name)
        m = re.search(r"Data processed:\s+([\d.]+)", out)
        if rc == 0 and "Unbounded" in out and m and float(m.group(1)) > 0:
            return out
        time.sleep(0.2)
    return None


def wait_until(fn, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.2)
    return fn()


class Guest:
    def __init__(self, src_d, name):
        self.src_d, self.name = src_d, name
        self.console = os.path.join(src_d.root, name + ".console")
        kernel = tvtest.elf_with_data(KERNEL, os.path.join(src_d.root, name + ".elf"), 64 << 20)
        xml = tvtest.looping_guest_xml(name, kernel, self.console)
        conn = libvirt.open(src_d.uri)
        conn.defineXML(xml).create()
        conn.close()
        self.pids = src_d.qemus()
        wait_until(lambda: checks(self.console), 60)

    def same(self):
        """running in the same QEMU, one persistent definition, counting on"""
        conn = libvirt.open(self.src_d.uri)
        try:
            doms = [d for d in conn.listAllDomains() if d.name() == self.name]
            state = doms[0].state() if doms else None
            persistent = doms[0].isPersistent() if doms else None
        finally:
            conn.close()
        pids = self.src_d.qemus()
        ok = (len(doms) == 1 and state and state[0] == libvirt.VIR_DOMAIN_RUNNING and
              persistent == 1 and pids == self.pids)
        counting, info = counting_on(self.console)
        return ok and counting, "domains %d state %s persistent %s qemus %s -> %s; %s" % (
            len(doms), state, persistent, self.pids, pids, info)


def nothing_on(dst_d, name):
    conn = libvirt.open(dst_d.uri)
    try:
        names = [d.name() for d in conn.listAllDomains()]
    finally:
        conn.close()
    qemus = dst_d.qemus()
    return name not in names and not qemus, "domains %s, QEMUs under its root %s" % (names, qemus)


def after(desc, g, dst_d):
    # the destination stops its QEMU on its own: give it the time it needs
    wait_until(lambda: nothing_on(dst_d, g.name)[0], 20)
    ok, info = g.same()
    T.check(desc + ": the source guest runs in the same QEMU, one definition, counting on",
            ok, info)
    ok, info = nothing_on(dst_d, g.name)
    T.check(desc + ": the destination has no domain and no QEMU", ok, info)


def to_dst_xml(g, dst_d):
    """the guest's definition with its console under the destination's root,
    so that the destination's QEMU names that root"""
    conn = libvirt.open(g.src_d.uri)
    try:
        xml = conn.lookupByName(g.name).XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    finally:
        conn.close()
    xml = re.sub(r"<source path='[^']*'/>",
                 "<source path='%s/%s.console'/>" % (dst_d.root, g.name), xml, count=1)
    path = os.path.join(g.src_d.root, "to-dst.xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


def start_virsh(uri, *args):
    return subprocess.Popen(["virsh", "-q", "-c", uri] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(src_d, dst_d):
    S, D = src_d.uri, dst_d.uri
    g = Guest(src_d, "fault")
    T.check("the slow looping guest runs on the source and counts", checks(g.console) and
            len(g.pids) == 1, (g.pids, checks(g.console)[-3:]))

    # 1. the virsh process of a client-managed migration dies mid-copy
    xml = to_dst_xml(g, dst_d)
    p = start_virsh(S, "migrate", "--live", "--bandwidth", "8", "--xml", xml, "fault", D)
    info = wait_progress(S, "fault")
    T.check("client-managed: domjobinfo shows the copy progressing", info is not None, info)
    incoming = dst_d.qemus()
    T.check("... the destination's incoming QEMU exists", len(incoming) == 1, incoming)
    p.send_signal(signal.SIGKILL)
    p.wait()
    t0 = time.monotonic()
    gone = wait_until(lambda: not dst_d.qemus(), 20)
    T.note("virsh killed -> destination QEMU gone: %.2f s" % (time.monotonic() - t0))
    T.check("... virsh killed: the destination stops the incoming QEMU (Prepare's connection "
            "closed)", gone, dst_d.qemus())
    T.check("... and says why in its log",
            "the connection that prepared it closed before Finish" in dst_d.log(None),
            dst_d.log(800))
    wait_until(lambda: "disconnected: cancelling the copy" in src_d.log(None), 20)
    T.check("... the source cancels the copy (Perform's connection closed)",
            "the client that started it disconnected" in src_d.log(None), src_d.log(800))
    # the cancel is asynchronous: QEMU ends the copy, then the job ends
    wait_until(lambda: "None" in virsh(S, "domjobinfo", "fault")[1], 20)
    rc, out = virsh(S, "domjobinfo", "fault")
    T.check("... no job left on the source (within 20 s of the cancel)",
            rc == 0 and "None" in out, out)
    after("virsh killed mid-copy", g, dst_d)

    # 2. the destination daemon of a p2p migration dies mid-copy
    p = start_virsh(S, "migrate", "--live", "--p2p", "--bandwidth", "8", "--xml", xml, "fault",
                    D)
    info = wait_progress(S, "fault")
    T.check("p2p: domjobinfo shows the copy progressing", info is not None, info)
    T.check("... the destination's incoming QEMU exists", len(dst_d.qemus()) == 1, dst_d.qemus())
    dst_d.stop(signal.SIGKILL)
    try:
        out, _ = p.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    T.check("... destination daemon killed (-9): virsh migrate fails at once",
            p.returncode != 0, out)
    T.note(out.strip())
    T.check("... virsh says the source lost its connection to the destination",
            "connection to the destination's daemon was lost" in out, out)
    dst_d.start().close()
    after("destination daemon of a p2p migration killed mid-copy, restarted", g, dst_d)

    # 2b. the destination daemon of a client-managed migration dies mid-copy
    # and restarts while its incoming QEMU still receives
    p = start_virsh(S, "migrate", "--live", "--bandwidth", "4", "--xml", xml, "fault", D)
    info = wait_progress(S, "fault")
    T.check("client-managed: the copy progresses", info is not None, info)
    incoming = dst_d.qemus()
    dst_d.stop(signal.SIGKILL)
    T.check("... destination daemon killed (-9): its incoming QEMU lives on, receiving",
            len(incoming) == 1 and dst_d.qemus() == incoming, (incoming, dst_d.qemus()))
    dst_d.start().close()
    T.check("... the restarted destination stops the incoming QEMU it finds, saying why",
            "incoming migration was not finished before tagvirtd restarted" in dst_d.log(None)
            and not dst_d.qemus(), dst_d.log(1500))
    out, _ = p.communicate(timeout=120)
    T.check("... virsh migrate fails", p.returncode != 0, out)
    T.note(out.strip())
    after("destination daemon of a client-managed migration killed mid-copy, restarted", g,
          dst_d)

    # 2c. the destination daemon of a p2p migration stops answering mid-copy
    # (SIGSTOP: its connection stays open, nothing comes back)
    p = start_virsh(S, "migrate", "--live", "--p2p", "--bandwidth", "4", "--xml", xml, "fault",
                    D)
    info = wait_progress(S, "fault")
    T.check("p2p: the copy progresses", info is not None, info)
    dst_d.proc.send_signal(signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        out, _ = p.communicate(timeout=90)
        elapsed = time.monotonic() - t0
    finally:
        dst_d.proc.send_signal(signal.SIGCONT)
    T.note("destination daemon stopped -> virsh migrate returned: %.1f s" % elapsed)
    T.check("... a destination daemon that stops answering: the source cancels the copy",
            p.returncode != 0 and "connection to the destination's daemon was lost" in out,
            out)
    T.note(out.strip())
    after("destination daemon silent mid-copy of a p2p migration", g, dst_d)

    # 3. the source daemon of a p2p migration dies mid-copy, and restarts
    p = start_virsh(S, "migrate", "--live", "--p2p", "--bandwidth", "8", "--xml", xml, "fault",
                    D)
    info = wait_progress(S, "fault")
    T.check("p2p again: the copy progresses", info is not None, info)
    src_d.stop(signal.SIGKILL)
    p.communicate(timeout=60)
    T.check("... source daemon killed (-9): virsh migrate fails", p.returncode != 0, p.returncode)
    alive = [p for p in g.pids if os.path.exists("/proc/%d" % p)]
    T.check("... the guest's QEMU outlived its daemon", alive == g.pids,
            (g.pids, alive, src_d.qemus()))
    src_d.start().close()
    T.note([ln for ln in src_d.log(None).splitlines() if "migration" in ln][-1:])
    after("source daemon killed mid-copy and restarted", g, dst_d)

    # 3b. the source daemon restarts while QEMU still copies: the
    # destination daemon is held (SIGSTOP) so that nothing ends the copy first
    p = start_virsh(S, "migrate", "--live", "--p2p", "--bandwidth", "4", "--xml", xml, "fault",
                    D)
    info = wait_progress(S, "fault")
    T.check("p2p, slower: the copy progresses", info is not None, info)
    dst_d.proc.send_signal(signal.SIGSTOP)
    try:
        src_d.stop(signal.SIGKILL)
        p.communicate(timeout=60)
        src_d.start().close()
    finally:
        dst_d.proc.send_signal(signal.SIGCONT)
    log = src_d.log(None)
    T.check("... the restarted source finds the copy running, cancels it, runs the guest on",
            "its outgoing migration was interrupted by a restart of tagvirtd: cancelled" in log,
            log[-1500:])
    after("source daemon restarted while the copy ran", g, dst_d)

    # 3c. the copy completes while the source daemon is held (SIGSTOP), which
    # is then killed: Perform never answered, so no Finish ran the guest on
    # the destination; the restarted source runs it on
    p = start_virsh(S, "migrate", "--live", "--bandwidth", "8", "--xml", xml, "fault", D)
    info = wait_progress(S, "fault")
    T.check("client-managed: the copy progresses", info is not None, info)
    src_d.proc.send_signal(signal.SIGSTOP)
    time.sleep(25)  # about 70 MB at 8 MiB/s: QEMU completes the copy and pauses the guest
    src_d.stop(signal.SIGKILL)
    out, _ = p.communicate(timeout=60)
    T.check("... source daemon held while QEMU completed the copy, then killed: virsh fails",
            p.returncode != 0, out)
    src_d.start().close()
    log = src_d.log(None)
    T.check("... the restarted source finds the copy completed but never answered and runs "
            "the guest on", "completed but Perform never answered" in log, log[-1500:])
    after("source daemon killed after the copy completed, before Perform answered", g, dst_d)

    # 4. a source daemon killed mid-copy of a client-managed migration
    p = start_virsh(S, "migrate", "--live", "--bandwidth", "8", "--xml", xml, "fault", D)
    info = wait_progress(S, "fault")
    T.check("client-managed again: the copy progresses", info is not None, info)
    src_d.stop(signal.SIGKILL)
    out, _ = p.communicate(timeout=60)
    T.check("... source daemon killed (-9): virsh migrate fails", p.returncode != 0, out)
    T.note(out.strip())
    src_d.start().close()
    after("source daemon killed mid-copy of a client-managed migration", g, dst_d)

    # 5. an incoming migration that never gets its stream: the expiry.  The
    # source's QEMU is stopped (SIGSTOP) before it connects, so Prepare
    # answers and the copy never begins; the expiry ends it.
    (pid,) = g.pids
    rc, out = virsh(S, "migrate-setspeed", "fault", "8")
    os.kill(pid, signal.SIGSTOP)
    try:
        p = start_virsh(S, "migrate", "--live", "--p2p", "--xml", xml, "fault", D)
        T.check("expiry: an incoming QEMU waits on the destination",
                wait_until(lambda: len(dst_d.qemus()) == 1, 30), dst_d.qemus())
        t0 = time.monotonic()
        gone = wait_until(lambda: not dst_d.qemus(), EXPIRY_S + 30)
        T.note("Prepare -> expiry stopped the incoming QEMU: %.1f s (timeout %d s)"
               % (time.monotonic() - t0, EXPIRY_S))
        T.check("... stopped after migration_incoming_timeout with nothing received", gone and
                "no migration stream arrived within %d s" % EXPIRY_S in dst_d.log(None),
                dst_d.log(800))
    finally:
        os.kill(pid, signal.SIGCONT)
    out, _ = p.communicate(timeout=120)
    T.check("... the migration fails", p.returncode != 0, out)
    T.note(out.strip())
    after("an incoming migration that expired", g, dst_d)

    # 6. client-managed: the client leaves after Perform answered, before
    # Finish and Confirm.  virsh is held (SIGSTOP) while QEMU completes the
    # copy, so Perform's answer waits unread; then virsh is killed.  As with
    # libvirt ("perform3 done"): nobody knows whether the destination would
    # run it, so the source keeps the guest paused and the destination,
    # whose Prepare connection closed, stops its incoming QEMU
    copies = src_d.log(None).count("copied in")
    p = start_virsh(S, "migrate", "--live", "--bandwidth", "8", "--xml", xml, "fault", D)
    info = wait_progress(S, "fault")
    T.check("client-managed: the copy progresses", info is not None, info)
    p.send_signal(signal.SIGSTOP)
    performed = wait_until(lambda: src_d.log(None).count("copied in") > copies, 60)
    T.check("... virsh held: QEMU completes the copy and Perform answers", performed,
            src_d.log(800))
    rc, out = virsh(S, "domstate", "--reason", "fault")
    rc2, out2 = virsh(D, "domstate", "--reason", "fault")
    T.check("... meanwhile the guest runs on neither side (source paused, destination's "
            "incoming QEMU paused)", out == "paused (migrating)" and rc2 == 0 and
            out2.startswith("paused"), (out, out2))
    p.send_signal(signal.SIGKILL)
    p.send_signal(signal.SIGCONT)
    p.wait()
    T.check("... virsh killed before Finish: the destination stops its incoming QEMU",
            wait_until(lambda: nothing_on(dst_d, "fault")[0], 30), nothing_on(dst_d, "fault"))
    T.check("... the source keeps the guest paused in its QEMU and says why",
            wait_until(lambda: "the client that performed it disconnected before Confirm"
                       in src_d.log(None), 30) and
            virsh(S, "domstate", "--reason", "fault")[1] == "paused (migrating)" and
            src_d.qemus() == g.pids, (virsh(S, "domstate", "--reason", "fault"), src_d.log(600)))
    rc, out = virsh(S, "domjobinfo", "fault")
    T.check("... its job has ended", rc == 0 and "None" in out, out)
    rc, out = virsh(S, "resume", "fault")
    T.check("... virsh resume runs it on here (the destination does not run it)", rc == 0, out)
    after("client left after Perform answered, before Finish", g, dst_d)

    # 7. peer-to-peer: the destination ran Finish (the guest runs there,
    # defined there) but its daemon dies before the answer reaches the
    # source.  The destination daemon holds Finish's answer while a file
    # exists (TAGVIRT_TEST_FINISH_HOLD), is killed (-9) meanwhile and
    # restarted; the source asks it again, hears that it runs the guest, and
    # ends its own QEMU as Confirm would (and undefines it: --undefinesource)
    hold = os.path.join(dst_d.root, "hold-finish")
    dst_d.stop()
    os.environ["TAGVIRT_TEST_FINISH_HOLD"] = hold
    try:
        dst_d.start().close()
    finally:
        del os.environ["TAGVIRT_TEST_FINISH_HOLD"]
    open(hold, "w").close()
    p = start_virsh(S, "migrate", "--live", "--p2p", "--persistent", "--undefinesource",
                    "--xml", xml, "fault", D)

    def runs_there():
        rc, out = virsh(D, "domstate", "--reason", "fault")
        return rc == 0 and out == "running (migrated)"
    T.check("p2p, Finish's answer held: the guest runs on the destination",
            wait_until(runs_there, 90), virsh(D, "domstate", "--reason", "fault"))
    rc, out = virsh(S, "domstate", "--reason", "fault")
    T.check("... and not on the source (paused there, its copy done)",
            out == "paused (migrating)", out)
    (dst_pid,) = dst_d.qemus() or [None]
    dst_d.stop(signal.SIGKILL)
    os.unlink(hold)
    dst_d.start().close()
    out, _ = p.communicate(timeout=120)
    T.check("... destination daemon killed (-9) before answering, restarted: virsh migrate "
            "succeeds (the source asked again and heard the guest runs there)",
            p.returncode == 0, out)
    T.check("... the source says so in its log",
            "Finish's answer was lost, but the destination runs the guest" in src_d.log(None),
            src_d.log(800))
    dst_console = os.path.join(dst_d.root, "fault.console")
    ok, info = counting_on(dst_console)
    conn = libvirt.open(D)
    try:
        dd = conn.lookupByName("fault")
        there = (dd.state()[0], dd.isPersistent())
    finally:
        conn.close()
    T.check("... the guest runs on the destination in the QEMU Finish ran, counting on, "
            "persistent there", ok and there == (libvirt.VIR_DOMAIN_RUNNING, 1) and
            dst_d.qemus() == [dst_pid], (info, there, dst_pid, dst_d.qemus()))
    conn = libvirt.open(S)
    try:
        left = [d.name() for d in conn.listAllDomains()]
    finally:
        conn.close()
    # (the destination's QEMU names the source's root too: the kernel is
    # there; a QEMU the restarted source took over is reaped by PID 1, late)
    def src_alive():
        return [p for p in g.pids if os.path.exists("/proc/%d" % p) and
                " Z " not in tvtest.read_text("/proc/%d/stat" % p)]
    wait_until(lambda: not src_alive(), 15)
    T.check("... the source's QEMU is gone and no definition is left there (one persistent "
            "definition in all)", not src_alive() and "fault" not in left, (src_alive(), left))

    conn = libvirt.open(D)
    dom = conn.lookupByName("fault")
    dom.destroy()
    dom.undefine()
    conn.close()
    T.check("the guest stops when asked", not dst_d.qemus() and not src_d.qemus(),
            (dst_d.qemus(), src_d.qemus()))


def main():
    # a port range of its own: other tests on this machine migrate too
    base = random.randrange(50000, 60000, 20)
    conf = ("migration_incoming_timeout = %d\nmigration_port_min = %d\n"
            "migration_port_max = %d\n" % (EXPIRY_S, base, base + 19))
    src_d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvmigf-src-")
    dst_d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, conf=conf, prefix="tvmigf-dst-")
    src_d.start().close()
    dst_d.start().close()
    run(src_d, dst_d)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
