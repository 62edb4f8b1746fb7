#!/usr/bin/python3
"""Devices attached and detached (issue 9 item 2, the persistent half)
through tagvirtd with virsh and python3-libvirt: attach-device and
detach-device --config for a disk and an interface
change the definition as libvirt does (a MAC and a PCI address filled in,
a disk found by its target, an interface by its MAC or as the only one);
refusals with libvirt's codes leave the definition as it was: a duplicate
target, a missing device, a transient domain, the live flag on a shut-off
domain.  Live hot-plug is tests/daemon/hotplug-test.py.  TAP.

Usage: device-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import re
import sys

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import Daemon, check, private_tmpdir, refused, run

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG
ERR_DEVICE_MISSING = 99


def domain_xml(name):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices><serial type='pty'/></devices>
</domain>"""


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    work = private_tmpdir("tvdev-")
    disk = os.path.join(work, "data.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    disk_xml = ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                f"<source file='{disk}'/><target dev='vdb' bus='virtio'/></disk>")
    nic_xml = "<interface type='user'><model type='virtio'/></interface>"
    files = {}
    for name, text in (("disk", disk_xml), ("nic", nic_xml),
                       ("vdz", disk_xml.replace("vdb", "vdz")),
                       ("ctl", "<controller type='pci' model='pcie-root-port'/>")):
        files[name] = os.path.join(work, name + ".xml")
        with open(files[name], "w") as f:
            f.write(text)

    d = Daemon(CACHE)
    conn = d.start(TAGVIRTD)
    dom = conn.defineXML(domain_xml("hp"))

    rc, out, err = d.virsh("attach-device", "hp", files["disk"], "--config")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    check("virsh attach-device --config: the disk is in the definition",
          rc == 0 and "<target dev='vdb' bus='virtio'/>" in inactive and disk in inactive,
          out + err + inactive)
    refused("the same target again: refused, naming vdb",
            lambda: dom.attachDeviceFlags(disk_xml, CONFIG), libvirt.VIR_ERR_XML_ERROR, ["vdb"])
    rc, out, err = d.virsh("attach-device", "hp", files["nic"], "--config")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    mac = re.search(r"<mac address='([0-9a-f:]+)'/>", inactive)
    check("virsh attach-device --config: an interface, a MAC filled in",
          rc == 0 and "<interface type='user'>" in inactive and mac, out + err + inactive)
    check("... both new devices have PCI addresses",
          inactive.count("<address type='pci'") >= 2, inactive)
    rc, out, err = d.virsh("domiflist", "hp", "--inactive")
    check("virsh domiflist --inactive lists it", rc == 0 and mac and mac.group(1) in out,
          out + err)

    refused("detach of a disk that is not there: DEVICE_MISSING",
            lambda: dom.detachDeviceFlags(disk_xml.replace("vdb", "vdz"), CONFIG),
            ERR_DEVICE_MISSING, ["vdz"])
    refused("detach of an interface whose MAC is not there: DEVICE_MISSING",
            lambda: dom.detachDeviceFlags(nic_xml.replace(
                "<model", "<mac address='52:54:00:00:00:99'/><model"), CONFIG),
            ERR_DEVICE_MISSING, ["52:54:00:00:00:99"])
    refused("detach of a pci <controller> (only scsi and virtio-serial ones can go): "
            "OPERATION_UNSUPPORTED naming its type",
            lambda: dom.detachDeviceFlags(open(files["ctl"]).read(), CONFIG),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["'pci' controller", "'scsi'"])
    refused("detach of a <panic>: CONFIG_UNSUPPORTED naming what can be detached",
            lambda: dom.detachDeviceFlags("<panic model='pvpanic'/>", CONFIG),
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["<panic>", "<disk>", "<watchdog>"])
    refused("detach of a <watchdog> the definition does not have: DEVICE_MISSING naming it",
            lambda: dom.detachDeviceFlags("<watchdog model='i6300esb'/>", CONFIG),
            ERR_DEVICE_MISSING, ["<watchdog>", "i6300esb"])
    refused("the live flag on a shut-off domain: OPERATION_INVALID",
            lambda: dom.attachDeviceFlags(disk_xml.replace("vdb", "vdc"), LIVE),
            libvirt.VIR_ERR_OPERATION_INVALID, ["not running"])
    rc, out, err = d.virsh("attach-device", "hp", files["vdz"])
    check("virsh attach-device without flags (live, as libvirt) on a shut-off domain: refused",
          rc != 0 and "not running" in err, out + err)
    check("... none of the refusals changed the definition",
          dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE) == inactive)

    dom.create()
    live = dom.XMLDesc(0)
    rc, out, err = d.virsh("detach-device", "hp", files["disk"], "--config")
    check("virsh detach-device --config on a running guest: the next start has no vdb",
          rc == 0 and "vdb" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), out + err)
    check("... while the running guest keeps it", "vdb" in dom.XMLDesc(0))
    rc, out, err = d.virsh("detach-device", "hp", files["nic"], "--config")
    check("virsh detach-device --config of the only interface, given without a MAC",
          rc == 0 and "<interface" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE), out + err)
    dom.destroy()
    t = conn.createXML(domain_xml("tr"), 0)
    refused("a transient domain has no definition for --config: OPERATION_INVALID",
            lambda: t.attachDeviceFlags(disk_xml, CONFIG), libvirt.VIR_ERR_OPERATION_INVALID,
            ["transient"])
    t.destroy()
    dom.undefine()
    conn.close()


run(main)
