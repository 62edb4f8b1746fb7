#!/usr/bin/python3
"""<tpm model='tpm-tis'><backend type='emulator' version='2.0'/> under a
real tagvirtd (docs/formatdomain.rst, "TPM devices"): the daemon starts one
swtpm per running domain as QEMU's unprivileged user, with its state in
ROOT/swtpm/<uuid>/tpm2 (0700, QEMU's user) made once by swtpm_setup; the
swtpm is gone (reaped, its record removed) after destroy and after a failed
start, the state survives a restart of the domain, undefine removes it
unless --keep-tpm; save and live attach of a TPM are refused with
libvirt's codes; config detach/attach works; bad XML is refused naming the
value.  Fails (never skips) without swtpm and swtpm_setup.  TAP.

Usage: tpm-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import pwd
import shutil
import stat
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (ERR_CONFIG_UNSUPPORTED, ERR_OPERATION_UNSUPPORTED, GUEST_ARGS, Daemon, check,
                    guest_kit, pids_with, private_tmpdir, read_text, refused, run, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
UUID = "7f4c2a1e-5b3d-4e6f-8a9b-0c1d2e3f4a5b"
TPM = "<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>"


def domain_xml(name, kernel=KERNEL, tpm=TPM, uuid=UUID):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
  <cpu mode='maximum'/>
  <devices><serial type='pty'/>{tpm}</devices>
</domain>"""


def swtpms(d):
    """pids of swtpm processes (not zombies) whose command line names the root."""
    found = []
    for pid in pids_with(d.root + "/swtpm/"):
        text = read_text("/proc/%d/cmdline" % pid)
        st = read_text("/proc/%d/stat" % pid)
        if "swtpm\0socket" in text and st and st.split(") ")[-1][:1] != "Z":
            found.append(pid)
    return found


def status_field(pid, field):
    for line in read_text("/proc/%d/status" % pid).splitlines():
        if line.startswith(field + ":"):
            return line.split()[1:]
    return []


def state_of(d, uuid):
    return os.path.join(d.root, "swtpm", uuid)


def transient_and_undefine(d, conn):
    """libvirt's rules for TPM state: a transient domain's goes when it ends
    (and a failed start of one leaves none); a running domain undefined goes
    at its stop unless --keep-tpm was given."""
    u = "6f7a8b9c-0d1e-4f2a-8b4c-5d6e7f8a9b0c"
    dom = conn.createXML(domain_xml("tptr", uuid=u), 0)
    check("virsh create (transient) with a TPM: its state is made, one swtpm runs",
          os.path.isfile(os.path.join(state_of(d, u), "tpm2", "tpm2-00.permall")) and
          len(swtpms(d)) == 1, str(swtpms(d)))
    dom.destroy()
    check("... destroy: the transient domain is gone with its swtpm and its TPM state",
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)) and
          u not in [x.UUIDString() for x in conn.listAllDomains()], str(swtpms(d)))

    try:
        conn.createXML(domain_xml("tptrbad", kernel="/nonexistent/kernel.elf", uuid=u), 0)
        failed = False
    except libvirt.libvirtError:
        failed = True
    check("a transient start that fails after swtpm_setup leaves no swtpm and no TPM state",
          failed and "Starting vTPM manufacturing" in
          read_text(os.path.join(d.root, "log", "tptrbad-swtpm.log")) and
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)))

    # a persistent domain undefined while it runs: transient until it stops
    dom = conn.defineXML(domain_xml("tpun", uuid=u))
    dom.create()
    rc, out, err = d.virsh("undefine", "tpun")
    check("undefine of a running domain with a TPM: it runs on, its state stays meanwhile",
          rc == 0 and dom.isActive() and len(swtpms(d)) == 1 and
          os.path.isdir(os.path.join(state_of(d, u), "tpm2")), out + err)
    dom.destroy()
    check("... at its stop the TPM state is removed (no --keep-tpm)",
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)),
          str(os.listdir(os.path.join(d.root, "swtpm"))))

    dom = conn.defineXML(domain_xml("tpun", uuid=u))
    dom.create()
    rc, out, err = d.virsh("undefine", "tpun", "--keep-tpm")
    check("undefine --keep-tpm of a running domain: it runs on", rc == 0 and dom.isActive(),
          out + err)
    dom.destroy()
    tpm2 = os.path.join(state_of(d, u), "tpm2")
    check("... at its stop the TPM state stays (--keep-tpm was given)",
          wait_for(lambda: not swtpms(d), 10) and
          os.path.isfile(os.path.join(tpm2, "tpm2-00.permall")) and
          os.listdir(state_of(d, u)) == ["tpm2"], str(os.listdir(state_of(d, u))))
    dom = conn.createXML(domain_xml("tpun", uuid=u), 0)
    log = read_text(os.path.join(d.root, "log", "tpun-swtpm.log"))
    check("... a transient domain of that uuid runs on the kept state (no new manufacturing)",
          dom.isActive() and log.count("Starting vTPM manufacturing") == 2, log)
    dom.destroy()
    check("... and removes it when it ends",
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)))
    return conn


def restart_cases(d, conn):
    """A daemon restart: a transient domain's run is taken over and ends as
    one; a status file that cannot be read gets its QEMU killed, and its
    swtpm ends with it (ended and reaped, its record gone)."""
    u = "7a8b9c0d-1e2f-4a3b-9c5d-6e7f8a9b0c1d"
    conn.createXML(domain_xml("tprt", uuid=u), 0)
    d.stop()
    conn = d.start(TAGVIRTD)
    dom = conn.lookupByName("tprt")
    check("daemon restarted: the transient domain with a TPM is taken over",
          dom.isActive() and len(swtpms(d)) == 1)
    dom.destroy()
    check("... its end through the new daemon removes its TPM state",
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)))

    conn.createXML(domain_xml("tprt", uuid=u), 0)
    d.stop()
    for pid in d.qemus():
        os.kill(pid, 9)
    wait_for(lambda: not d.qemus(), 10)
    conn = d.start(TAGVIRTD)
    check("a transient domain whose QEMU died while no daemon ran: gone at the restart, with "
          "its swtpm and its TPM state",
          wait_for(lambda: not swtpms(d), 10) and not os.path.exists(state_of(d, u)) and
          "tprt" not in [x.name() for x in conn.listAllDomains()], str(swtpms(d)))

    dom = conn.lookupByName("tp")
    dom.create()
    sw = swtpms(d)
    qemu = d.qemus()
    d.stop()
    status = os.path.join(d.root, "state", "tp.xml")
    with open(status, "w") as f:
        f.write("<domstatus")  # truncated: cannot be read
    conn = d.start(TAGVIRTD)
    dom = conn.lookupByName("tp")
    check("status file unreadable at the daemon's start: the domain is shut off, its QEMU killed",
          not dom.isActive() and wait_for(lambda: not d.qemus(), 10) and qemu, str(d.qemus()))
    check("... its swtpm is ended and reaped (no process left), its record removed",
          sw and wait_for(lambda: not any(os.path.exists("/proc/%d" % p) for p in sw), 10) and
          not os.path.exists(os.path.join(d.root, "state", "tp.swtpm")), str(sw))
    check("... the persistent domain's TPM state stays",
          os.path.isfile(os.path.join(d.root, "swtpm", UUID, "tpm2", "tpm2-00.permall")))
    dom.create()
    check("... and it starts again with one swtpm", dom.isActive() and len(swtpms(d)) == 1)
    dom.destroy()
    wait_for(lambda: not swtpms(d), 10)
    return conn


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    have = shutil.which("swtpm") and shutil.which("swtpm_setup")
    check("swtpm and swtpm_setup are installed (Debian swtpm, swtpm-tools)", have)
    if not have:
        return
    d = Daemon(CACHE, prefix="tvtpm-")
    conn = d.start(TAGVIRTD)
    daemon_pid = d.proc.pid
    qemu_uid = pwd.getpwnam("tagvirt-qemu").pw_uid if os.geteuid() == 0 else os.geteuid()
    state = os.path.join(d.root, "swtpm", UUID)
    tpm2 = os.path.join(state, "tpm2")
    log = os.path.join(d.root, "log", "tp-swtpm.log")

    dom = conn.defineXML(domain_xml("tp"))
    check("define: the TPM is in the definition, model and version written back",
          "<tpm model='tpm-tis'>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) and
          "<backend type='emulator' version='2.0'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    t0 = time.time()
    dom.create()
    note_start = time.time() - t0
    pids = swtpms(d)
    check("start: one swtpm runs for the domain (start took %.2f s)" % note_start, len(pids) == 1,
          str(pids))
    sw = pids[0] if pids else 0
    check("... as QEMU's user (uid %d), not root" % qemu_uid,
          sw and status_field(sw, "Uid")[:1] == [str(qemu_uid)], str(status_field(sw, "Uid")))
    qemus = d.qemus()
    check("... QEMU runs as the same user",
          qemus and status_field(qemus[0], "Uid")[:1] == [str(qemu_uid)])
    check("... its parent is tagvirtd (which reaps it)",
          sw and status_field(sw, "PPid") == [str(daemon_pid)], str(status_field(sw, "PPid")))
    st = os.stat(tpm2) if os.path.isdir(tpm2) else None
    check("state folder ROOT/swtpm/<uuid>/tpm2: 0700, owned by QEMU's user",
          st and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == qemu_uid, str(st))
    check("... with the TPM 2.0 state swtpm_setup made",
          os.path.exists(os.path.join(tpm2, "tpm2-00.permall")))
    check("... its parent ROOT/swtpm is root's, 0711",
          stat.S_IMODE(os.stat(os.path.join(d.root, "swtpm")).st_mode) == 0o711)
    live = dom.XMLDesc(0)
    check("live XML: <tpm> with alias tpm0", "<alias name='tpm0'/>" in live, live)
    qemu_cmd = read_text("/proc/%d/cmdline" % qemus[0]) if qemus else ""
    check("QEMU has tpm-tis-device on an emulator tpmdev",
          "tpm-tis-device,tpmdev=tpm-tpm0,id=tpm0" in qemu_cmd and
          "emulator,id=tpm-tpm0,chardev=chrtpm" in qemu_cmd, qemu_cmd.replace("\0", " "))

    refused("managed save with a TPM: OPERATION_UNSUPPORTED naming the tpm",
            lambda: dom.managedSave(0), ERR_OPERATION_UNSUPPORTED, ["tpm"])
    check("... the guest still runs", dom.isActive() and swtpms(d) == pids)
    refused("live attach of a <tpm>: OPERATION_UNSUPPORTED naming it",
            lambda: dom.attachDeviceFlags(TPM, libvirt.VIR_DOMAIN_AFFECT_LIVE),
            ERR_OPERATION_UNSUPPORTED, ["tpm"])

    dom.destroy()
    gone = wait_for(lambda: not swtpms(d) and not os.path.exists(sw and "/proc/%d" % sw), 10)
    check("destroy: the swtpm is gone and reaped (no zombie)", gone, str(swtpms(d)))
    check("... its record STATE/tp.swtpm is removed",
          not os.path.exists(os.path.join(d.root, "state", "tp.swtpm")))
    check("... the TPM state stays", os.path.exists(os.path.join(tpm2, "tpm2-00.permall")))

    dom.create()
    again = swtpms(d)
    check("start again: one swtpm", len(again) == 1)
    check("... the state was kept: swtpm_setup ran once",
          read_text(log).count("Starting vTPM manufacturing") == 1, read_text(log))
    # a daemon restart: the guest and its swtpm go on; the new daemon ends it
    d.stop()
    conn = d.start(TAGVIRTD)
    dom = conn.lookupByName("tp")
    check("daemon restarted: the guest runs on with the same swtpm",
          dom.isActive() and swtpms(d) == again, str(swtpms(d)))
    dom.destroy()
    check("... destroy through the new daemon: that swtpm (not its child) is gone, its record removed",
          wait_for(lambda: not swtpms(d), 10) and
          not os.path.exists(os.path.join(d.root, "state", "tp.swtpm")), str(swtpms(d)))

    # a start that fails after the swtpm started: nothing left behind
    bad = conn.defineXML(domain_xml("tpbad", kernel="/nonexistent/kernel.elf",
                                    uuid="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"))
    try:
        bad.create()
        failed = False
    except libvirt.libvirtError:
        failed = True
    check("a start that fails (missing kernel) fails", failed)
    check("... after its swtpm_setup ran (the TPM part of the start was reached)",
          "Starting vTPM manufacturing" in read_text(os.path.join(d.root, "log",
                                                                  "tpbad-swtpm.log")))
    check("... and leaves no swtpm and no record",
          wait_for(lambda: not swtpms(d), 10) and
          not os.path.exists(os.path.join(d.root, "state", "tpbad.swtpm")), str(swtpms(d)))
    check("... nor the TPM state that start made",
          not os.path.exists(os.path.join(d.root, "swtpm", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")))
    bad.undefine()

    conn = transient_and_undefine(d, conn)
    conn = restart_cases(d, conn)
    dom = conn.lookupByName("tp")

    dom.detachDeviceFlags(TPM, CONFIG)
    check("detach-device --config: the <tpm> is gone from the definition",
          "<tpm" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    dom.attachDeviceFlags("<tpm><backend type='emulator'/></tpm>", CONFIG)
    check("attach-device --config: back, with model tpm-tis and version 2.0",
          "<tpm model='tpm-tis'>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    refused("attach of a second <tpm>: refused",
            lambda: dom.attachDeviceFlags(TPM, CONFIG), ERR_CONFIG_UNSUPPORTED, ["tpm"])

    refused("define with <backend type='passthrough'>: CONFIG_UNSUPPORTED naming it",
            lambda: conn.defineXML(domain_xml("tppt", uuid="2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
                                              tpm="<tpm model='tpm-tis'><backend "
                                                  "type='passthrough'><device path='/dev/tpm0'/>"
                                                  "</backend></tpm>")),
            ERR_CONFIG_UNSUPPORTED, ["passthrough", "emulator"])
    refused("define with version 1.2: CONFIG_UNSUPPORTED naming 1.2 and 2.0",
            lambda: conn.defineXML(domain_xml("tp12", uuid="3c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f",
                                              tpm=TPM.replace("2.0", "1.2"))),
            ERR_CONFIG_UNSUPPORTED, ["1.2", "2.0"])
    refused("define with model tpm-crb: refused naming tpm-tis",
            lambda: conn.defineXML(domain_xml("tpcrb", uuid="4d5e6f7a-8b9c-4d0e-1f2a-3b4c5d6e7f8a",
                                              tpm=TPM.replace("tpm-tis", "tpm-crb"))),
            ERR_CONFIG_UNSUPPORTED, ["tpm-crb", "tpm-tis"])

    # the Linux guest kit sees the TPM (tpm_tis through the device tree)
    work = private_tmpdir("tvtpm-guest-")
    kernel, initrd = guest_kit(work)
    console = os.path.join(work, "tg.console")
    gxml = domain_xml("tg", kernel=kernel, uuid="5e6f7a8b-9c0d-4e1f-2a3b-4c5d6e7f8a9b").replace(
        "<serial type='pty'/>", f"<serial type='file'><source path='{console}'/></serial>").replace(
        "</kernel>", f"</kernel><initrd>{initrd}</initrd><cmdline>{GUEST_ARGS}</cmdline>").replace(
        "<memory unit='MiB'>128</memory>", "<memory unit='MiB'>512</memory>")
    guest = conn.defineXML(gxml)
    guest.create()
    seen = wait_for(lambda: [l for l in read_text(console).splitlines()
                             if l.startswith("GUESTTPM tpms=tpm0")], 300, step=2)
    check("the Linux guest (Debian arm64 kernel, tpm_tis) sees /sys/class/tpm/tpm0", seen,
          read_text(console)[-1500:])
    guest.destroy()
    check("... its swtpm is gone after destroy", wait_for(lambda: not swtpms(d), 10))
    guest.undefine()

    rc, out, err = d.virsh("undefine", "tp", "--tpm", "--keep-tpm")
    check("virsh undefine --tpm --keep-tpm: refused, the domain stays",
          rc != 0 and conn.lookupByName("tp"), out + err)
    rc, out, err = d.virsh("undefine", "tp", "--keep-tpm")
    check("virsh undefine --keep-tpm: the TPM state stays", rc == 0 and os.path.isdir(tpm2),
          out + err)
    dom = conn.defineXML(domain_xml("tp"))
    rc, out, err = d.virsh("undefine", "tp")
    check("virsh undefine: the TPM state is removed", rc == 0 and not os.path.exists(state),
          out + err)
    check("no swtpm of this daemon is left", not swtpms(d))


run(main)
