#!/usr/bin/python3
"""Migration between two tagvirtd on this machine (docs/migration.rst),
driven by Debian's virsh and python3-libvirt: client-managed
(`virsh migrate --live`: Begin3, Prepare3, Perform3, Finish3, Confirm3 with
parameters) and peer-to-peer (`--p2p`, and migrateToURI3 with Nova's flags and
a destination_xml), each daemon under its own root and unix socket.

What is checked today is the refusal half: every refusal is decided before
the source guest is touched, and afterwards the source guest runs on in the
same QEMU, with exactly one definition, and the destination has no domain and
no QEMU.  The refusals: an MTE level the destination's QEMU cannot give
(QEMU 11.1, whose `max` is level 4, for a level-3 guest started on the
system QEMU), a guest without MTE whose ID registers would change (the same
move, fields MTEX...), a destination_xml with another MTE level, a destination
that already runs the guest, a guest that is not running, and flags tagvirt
does not support.  A migration whose checks all pass ends with the error
that says the incoming QEMU is not built yet; the test checks that too, so
it fails (and must be changed) the day migration completes.  TAP.

Usage: migration-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvdaemon  # noqa: E402

try:
    import libvirt
except ImportError:
    print("1..1\nnot ok 1 - python3-libvirt is not installed (scripts/install-deps.sh)")
    sys.exit(1)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
QEMU_CACHE = os.environ.get("TAGVIRT_QEMU_CACHE", os.path.expanduser("~/.cache/tagvirt"))
QEMU_111 = os.environ.get("TAGVIRT_QEMU_111", QEMU_CACHE + "/qemu-sid/bin/qemu-system-aarch64")
T = tvdaemon.Tap()

# libvirt's numbers
ERR_INVALID_ARG, ERR_OPERATION_INVALID, ERR_CONFIG_UNSUPPORTED = 8, 55, 67
ERR_ARGUMENT_UNSUPPORTED, ERR_OPERATION_UNSUPPORTED = 74, 84
MIGRATE_LIVE, MIGRATE_PEER2PEER, MIGRATE_PERSIST_DEST = 1, 2, 8
MIGRATE_UNDEFINE_SOURCE, MIGRATE_TUNNELLED = 16, 4
NOVA_FLAGS = MIGRATE_LIVE | MIGRATE_PEER2PEER | MIGRATE_PERSIST_DEST | MIGRATE_UNDEFINE_SOURCE
NOT_BUILT = "cannot start an incoming QEMU yet"


def quiet(*a):
    pass


libvirt.registerErrorHandler(quiet, None)


def virsh(uri, *args):
    p = subprocess.run(["timeout", "240", "virsh", "-q", "-c", uri] + list(args),
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def error_of(call, *args):
    try:
        call(*args)
    except libvirt.libvirtError as e:
        return e.get_error_code(), e.get_error_message()
    return None


def qemu_pids(uuid):
    """pids of the QEMUs started for this uuid (their command line has -uuid)"""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"qemu-system-aarch64") and uuid.encode() in cmd:
            found.append(int(pid))
    return found


def domain_xml(name, mte, emulator=None, uuid=None):
    emu = "<emulator>%s</emulator>" % emulator if emulator else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  {"<uuid>%s</uuid>" % uuid if uuid else ""}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <features>{mte}</features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices>{emu}<controller type='usb' model='none'/><memballoon model='none'/></devices>
</domain>
"""


class Source:
    """A running guest on the source and what must not change about it."""

    def __init__(self, conn, daemon, name, mte):
        self.conn, self.daemon, self.name = conn, daemon, name
        self.dom = conn.defineXML(domain_xml(name, mte))
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
    src_d = tvdaemon.Daemon(TAGVIRTD, cache=CACHE, prefix="tvmig-src-").start()
    dst_d = tvdaemon.Daemon(TAGVIRTD, cache=CACHE, prefix="tvmig-dst-")
    seed_caps(dst_d)
    dst_d.start()
    daemons = [src_d, dst_d]
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

    # every check passes: the incoming QEMU is what is missing
    refused("client-managed: Begin3/Prepare3 checks pass, then the not-built incoming QEMU "
            "is named", g, dconn, dst_d, virsh(S, "migrate", "--live", "mig3", D), NOT_BUILT)
    refused("peer-to-peer (--p2p): the source's Prepare3 on the destination, same answer",
            g, dconn, dst_d, virsh(S, "migrate", "--live", "--p2p", "mig3", D), NOT_BUILT)

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
    err = error_of(g.dom.migrateToURI3, D, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: "<domain"},
                   MIGRATE_LIVE | MIGRATE_PEER2PEER)
    T.check("a destination_xml that does not parse: an XML error", err and
            "destination_xml" in err[1], err)
    ok, info = g.untouched()
    T.check("after all of that the source guest runs on in the same QEMU", ok, info)
    g.dom.destroy()
    T.check("... and stops when asked", not qemu_pids(g.uuid), qemu_pids(g.uuid))


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
