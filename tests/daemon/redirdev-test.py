#!/usr/bin/python3
"""<redirdev bus='usb'> (USB redirection over the usbredir protocol) through
tagvirtd with python3-libvirt, Debian's virsh and virt-install, against a
real QEMU running the bundled firmware guest.  The test plays the usbredir
peer itself: it listens on TCP sockets QEMU's usb-redir connects to
(type='tcp' mode='connect') and connects to the unix socket tagvirt listens
on for QEMU (type='unix' mode='bind'); on each, the bytes QEMU sends first
must be a usbredir hello (packet type 0, then QEMU's version string).

Checked: the start (aliases redir0/redir1 and USB ports in the live XML and
the status file, usb-redir on QEMU's command line with the <redirfilter>
rules), live attach (chardev-add then device_add: DEVICE_ADDED, a hello on a
second listener, a USB port) and detach (device_del, DEVICE_REMOVED, the
connection closed, the chardev removed: the same alias attaches again), by
XML, by <alias> and with virsh detach-device-alias; LIVE|CONFIG and CONFIG;
refusals with nothing changed (nobody listening, spicevmc, a guest without
USB); the status after a tagvirtd restart; the unix socket removed at stop;
virt-install --redirdev usb,type=tcp,server=HOST:PORT.  TAP; needs root.

Usage: redirdev-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import re
import socket
import struct
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (Daemon, DeviceEvents, check, event_loop, free_port, need_tools,
                    private_tmpdir, read_text, refused, run, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE
FILTER = ("<redirfilter><usbdev class='0x08' vendor='0x1234' product='0xbeef' version='2.56' "
          "allow='yes'/><usbdev allow='no'/></redirfilter>")


def tcp_redirdev(port, mode="connect"):
    return ("<redirdev bus='usb' type='tcp'><source mode='%s' host='127.0.0.1' service='%d'/>"
            "</redirdev>" % (mode, port))


def domain_xml(name, extra, usb="qemu-xhci"):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <features><gic version='2'/></features>
  <cpu mode='maximum'/>
  <devices>
    <controller type='usb' model='{usb}'/>
    {extra}
  </devices>
</domain>"""


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    s.settimeout(30)
    return s


def read_hello(conn, timeout=30):
    """The first usbredir packet: (type, version string), or None."""
    conn.settimeout(timeout)
    data = b""
    try:
        while len(data) < 12 + 64:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    if len(data) < 12 + 64:
        return None
    ptype, length = struct.unpack("<II", data[:8])
    # header: type, length, id (32-bit before the peers agree on 64-bit ids)
    version = data[12:12 + 64].split(b"\0")[0].decode(errors="replace")
    return ptype, length, version


def accept_hello(lsock, what):
    try:
        conn, _ = lsock.accept()
    except OSError as e:
        check("%s: QEMU connected" % what, False, str(e))
        return None
    hello = read_hello(conn)
    check("%s: QEMU connected and its first packet is a usbredir hello (type 0, version "
          "'qemu usb-redir guest ...')" % what,
          hello and hello[0] == 0 and hello[2].startswith("qemu usb-redir guest"), str(hello))
    return conn


def closed(conn, timeout=15):
    """The peer closed conn (EOF) within timeout."""
    conn.settimeout(0.5)
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if conn.recv(4096) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def device_of(xml, pattern):
    for m in re.finditer(r"<redirdev [^>]*>.*?</redirdev>", xml, re.S):
        if re.search(pattern, m.group(0)):
            return m.group(0)
    return None


def alias_in(dev):
    m = re.search(r"<alias name='([^']+)'/>", dev or "")
    return m.group(1) if m else None


def usb_port(dev):
    m = re.search(r"<address type='usb' bus='0' port='(\d+)'/>", dev or "")
    return int(m.group(1)) if m else None


def main():
    if not need_tools("virsh", "virt-install"):
        return
    event_loop()
    work = private_tmpdir("tvrdt-")
    d = Daemon(CACHE, prefix="tvrdt-")
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    status_path = os.path.join(d.root, "state", "rd.xml")

    for xml, code, words, what in (
            (domain_xml("bad", "<redirdev bus='usb' type='spicevmc'/>"),
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["spicevmc", "SPICE", "'tcp'"],
             "type='spicevmc' (virt-manager's default): refused at define, naming SPICE and "
             "the accepted types"),
            (domain_xml("bad", tcp_redirdev(4000), usb="none"),
             libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["redirdev", "model='none'", "qemu-xhci"],
             "a redirdev on a guest without USB (model='none'): refused at define"),
            (domain_xml("bad", tcp_redirdev(4000).replace("bus='usb'", "bus='ide'")),
             libvirt.VIR_ERR_XML_ERROR, ["'ide'", "'usb'"],
             "bus='ide': refused naming the bus and 'usb'")):
        refused(what, lambda: conn.defineXML(xml), code, words)
    check("... nothing was defined", "bad" not in [x.name() for x in conn.listAllDomains()])

    port1, port2 = free_port(), free_port()
    l1 = listener(port1)
    sock = os.path.join(work, "redir.sock")
    unix_dev = "<redirdev bus='usb' type='unix'><source mode='bind' path='%s'/></redirdev>" % sock
    dom = conn.defineXML(domain_xml("rd", tcp_redirdev(port1) + unix_dev + FILTER))
    dom.create()
    peer1 = accept_hello(l1, "start with <redirdev type='tcp'> mode='connect' to the test's "
                         "listener")
    check("... tagvirt listens on the unix bind socket for QEMU", wait_for(
        lambda: os.path.exists(sock), 10))
    u = socket.socket(socket.AF_UNIX)
    u.connect(sock)
    hello = read_hello(u)
    check("<redirdev type='unix'> mode='bind': a client of the socket gets QEMU's usbredir "
          "hello", hello and hello[0] == 0 and hello[2].startswith("qemu usb-redir"), str(hello))
    live = dom.XMLDesc(0)
    r0, r1 = device_of(live, "type='tcp'"), device_of(live, "type='unix'")
    check("live XML: aliases redir0 and redir1, USB ports of controller 0",
          alias_in(r0) == "redir0" and alias_in(r1) == "redir1" and usb_port(r0) and
          usb_port(r1) and usb_port(r0) != usb_port(r1), live)
    check("... and the <redirfilter> rules as libvirt writes them",
          "<usbdev class='0x08' vendor='0x1234' product='0xBEEF' version='2.56' allow='yes'/>"
          in live, live)
    status = read_text(status_path)
    check("the status file has both aliases",
          "<alias name='redir0'/>" in status and "<alias name='redir1'/>" in status)
    pids = d.qemus()
    cmdline = read_text("/proc/%d/cmdline" % pids[0]).replace("\0", " ") if pids else ""
    check("QEMU's command line: usb-redir with the filter on chardev charredir0",
          "usb-redir,chardev=charredir0,id=redir0,filter=0x08:0x1234:0xBEEF:0x0256:1|"
          "-1:-1:-1:-1:0" in cmdline, cmdline)

    # live attach and detach
    before = dom.XMLDesc(0)
    nobody = free_port()
    refused("attach --live of a redirdev to a port nobody listens on: OPERATION_FAILED naming "
            "the port (chardev-add's error)",
            lambda: dom.attachDeviceFlags(tcp_redirdev(nobody), LIVE),
            libvirt.VIR_ERR_OPERATION_FAILED, [str(nobody)])
    refused("attach --live of a spicevmc redirdev: CONFIG_UNSUPPORTED naming spicevmc",
            lambda: dom.attachDeviceFlags("<redirdev bus='usb' type='spicevmc'/>", LIVE),
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["spicevmc"])
    check("... the live XML is unchanged", dom.XMLDesc(0) == before, dom.XMLDesc(0))
    l2 = listener(port2)
    t0 = time.time()
    dom.attachDeviceFlags(tcp_redirdev(port2), LIVE)
    print("# attach of a redirdev took %.2f s" % (time.time() - t0))
    peer2 = accept_hello(l2, "attachDeviceFlags(LIVE) of a tcp redirdev")
    live = dom.XMLDesc(0)
    r2 = device_of(live, "service='%d'" % port2)
    check("... alias redir2 (the failed attach left no chardev) on a free USB port",
          alias_in(r2) == "redir2" and usb_port(r2) not in (None, usb_port(r0), usb_port(r1)),
          live)
    check("... DEVICE_ADDED redir2", events.has("added", "redir2"), events.seen)
    check("... the status file has it", "<alias name='redir2'/>" in read_text(status_path))
    check("... the definition does not (live only)",
          "service='%d'" % port2 not in dom.XMLDesc(INACTIVE))
    dom.detachDeviceFlags(tcp_redirdev(port2), LIVE)
    check("detachDeviceFlags(LIVE) found by its type and source: DEVICE_REMOVED redir2, out "
          "of the live XML and the status file",
          events.has("removed", "redir2") and "service='%d'" % port2 not in dom.XMLDesc(0) and
          "'redir2'" not in read_text(status_path), str(events.seen))
    check("... QEMU closed the connection", peer2 and closed(peer2))
    dom.attachDeviceFlags(tcp_redirdev(port2), LIVE)
    peer2 = accept_hello(l2, "the same redirdev attached again (its chardev was removed)")
    check("... alias redir2 again", alias_in(device_of(dom.XMLDesc(0), "service='%d'" % port2))
          == "redir2")
    rc, out, err = d.virsh("detach-device-alias", "rd", "redir2", "--live")
    check("virsh detach-device-alias rd redir2 --live: DEVICE_REMOVED, connection closed",
          rc == 0 and events.has("removed", "redir2") and peer2 and closed(peer2),
          out + err + str(events.seen))
    # LIVE|CONFIG, then CONFIG alone
    dom.attachDeviceFlags(tcp_redirdev(port2), LIVE | CONFIG)
    peer2 = accept_hello(l2, "attachDeviceFlags(LIVE|CONFIG)")
    check("... in the live XML and the definition",
          device_of(dom.XMLDesc(0), "service='%d'" % port2) and
          "service='%d'" % port2 in dom.XMLDesc(INACTIVE))
    dom.detachDeviceFlags(device_of(dom.XMLDesc(0), "service='%d'" % port2), LIVE | CONFIG)
    check("detachDeviceFlags(LIVE|CONFIG) with the live XML's device (alias included): gone "
          "from both",
          events.has("removed", "redir2") and "service='%d'" % port2 not in dom.XMLDesc(0) and
          "service='%d'" % port2 not in dom.XMLDesc(INACTIVE))
    before = dom.XMLDesc(0)
    dom.attachDeviceFlags(tcp_redirdev(port2), CONFIG)
    check("attachDeviceFlags(CONFIG) alone: in the definition, the live XML unchanged",
          "service='%d'" % port2 in dom.XMLDesc(INACTIVE) and dom.XMLDesc(0) == before)
    dom.detachDeviceFlags(tcp_redirdev(port2), CONFIG)
    check("detachDeviceFlags(CONFIG): out of the definition",
          "service='%d'" % port2 not in dom.XMLDesc(INACTIVE))

    check("no unplug left a chardev behind or failed to remove one (QEMU's usb-redir deletes "
          "its chardev itself)", "stays in QEMU" not in d.log(None), d.log())

    # tagvirtd restarts: the status file keeps the redirdevs
    pid = d.qemus()[0] if d.qemus() else None
    conn.close()
    d.stop()
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    dom = conn.lookupByName("rd")
    live = dom.XMLDesc(0)
    check("after a tagvirtd restart: same QEMU, redir0 and redir1 with their USB ports",
          pid in d.qemus() and alias_in(device_of(live, "type='tcp'")) == "redir0" and
          usb_port(device_of(live, "type='tcp'")) == usb_port(r0) and
          alias_in(device_of(live, "type='unix'")) == "redir1", live)
    rc, out, err = d.virsh("detach-device-alias", "rd", "redir0", "--live")
    check("... detach-device-alias redir0 after the restart: DEVICE_REMOVED, connection closed",
          rc == 0 and events.has("removed", "redir0") and peer1 and closed(peer1),
          out + err + str(events.seen))
    dom.destroy()
    check("destroy: the unix bind socket tagvirt made is removed",
          wait_for(lambda: not os.path.exists(sock), 10))
    u.close()
    dom.undefine()

    # virt-install's --redirdev (what its man page shows)
    rc, out = d.virt_install(
        "--name", "vi", "--arch", "aarch64", "--machine", "virt", "--virt-type", "qemu",
        "--memory", "128", "--vcpus", "1", "--osinfo", "linux2020", "--import",
        "--boot", "kernel=%s" % KERNEL, "--features", "acpi=off", "--disk", "none",
        "--graphics", "none", "--network", "none", "--noautoconsole",
        "--redirdev", "usb,type=tcp,server=127.0.0.1:%d" % port1)
    peer = accept_hello(l1, "virt-install --redirdev usb,type=tcp,server=127.0.0.1:PORT "
                        "defines and starts the guest") if rc == 0 else None
    inactive = conn.lookupByName("vi").XMLDesc(INACTIVE) if rc == 0 else ""
    check("... its definition has the redirdev", rc == 0 and
          "<source mode='connect' host='127.0.0.1' service='%d'/>" % port1 in inactive,
          out + inactive)
    if rc == 0:
        conn.lookupByName("vi").destroy()
        conn.lookupByName("vi").undefine()
    if peer:
        peer.close()
    for s in (l1, l2):
        s.close()
    conn.close()


run(main)
