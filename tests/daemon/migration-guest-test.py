#!/usr/bin/python3
"""Live migration with a real Linux guest and across QEMU builds
(docs/migration.rst, "Across QEMU builds" and "A Linux guest's tags"),
driven by Debian's virsh and python3-libvirt between two tagvirtd on this
machine, each under its own root and unix socket.

1. The Linux guest kit (tests/guest: Debian's arm64 kernel, busybox) booted
   with 'tagvirt.guest=mteloop' runs mtetest --loop: one PROT_MTE buffer
   whose tags it set once, read back (ldg) and checked every second, each
   check with one wrongly tagged access that must fault (SEGV_MTESERR).  It
   goes to the destination with `virsh migrate --live` (client-managed) and
   back with migrateToURI3 and Nova's flags (peer-to-peer, persist-dest,
   undefine-source, destination_xml, persistent_xml), on QEMU 10.0 (7.2's
   tag storage is broken).  On each new host the console must show the same
   pid going on from the next check number, tags and bytes intact, the
   wrong tag still faulting, and no boot.  Both daemons' completed jobs
   (domjobinfo --completed, jobStats) carry the copy's figures: the
   destination's come from Perform's cookie.
2. One side on another QEMU build (scripts/test-qemus.sh): QEMU 7.2 (run as
   root: the fetched copy lies under root's home, which tagvirt-qemu cannot
   enter; MTE there only with allow_broken_tag_storage = 1, as its tag
   storage is broken), 10.0 (the system QEMU) and 11.1, with the looping
   demo guest: MTE 3 from 7.2 to 11.1, and 7.2 <-> 10.0 both ways with MTE 3
   (and to a 7.2 without the opt-in) and with MTE off.  Every one is refused before the source is touched, naming the
   field and both values; the source guest runs on in the same QEMU and the
   destination has nothing.  TAP.

Usage: migration-guest-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import glob
import os
import re
import shutil
import subprocess
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (NOVA_FLAGS, QEMU_111, QEMU_CACHE, Daemon, check, error_of, guest_kit, note,
                    pids_with, private_tmpdir, read_text, run, virsh_at, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
DEMO = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
QEMU_72 = os.environ.get("TAGVIRT_QEMU_72", QEMU_CACHE + "/qemu-bookworm/bin/qemu-system-aarch64")
QEMU_100 = "/usr/bin/qemu-system-aarch64"
ARGS = "console=ttyAMA0 panic=-1 quiet tagvirt.guest=mteloop"
BOOT_TIMEOUT = 420  # a Linux boot under TCG on a shared, loaded machine
JOB_STATS_COMPLETED, JOB_STATS_KEEP_COMPLETED = 1, 2
JOB_OPERATION_MIGRATION_IN, JOB_OPERATION_MIGRATION_OUT = 4, 5

virsh = virsh_at


def start_daemon(conf=""):
    d = Daemon(cache=CACHE, conf=conf, prefix="tvmg-")
    os.makedirs(d.root + "/cache", exist_ok=True)
    for f in glob.glob(QEMU_CACHE + "/capabilities/*.xml"):
        shutil.copy(f, d.root + "/cache/")
    return d, d.start(TAGVIRTD, timeout=300)


def warm_caps(conn, emulator):
    """Have the daemon probe emulator now (domcapabilities), so that the
    refusals below are decided from its capabilities, not by a first probe
    that may run out of time on a loaded machine (a probe that failed is
    tried again)."""
    for attempt in range(3):
        try:
            conn.getDomainCapabilities(emulator, "aarch64", None, "qemu", 0)
            return True
        except libvirt.libvirtError as e:
            note("domcapabilities of %s, attempt %d: %s" % (emulator, attempt + 1,
                                                           e.get_error_message()))
    return False


def domain_xml(name, mte, console, kernel, initrd=None, emulator=None, machine="virt"):
    emu = "<emulator>%s</emulator>" % emulator if emulator else ""
    linux = ("<initrd>%s</initrd><cmdline>%s</cmdline>" % (initrd, ARGS)) if initrd else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{256 if initrd else 128}</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='{machine}'>hvm</type><kernel>{kernel}</kernel>{linux}</os>
  <features>{mte}</features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices>{emu}<controller type='usb' model='none'/><memballoon model='none'/>
    <serial type='file'><source path='{console}'/></serial>
  </devices>
</domain>"""


def moved_xml(dom, console, emulator=None):
    """The running guest's migratable XML with its console in another file
    (and another emulator)."""
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    xml = re.sub(r"<source path='[^']*'/>", "<source path='%s'/>" % console, xml, count=1)
    if emulator:
        xml = re.sub(r"<emulator>[^<]*</emulator>", "<emulator>%s</emulator>" % emulator, xml)
    return xml


def write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- 1. the Linux guest kit's tagged-memory program ----

LOOP = re.compile(r"MTELOOP pid=(\d+) check=(\d+) tags=(\S+) data=(\S+) wrong_tag=(\d+) "
                  r"fault=(\S+)")


def loops(console):
    """[(pid, check, all good)] of the console's MTELOOP lines"""
    return [(int(m[0]), int(m[1]), m[2] == "ok" and m[3] == "ok" and m[5] == "SEGV_MTESERR")
            for m in LOOP.findall(read_text(console))]


def went_on(desc, pid, before, console):
    """On its new host the program goes on: the same pid, the next check
    number, every check good, no boot on that console."""
    seen = wait_for(lambda: len(loops(console)) >= 3 and loops(console), 180)
    text = read_text(console)
    ok = (seen and all(p == pid for p, _, _ in seen) and seen[0][1] == before + 1 and
          all(good for _, _, good in seen) and [c for _, c, _ in seen] ==
          list(range(before + 1, before + 1 + len(seen))) and "GUEST kernel=" not in text and
          "MTETEST" not in text)
    check(desc, ok, "pid %d, last check before %d; after: %s" % (pid, before, text[-600:]))
    note("%s: checks %s" % (console.rsplit("/", 1)[-1], [c for _, c, _ in seen or []][:5]))
    return seen[-1][1] if seen else before


def last_check(console, pid):
    got = [c for p, c, _ in loops(console) if p == pid]
    return got[-1] if got else -1


def completed_figures(desc, conn, uri, name, operation):
    """The completed job's figures through jobStats (kept) and virsh
    domjobinfo --completed: data processed, the downtime."""
    dom = conn.lookupByName(name)
    st = dom.jobStats(JOB_STATS_COMPLETED | JOB_STATS_KEEP_COMPLETED)
    ok = (st.get("type") == libvirt.VIR_DOMAIN_JOB_COMPLETED and
          st.get("operation") == operation and st.get("data_processed", 0) > 0 and
          st.get("data_total", 0) > 0 and "downtime" in st and st.get("time_elapsed", 0) > 0)
    check(desc + ": jobStats(COMPLETED) has data processed/total, downtime, time elapsed", ok, st)
    rc, out = virsh(uri, "domjobinfo", "--completed", name)
    check(desc + ": virsh domjobinfo --completed shows them", rc == 0 and "Completed" in out and
          re.search(r"Data processed:\s+[1-9]", out) and "Total downtime" in out, out)
    note(out)
    return st


def linux_guest(src, sconn, dst, dconn):
    kit = private_tmpdir("tvmg-kit-")
    kernel, initrd = guest_kit(kit)
    con_s = os.path.join(src.root, "mteloop.console")
    con_d = os.path.join(dst.root, "mteloop.console")
    con_back = os.path.join(src.root, "mteloop-back.console")
    dom = sconn.defineXML(domain_xml("mteloop", "<mte version='3'/>", con_s, kernel, initrd))
    t0 = time.time()
    dom.create()
    seen = wait_for(lambda: len(loops(con_s)) >= 3 and loops(con_s), BOOT_TIMEOUT)
    check("the Linux guest (MTE 3, QEMU 10.0 max) runs mtetest --loop: tags, bytes and a "
          "faulting wrong tag at every check", seen and all(g for _, _, g in seen) and
          "mode=mteloop" in read_text(con_s), read_text(con_s)[-1500:])
    if not seen:
        return
    note("boot to the third check: %.0f s" % (time.time() - t0))
    pid = seen[0][0]
    note([l for l in read_text(con_s).splitlines() if "MTELOOP" in l][:2])

    # client-managed: virsh migrate --live
    path = write(src.root, "to-dst.xml", moved_xml(dom, con_d))
    t0 = time.time()
    rc, out = virsh(src.uri, "migrate", "--live", "--verbose", "--xml", path, "mteloop", dst.uri)
    took = time.time() - t0
    check("virsh migrate --live (client-managed) of the running Linux guest", rc == 0, out)
    note("client-managed migration of the 256 MiB Linux guest: %.2f s" % took)
    before = last_check(con_s, pid)
    dd = dconn.lookupByName("mteloop")
    check("... it runs on the destination; the source's is shut off (migrated)",
          dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING and
          sconn.lookupByName("mteloop").state() ==
          [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED],
          (dd.state(), sconn.lookupByName("mteloop").state()))
    last = went_on("... the same program (same pid) goes on with the next check: its tags, bytes "
                   "and a faulting wrong tag, no boot", pid, before, con_d)
    src_st = completed_figures("the source's completed job", sconn, src.uri, "mteloop",
                               JOB_OPERATION_MIGRATION_OUT)
    dst_st = completed_figures("the destination's completed job", dconn, dst.uri, "mteloop",
                               JOB_OPERATION_MIGRATION_IN)
    check("... the destination's data and downtime are the source's",
          dst_st.get("data_processed") == src_st.get("data_processed") and
          dst_st.get("downtime") == src_st.get("downtime"), (src_st, dst_st))

    # the program counts on over there before it goes back (one check a second)
    deadline = time.time() + 30
    while last_check(con_d, pid) <= last and time.time() < deadline:
        time.sleep(0.5)

    # peer-to-peer back with Nova's flags
    xml = moved_xml(dd, con_back)
    t0 = time.time()
    try:
        dd.migrateToURI3(src.uri, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
                                   libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: xml}, NOVA_FLAGS)
        err = None
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    check("back with migrateToURI3 and Nova's flags (live|peer2peer|persist-dest|"
          "undefine-source, destination_xml, persistent_xml)", err is None, err)
    note("peer-to-peer migration back: %.2f s" % (time.time() - t0))
    sd = sconn.lookupByName("mteloop")
    check("... it runs on the first host, persistent; nothing left on the other",
          sd.state()[0] == libvirt.VIR_DOMAIN_RUNNING and sd.isPersistent() and
          "mteloop" not in [d.name() for d in dconn.listAllDomains()] and
          len(pids_with(sd.UUIDString())) == 1, sd.state())
    before = last_check(con_d, pid)
    check("... the destination's console had gone on counting before the way back",
          before > last, (last, before))
    went_on("... the same program goes on again there, tags intact, the wrong tag faulting",
            pid, before, con_back)
    completed_figures("the completed job where Nova's migration arrived", sconn, src.uri,
                      "mteloop", JOB_OPERATION_MIGRATION_IN)
    sd.destroy()
    sd.undefine()
    check("... and it stops when asked", not pids_with(sd.UUIDString()))


# ---- 2. one side on another QEMU build ----

# "tags intact (check N)", or without MTE "alive (check N, no tag storage)"
DEMO_CHECK = re.compile(r"\(check (\d+)")


class Guest:
    """The looping demo guest running on one daemon, and what must not
    change about it when a migration is refused."""

    def __init__(self, d, conn, name, mte, machine="virt"):
        self.d, self.conn, self.name = d, conn, name
        self.console = os.path.join(d.root, name + ".console")
        self.dom = conn.defineXML(domain_xml(name, mte, self.console, DEMO, machine=machine))
        self.dom.create()
        self.uuid = self.dom.UUIDString()
        self.id = self.dom.ID()
        self.pids = pids_with(self.uuid)

    def untouched(self):
        dom = self.conn.lookupByName(self.name)
        pids = pids_with(self.uuid)
        names = [x.name() for x in self.conn.listAllDomains()]
        return (dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and dom.ID() == self.id and
                len(pids) == 1 and pids == self.pids and names.count(self.name) == 1,
                "state %s pids %s -> %s" % (dom.state(), self.pids, pids))

    def counting(self):
        n = len(DEMO_CHECK.findall(read_text(self.console)))
        return wait_for(lambda: len(DEMO_CHECK.findall(read_text(self.console))) > n, 30)

    def stop(self):
        self.dom.destroy()
        self.dom.undefine()


def refused_here(desc, g, dst, dconn, emulator, want):
    path = write(g.d.root, "%s-%s.xml" % (g.name, os.path.basename(dst.root)),
                 moved_xml(g.dom, os.path.join(dst.root, g.name + ".console"), emulator))
    t0 = time.time()
    rc, out = virsh(g.d.uri, "migrate", "--live", "--xml", path, g.name, dst.uri)
    took = time.time() - t0
    check(desc, rc != 0 and all(w in out for w in want), "exit %d: %s" % (rc, out))
    note(out)
    note("refused in %.2f s" % took)
    ok, info = g.untouched()
    check("... the source guest runs on in the same QEMU, one definition", ok, info)
    check("... its console goes on counting", g.counting(), read_text(g.console)[-300:])
    names = [x.name() for x in dconn.listAllDomains()]
    check("... nothing on the destination", g.name not in names and
          pids_with(g.uuid) == g.pids, (names, pids_with(g.uuid)))
    return out


def qemu_builds(d100, c100):
    # QEMU 7.2's tag storage is broken: tagvirt gives MTE there only with
    # the opt-in allow_broken_tag_storage (docs/formatdomain.rst)
    conf72 = 'emulator = "%s"\nuser = "root"\n' % QEMU_72
    plain72, cplain72 = start_daemon(conf72)
    d72, c72 = start_daemon(conf72 + "allow_broken_tag_storage = 1\n")
    pfr = "ID_AA64PFR1_EL1"
    for conn, emulator in ((c100, QEMU_111), (c100, QEMU_100), (c72, QEMU_72),
                           (cplain72, QEMU_72)):
        check("the daemon knows %s's capabilities (domcapabilities)" % emulator,
              warm_caps(conn, emulator))

    g = Guest(d72, c72, "on72", "<mte version='3'/>")
    check("an MTE 3 guest runs on QEMU 7.2 (max, allow_broken_tag_storage = 1)", len(g.pids) == 1 and
          "virt-7.2" in g.dom.XMLDesc(0), g.dom.XMLDesc(0)[:600])
    want = "MTE version 3 is not available with CPU model 'max' (it provides level 4)"
    refused_here("MTE 3 from QEMU 7.2 to 11.1 (whose max gives level 4): refused at Prepare",
                 g, d100, c100, QEMU_111, [want])
    xml = moved_xml(g.dom, os.path.join(d100.root, "on72.console"), QEMU_111)
    t0 = time.time()
    err = error_of(g.dom.migrateToURI3, d100.uri, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml},
                   NOVA_FLAGS)
    note("the same refused again, peer-to-peer with Nova's flags: %.2f s" % (time.time() - t0))
    ok, info = g.untouched()
    check("... and through migrateToURI3 with Nova's flags: the same refusal, the source "
          "untouched", err and want in err[1] and ok, (err, info))
    refused_here("MTE 3 from QEMU 7.2 to 10.0: refused by the recorded guest ABI, naming the "
                 "field and both values (10.0's max adds FEAT_NMI)", g, d100, c100, QEMU_100,
                 ["guest ABI: %s.NMI differs: source 0, destination 1" % pfr])
    g.stop()

    g = Guest(d72, c72, "off72", "")
    refused_here("MTE off from QEMU 7.2 to 10.0 (field MTE 0 -> 1): refused, naming it",
                 g, d100, c100, QEMU_100,
                 ["guest ABI: %s.MTE differs: source 0, destination 1" % pfr])
    g.stop()

    # from 10.0: its 'virt' is virt-10.0, which 7.2 does not have
    g = Guest(d100, c100, "on100", "<mte version='3'/>")
    refused_here("MTE 3 from QEMU 10.0 (machine virt = virt-10.0) to 7.2: refused at Prepare, "
                 "naming the machine type 7.2 lacks", g, d72, c72, QEMU_72,
                 ["machine type 'virt-10.0' is not supported with emulator", "virt (= virt-7.2)"])
    g.stop()
    # a guest started on 10.0 with 7.2's machine type gets as far as the guest ABI
    g = Guest(d100, c100, "on100", "<mte version='3'/>", machine="virt-7.2")
    refused_here("MTE 3 from QEMU 10.0 (machine virt-7.2) to a 7.2 without "
                 "allow_broken_tag_storage: refused at Prepare, naming the broken tag storage",
                 g, plain72, cplain72, QEMU_72,
                 ["its tag storage is broken", "allow_broken_tag_storage"])
    refused_here("... to a 7.2 with allow_broken_tag_storage: refused by the recorded guest ABI, "
                 "naming the field and both values", g, d72, c72, QEMU_72,
                 ["guest ABI: %s.NMI differs: source 1, destination 0" % pfr])
    g.stop()

    g = Guest(d100, c100, "off100", "", machine="virt-7.2")
    refused_here("MTE off from QEMU 10.0 (machine virt-7.2) to 7.2 (field MTE 1 -> 0): refused, "
                 "naming it", g, d72, c72, QEMU_72,
                 ["guest ABI: %s.MTE differs: source 1, destination 0" % pfr])
    g.stop()


def main():
    for label, q in (("7.2", QEMU_72), ("11.1", QEMU_111)):
        if not check("QEMU %s is there (scripts/test-qemus.sh)" % label,
                     subprocess.run([q, "--version"], capture_output=True).returncode == 0, q):
            return
    src, sconn = start_daemon()
    dst, dconn = start_daemon()
    qemu_builds(dst, dconn)
    linux_guest(src, sconn, dst, dconn)


run(main)
