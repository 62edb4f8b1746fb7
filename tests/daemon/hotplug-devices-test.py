#!/usr/bin/python3
"""Live hot-plug of the devices virt-manager's Add Hardware offers besides
disks, NICs and controllers (issue 9 item 2), through tagvirtd with
python3-libvirt and Debian's virsh, on a running guest (the bundled firmware
guest): an <rng> (its rng-random backend object, then virtio-rng-pci), virtio
and USB <input> devices, a <watchdog model='i6300esb'> (behind the guest's
PCIe-to-PCI bridge), <channel> devices of type pty and unix (chardev-add,
then virtserialport) and a virtio <console>.  For each: the alias in the
live XML and the status file, DEVICE_ADDED and (once QEMU let it go)
DEVICE_REMOVED, what QEMU holds (an rng source file QEMU opened and that is
given to QEMU's user, then back; a channel's socket that answers, then is
gone; a pty that exists), LIVE|CONFIG and CONFIG alone.  Refused with
nothing changed: the PL011 <serial>, a serial <console>, a second watchdog,
a watchdog model QEMU's 'virt' machine lacks, an rng source QEMU cannot
open (then the same rng attaches with the same alias: its backend object
was deleted), a channel QEMU cannot connect (its chardev was removed).
TAP; needs root.

With --linux, the Linux guest kit instead: the guest sees the devices
appear (/dev/hwrng of virtio_rng, a virtio keyboard in
/proc/bus/input/devices, /dev/vport* with the channel's name) and go.

Usage: hotplug-devices-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR] [--linux]"""
import os
import pwd
import re
import socket
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (GUEST_ARGS, Daemon, DeviceEvents, check, event_loop, guest_kit, need_tools,
                    open_files, private_tmpdir, qemu_pids_of, read_text, refused, run, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
LINUX = "--linux" in sys.argv
ARGS = [a for a in sys.argv if a != "--linux"]
CACHE = ARGS[3] if len(ARGS) > 3 else None
QEMU_UID = pwd.getpwnam("tagvirt-qemu").pw_uid
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
INACTIVE = libvirt.VIR_DOMAIN_XML_INACTIVE

RNG = "<rng model='virtio'><backend model='random'>%s</backend></rng>"
KEYBOARD = "<input type='keyboard' bus='virtio'/>"  # virt-manager's virtio keyboard
TABLET_USB = "<input type='tablet' bus='usb'/>"
WATCHDOG = "<watchdog model='i6300esb' action='poweroff'/>"
# virt-manager 4.1's, which keeps its spicevmc default's <clipboard> (libvirt ignores it)
AGENT = ("<channel type='unix'><source mode='bind'><clipboard copypaste='yes'/></source>"
         "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
PTY_CHANNEL = "<channel type='pty'><target type='virtio' name='org.tagvirt.test.0'/></channel>"
# virt-manager 4.1's Add Hardware -> Console (pty, VirtIO): its <clipboard> too
CONSOLE = ("<console type='pty'><source><clipboard copypaste='yes'/></source>"
           "<target type='virtio'/></console>")


def domain_xml(name, kernel, extra="", os_extra="", memory=128, gic=2):
    """gic 2 for the firmware guest: with a GICv3 QEMU 10.0 frees an unplugged
    device (and lets its chardev or rng backend go) only when the guest
    takes an interrupt, which the looping firmware guest never does."""
    ports = "\n".join("    <controller type='pci' index='%d' model='pcie-root-port'/>" % (i + 1)
                      for i in range(6))
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{memory}</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel>{os_extra}</os>
  <features><gic version='{gic}'/></features>
  <cpu mode='maximum'/>
  <devices>
{ports}
    <controller type='pci' index='7' model='pcie-to-pci-bridge'/>
    <controller type='usb' model='qemu-xhci'/>
    <controller type='virtio-serial'/>
    {extra}
  </devices>
</domain>"""


def device_of(xml, element, pattern=""):
    """The first <element> of xml whose text matches pattern."""
    for m in re.finditer(r"<%s[ >].*?</%s>" % (element, element), xml, re.S):
        if re.search(pattern, m.group(0), re.S):
            return m.group(0)
    return None


def alias_in(dev):
    m = re.search(r"<alias name='([^']+)'/>", dev or "")
    return m.group(1) if m else None


def connects(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def detached(dom, events, alias, pattern_gone, status_path, gone=None):
    """After a detach on the firmware guest (which has no PCIe hot-plug
    driver): either removed at once (QEMU unplugs a device whose slot the
    guest never powered on) or pending; check the state is whole."""
    time.sleep(0.5)
    live = dom.XMLDesc(0)
    if not pattern_gone(live):
        check("... pending: still in the live XML and the status file, no DEVICE_REMOVED %s"
              % alias, alias in open(status_path).read() and
              not events.has("removed", alias, 0), events.seen)
        return False
    check("... removed: DEVICE_REMOVED %s, out of the status file%s" %
          (alias, ", its backend gone" if gone else ""),
          events.has("removed", alias) and "'%s'" % alias not in open(status_path).read() and
          (gone is None or wait_for(gone, 15)), events.seen)
    return True


def rng_tests(d, dom, events, pid, work, status_path):
    src = os.path.join(work, "entropy.bin")
    with open(src, "wb") as f:
        f.write(os.urandom(4096))
    missing = os.path.join(work, "no-such-entropy")
    before = dom.XMLDesc(0)
    refused("an <rng> whose source QEMU cannot open: refused naming the file (QEMU's "
            "object-add error)",
            lambda: dom.attachDeviceFlags(RNG % missing, LIVE), libvirt.VIR_ERR_OPERATION_FAILED,
            ["no-such-entropy"])
    check("... nothing changed (live XML)", dom.XMLDesc(0) == before)
    t0 = time.time()
    dom.attachDeviceFlags(RNG % src, LIVE)
    print("# attach of an rng took %.2f s" % (time.time() - t0))
    live = dom.XMLDesc(0)
    rng = device_of(live, "rng", re.escape(src))
    check("attachDeviceFlags(LIVE) of <rng model='virtio'> with a file as its source: alias rng0 "
          "(the refused one left no backend object behind) and a PCI address on a root port",
          alias_in(rng) == "rng0" and re.search(r"<address type='pci' [^>]*bus='0x0[1-6]'", rng),
          live)
    check("... DEVICE_ADDED rng0", events.has("added", "rng0"), events.seen)
    check("... QEMU opened the source (object-add rng-random), given to QEMU's user",
          src in open_files(pid) and os.stat(src).st_uid == QEMU_UID,
          "%s %d" % (src in open_files(pid), os.stat(src).st_uid))
    check("... the status file has it", "<alias name='rng0'/>" in open(status_path).read())
    check("... the definition does not (live only)", "<rng" not in dom.XMLDesc(INACTIVE))
    rc, out, err = d.virsh("detach-device-alias", dom.name(), "rng0", "--live")
    check("virsh detach-device-alias rng0 --live: success", rc == 0, out + err)
    if detached(dom, events, "rng0", lambda x: "<rng" not in x, status_path,
                lambda: src not in open_files(pid)):
        check("... the source is root's again", wait_for(lambda: os.stat(src).st_uid == 0, 15))
    # the default source, live and config at once, then detach from both
    urandom = RNG % "/dev/urandom"
    dom.attachDeviceFlags(urandom, LIVE | CONFIG)
    live = dom.XMLDesc(0)
    check("attachDeviceFlags(LIVE|CONFIG) of virt-manager's <rng> (/dev/urandom): in the live XML "
          "with an alias and in the definition",
          alias_in(device_of(live, "rng", "/dev/urandom")) and
          "/dev/urandom" in dom.XMLDesc(INACTIVE), live)
    dom.detachDeviceFlags(urandom, LIVE | CONFIG)
    check("detachDeviceFlags(LIVE|CONFIG) of it (found by its source): out of the definition",
          "<rng" not in dom.XMLDesc(INACTIVE))
    before = dom.XMLDesc(0)
    dom.attachDeviceFlags(urandom, CONFIG)
    check("attachDeviceFlags(CONFIG) alone: in the definition, the live XML unchanged",
          "/dev/urandom" in dom.XMLDesc(INACTIVE) and dom.XMLDesc(0) == before)
    dom.detachDeviceFlags(urandom, CONFIG)
    check("detachDeviceFlags(CONFIG): out of the definition", "<rng" not in dom.XMLDesc(INACTIVE))


def input_watchdog_tests(d, dom, events, status_path):
    dom.attachDeviceFlags(KEYBOARD, LIVE)
    live = dom.XMLDesc(0)
    kbd = device_of(live, "input", "type='keyboard' bus='virtio'")
    check("attachDeviceFlags(LIVE) of <input type='keyboard' bus='virtio'>: virtio-keyboard-pci "
          "on a root port, alias input0",
          alias_in(kbd) == "input0" and re.search(r"<address type='pci'", kbd), live)
    check("... DEVICE_ADDED input0", events.has("added", "input0"), events.seen)
    dom.attachDeviceFlags(TABLET_USB, LIVE)
    tab = device_of(dom.XMLDesc(0), "input", "type='tablet' bus='usb'")
    check("attachDeviceFlags(LIVE) of a USB tablet: on the guest's xHCI controller (a USB "
          "address), alias input1",
          alias_in(tab) == "input1" and "<address type='usb'" in tab, tab)
    check("... DEVICE_ADDED input1", events.has("added", "input1"), events.seen)
    # virt-manager removes a device with the XML it shows (alias included)
    dom.detachDeviceFlags(kbd, LIVE)
    detached(dom, events, "input0", lambda x: "type='keyboard' bus='virtio'" not in x, status_path)
    dom.detachDeviceFlags(tab, LIVE)
    check("detach of the USB tablet (QEMU unplugs USB devices at once): DEVICE_REMOVED input1, "
          "out of the live XML",
          events.has("removed", "input1") and "type='tablet'" not in dom.XMLDesc(0), events.seen)

    refused("a watchdog model the 'virt' machine lacks (ib700): refused naming it",
            lambda: dom.attachDeviceFlags("<watchdog model='ib700'/>", LIVE),
            libvirt.VIR_ERR_XML_ERROR, ["ib700", "i6300esb"])
    dom.attachDeviceFlags(WATCHDOG, LIVE)
    live = dom.XMLDesc(0)
    wd = device_of(live, "watchdog")
    check("attachDeviceFlags(LIVE) of <watchdog model='i6300esb' action='poweroff'>: alias "
          "watchdog0 behind the PCIe-to-PCI bridge (its bus 0x07)",
          alias_in(wd) == "watchdog0" and "bus='0x07'" in wd, live)
    check("... DEVICE_ADDED watchdog0", events.has("added", "watchdog0"), events.seen)
    before = dom.XMLDesc(0)
    refused("a second watchdog: refused (QEMU has one watchdog action), nothing changed",
            lambda: dom.attachDeviceFlags("<watchdog model='i6300esb'/>", LIVE),
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["<watchdog>", "only one"])
    check("... live XML unchanged", dom.XMLDesc(0) == before)
    rc, out, err = d.virsh("detach-device-alias", dom.name(), "watchdog0", "--live")
    check("virsh detach-device-alias watchdog0 --live: success", rc == 0, out + err)
    detached(dom, events, "watchdog0", lambda x: "<watchdog" not in x, status_path)


def chr_tests(d, dom, events, work, status_path):
    name = dom.name()
    before = dom.XMLDesc(0)
    refused("a <serial> (the PL011): OPERATION_UNSUPPORTED naming system-serial",
            lambda: dom.attachDeviceFlags("<serial type='pty'><target port='1'/></serial>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["system-serial", "PL011"])
    refused("a serial <console>: OPERATION_UNSUPPORTED, asking for a virtio one",
            lambda: dom.attachDeviceFlags("<console type='pty'><target type='serial' port='1'/>"
                                          "</console>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["virtio"])
    nobody = os.path.join(work, "nobody.sock")
    refused("a channel QEMU must connect to and nobody listens on: refused naming the socket",
            lambda: dom.attachDeviceFlags(
                f"<channel type='unix'><source mode='connect' path='{nobody}'/>"
                "<target type='virtio' name='org.tagvirt.nobody'/></channel>", LIVE),
            libvirt.VIR_ERR_OPERATION_FAILED, ["nobody.sock"])
    check("... nothing changed", dom.XMLDesc(0) == before)

    rc, out, err = d.virsh("attach-device", name, write(work, "agent.xml", AGENT), "--live")
    live = dom.XMLDesc(0)
    agent = device_of(live, "channel", "guest_agent")
    path = re.search(r"<source mode='bind' path='([^']+)'", agent or "")
    check("virsh attach-device --live of virt-manager's guest agent channel (unix, no path): "
          "alias channel0, a socket path tagvirt chose, a virtio-serial address",
          rc == 0 and alias_in(agent) == "channel0" and path and
          "<address type='virtio-serial'" in agent, out + err + live)
    check("... DEVICE_ADDED channel0", events.has("added", "channel0"), events.seen)
    check("... the socket answers (QEMU listens on it)", path and connects(path.group(1)))
    dom.attachDeviceFlags(PTY_CHANNEL, LIVE)
    live = dom.XMLDesc(0)
    pty = device_of(live, "channel", "org.tagvirt.test.0")
    pts = re.search(r"<source path='(/dev/pts/\d+)'/>", pty or "")
    check("attachDeviceFlags(LIVE) of a pty channel: alias channel1, its pty's <source path> "
          "(chardev-add's answer) exists",
          alias_in(pty) == "channel1" and pts and os.path.exists(pts.group(1)), live)
    check("... DEVICE_ADDED channel1", events.has("added", "channel1"), events.seen)
    dom.attachDeviceFlags(CONSOLE, LIVE)
    live = dom.XMLDesc(0)
    con = device_of(live, "console", "type='virtio'")
    check("attachDeviceFlags(LIVE) of a virtio console (virtconsole): alias console0 (the "
          "guest's serial port is serial0) with its pty's path",
          alias_in(con) == "console0" and re.search(r"<source path='/dev/pts/\d+'/>", con), live)
    check("... the status file has the channels and the console",
          all("<alias name='%s'/>" % a in open(status_path).read()
              for a in ("channel0", "channel1", "console0")))
    # channels are unplugged by QEMU at once (virtio-serial ports need no guest)
    rc, out, err = d.virsh("detach-device", name, write(work, "agent.xml", AGENT), "--live")
    check("virsh detach-device --live of the agent channel: DEVICE_REMOVED channel0, the socket "
          "is gone",
          rc == 0 and events.has("removed", "channel0") and
          wait_for(lambda: not os.path.exists(path.group(1)), 15) and
          "guest_agent" not in dom.XMLDesc(0), out + err + str(events.seen))
    dom.detachDeviceFlags(pty, LIVE)
    check("detach of the pty channel: DEVICE_REMOVED channel1",
          events.has("removed", "channel1") and "org.tagvirt.test.0" not in dom.XMLDesc(0),
          events.seen)
    rc, out, err = d.virsh("attach-device", name, write(work, "agent.xml", AGENT), "--live",
                           "--config")
    check("attach-device --live --config of the agent channel: channel0 again (its chardev "
          "was removed), and in the definition",
          rc == 0 and alias_in(device_of(dom.XMLDesc(0), "channel", "guest_agent")) ==
          "channel0" and "guest_agent" in dom.XMLDesc(INACTIVE), out + err)
    dom.detachDeviceFlags(AGENT, CONFIG)
    check("detachDeviceFlags(CONFIG) of it: out of the definition, still live",
          "guest_agent" not in dom.XMLDesc(INACTIVE) and "guest_agent" in dom.XMLDesc(0))
    dom.detachDeviceFlags(con, LIVE)
    check("detach of the virtio console: DEVICE_REMOVED console0",
          events.has("removed", "console0") and "<console" not in dom.XMLDesc(0),
          events.seen)


def write(folder, name, text):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def main():
    if not need_tools("virsh"):
        return
    event_loop()
    work = private_tmpdir("tvhpd-")
    d = Daemon(CACHE, prefix="tvhpd-")
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    dom = conn.defineXML(domain_xml("hpd", KERNEL, "<serial type='pty'/>"))
    dom.create()
    pid = qemu_pids_of(dom.UUIDString())[0]
    status_path = os.path.join(d.root, "state", "hpd.xml")
    live = dom.XMLDesc(0)
    check("the start's serial has its alias (serial0) and its pty's <source path>",
          alias_in(device_of(live, "serial")) == "serial0" and
          re.search(r"<serial type='pty'>\s*<source path='/dev/pts/\d+'/>", live), live)
    rng_tests(d, dom, events, pid, work, status_path)
    input_watchdog_tests(d, dom, events, status_path)
    chr_tests(d, dom, events, work, status_path)
    dom.destroy()
    dom.undefine()
    started_ptys(conn)
    conn.close()


def started_ptys(conn):
    """Started with a pty serial, a virtio console and a pty channel (what
    virt-manager's Add Hardware gives a shut-off guest): each has its own pty
    in the live XML (the virtio console showed the serial's before)."""
    dom = conn.defineXML(domain_xml("hpc", KERNEL, "<serial type='pty'/>" + CONSOLE + PTY_CHANNEL))
    dom.create()
    live = dom.XMLDesc(0)
    paths = [re.search(r"<source path='(/dev/pts/\d+)'/>", device_of(live, kind) or "")
             for kind in ("serial", "console", "channel")]
    paths = [m.group(1) if m else None for m in paths]
    check("started with a pty serial, virtio console and pty channel: three different ptys, "
          "each there", all(paths) and len(set(paths)) == 3
          and all(os.path.exists(p) for p in paths), "%s %s" % (paths, live))
    dom.destroy()
    dom.undefine()


def linux_main():
    """The Linux guest kit: the guest sees the devices come and go."""
    if not need_tools("virsh", "busybox"):
        return
    event_loop()
    work = private_tmpdir("tvhpdl-")
    kernel, initrd = guest_kit(work)
    console = os.path.join(work, "ld.console")
    d = Daemon(CACHE, prefix="tvhpdl-")
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    os_extra = f"<initrd>{initrd}</initrd><cmdline>{GUEST_ARGS}</cmdline>"
    dom = conn.defineXML(domain_xml(
        "ld", kernel, f"<serial type='file'><source path='{console}'/></serial>", os_extra, 512, 3))
    dom.create()

    def lines(after, prefix):
        return [l for l in read_text(console).splitlines()[after:] if l.startswith(prefix)]

    up = wait_for(lambda: lines(0, "GUESTDEV"), 300)
    check("the Linux guest is up and lists its devices (GUESTDEV)", up, read_text(console)[-1500:])
    if not up:
        return
    for xml, alias, want, what in (
            (RNG % "/dev/urandom", "rng0", "hwrng=virtio_rng", "/dev/hwrng of virtio_rng"),
            (KEYBOARD, "input0", "QEMU Virtio Keyboard", "a virtio keyboard input device"),
            (PTY_CHANNEL, "channel0", "vports=org.tagvirt.test.0",
             "a /dev/vport* port named org.tagvirt.test.0")):
        seen = len(read_text(console).splitlines())
        t0 = time.time()
        dom.attachDeviceFlags(xml, LIVE)
        got = wait_for(lambda: [l for l in lines(seen, "GUESTDEV") if want in l], 120)
        print("# the guest saw %s %.1f s after the attach" % (alias, time.time() - t0))
        check("attach --live of %s: the guest sees %s" % (alias, what), got,
              read_text(console)[-800:])
        seen = len(read_text(console).splitlines())
        dom.detachDeviceFlags(xml, LIVE)
        gone = wait_for(lambda: [l for l in lines(seen, "GUESTDEV") if want not in l], 120)
        check("detach --live of %s: the guest releases it, DEVICE_REMOVED, it no longer sees it"
              % alias, gone and events.has("removed", alias, 60) and
              alias not in dom.XMLDesc(0), read_text(console)[-800:] + str(events.seen))
    dom.destroy()
    dom.undefine()
    conn.close()


run(linux_main if LINUX else main)
