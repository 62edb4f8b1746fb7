#!/usr/bin/python3
"""<smartcard> under a real tagvirtd and QEMU (docs/formatdomain.rst,
"smartcard devices"): every mode that can run here defines and starts with
its usb-ccid reader (the CCID controller libvirt adds, on a USB port) and
its card: passthrough over a bind-mode unix socket tagvirtd makes, over TCP
bind and TCP connect; host-certificates with three certificates made by
certutil in a private NSS database.  Refused as libvirt refuses, nothing
left running: a missing or empty database, a database QEMU's user cannot
read, a nickname the database lacks (QEMU's own error), mode host on a host
without /etc/pki/nssdb (checked in a private mount namespace where it
exists: the guest starts), no USB controller, spicevmc, a second card, live
attach.  Config attach/detach; virt-install --smartcard.  Fails (never
skips) without certutil (Debian libnss3-tools).  TAP.

Usage: smartcard-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (ERR_CONFIG_UNSUPPORTED, ERR_OPERATION_UNSUPPORTED, SRCDIR, Daemon, check,
                    free_port, private_tmpdir, read_text, refused, run, sh, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
CONFIG = libvirt.VIR_DOMAIN_AFFECT_CONFIG
LIVE = libvirt.VIR_DOMAIN_AFFECT_LIVE
ERR_OPERATION_INVALID = libvirt.VIR_ERR_OPERATION_INVALID
ERR_OPERATION_FAILED = libvirt.VIR_ERR_OPERATION_FAILED
USB = "<controller type='usb' model='qemu-xhci'/>"


def domain_xml(name, card, usb=USB):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices><serial type='pty'/>{usb}{card}</devices>
</domain>"""


def cmdline(d):
    pids = d.qemus()
    return read_text("/proc/%d/cmdline" % pids[0]).replace("\0", " ") if pids else ""


def start_refused(conn, name, card, code, words):
    """define + start refused with code naming words; the domain is shut off, no QEMU."""
    dom = conn.defineXML(domain_xml(name, card))
    refused("start of %s: refused naming %s" % (name, ", ".join(words)), dom.create, code, words)
    return dom


def nss_db(folder, names):
    """An NSS database (SQLite) in folder with self-signed certificates."""
    os.makedirs(folder, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", "sql:" + folder, "--empty-password"], check=True,
                   capture_output=True)
    noise = os.path.join(folder, "noise")
    with open(noise, "wb") as f:
        f.write(os.urandom(64))
    for n in names:
        subprocess.run(["certutil", "-d", "sql:" + folder, "-x", "-t", "CT,CT,CT", "-S",
                        "-s", "CN=" + n, "-n", n, "-z", noise], check=True, capture_output=True)
    os.unlink(noise)


def readable_by_all(folder):
    os.chmod(folder, 0o755)
    for f in os.listdir(folder):
        os.chmod(os.path.join(folder, f), 0o644)


def linux_guest_sees_reader(conn, work, card):
    """The 9p kit's Linux guest (tests/guest/build-9p-kit.sh: Debian's
    generic arm64 kernel, xhci modules) lists its USB devices: QEMU's
    usb-ccid is 08e6:4433."""
    out = sh(os.path.join(SRCDIR, "tests", "guest", "build-9p-kit.sh"), "--print-paths",
             timeout=900)
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    kernel, initrd = os.path.join(work, "vmlinuz-9p"), os.path.join(work, "initrd-9p.gz")
    shutil.copy(paths["KERNEL"], kernel)
    shutil.copy(paths["INITRAMFS"], initrd)
    for f in (kernel, initrd):
        os.chmod(f, 0o644)
    console = os.path.join(work, "guest.console")
    xml = f"""<domain type='qemu'>
  <name>scg</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyAMA0 panic=-1 quiet tagvirt.guest=9p tagvirt.9p=none</cmdline></os>
  <cpu mode='maximum'/>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    {USB}{card}
  </devices>
</domain>"""
    dom = conn.defineXML(xml)
    dom.create()
    wait_for(lambda: "GUESTUSB done" in read_text(console), 600, step=2)
    text = read_text(console)
    check("the Linux guest sees the CCID reader on its USB bus: 08e6:4433 'QEMU USB CCID'",
          "GUESTUSB 08e6:4433 " in text and "QEMU USB CCID" in text, text[-1500:])
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    have = shutil.which("certutil")
    check("certutil is installed (Debian libnss3-tools)", have)
    if not have:
        return
    work = private_tmpdir("tvsc-")
    d = Daemon(CACHE, prefix="tvsc-")
    conn = d.start(TAGVIRTD)
    qemu_user = "tagvirt-qemu" if os.geteuid() == 0 else None

    # --- passthrough over a bind-mode unix socket tagvirtd makes
    sock = os.path.join(work, "sc.sock")
    card = f"<smartcard mode='passthrough' type='unix'><source mode='bind' path='{sock}'/></smartcard>"
    dom = conn.defineXML(domain_xml("scu", card))
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    check("define: a <controller type='ccid' index='0'> is added on USB port 1",
          "<controller type='ccid' index='0'>\n      <address type='usb' bus='0' port='1'/>"
          in inactive, inactive)
    check("... the card is at ccid controller 0 slot 0",
          "<address type='ccid' controller='0' slot='0'/>" in inactive, inactive)
    dom.create()
    cmd = cmdline(d)
    check("start: QEMU has usb-ccid on the USB controller",
          "-device usb-ccid,id=ccid0,bus=usb.0,port=1" in cmd, cmd)
    check("... and ccid-card-passthru in it, on a socket passed as a descriptor",
          "ccid-card-passthru,chardev=charsmartcard0,id=smartcard0,bus=ccid0.0" in cmd and
          "socket,id=charsmartcard0,fd=" in cmd and sock not in cmd, cmd)
    live = dom.XMLDesc(0)
    check("live XML: the card's alias smartcard0, the reader's ccid0",
          "<alias name='smartcard0'/>" in live and "<alias name='ccid0'/>" in live, live)
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(sock)
        connected = True
    except OSError as e:
        connected = str(e)
    s.close()
    check("a smartcard provider can connect to %s" % sock, connected is True, str(connected))
    refused("live attach of a <smartcard>: OPERATION_UNSUPPORTED naming it",
            lambda: dom.attachDeviceFlags("<smartcard mode='host'/>", LIVE),
            ERR_OPERATION_UNSUPPORTED, ["smartcard"])
    refused("live detach of the <smartcard>: OPERATION_UNSUPPORTED naming it",
            lambda: dom.detachDeviceFlags(card, LIVE), ERR_OPERATION_UNSUPPORTED,
            ["live detach", "smartcard"])
    check("... the guest runs on, one card", dom.isActive() and
          dom.XMLDesc(0).count("<smartcard") == 1)
    dom.destroy()
    check("destroy: no QEMU left, the socket is removed",
          wait_for(lambda: not d.qemus(), 10) and not os.path.exists(sock), str(d.qemus()))
    with open(sock, "w") as f:
        f.write("not a socket")
    refused("start with a regular file where the socket goes: OPERATION_INVALID naming it",
            dom.create, ERR_OPERATION_INVALID, [sock, "not a socket"])
    check("... the file is left as it was, no QEMU",
          read_text(sock) == "not a socket" and not d.qemus() and not dom.isActive())
    os.unlink(sock)

    # config detach / attach
    dom.detachDeviceFlags(card, CONFIG)
    check("detach-device --config: the card leaves the definition",
          "<smartcard" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    dom.attachDeviceFlags("<smartcard mode='host'/>", CONFIG)
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    check("attach-device --config: a host card, at ccid controller 0 slot 0",
          "<smartcard mode='host'>" in inactive and
          "<address type='ccid' controller='0' slot='0'/>" in inactive, inactive)
    refused("attach of a second card: CONFIG_UNSUPPORTED (QEMU takes one)",
            lambda: dom.attachDeviceFlags(card, CONFIG), ERR_CONFIG_UNSUPPORTED, ["smartcard"])
    refused("detach of a card the definition lacks (passthrough): DEVICE_MISSING",
            lambda: dom.detachDeviceFlags(card, CONFIG), libvirt.VIR_ERR_DEVICE_MISSING,
            ["smartcard"])
    dom.undefine()

    # --- mode host: NSS's /etc/pki/nssdb
    if os.path.isdir("/etc/pki/nssdb"):
        check("this host has /etc/pki/nssdb: the refusal below cannot be checked here", False)
    else:
        host = start_refused(conn, "sch", "<smartcard mode='host'/>", ERR_OPERATION_INVALID,
                             ["smartcard mode='host'", "/etc/pki/nssdb", "does not exist"])
        check("... no QEMU was started", not d.qemus() and not host.isActive())
        host.undefine()

    # --- passthrough over TCP: bind, then connect to a listener
    port = free_port()
    dom = conn.defineXML(domain_xml("sct", "<smartcard mode='passthrough' type='tcp'><source "
                                    f"mode='bind' host='127.0.0.1' service='{port}'/>"
                                    "<protocol type='raw'/></smartcard>"))
    dom.create()
    cmd = cmdline(d)
    check("tcp bind: QEMU listens on 127.0.0.1:%d for the card" % port,
          "socket,id=charsmartcard0,host=127.0.0.1,port=%d,server=on,wait=off" % port in cmd, cmd)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        connected = True
    except OSError as e:
        connected = str(e)
    check("... a provider can connect to it", connected is True, str(connected))
    dom.destroy()
    dom.undefine()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    lport = listener.getsockname()[1]
    accepted = []
    t = threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True)
    t.start()
    dom = conn.defineXML(domain_xml("scc", "<smartcard mode='passthrough' type='tcp'><source "
                                    f"mode='connect' host='127.0.0.1' service='{lport}'/>"
                                    "</smartcard>"))
    dom.create()
    t.join(10)
    check("tcp connect: QEMU connects to the provider at start", accepted, cmdline(d))
    dom.destroy()
    for conn_addr in accepted:
        conn_addr[0].close()
    listener.close()
    refused("tcp connect with nothing listening: the start fails with QEMU's error",
            dom.create, ERR_OPERATION_FAILED, [str(lport)])
    check("... no QEMU left, the domain is shut off",
          wait_for(lambda: not d.qemus(), 10) and not dom.isActive())
    dom.undefine()

    # --- host-certificates from a private NSS database
    db = os.path.join(work, "nssdb")
    nss_db(db, ["cert1", "cert2", "cert3"])
    certs = "".join("<certificate>%s</certificate>" % n for n in ("cert1", "cert2", "cert3"))
    card = f"<smartcard mode='host-certificates'>{certs}<database>{db}</database></smartcard>"
    dom = conn.defineXML(domain_xml("scx", card))
    if qemu_user:
        os.chmod(db, 0o700)
        refused("a database QEMU's user (%s) cannot read: SYSTEM_ERROR naming it and the user"
                % qemu_user, dom.create, libvirt.VIR_ERR_SYSTEM_ERROR, [db, qemu_user])
        check("... no QEMU left", not d.qemus() and not dom.isActive())
    readable_by_all(db)
    dom.create()
    cmd = cmdline(d)
    check("host-certificates: QEMU runs ccid-card-emulated with the three certificates and the "
          "database", "ccid-card-emulated,backend=certificates,cert1=cert1,cert2=cert2,"
          "cert3=cert3,db=%s,id=smartcard0,bus=ccid0.0" % db in cmd, cmd)
    if qemu_user:
        uid = pwd.getpwnam(qemu_user).pw_uid
        check("... the database keeps its owner (root), QEMU runs as %s" % qemu_user,
              os.stat(db).st_uid == 0 and os.stat(os.path.join(db, "cert9.db")).st_uid == 0 and
              any(l.split()[1] == str(uid) for l in read_text(
                  "/proc/%d/status" % d.qemus()[0]).splitlines() if l.startswith("Uid:")))
    dom.destroy()
    dom.undefine()
    linux_guest_sees_reader(conn, work, card)

    # neither QEMU (libcacard) nor libvirt checks the nicknames: documented
    bad = card.replace("cert3</certificate>", "nosuch</certificate>")
    dom = conn.defineXML(domain_xml("scn", bad))
    dom.create()
    check("a nickname the database lacks: QEMU starts anyway (docs/formatdomain.rst says so)",
          dom.isActive() and "cert3=nosuch" in cmdline(d))
    dom.destroy()
    check("... no QEMU left after destroy", wait_for(lambda: not d.qemus(), 10))
    dom.undefine()
    empty = os.path.join(work, "empty")
    os.mkdir(empty, 0o755)
    for name, folder, words in (("scm", os.path.join(work, "missing"), ["does not exist"]),
                                ("sce", empty, ["holds no NSS database", "certutil"])):
        dom = start_refused(conn, name, card.replace(db, folder), ERR_OPERATION_INVALID,
                            [folder] + words)
        check("... no QEMU was started", not d.qemus() and not dom.isActive())
        dom.undefine()

    # --- define-time refusals
    refused("define without a USB controller: CONFIG_UNSUPPORTED naming the smartcard",
            lambda: conn.defineXML(domain_xml("scz", "<smartcard mode='host'/>", usb="")),
            ERR_CONFIG_UNSUPPORTED, ["smartcard", "USB controller", "qemu-xhci"])
    refused("define with passthrough type spicevmc: refused naming spicevmc and the accepted types",
            lambda: conn.defineXML(domain_xml(
                "scs", "<smartcard mode='passthrough' type='spicevmc'/>")),
            ERR_CONFIG_UNSUPPORTED, ["spicevmc", "SPICE", "'unix', 'tcp'"])
    refused("define with two cards: CONFIG_UNSUPPORTED",
            lambda: conn.defineXML(domain_xml(
                "sc2", "<smartcard mode='host'/><smartcard mode='host'/>")),
            ERR_CONFIG_UNSUPPORTED, ["2 <smartcard>"])
    check("nothing was defined by the refusals",
          not [x for x in conn.listAllDomains() if x.name() in ("scz", "scs", "sc2")])

    # --- virt-install --smartcard
    port = free_port()
    rc, out = d.virt_install(
        "--name", "vi", "--arch", "aarch64", "--machine", "virt", "--virt-type", "qemu",
        "--memory", "128", "--vcpus", "1", "--osinfo", "linux2020", "--import",
        "--boot", "kernel=" + KERNEL, "--features", "acpi=off", "--disk", "none",
        "--graphics", "none", "--network", "none", "--controller", "usb,model=qemu-xhci",
        "--smartcard", "passthrough,type=tcp,source.mode=bind,source.host=127.0.0.1,"
        "source.service=%d" % port, "--noautoconsole")
    vi = conn.lookupByName("vi") if rc == 0 else None
    check("virt-install --smartcard passthrough,type=tcp,... defines and starts the guest",
          rc == 0 and vi and vi.isActive(), out)
    cmd = cmdline(d)
    check("... QEMU has the card on 127.0.0.1:%d" % port,
          "host=127.0.0.1,port=%d,server=on,wait=off" % port in cmd and "ccid-card-passthru" in cmd,
          cmd)
    if vi:
        vi.destroy()
        vi.undefine()
    rc, out = d.virt_install(
        "--name", "vi2", "--arch", "aarch64", "--machine", "virt", "--virt-type", "qemu",
        "--memory", "128", "--vcpus", "1", "--osinfo", "linux2020", "--import",
        "--boot", "kernel=" + KERNEL, "--features", "acpi=off", "--disk", "none",
        "--graphics", "none", "--network", "none", "--controller", "usb,model=qemu-xhci",
        "--smartcard", "host", "--noautoconsole")
    if os.path.isdir("/etc/pki/nssdb"):
        check("virt-install --smartcard host: starts (this host has /etc/pki/nssdb)", rc == 0, out)
    else:
        # virt-install starts the guest first (createXML) and defines it after
        check("virt-install --smartcard host (it writes type='tcp', ignored as by libvirt): "
              "the start is refused naming /etc/pki/nssdb, nothing is defined",
              "does not exist" in out and "/etc/pki/nssdb" in out and
              "vi2" not in [x.name() for x in conn.listAllDomains()], out)
    check("no QEMU of this daemon is left", wait_for(lambda: not d.qemus(), 10), str(d.qemus()))
    d.cleanup()
    host_mode_with_nssdb(work, db)


def host_mode_with_nssdb(work, db):
    """Mode host where /etc/pki/nssdb exists: a tagvirtd in a private mount
    namespace whose /etc is a copy of the host's plus pki/nssdb (the host's
    own /etc is not touched).  The guest starts; a daemon restart keeps it."""
    fake = os.path.join(work, "etc")
    os.mkdir(fake, 0o755)
    script = ('mount -t tmpfs -o mode=0755 tagvirt-test-etc "$0" && cp -a /etc/. "$0"/ && '
              'mkdir -p "$0"/pki && cp -a "$1" "$0"/pki/nssdb && mount --bind "$0" /etc && '
              'shift && exec "$@"')
    d = Daemon(CACHE, prefix="tvsch-",
               wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, fake, db])
    conn = d.start(TAGVIRTD)
    dom = conn.defineXML(domain_xml("sch2", "<smartcard mode='host'/>"))
    dom.create()
    cmd = cmdline(d)
    check("mode host with an NSS database at /etc/pki/nssdb (private mount namespace): the "
          "guest runs ccid-card-emulated,backend=nss-emulated", dom.isActive() and
          "ccid-card-emulated,backend=nss-emulated,id=smartcard0,bus=ccid0.0" in cmd, cmd)
    d.stop()
    conn = d.start(TAGVIRTD)
    dom = conn.lookupByName("sch2")
    live = dom.XMLDesc(0)
    check("daemon restarted: the guest runs on, its live XML keeps the card and reader aliases",
          dom.isActive() and "<alias name='smartcard0'/>" in live and
          "<alias name='ccid0'/>" in live, live)
    dom.destroy()
    check("... destroy: no QEMU left", wait_for(lambda: not d.qemus(), 10), str(d.qemus()))


run(main)
