#!/usr/bin/python3
"""Live device hot-plug (issue 9 item 2, issue 14 item 3) through tagvirtd,
with Debian's virsh and python3-libvirt, on a running guest (the bundled
firmware guest), in a network namespace the test makes: disks (virtio-blk,
SCSI disk and cdrom on the guest's virtio-scsi controller) and interfaces
(user, bridge, ethernet, network) and controllers (virtio-scsi, as
virt-manager's Add Hardware sends it before a disk, and virtio-serial)
attached and detached with --live,
--live --config and the current state; what QEMU really holds is read from
its /proc (the files it has open) and the namespace (its taps and their
bridge), the live XML (aliases, PCI addresses on free root ports), the
status file and the definition; the DEVICE_ADDED and DEVICE_REMOVED
events; a device the guest does not release (detach returns after libvirt's
5 s, the device stays until the guest lets it go).  Refused with nothing
changed: a duplicate target, an unknown target, a device kind that cannot be
hot-plugged, a tap name that is taken, a disk whose file is missing (then the
same target attaches: nothing was left in QEMU), no free PCIe root port, a
controller with a disk on it detached, controllers that cannot be
hot-plugged (usb, pci, ide).  A NIC's link state (updateDeviceFlags, virsh
domif-setlink) live and in the definition, and at the next start.
TAP; needs root.

With --linux, the Linux guest kit (Debian's arm64 kernel, busybox; its
/init prints the disks and NICs it sees) instead: the guest sees a
hot-plugged disk and NIC appear, and releases them on detach (its PCIe
hot-plug driver powers the slot off about 5 s after QEMU presses the
slot's button), so the removal ends: DEVICE_REMOVED, QEMU's file and
backends gone, and the guest no longer sees them.  The SCSI disk sits on a
virtio-scsi controller hot-plugged first, which is then unplugged too; the
NIC's carrier goes down and up in the guest with virsh domif-setlink.

Usage: hotplug-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR] [--linux]"""
import os
import pwd
import re
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (GUEST_ARGS, Daemon, DeviceEvents, check, event_loop, guest_kit, need_tools,
                    netns, open_files, pids_with, private_tmpdir, read_text, refused, run, sh,
                    wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
LINUX = "--linux" in sys.argv
QEMU_UID = pwd.getpwnam("tagvirt-qemu").pw_uid  # the daemon's default QEMU user
ARGS = [a for a in sys.argv if a != "--linux"]
CACHE = ARGS[3] if len(ARGS) > 3 else None
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
ERR_DEVICE_MISSING = 99
TAG = "tvhp%d" % os.getpid()


def domain_xml(name, cold_disk, ports=8, extra="<serial type='pty'/>", os_extra="", scsi=True):
    """Root ports for hot-plug as virt-install adds them."""
    scsi = "<controller type='scsi' model='virtio-scsi'/>" if scsi else ""
    ports = "\n".join("    <controller type='pci' index='%d' model='pcie-root-port'/>" % (i + 1)
                       for i in range(ports))
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel>{os_extra}</os>
  <cpu mode='maximum'/>
  <devices>
    <disk type='file' device='disk'><source file='{cold_disk}'/><target dev='vdc'/></disk>
    {scsi}
{ports}
{extra}
  </devices>
</domain>"""


def ppid_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def qemu_pid(daemon_pid, name):
    """The QEMU of domain name that this test's daemon started (its child, or
    its fork server's)."""
    for pid in pids_with("guest=%s," % name):
        p = pid
        while p > 1:
            p = ppid_of(p)
            if p == daemon_pid:
                return pid
    return None


def taps(ns):
    """Taps in the namespace: name -> master bridge (or None)."""
    out = {}
    for line in sh("ip", "-o", "link", "show", ns=ns).splitlines():
        m = re.match(r"\d+: ([^:@]+)[:@]", line)
        if m and (m.group(1).startswith("vnet") or m.group(1).startswith("tvtap")):
            master = re.search(r" master (\S+)", line)
            out[m.group(1)] = master.group(1) if master else None
    return out


def alias_of(xml, pattern):
    """The alias of the device whose XML matches pattern."""
    for m in re.finditer(r"<(disk|interface|controller) .*?</\1>", xml, re.S):
        dev = m.group(0)
        if re.search(pattern, dev):
            m = re.search(r"<alias name='([^']+)'/>", dev)
            return m.group(1) if m else None
    return None


def owner(path):
    return os.stat(path).st_uid


def disk_file(folder, name, size=1 << 20):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def linux_main():
    """The Linux guest kit: what the guest sees, and removals it completes."""
    if not need_tools("virsh", "busybox"):
        return
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    event_loop()
    work = private_tmpdir("tvhpl-")
    kernel, initrd = guest_kit(work)
    cold, vdb = disk_file(work, "cold.img"), disk_file(work, "vdb.img")
    console = os.path.join(work, "lg.console")
    d = Daemon(CACHE)
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    os_extra = f"<initrd>{initrd}</initrd><cmdline>{GUEST_ARGS}</cmdline>"
    xml = domain_xml("lg", cold, ports=4, extra=f"<serial type='file'><source path='{console}'/>"
                     "</serial>", os_extra=os_extra, scsi=False).replace(KERNEL, kernel)
    xml = xml.replace("<memory unit='MiB'>128</memory>", "<memory unit='MiB'>512</memory>")
    dom = conn.defineXML(xml)
    dom.create()
    pid = qemu_pid(d.proc.pid, "lg")
    status_path = os.path.join(d.root, "state", "lg.xml")

    def disks_line(after, want):
        lines = read_text(console).splitlines()[after:]
        return [l for l in lines if l.startswith("GUESTDISK") and want(l)]

    def ifaces_line(after, want):
        lines = read_text(console).splitlines()[after:]
        return [l for l in lines if l.startswith("GUESTNET ifaces=") and want(l)]

    up = wait_for(lambda: disks_line(0, lambda l: True), 300)
    check("the Linux guest is up and lists its disks", up, read_text(console)[-1500:])
    if not up:
        return
    seen = len(read_text(console).splitlines())
    t0 = time.time()
    rc, out, err = d.virsh("attach-disk", "lg", vdb, "vdb", "--live")
    guest = wait_for(lambda: disks_line(seen, lambda l: l.count("vd") == 2), 120)
    print("# the guest saw the hot-plugged disk %.1f s after attach-disk" % (time.time() - t0))
    check("attach-disk --live: the guest sees a second virtio disk", rc == 0 and guest,
          out + err + read_text(console)[-800:])
    seen = len(read_text(console).splitlines())
    nic = os.path.join(work, "nic.xml")
    with open(nic, "w") as f:
        f.write("<interface type='user'><model type='virtio'/></interface>")
    rc, out, err = d.virsh("attach-device", "lg", nic, "--live")
    guest = wait_for(lambda: ifaces_line(seen, lambda l: "eth0" in l), 120)
    check("attach-device --live of a user NIC: the guest sees eth0", rc == 0 and guest,
          out + err + read_text(console)[-800:])

    def carrier_line(after, state):
        lines = read_text(console).splitlines()[after:]
        return [l for l in lines if l.startswith("GUESTNET carrier") and "eth0:%s " % state in l]

    check("... with its carrier up", wait_for(lambda: carrier_line(0, "1"), 120),
          read_text(console)[-800:])
    mac = re.search(r"<interface type='user'>\s*<mac address='([^']+)'", dom.XMLDesc(0))
    mac = mac.group(1) if mac else "none"
    seen = len(read_text(console).splitlines())
    t0 = time.time()
    rc, out, err = d.virsh("domif-setlink", "lg", mac, "down")
    down = wait_for(lambda: carrier_line(seen, "0"), 60)
    print("# the guest saw its carrier go down %.1f s after domif-setlink" % (time.time() - t0))
    check("virsh domif-setlink MAC down: the guest's eth0 loses its carrier, the live XML says "
          "down", rc == 0 and down and "<link state='down'/>" in dom.XMLDesc(0),
          out + err + read_text(console)[-800:])
    seen = len(read_text(console).splitlines())
    rc, out, err = d.virsh("domif-setlink", "lg", mac, "up")
    check("virsh domif-setlink MAC up: the carrier is back",
          rc == 0 and wait_for(lambda: carrier_line(seen, "1"), 60) and
          "<link state='up'/>" in dom.XMLDesc(0), out + err + read_text(console)[-800:])

    seen = len(read_text(console).splitlines())
    t0 = time.time()
    rc, out, err = d.virsh("detach-disk", "lg", "vdb", "--live")
    took = time.time() - t0
    removed = events.has("removed", "virtio-disk1", 60)
    print("# detach-disk returned after %.1f s; DEVICE_REMOVED after %.1f s" %
          (took, time.time() - t0))
    check("detach-disk --live: the guest releases it, DEVICE_REMOVED virtio-disk1",
          rc == 0 and removed, out + err + str(events.seen) + read_text(console)[-800:])
    check("... gone from the live XML and the status file, QEMU closed the file",
          "dev='vdb'" not in dom.XMLDesc(0) and vdb not in open(status_path).read() and
          wait_for_true(lambda: vdb not in open_files(pid)))
    check("... the guest no longer lists it",
          wait_for(lambda: disks_line(seen, lambda l: l.count("vd") == 1), 60),
          read_text(console)[-800:])
    seen = len(read_text(console).splitlines())
    rc, out, err = d.virsh("detach-device", "lg", nic, "--live")
    check("detach-device --live of the NIC: DEVICE_REMOVED net0, the guest loses eth0",
          rc == 0 and events.has("removed", "net0", 60) and
          wait_for(lambda: ifaces_line(seen, lambda l: "eth0" not in l), 60) and
          "<interface" not in dom.XMLDesc(0), out + err + read_text(console)[-800:])
    rc, out, err = d.virsh("attach-disk", "lg", vdb, "vdb", "--live")
    check("... and the same disk attaches again (its nodes were deleted)",
          rc == 0 and vdb in open_files(pid), out + err)
    check("... given to QEMU's user again", owner(vdb) == QEMU_UID, owner(vdb))

    # tagvirtd restarts while the guest runs with a hot-plugged disk: the
    # detach after it still gives the file back (docs/security.rst)
    conn.close()
    d.stop()
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    dom = conn.lookupByName("lg")
    check("tagvirtd restarted; the guest runs in the same QEMU",
          dom.isActive() and pid in d.qemus(), "%s %s\n%s" % (pid, d.qemus(), d.log()))
    rc, out, err = d.virsh("detach-disk", "lg", "vdb", "--live")
    check("detach-disk --live after the restart: DEVICE_REMOVED, QEMU closed the file",
          rc == 0 and events.has("removed", "virtio-disk1", 60) and
          wait_for_true(lambda: vdb not in open_files(pid)), out + err + str(events.seen))
    check("... the file is root's again (the restart did not forget it)",
          wait_for_true(lambda: owner(vdb) == 0), owner(vdb))
    late = disk_file(work, "late.img")
    rc, out, err = d.virsh("attach-disk", "lg", late, "vdb", "--live")
    check("attach-disk --live after the restart: given to QEMU's user",
          rc == 0 and owner(late) == QEMU_UID, out + err + str(owner(late)))
    sda = disk_file(work, "sda.img")
    ctrl = os.path.join(work, "ctrl.xml")
    with open(ctrl, "w") as f:
        f.write(SCSI_CTRL)
    rc, out, err = d.virsh("attach-device", "lg", ctrl, "--live")
    check("attach-device --live of virt-manager's virtio-scsi controller: DEVICE_ADDED scsi0",
          rc == 0 and events.has("added", "scsi0"), out + err + str(events.seen))
    seen = len(read_text(console).splitlines())
    rc, out, err = d.virsh("attach-disk", "lg", sda, "sda", "--targetbus", "scsi", "--live")
    check("attach-disk --targetbus scsi --live on the hot-plugged controller: the guest sees sda",
          rc == 0 and wait_for(lambda: disks_line(seen, lambda l: "sda" in l), 120),
          out + err + read_text(console)[-800:])
    seen = len(read_text(console).splitlines())
    rc, out, err = d.virsh("detach-device-alias", "lg", "scsi0-0-0-0", "--live")
    check("detach-device-alias scsi0-0-0-0 --live: DEVICE_REMOVED, QEMU closed the file, the "
          "guest lost sda",
          rc == 0 and events.has("removed", "scsi0-0-0-0", 60) and
          wait_for_true(lambda: sda not in open_files(pid)) and
          wait_for(lambda: disks_line(seen, lambda l: "sda" not in l), 60),
          out + err + str(events.seen) + read_text(console)[-800:])
    rc, out, err = d.virsh("detach-device", "lg", ctrl, "--live")
    check("detach-device --live of the controller, now empty: the guest releases it, "
          "DEVICE_REMOVED scsi0, out of the live XML",
          rc == 0 and events.has("removed", "scsi0", 60) and
          wait_for_true(lambda: "type='scsi'" not in dom.XMLDesc(0)),
          out + err + str(events.seen))
    rc, out, err = d.virsh("attach-device", "lg", ctrl, "--live")
    check("... and it attaches again (QEMU's id scsi0 is free)",
          rc == 0 and "<alias name='scsi0'/>" in dom.XMLDesc(0), out + err)
    dom.destroy()
    check("destroy gives back the disk hot-plugged after the restart, and the others",
          wait_for_true(lambda: owner(late) == 0 and owner(sda) == 0 and owner(cold) == 0),
          [owner(p) for p in (late, sda, cold)])
    dom.undefine()
    conn.close()

SCSI_CTRL = "<controller type='scsi' index='0' model='virtio-scsi'/>"  # virt-manager's


def controllers_and_link(d, conn, events, work):
    """virt-manager's Add Hardware on a guest without a SCSI controller: the
    controller first, then the SCSI disk on it; the link state of a NIC."""
    cold, sda = disk_file(work, "hc-cold.img"), disk_file(work, "hc-sda.img")
    mac = "52:54:00:00:0c:01"
    nic = f"<interface type='user'><mac address='{mac}'/><model type='virtio'/></interface>"
    dom = conn.defineXML(domain_xml("hc", cold, ports=4, scsi=False, extra=nic))
    dom.create()
    pid = qemu_pid(d.proc.pid, "hc")
    status_path = os.path.join(d.root, "state", "hc.xml")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    live = dom.XMLDesc(0)
    check("the guest starts without a SCSI controller; its other controllers have aliases in "
          "the live XML (pcie.0, pci.1)",
          "type='scsi'" not in live and alias_of(live, "model='pcie-root'") == "pcie.0" and
          alias_of(live, "type='pci' index='1'") == "pci.1", live)

    refused("a SCSI disk before the controller: refused, asking for the controller first",
            lambda: dom.attachDeviceFlags(
                f"<disk type='file'><source file='{sda}'/><target dev='sda' bus='scsi'/></disk>",
                LIVE), libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["<controller type='scsi'>", "first"])
    dom.attachDeviceFlags(SCSI_CTRL, LIVE)
    live = dom.XMLDesc(0)
    check("attachDeviceFlags(LIVE) of virt-manager's <controller type='scsi' index='0' "
          "model='virtio-scsi'/>: in the live XML with alias scsi0 and a PCI address on a root "
          "port",
          alias_of(live, "type='scsi'") == "scsi0" and
          re.search(r"<controller type='scsi' index='0' model='virtio-scsi'>\s*"
                    r"<alias name='scsi0'/>\s*<address type='pci' domain='0x0000' "
                    r"bus='0x0[1-4]'", live), live)
    check("... DEVICE_ADDED scsi0", events.has("added", "scsi0"), events.seen)
    check("... the status file has it, the definition does not (live only)",
          "<alias name='scsi0'/>" in open(status_path).read() and
          dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == inactive)
    refused("the same controller again: refused naming scsi0, nothing changed",
            lambda: dom.attachDeviceFlags(SCSI_CTRL, LIVE), libvirt.VIR_ERR_XML_ERROR, ["scsi"])
    check("... live XML unchanged", dom.XMLDesc(0) == live)
    rc, out, err = d.virsh("attach-disk", "hc", sda, "sda", "--targetbus", "scsi", "--live")
    live = dom.XMLDesc(0)
    check("then virsh attach-disk sda --targetbus scsi --live: QEMU's scsi-hd on bus scsi0.0 "
          "took it (QEMU has the controller) and opened the file",
          rc == 0 and alias_of(live, "dev='sda'") == "scsi0-0-0-0" and sda in open_files(pid),
          out + err + live + d.log())
    refused("detachDeviceFlags(LIVE) of the controller while sda is on it: OPERATION_FAILED "
            "'device is busy' naming sda",
            lambda: dom.detachDeviceFlags(SCSI_CTRL, LIVE), libvirt.VIR_ERR_OPERATION_FAILED,
            ["busy", "sda"])
    check("... the controller and the disk stay (live XML, QEMU's file)",
          dom.XMLDesc(0) == live and sda in open_files(pid))
    rc, out, err = d.virsh("detach-device-alias", "hc", "scsi0", "--live")
    check("virsh detach-device-alias scsi0 --live: refused the same way",
          rc != 0 and "busy" in err, out + err)

    for xml, name in (("<controller type='usb' index='1' model='qemu-xhci'/>", "usb"),
                      ("<controller type='pci' index='9' model='pcie-root-port'/>", "pci")):
        refused("hot-plugging a '%s' controller: OPERATION_UNSUPPORTED naming it" % name,
                lambda: dom.attachDeviceFlags(xml, LIVE),
                libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["'%s' controller" % name])
    refused("hot-plugging an 'ide' controller: OPERATION_UNSUPPORTED naming it",
            lambda: dom.attachDeviceFlags("<controller type='ide' index='0'/>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["'ide' controller"])
    refused("hot-unplugging the guest's pcie-root-port pci.4: OPERATION_UNSUPPORTED",
            lambda: dom.detachDeviceFlags("<controller type='pci' index='4'/>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["'pci' controller"])
    check("... nothing changed", dom.XMLDesc(0) == live)

    # virtio-serial, live and config at once
    vs = "<controller type='virtio-serial' index='0'/>"
    dom.attachDeviceFlags(vs, LIVE | CONFIG)
    live = dom.XMLDesc(0)
    check("attachDeviceFlags(LIVE|CONFIG) of a virtio-serial controller: alias virtio-serial0 "
          "in the live XML, in the definition with a PCI address",
          alias_of(live, "type='virtio-serial'") == "virtio-serial0" and
          re.search(r"<controller type='virtio-serial' index='0'>\s*<address type='pci'",
                    dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)), live)
    check("... DEVICE_ADDED virtio-serial0", events.has("added", "virtio-serial0"), events.seen)
    dom.detachDeviceFlags(vs, LIVE | CONFIG)
    check("detachDeviceFlags(LIVE|CONFIG) of it: out of the definition at once",
          "virtio-serial" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    controller_consistent(dom, events, status_path, "virtio-serial0")
    dom.attachDeviceFlags("<controller type='scsi' index='0' model='virtio-scsi'/>", CONFIG)
    dom.attachDeviceFlags(f"<disk type='file'><source file='{cold}'/><target dev='sdc' "
                          "bus='scsi'/></disk>", CONFIG)
    refused("detachDeviceFlags(CONFIG) of the definition's SCSI controller with sdc on it: "
            "OPERATION_FAILED naming sdc",
            lambda: dom.detachDeviceFlags(SCSI_CTRL, CONFIG), libvirt.VIR_ERR_OPERATION_FAILED,
            ["busy", "sdc"])

    # link state (virt-manager's "Link state" checkbox, virsh domif-setlink, Nova)
    rc, out, err = d.virsh("domif-setlink", "hc", mac, "down")
    live = dom.XMLDesc(0)
    check("virsh domif-setlink MAC down: <link state='down'/> in the live XML and status file",
          rc == 0 and re.search(r"<mac address='%s'/>.*?<link state='down'/>" % mac, live, re.S)
          and "<link state='down'/>" in open(status_path).read(), out + err + live)
    rc, out, err = d.virsh("domif-getlink", "hc", mac)
    check("... virsh domif-getlink says down", rc == 0 and "down" in out, out + err)
    check("... the definition keeps its link (live only)",
          "<link" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    iface = re.search(r"<interface type='user'>.*?</interface>", live, re.S).group(0)
    dom.updateDeviceFlags(iface.replace("state='down'", "state='up'"), LIVE | CONFIG)
    check("updateDeviceFlags(LIVE|CONFIG) of the live XML's interface with state='up': up in "
          "the live XML and in the definition",
          "<link state='up'/>" in dom.XMLDesc(0) and
          "<link state='up'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    before = dom.XMLDesc(0)
    refused("an update that changes the interface's type: OPERATION_UNSUPPORTED naming it",
            lambda: dom.updateDeviceFlags(
                f"<interface type='network'><mac address='{mac}'/><source network='default'/>"
                "<link state='down'/></interface>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["type", mac, "link state"])
    refused("an update of an interface that is not there: DEVICE_MISSING",
            lambda: dom.updateDeviceFlags(
                "<interface type='user'><mac address='52:54:00:99:99:99'/>"
                "<link state='down'/></interface>", LIVE), ERR_DEVICE_MISSING,
            ["52:54:00:99:99:99"])
    check("... nothing changed", dom.XMLDesc(0) == before)
    refused("updating an <rng>: OPERATION_UNSUPPORTED",
            lambda: dom.updateDeviceFlags(
                "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["<rng>"])
    rc, out, err = d.virsh("domif-setlink", "hc", mac, "down", "--config")
    check("virsh domif-setlink --config down: the definition has it, the next start too",
          rc == 0 and "<link state='down'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
          out + err)
    dom.destroy()
    dom.detachDeviceFlags(f"<disk type='file'><source file='{cold}'/><target dev='sdc' "
                          "bus='scsi'/></disk>", CONFIG)
    dom.create()
    pid = qemu_pid(d.proc.pid, "hc")
    rc, out, err = d.virsh("domif-getlink", "hc", mac)
    check("... started again: the live XML says down (set with set_link at start)",
          rc == 0 and "down" in out and "<link state='down'/>" in dom.XMLDesc(0), out + err)
    dom.destroy()
    dom.undefine()


def controller_consistent(dom, events, status_path, alias):
    """After a controller's detach: removed (live XML, status file,
    DEVICE_REMOVED) or pending (in both, no event)."""
    time.sleep(0.5)
    pattern = "<alias name='%s'/>" % alias
    if pattern not in dom.XMLDesc(0):
        check("... removed: DEVICE_REMOVED %s, out of the status file" % alias,
              events.has("removed", alias) and pattern not in open(status_path).read(),
              events.seen)
    else:
        check("... pending: still in the status file, no DEVICE_REMOVED %s" % alias,
              pattern in open(status_path).read() and not events.has("removed", alias, 0),
              events.seen)


def main():
    if LINUX:
        linux_main()
        return
    if not need_tools("ip", "virsh"):
        return
    if os.geteuid() != 0:
        check("runs as root (a network namespace for the taps)", False)
        return
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    event_loop()
    work = private_tmpdir("tvhp-")
    cold, vdb, sda, iso, extra = (disk_file(work, n) for n in
                                  ("cold.img", "vdb.img", "sda.img", "cd.iso", "extra.img"))
    ns = netns(TAG)
    sh("ip", "link", "add", "tvbr0", "type", "bridge", ns=ns)
    sh("ip", "link", "set", "tvbr0", "up", ns=ns)

    d = Daemon(CACHE, ns=ns)
    conn = d.start(TAGVIRTD)
    events = DeviceEvents(conn)
    dom = conn.defineXML(domain_xml("hp", cold))
    dom.create()
    pid = qemu_pid(d.proc.pid, "hp")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    status_path = os.path.join(d.root, "state", "hp.xml")

    # --- disks ---
    live = dom.XMLDesc(0)
    check("the disk of the start has its alias in the live XML",
          alias_of(live, "dev='vdc'") == "virtio-disk0", live)
    t0 = time.time()
    rc, out, err = d.virsh("attach-disk", "hp", vdb, "vdb", "--live")
    took = time.time() - t0
    live = dom.XMLDesc(0)
    check("virsh attach-disk --live: vdb is in the live XML with an alias and a PCI address",
          rc == 0 and alias_of(live, "dev='vdb'") == "virtio-disk1" and
          re.search(r"<target dev='vdb'.*?<address type='pci'", live, re.S),
          out + err + live + d.log())
    print("# attach-disk --live took %.2f s" % took)
    check("... QEMU has the file open (blockdev-add)", vdb in open_files(pid))
    check("... DEVICE_ADDED with its alias", events.has("added", "virtio-disk1"), events.seen)
    check("... the definition is unchanged (live only)",
          dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == inactive)
    check("... the status file has it (atomic write)", vdb in open(status_path).read())
    rc, out, err = d.virsh("domblklist", "hp")
    check("virsh domblklist lists vdb", rc == 0 and re.search(r"vdb\s+" + re.escape(vdb), out),
          out + err)

    before = dom.XMLDesc(0)
    refused("the same target again (live): refused naming vdb, nothing changed",
            lambda: dom.attachDeviceFlags(
                f"<disk type='file'><source file='{extra}'/><target dev='vdb'/></disk>", LIVE),
            libvirt.VIR_ERR_XML_ERROR, ["vdb"])
    check("... the guest and QEMU unchanged",
          dom.XMLDesc(0) == before and extra not in open_files(pid))
    missing = os.path.join(work, "missing.img")
    refused("a disk whose file is missing: refused naming the file",
            lambda: dom.attachDeviceFlags(
                f"<disk type='file'><source file='{missing}'/><target dev='vdd'/></disk>", LIVE),
            libvirt.VIR_ERR_OPERATION_FAILED, ["missing.img"])
    check("... nothing changed", dom.XMLDesc(0) == before)
    rc, out, err = d.virsh("attach-disk", "hp", extra, "vdd", "--live")
    check("... then the same target attaches (no node or device was left in QEMU)",
          rc == 0 and extra in open_files(pid), out + err + d.log())
    rc, out, err = d.virsh("detach-disk", "hp", "vdz", "--live")
    check("virsh detach-disk of a target that is not there: refused", rc != 0 and "vdz" in err,
          out + err)
    refused("hot-plugging a video device: OPERATION_UNSUPPORTED naming it and what is supported",
            lambda: dom.attachDeviceFlags("<video><model type='virtio'/></video>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["<video>", "<disk>", "<rng>", "<channel>"])

    rc, out, err = d.virsh("attach-disk", "hp", sda, "sda", "--targetbus", "scsi", "--live")
    live = dom.XMLDesc(0)
    check("a SCSI disk on the guest's virtio-scsi controller (scsi-hd)",
          rc == 0 and alias_of(live, "dev='sda'") == "scsi0-0-0-0" and sda in open_files(pid),
          out + err + live)
    rc, out, err = d.virsh("attach-disk", "hp", iso, "sdb", "--targetbus", "scsi", "--type",
                           "cdrom", "--mode", "readonly", "--live")
    live = dom.XMLDesc(0)
    check("a SCSI cdrom (scsi-cd)", rc == 0 and alias_of(live, "dev='sdb'") == "scsi0-0-0-1" and
          iso in open_files(pid), out + err + live)

    # cdrom media (updateDeviceFlags): swapped, ejected, inserted
    iso2 = disk_file(work, "cd2.iso")
    rc, out, err = d.virsh("change-media", "hp", "sdb", iso2, "--update", "--live")
    live = dom.XMLDesc(0)
    check("virsh change-media --update --live: the new medium in the live XML and in QEMU, the "
          "old one closed",
          rc == 0 and iso2 in live and iso not in live and
          wait_for_true(lambda: iso2 in open_files(pid) and iso not in open_files(pid)),
          out + err + live)
    rc, out, err = d.virsh("change-media", "hp", "sdb", "--eject", "--live")
    live = dom.XMLDesc(0)
    check("virsh change-media --eject --live: no medium (live XML, QEMU)",
          rc == 0 and iso2 not in live and "dev='sdb'" in live and
          wait_for_true(lambda: iso2 not in open_files(pid)), out + err + live)
    rc, out, err = d.virsh("change-media", "hp", "sdb", iso, "--insert", "--live", "--config")
    check("virsh change-media --insert --live --config: nothing to replace in the definition "
          "(sdb is not there): refused, nothing changed",
          rc != 0 and "sdb" in err and iso not in dom.XMLDesc(0), out + err)
    rc, out, err = d.virsh("change-media", "hp", "sdb", iso, "--insert", "--live")
    check("virsh change-media --insert --live: the medium is back",
          rc == 0 and iso in dom.XMLDesc(0) and wait_for_true(lambda: iso in open_files(pid)),
          out + err)
    check("... the status file follows", iso in open(status_path).read())
    refused("updateDeviceFlags of a disk that is not a cdrom: OPERATION_UNSUPPORTED",
            lambda: dom.updateDeviceFlags(
                f"<disk type='file' device='disk'><source file='{extra}'/><target dev='vdc'/>"
                "</disk>", LIVE), libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["cdrom"])
    before = dom.XMLDesc(0)
    refused("updateDeviceFlags of a cdrom to a missing file: refused, the old medium stays",
            lambda: dom.updateDeviceFlags(
                f"<disk type='file' device='cdrom'><source file='{missing}'/>"
                "<target dev='sdb' bus='scsi'/><readonly/></disk>", LIVE),
            libvirt.VIR_ERR_OPERATION_FAILED, ["missing.img"])
    check("... live XML and QEMU unchanged", dom.XMLDesc(0) == before and iso in open_files(pid))

    # by alias; the firmware guest does not answer a SCSI unplug either
    rc, out, err = d.virsh("detach-device-alias", "hp", "scsi0-0-0-0", "--live")
    check("virsh detach-device-alias scsi0-0-0-0 --live: success", rc == 0, out + err)
    check_consistent(dom, events, pid, status_path, "dev='sda'", "scsi0-0-0-0", sda)
    rc, out, err = d.virsh("detach-device-alias", "hp", "nosuch0", "--live")
    check("virsh detach-device-alias of an unknown alias: refused naming it",
          rc != 0 and "nosuch0" in err, out + err)

    # detach: the firmware guest has no PCIe hot-plug driver.  A device it
    # started with waits for the guest, which never answers: pending.  QEMU
    # may unplug a hot-plugged one at once when its slot's power indicator
    # is off (it depends on when the slot's power-up sequence ends): either
    # way the state must be whole.  The Linux guest (--linux) releases them.
    t0 = time.time()
    rc, out, err = d.virsh("detach-disk", "hp", "vdb", "--live")
    took = time.time() - t0
    print("# detach-disk vdb --live took %.2f s" % took)
    check("virsh detach-disk --live of the hot-plugged vdb: success", rc == 0, out + err)
    check_consistent(dom, events, pid, status_path, "dev='vdb'", "virtio-disk1", vdb)
    t0 = time.time()
    rc, out, err = d.virsh("detach-disk", "hp", "vdc", "--live")
    took = time.time() - t0
    print("# detach-disk vdc --live (the guest does not release it) took %.2f s" % took)
    check("detach of the start's vdc, which the firmware guest does not release: success after "
          "libvirt's wait of about 5 s, the removal pending (still in the live XML, the file "
          "open, no DEVICE_REMOVED)",
          rc == 0 and 4.5 <= took < 20 and "dev='vdc'" in dom.XMLDesc(0) and
          cold in open_files(pid) and not events.has("removed", "virtio-disk0", 0),
          "rc %d, %.2f s\n" % (rc, took) + out + err)

    # --- interfaces ---
    user_xml = os.path.join(work, "user.xml")
    with open(user_xml, "w") as f:
        f.write("<interface type='user'><model type='virtio'/></interface>")
    rc, out, err = d.virsh("attach-device", "hp", user_xml, "--live")
    live = dom.XMLDesc(0)
    mac = re.search(r"<interface type='user'>\s*<mac address='([^']+)'", live)
    check("virsh attach-device --live of a user interface: in the live XML with alias net0",
          rc == 0 and mac and alias_of(live, "type='user'") == "net0", out + err + live)
    check("... DEVICE_ADDED net0", events.has("added", "net0"), events.seen)
    rc, out, err = d.virsh("domiflist", "hp")
    check("... virsh domiflist lists it", rc == 0 and mac and mac.group(1) in out, out + err)
    rc, out, err = d.virsh("attach-interface", "hp", "bridge", "tvbr0", "--model", "virtio",
                           "--live")
    live = dom.XMLDesc(0)
    tap = re.search(r"<source bridge='tvbr0'/>\s*<target dev='([^']+)'", live)
    check("attach-interface bridge tvbr0 --live: a tap on the bridge, named in the live XML",
          rc == 0 and tap and taps(ns).get(tap.group(1)) == "tvbr0",
          out + err + live + str(taps(ns)))
    before = dom.XMLDesc(0)
    refused("an ethernet interface whose tap name is taken (lo): refused naming it",
            lambda: dom.attachDeviceFlags(
                "<interface type='ethernet'><target dev='lo'/><model type='virtio'/></interface>",
                LIVE), libvirt.VIR_ERR_OPERATION_FAILED, ["lo"])
    check("... nothing changed", dom.XMLDesc(0) == before)
    eth = ("<interface type='ethernet'><mac address='52:54:00:00:07:07'/>"
           "<target dev='tvtap7'/><model type='virtio'/></interface>")
    dom.attachDeviceFlags(eth, LIVE | CONFIG)
    check("attachDeviceFlags(LIVE|CONFIG) of an ethernet interface: its tap exists, the "
          "definition has it too",
          "tvtap7" in taps(ns) and "tvtap7" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
          str(taps(ns)))
    net_xml = "<network><name>lab</name><bridge name='tvlab0'/></network>"
    net = conn.networkDefineXML(net_xml)
    net.create()
    rc, out, err = d.virsh("attach-interface", "hp", "network", "lab", "--model", "virtio",
                           "--live")
    live = dom.XMLDesc(0)
    ntap = re.search(r"<source network='lab'[^>]*/>\s*<target dev='([^']+)'", live)
    check("attach-interface network lab --live: a tap on the network's bridge",
          rc == 0 and ntap and taps(ns).get(ntap.group(1)) == "tvlab0",
          out + err + live + str(taps(ns)))

    bmac = re.search(r"<interface type='bridge'>\s*<mac address='([^']+)'", dom.XMLDesc(0))
    rc, out, err = d.virsh("detach-interface", "hp", "bridge", "--mac",
                           bmac.group(1) if bmac else "none", "--live")
    check("virsh detach-interface bridge --live: success", rc == 0, out + err)
    check_consistent(dom, events, pid, status_path, "<source bridge='tvbr0'/>",
                     alias_of(live, "bridge='tvbr0'"), None,
                     lambda: tap.group(1) in taps(ns) if tap else False)
    dom.detachDeviceFlags(eth, LIVE | CONFIG)
    check("detachDeviceFlags(LIVE|CONFIG) of the ethernet interface: the definition loses it "
          "at once", "tvtap7" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    check_consistent(dom, events, pid, status_path, "<target dev='tvtap7'", "net2", None,
                     lambda: "tvtap7" in taps(ns))

    # --- no free root port ---
    n = 0
    err_text = ""
    before = None
    while n < 40:
        before = dom.XMLDesc(0)
        path = disk_file(work, "fill%d.img" % n)
        target = "vd" + chr(ord("e") + n)
        try:
            dom.attachDeviceFlags(
                f"<disk type='file'><source file='{path}'/><target dev='{target}'/></disk>", LIVE)
        except libvirt.libvirtError as e:
            err_text = str(e)
            break
        n += 1
    print("# %d more disks attached before the root ports ran out" % n)
    check("with every root port taken: refused naming pcie-root-port",
          "pcie-root-port" in err_text, err_text)
    check("... the live XML unchanged by the refusal", dom.XMLDesc(0) == before)

    dom.destroy()
    controllers_and_link(d, conn, events, work)
    net.destroy()
    check("the taps are gone with the guest", wait_for_true(lambda: not taps(ns)), str(taps(ns)))
    dom.undefine()
    conn.close()


def check_consistent(dom, events, pid, status_path, pattern, alias, path, backend=None):
    """After a detach: either removed (out of the live XML and the status
    file, DEVICE_REMOVED, QEMU's file or tap gone) or pending (all still
    there, no event)."""
    time.sleep(0.5)
    live = dom.XMLDesc(0)
    status = open(status_path).read()
    held = (path in open_files(pid)) if path else backend()
    gone = not re.search(pattern, live)
    if gone:
        check("... removed: DEVICE_REMOVED %s, out of the status file, QEMU's backend gone" % alias,
              events.has("removed", alias) and not re.search(pattern, status) and
              wait_for_true(lambda: not ((path in open_files(pid)) if path else backend())),
              events.seen)
    else:
        check("... pending: still in the status file and QEMU, no DEVICE_REMOVED %s" % alias,
              re.search(pattern, status) and held and not events.has("removed", alias, 0),
              events.seen)


def wait_for_true(fn, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.2)
    return False


run(main)
