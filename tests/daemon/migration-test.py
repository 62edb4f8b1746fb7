#!/usr/bin/python3
"""Migration between two tagvirtd on this machine (docs/migration.rst),
driven by Debian's virsh and python3-libvirt: client-managed
(`virsh migrate --live`: Begin3, Prepare3, Perform3, Finish3, Confirm3 with
parameters) and peer-to-peer (`--p2p`, and migrateToURI3 with Nova's flags and
a destination_xml), each daemon under its own root and unix socket.

Migrations that complete: the looping demo guest (MTE 3, checking the tags
of a buffer every 500 ms) goes to the destination and back and on again with
Nova's flags; its console there carries on counting with its tags intact and
never shows a boot.  Job info while memory is copied (virsh --verbose
percentages, domjobinfo), the completed job's downtime on the source and
its figures on the destination, migrate-setspeed /
-getspeed / -setmaxdowntime / -getmaxdowntime.

Nothing lost: every refusal is decided before the source guest is touched
(an MTE level the destination's QEMU cannot give: QEMU 11.1, whose `max` is
level 4, for a level-3 guest started on the system QEMU; a guest without MTE
whose ID registers would change; a destination_xml with another MTE level;
a destination that already runs the guest; a guest that is not running;
unsupported flags), and a migration that is aborted, whose destination QEMU
is killed mid-copy, or that is started twice, leaves the source guest
running in the same QEMU with one definition and nothing on the
destination.  TAP.

Usage: migration-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]"""
import glob
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
QEMU_CACHE, QEMU_111 = tvtest.QEMU_CACHE, tvtest.QEMU_111
T = tvtest.Tap()

from tvtest import (ERR_ARGUMENT_UNSUPPORTED, ERR_CONFIG_UNSUPPORTED,  # noqa: E402
                    ERR_OPERATION_ABORTED, MIGRATE_LIVE, MIGRATE_PEER2PEER, MIGRATE_TUNNELLED,
                    NOVA_FLAGS, error_of)

virsh = tvtest.virsh_at
qemu_pids = tvtest.qemu_pids_of


def domain_xml(name, mte, emulator=None, uuid=None, console=None, kernel=None):
    emu = "<emulator>%s</emulator>" % emulator if emulator else ""
    serial = ("<serial type='file'><source path='%s'/></serial>" % console) if console else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  {"<uuid>%s</uuid>" % uuid if uuid else ""}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel or KERNEL}</kernel></os>
  <features>{mte}</features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices>{emu}<controller type='usb' model='none'/><memballoon model='none'/>{serial}</devices>
</domain>
"""


class Source:
    """A running guest on the source and what must not change about it."""

    def __init__(self, conn, daemon, name, mte, console=None, kernel=None):
        self.conn, self.daemon, self.name = conn, daemon, name
        self.dom = conn.defineXML(domain_xml(name, mte, console=console, kernel=kernel))
        self.dom.create()
        self.id = self.dom.ID()
        self.uuid = self.dom.UUIDString()
        self.pids = qemu_pids(self.uuid)

    def untouched(self):
        dom = self.conn.lookupByName(self.name)
        state = dom.state()[0]
        names = [d.name() for d in self.conn.listAllDomains()]
        pids = qemu_pids(self.uuid)
        return (state == libvirt.VIR_DOMAIN_RUNNING and dom.ID() == self.id and
                len(pids) == 1 and pids == self.pids and names.count(self.name) == 1 and
                dom.isPersistent() == 1), "state %s id %s pids %s -> %s" % (
                    state, dom.ID(), self.pids, pids)

    def migratable_xml(self):
        return self.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)


def nothing_on(conn, src):
    """the destination has no domain of that name and no second QEMU of that uuid"""
    names = [d.name() for d in conn.listAllDomains()]
    pids = qemu_pids(src.uuid)
    return src.name not in names and pids == src.pids, "domains %s qemus %s" % (names, pids)


def refused(desc, src, dst_conn, dst, rc_out, want):
    rc, out = rc_out
    T.check(desc, rc != 0 and want in out, "exit %s: %s" % (rc, out))
    T.note(out)
    ok, info = src.untouched()
    T.check("... the source guest runs on in the same QEMU, one definition", ok, info)
    ok, info = nothing_on(dst_conn, src)
    T.check("... nothing on the destination", ok, info)


def seed_caps(daemon):
    """The QEMU 11.1 capabilities, when this machine has them cached, so the
    destination need not probe (it probes when they are missing)."""
    os.makedirs(daemon.root + "/cache", exist_ok=True)
    for f in glob.glob(QEMU_CACHE + "/capabilities/*.xml"):
        shutil.copy(f, daemon.root + "/cache/")


def main():
    if not T.check("QEMU 11.1 is there (scripts/test-qemus.sh)",
                   subprocess.run([QEMU_111, "--version"], capture_output=True).returncode == 0,
                   QEMU_111):
        return
    src_d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvmig-src-")
    src_d.start()
    dst_d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvmig-dst-")
    seed_caps(dst_d)
    dst_d.start()
    daemons = [src_d, dst_d]
    tvtest.event_loop()  # before the connections: the destination's lifecycle events
    try:
        run(src_d, dst_d)
    finally:
        for d in daemons:
            d.cleanup()


def run(src_d, dst_d):
    sconn = libvirt.open(src_d.uri)
    dconn = libvirt.open(dst_d.uri)
    S, D = src_d.uri, dst_d.uri

    # not running: refused at Begin
    sconn.defineXML(domain_xml("idle", "<mte version='3'/>"))
    rc, out = virsh(S, "migrate", "--live", "idle", D)
    T.check("a guest that is not running: refused at Begin, naming it",
            rc != 0 and "domain 'idle' is not running" in out, out)
    sconn.lookupByName("idle").undefine()

    g = Source(sconn, src_d, "mig3", "<mte version='3'/>")
    T.check("the level-3 guest runs on the source (system QEMU, max)", len(g.pids) == 1, g.pids)

    # a destination_xml with another MTE level: the ABI check at Begin
    xml = g.migratable_xml().replace("<mte version='3'/>", "<mte version='2'/>")
    path = os.path.join(src_d.root, "dest2.xml")
    with open(path, "w") as f:
        f.write(xml)
    refused("--xml with MTE version 2: refused by the ABI check, naming both levels", g, dconn,
            dst_d, virsh(S, "migrate", "--live", "--xml", path, "mig3", D),
            "guest ABI: target MTE version 2 does not match source 3")
    err = error_of(g.dom.migrateToURI3, D,
                   {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml}, NOVA_FLAGS)
    T.check("migrateToURI3 with Nova's flags and that destination_xml: CONFIG_UNSUPPORTED",
            err and err[0] == ERR_CONFIG_UNSUPPORTED and "MTE version 2" in err[1], err)
    ok, info = g.untouched()
    T.check("... the source guest runs on, still persistent (UNDEFINE_SOURCE did nothing)",
            ok, info)

    # the destination runs QEMU 11.1, whose max is level 4: refused at Prepare
    xml111 = g.migratable_xml().replace(
        "<emulator>/usr/bin/qemu-system-aarch64</emulator>", "<emulator>%s</emulator>" % QEMU_111)
    T.check("the destination XML names QEMU 11.1", QEMU_111 in xml111, xml111)
    path = os.path.join(src_d.root, "dest111.xml")
    with open(path, "w") as f:
        f.write(xml111)
    t0 = time.monotonic()
    refused("to QEMU 11.1 (max is MTE 4): refused at Prepare with the level it would give",
            g, dconn, dst_d, virsh(S, "migrate", "--live", "--xml", path, "mig3", D),
            "MTE version 3 is not available with CPU model 'max'")
    T.note("first refusal to 11.1 (may include the destination's probe of 11.1): %.2f s"
           % (time.monotonic() - t0))
    t0 = time.monotonic()
    err = error_of(g.dom.migrateToURI3, D,
                   {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml111}, NOVA_FLAGS)
    elapsed = time.monotonic() - t0
    T.check("... and peer-to-peer with Nova's flags: the same refusal",
            err and "MTE version 3 is not available" in err[1], err)
    T.note("peer-to-peer refusal to 11.1, caps cached: %.3f s" % elapsed)
    ok, info = g.untouched()
    T.check("... the source guest runs on", ok, info)

    # a guest without MTE: 10.0's max shows MTE 1 and no MTE4 fields, 11.1's
    # max shows the MTE4 fields even with MTE off: the recorded ABI refuses
    off = Source(sconn, src_d, "mig0", "")
    xml = off.migratable_xml().replace(
        "<emulator>/usr/bin/qemu-system-aarch64</emulator>", "<emulator>%s</emulator>" % QEMU_111)
    path = os.path.join(src_d.root, "dest111-off.xml")
    with open(path, "w") as f:
        f.write(xml)
    refused("no MTE, to QEMU 11.1: refused by the recorded guest ABI, naming the field",
            off, dconn, dst_d, virsh(S, "migrate", "--live", "--p2p", "--xml", path, "mig0", D),
            "guest ABI: ID_AA64PFR1_EL1.MTEX differs: source 0, destination 1")
    off.dom.destroy()
    off.dom.undefine()

    # the destination already runs a guest of that name and uuid
    uuid = g.dom.UUIDString()
    twin = dconn.defineXML(domain_xml("mig3", "<mte version='3'/>", uuid=uuid))
    twin.create()
    twin_pids = [p for p in qemu_pids(uuid) if p not in g.pids]
    rc, out = virsh(S, "migrate", "--live", "mig3", D)
    T.check("a destination that already runs the guest: refused, naming it",
            rc != 0 and "domain 'mig3' is already running here" in out, out)
    T.check("... its guest there runs on", twin.state()[0] == libvirt.VIR_DOMAIN_RUNNING and
            len(twin_pids) == 1 and
            [p for p in qemu_pids(uuid) if p not in g.pids] == twin_pids, twin.state())
    twin.destroy()
    twin.undefine()
    ok, info = g.untouched()
    T.check("... the source guest runs on", ok, info)

    # flags and parameters
    err = error_of(g.dom.migrateToURI3, D, {}, MIGRATE_LIVE | MIGRATE_PEER2PEER | MIGRATE_TUNNELLED)
    T.check("--tunnelled: ARGUMENT_UNSUPPORTED naming it",
            err and err[0] == ERR_ARGUMENT_UNSUPPORTED and "tunnelled" in err[1], err)
    err = error_of(g.dom.migrateToURI3, D, {},
                   MIGRATE_LIVE | MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_POSTCOPY)
    T.check("--postcopy: ARGUMENT_UNSUPPORTED naming post-copy",
            err and err[0] == ERR_ARGUMENT_UNSUPPORTED and "post-copy" in err[1], err)
    err = error_of(g.dom.migrateToURI3, D, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: "<domain"},
                   MIGRATE_LIVE | MIGRATE_PEER2PEER)
    T.check("a destination_xml that does not parse: an XML error", err and
            "destination_xml" in err[1], err)
    ok, info = g.untouched()
    T.check("after all of that the source guest runs on in the same QEMU", ok, info)
    g.dom.destroy()
    T.check("... and stops when asked", not qemu_pids(g.uuid), qemu_pids(g.uuid))
    g.dom.undefine()

    migrations(src_d, dst_d, sconn, dconn)
    failures(src_d, dst_d, sconn, dconn)


CHECK = re.compile(r"tags intact \(check (\d+)\)")


def console_checks(path):
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return "", []
    return text, [int(n) for n in CHECK.findall(text)]


def wait_checks(path, above, timeout=60):
    """the console's tag checks once one numbered above `above` shows"""
    deadline = time.monotonic() + timeout
    while True:
        text, checks = console_checks(path)
        if (checks and checks[-1] > above) or time.monotonic() > deadline:
            return text, checks
        time.sleep(0.2)


def xml_with_console(dom, path):
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    return re.sub(r"<source path='[^']*'/>", "<source path='%s'/>" % path, xml, count=1)


def carried_on(desc, before, path):
    """the guest's console on its new host continues the count, tags intact, no boot"""
    text, checks = wait_checks(path, before)
    ok = (checks and checks[0] > before and "FAIL" not in text and "MTE level" not in text
          and "result=" not in text)
    T.check(desc, ok, "last check before %d; after: %s" % (before, text[-400:]))
    return checks[-1] if checks else before


def one_def(conns, name):
    """(persistent definitions of name over every host, QEMUs running it)"""
    n = 0
    for c in conns:
        for d in c.listAllDomains():
            if d.name() == name and d.isPersistent():
                n += 1
    return n


def migrations(src_d, dst_d, sconn, dconn):
    S, D = src_d.uri, dst_d.uri
    con_s = os.path.join(src_d.root, "loop.console")
    con_d = os.path.join(dst_d.root, "loop.console")
    g = Source(sconn, src_d, "loop", "<mte version='3'/>", console=con_s)
    text, checks = wait_checks(con_s, 1)
    T.check("the looping MTE 3 guest runs and checks its tags on the source",
            checks and "done level=3 result=PASS" in text, text[-300:])
    last = checks[-1] if checks else 0

    # client-managed, with --verbose: percentages
    path = os.path.join(src_d.root, "to-dst.xml")
    with open(path, "w") as f:
        f.write(xml_with_console(g.dom, con_d))
    seen = []
    cb = dconn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, ev, det, o: seen.append((ev, det)) if d.name() == "loop" else None, None)
    t0 = time.monotonic()
    rc, out = virsh(S, "migrate", "--live", "--verbose", "--xml", path, "loop", D)
    T.check("virsh migrate --live --verbose (client-managed): done", rc == 0 and
            "Migration: [100 %]" in out, out)
    T.note("client-managed migration of the 128 MiB guest: %.2f s" % (time.monotonic() - t0))
    dd = dconn.lookupByName("loop")
    T.check("... the guest runs on the destination, transient",
            dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING and not dd.isPersistent(), dd.state())
    # as libvirt: started (migrated) at Prepare, resumed (migrated) at Finish;
    # no suspended event for the incoming QEMU's wait
    want = [(libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_MIGRATED),
            (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_MIGRATED)]
    tvtest.wait_for(lambda: len(seen) >= len(want), 15)
    T.check("... the destination's lifecycle events: started (migrated), resumed (migrated)",
            seen == want, "seen %s, want %s" % (seen, want))
    dconn.domainEventDeregisterAny(cb)
    pids_d = dst_d.qemus()
    T.check("... one QEMU there, and the source's QEMU is gone",
            len(pids_d) == 1 and qemu_pids(g.uuid) == pids_d, (pids_d, qemu_pids(g.uuid)))
    sd = sconn.lookupByName("loop")
    T.check("... the source keeps its definition, shut off (reason migrated)",
            sd.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED] and
            sd.isPersistent(), sd.state())
    last = carried_on("... its console there carries on counting, tags intact, no boot",
                      last, con_d)
    rc, out = virsh(S, "domjobinfo", "--completed", "loop")
    T.check("domjobinfo --completed on the source: a completed outgoing migration with its "
            "downtime", rc == 0 and "Completed" in out and "Total downtime" in out, out)
    T.note(out)
    rc, out = virsh(D, "domjobinfo", "--completed", "loop")
    T.check("domjobinfo --completed on the destination: an incoming migration with the data "
            "processed and the downtime (from Perform's cookie)",
            rc == 0 and "Incoming migration" in out and
            re.search(r"Data processed:\s+[1-9]", out) and "Total downtime" in out, out)
    T.note(out)

    # back with --p2p (the source daemon drives it)
    path = os.path.join(dst_d.root, "to-src.xml")
    with open(path, "w") as f:
        f.write(xml_with_console(dd, con_s))
    rc, out = virsh(D, "migrate", "--live", "--p2p", "--auto-converge", "--xml", path, "loop", S)
    T.check("back with virsh migrate --live --p2p --auto-converge: done", rc == 0, out)
    sd = sconn.lookupByName("loop")
    T.check("... it runs on the first host again, with its definition there",
            sd.state()[0] == libvirt.VIR_DOMAIN_RUNNING and sd.isPersistent(), sd.state())
    T.check("... nothing left on the destination",
            "loop" not in [d.name() for d in dconn.listAllDomains()] and not dst_d.qemus(),
            ([d.name() for d in dconn.listAllDomains()], dst_d.qemus()))
    last = carried_on("... its console carries on counting", last, con_s)

    # Nova's flags with destination_xml and persistent_xml
    g.dom = sd
    xml = xml_with_console(sd, con_d)
    t0 = time.monotonic()
    err = error_of(sd.migrateToURI3, D, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
                                         libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: xml}, NOVA_FLAGS)
    T.check("migrateToURI3 with Nova's flags (live|peer2peer|persist-dest|undefine-source), "
            "destination_xml and persistent_xml: done", err is None, err)
    T.note("peer-to-peer migration: %.2f s" % (time.monotonic() - t0))
    dd = dconn.lookupByName("loop")
    T.check("... it runs there, persistent; the source has no definition left",
            dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING and dd.isPersistent() and
            "loop" not in [d.name() for d in sconn.listAllDomains()] and
            one_def([sconn, dconn], "loop") == 1, dd.state())
    last = carried_on("... its console carries on counting", last, con_d)
    dd.destroy()
    dd.undefine()
    T.check("... and it stops when asked", not dst_d.qemus(), dst_d.qemus())


def slow_guest(src_d, sconn, name):
    """the looping guest with 64 MiB of random data in its RAM (loaded with
    its kernel), whose copy at 8 MiB/s takes seconds"""
    kernel = tvtest.elf_with_data(KERNEL, os.path.join(src_d.root, "loop-64m.elf"), 64 << 20)
    return Source(sconn, src_d, name, "<mte version='3'/>", kernel=kernel)


def in_thread(fn, *args):
    box = {}

    def body():
        box["err"] = error_of(fn, *args)
    t = threading.Thread(target=body)
    t.start()
    return t, box


def wait_copying(dom, timeout=30):
    """job info of the source while memory is copied: two samples, the
    second further on"""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            info = dom.jobInfo()
        except libvirt.libvirtError:
            info = None
        if info and info[0] != libvirt.VIR_DOMAIN_JOB_NONE and info[4] > 0:
            seen.append(info)
            if len(seen) >= 2 and seen[-1][4] > seen[0][4]:
                return seen
        time.sleep(0.1)
    return seen


def failures(src_d, dst_d, sconn, dconn):
    S, D = src_d.uri, dst_d.uri
    g = slow_guest(src_d, sconn, "slow")
    params = {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 8}

    def nothing_lost(desc):
        time.sleep(0.5)  # the destination's reaper
        ok, info = g.untouched()
        T.check(desc + ": the source guest runs on in the same QEMU, one definition", ok, info)
        ok, info = nothing_on(dconn, g)
        T.check(desc + ": nothing on the destination", ok, info)

    # abort while memory is copied
    t, box = in_thread(g.dom.migrateToURI3, D, params, MIGRATE_LIVE | MIGRATE_PEER2PEER)
    seen = wait_copying(g.dom)
    T.check("job info while memory is copied: data processed grows, total and remaining given",
            len(seen) >= 2 and seen[-1][3] > 0, seen)
    rc, out = virsh(S, "domjobinfo", "slow")
    T.check("virsh domjobinfo meanwhile: an unbounded job with data processed",
            rc == 0 and "Unbounded" in out and "Data processed" in out, out)
    rc, out = virsh(S, "migrate", "--live", "slow", D)
    T.check("a second migration of the same guest meanwhile: refused, naming the running job",
            rc != 0 and "migration out job running" in out, out)
    rc, out = virsh(S, "migrate-setspeed", "slow", "4")
    T.check("migrate-setspeed during the copy", rc == 0, out)
    rc, out = virsh(S, "migrate-getspeed", "slow")
    T.check("migrate-getspeed: 4", rc == 0 and out.strip() == "4", out)
    t0 = time.monotonic()
    g.dom.abortJob()
    t.join(60)
    T.note("abort -> migration returned: %.2f s" % (time.monotonic() - t0))
    err = box.get("err")
    T.check("abort (virsh domjobabort): the migration fails with OPERATION_ABORTED",
            err and err[0] == ERR_OPERATION_ABORTED, err)
    nothing_lost("after the abort")
    rc, out = virsh(S, "domjobinfo", "--completed", "slow")
    T.check("... domjobinfo --completed: cancelled", rc == 0 and "Cancelled" in out, out)

    # the destination's QEMU killed mid-copy
    t, box = in_thread(g.dom.migrateToURI3, D, params, MIGRATE_LIVE | MIGRATE_PEER2PEER)
    wait_copying(g.dom)
    victims = [p for p in qemu_pids(g.uuid) if p not in g.pids]
    T.check("the destination's incoming QEMU exists mid-copy", len(victims) == 1, victims)
    for pid in victims:
        os.kill(pid, 9)
    t.join(60)
    err = box.get("err")
    T.check("destination QEMU killed mid-copy: the migration fails", err is not None, err)
    T.note(err)
    nothing_lost("after the destination's QEMU was killed")
    rc, out = virsh(S, "domstate", "--reason", "slow")
    T.check("... it never paused: still 'running (booted)'",
            rc == 0 and out.strip() == "running (booted)", out)

    # paused during the copy (virsh migrate --timeout --timeout-suspend does
    # this), then the copy fails: libvirt's reasons are "paused (migrating)"
    # and, once it runs again, "running (migration canceled)"
    t, box = in_thread(g.dom.migrateToURI3, D, params, MIGRATE_LIVE | MIGRATE_PEER2PEER)
    wait_copying(g.dom)
    rc, out = virsh(S, "suspend", "slow")
    rc2, out2 = virsh(S, "domstate", "--reason", "slow")
    T.check("suspended while its migration runs: 'paused (migrating)'",
            rc == 0 and rc2 == 0 and out2.strip() == "paused (migrating)", (out, out2))
    g.dom.abortJob()
    t.join(60)
    T.check("... aborted: OPERATION_ABORTED", box.get("err") and
            box["err"][0] == ERR_OPERATION_ABORTED, box.get("err"))
    nothing_lost("after the abort of a paused copy")
    rc, out = virsh(S, "domstate", "--reason", "slow")
    T.check("... it runs again as 'running (migration canceled)' (libvirt's reason 6)",
            rc == 0 and out.strip() == "running (migration canceled)", out)

    # migration settings
    rc, out = virsh(S, "migrate-setmaxdowntime", "slow", "300")
    T.check("migrate-setmaxdowntime 300", rc == 0, out)
    rc, out = virsh(S, "migrate-getmaxdowntime", "slow")
    T.check("migrate-getmaxdowntime: 300", rc == 0 and out.strip() == "300", out)
    rc, out = virsh(S, "migrate-setspeed", "slow", "0")
    rc2, out2 = virsh(S, "migrate-getspeed", "slow")
    T.check("migrate-setspeed 0: unlimited again (libvirt's maximum)",
            rc == 0 and rc2 == 0 and out2.strip() == "8796093022207", (out, out2))

    # the moving percentage of virsh --verbose
    rc, out = virsh(S, "migrate", "--live", "--verbose", "--bandwidth", "16", "slow", D)
    pct = sorted(set(int(p) for p in re.findall(r"Migration: \[\s*(\d+) %\]", out)))
    T.check("virsh migrate --verbose of the slow guest: the percentage moves, then 100",
            rc == 0 and len(pct) >= 3 and pct[-1] == 100, out[-600:])
    dd = dconn.lookupByName("slow")
    T.check("... it runs on the destination", dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING,
            dd.state())
    dd.destroy()
    sconn.lookupByName("slow").undefine()


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
