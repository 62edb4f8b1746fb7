#!/usr/bin/python3
"""<sound>, <filesystem> and <vsock> through tagvirtd with virsh and
python3-libvirt (docs/formatdomain.rst): a guest with an ich9 and an ich6
HDA controller (codecs) and a USB audio device, and a 9p share, defined,
started under the real QEMU (its command line holds the devices), the share
folder's owner left as it is (the test gives it to QEMU's user beforehand,
as a user must: tagvirtd, like libvirt, never changes a folder's owner); live
attach of sound and filesystem refused with OPERATION_UNSUPPORTED naming
the device, --config attach and detach of each; a <vsock> guest refused at
start naming /dev/vhost-vsock when the host has none, with nothing left
behind; virtiofs refused at define saying why.  TAP.

Usage: guestdev-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import pwd
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (Daemon, check, generic_kit, private_tmpdir, qemu_pids_of, read_text, refused,
                    run)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
LIVE, CONFIG = libvirt.VIR_DOMAIN_AFFECT_LIVE, libvirt.VIR_DOMAIN_AFFECT_CONFIG


def domain_xml(name, devices):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices><serial type='pty'/>{devices}</devices>
</domain>"""


def cmdline(pid):
    return read_text("/proc/%d/cmdline" % pid).replace("\0", " ")


def sound_and_share(d, conn, share):
    devices = (f"""<controller type='usb' model='qemu-xhci'/>
<sound model='ich9'/><sound model='ich6'><codec type='micro'/></sound><sound model='usb'/>
<filesystem type='mount' accessmode='mapped'><source dir='{share}'/>
<target dir='hostshare'/></filesystem>""")
    dom = conn.defineXML(domain_xml("snd", devices))
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    check("define: three sound devices and the share, a silent <audio> backend added",
          inactive.count("<sound model=") == 3 and "<audio id='1' type='none'/>" in inactive and
          "<target dir='hostshare'/>" in inactive, inactive)
    owner = os.stat(share).st_uid
    dom.create()
    uuid = dom.UUIDString()
    pids = qemu_pids_of(uuid)
    cmd = cmdline(pids[0]) if pids else ""
    check("start: QEMU runs with ich9-intel-hda, intel-hda + hda-micro, usb-audio",
          len(pids) == 1 and "ich9-intel-hda,id=sound0" in cmd and "intel-hda,id=sound1" in cmd
          and "hda-micro,id=sound1-codec0,bus=sound1.0" in cmd and "usb-audio,id=sound2" in cmd
          and "-audiodev none,id=audio1" in cmd, cmd)
    check("... and the share as -fsdev local (mapped) + virtio-9p-pci with its tag",
          f"local,security_model=mapped,id=fsdev-fs0,path={share}" in cmd and
          "virtio-9p-pci,id=fs0,fsdev=fsdev-fs0,mount_tag=hostshare" in cmd, cmd)
    qemu_uid = os.stat("/proc/%d" % pids[0]).st_uid if pids else -1
    check("... the share folder keeps its owner (QEMU's user, given by the test) while it runs",
          os.stat(share).st_uid == owner == qemu_uid,
          "folder uid %d, was %d, QEMU uid %d" % (os.stat(share).st_uid, owner, qemu_uid))
    live = dom.XMLDesc(0)
    check("live XML: the devices with their addresses",
          live.count("<sound model=") == 3 and "<address type='usb'" in live and
          "<filesystem type='mount' accessmode='mapped'>" in live, live)

    refused("live attach of a <sound>: OPERATION_UNSUPPORTED naming it",
            lambda: dom.attachDeviceFlags("<sound model='ich9'/>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["<sound>"])
    refused("live attach of a <filesystem>: OPERATION_UNSUPPORTED naming it",
            lambda: dom.attachDeviceFlags("<filesystem><source dir='/srv'/><target dir='t2'/>"
                                          "</filesystem>", LIVE),
            libvirt.VIR_ERR_OPERATION_UNSUPPORTED, ["<filesystem>"])
    check("... the running guest is unchanged", dom.XMLDesc(0) == live)

    dom.attachDeviceFlags("<filesystem><source dir='/srv'/><target dir='t2'/></filesystem>",
                          CONFIG)
    dom.detachDeviceFlags("<sound model='ich6'/>", CONFIG)
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    check("--config attach of a filesystem and detach of the ich6 (by model) on the running "
          "guest change the next start only",
          "<target dir='t2'/>" in inactive and "model='ich6'" not in inactive and
          "model='ich6'" in dom.XMLDesc(0), inactive)
    refused("--config detach of a filesystem tag that is not there: DEVICE_MISSING",
            lambda: dom.detachDeviceFlags("<filesystem><source dir='/x'/><target dir='nope'/>"
                                          "</filesystem>", CONFIG),
            libvirt.VIR_ERR_DEVICE_MISSING, ["nope"])
    dom.detachDeviceFlags("<filesystem><source dir='/srv'/><target dir='t2'/></filesystem>",
                          CONFIG)
    check("--config detach of the filesystem by its tag",
          "t2" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    dom.destroy()
    check("stop: the share folder's owner is still the same", os.stat(share).st_uid == owner,
          "uid %d, expected %d" % (os.stat(share).st_uid, owner))
    dom.undefine()


def share_not_writable(conn, work):
    """A share QEMU's user may not write (root's, 0755) and no <readonly/>:
    refused at start naming the folder; its owner untouched, no QEMU."""
    folder = os.path.join(work, "rootshare")
    os.mkdir(folder, 0o755)
    dom = conn.defineXML(domain_xml("ro", f"""<filesystem type='mount' accessmode='mapped'>
<source dir='{folder}'/><target dir='t'/></filesystem>"""))
    refused("a share QEMU's user cannot write, without <readonly/>: start refused naming it",
            dom.create, libvirt.VIR_ERR_SYSTEM_ERROR, [folder, "tagvirt-qemu", "cannot write"])
    check("... the folder is still root's, the guest shut off, no QEMU",
          os.stat(folder).st_uid == 0 and not dom.isActive() and
          not qemu_pids_of(dom.UUIDString()))
    dom.undefine()


def vsock(d, conn):
    dom = conn.defineXML(domain_xml("vs", "<vsock model='virtio'><cid auto='yes'/></vsock>"))
    state = d.root + "/state"
    before = sorted(os.listdir(state))
    if os.path.exists("/dev/vhost-vsock"):
        check("this host has /dev/vhost-vsock: the refusal below cannot be checked here", False)
        return
    refused("start of a <vsock> guest without /dev/vhost-vsock: refused naming the device",
            dom.create, libvirt.VIR_ERR_OPERATION_FAILED, ["/dev/vhost-vsock", "vhost_vsock"])
    after = sorted(os.listdir(state))
    check("... nothing left: shut off, no QEMU, no new runtime files",
          dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF and not qemu_pids_of(dom.UUIDString())
          and before == after, "%s -> %s" % (before, after))
    rc, out, err = d.virsh("start", "vs")
    check("virsh start says the same", rc != 0 and "/dev/vhost-vsock" in err, out + err)
    dom.undefine()


def linux_guest_reads_share(conn, work, share):
    """The 9p kit's Linux guest (tests/guest/build-9p-kit.sh) mounts the share
    by its tag, reads the host's file and writes one back; it also lists its
    PCI devices, among them the <sound model='ich9'> controller."""
    kernel, initrd = generic_kit(work)
    console = os.path.join(work, "9p.console")
    xml = f"""<domain type='qemu'>
  <name>ninep</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>console=ttyAMA0 panic=-1 quiet tagvirt.guest=9p tagvirt.9p=hostshare</cmdline></os>
  <cpu mode='maximum'/>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    <filesystem type='mount' accessmode='mapped'><source dir='{share}'/>
      <target dir='hostshare'/></filesystem>
    <sound model='ich9'/>
  </devices>
</domain>"""
    dom = conn.defineXML(xml)
    dom.create()
    deadline = time.time() + 600
    while time.time() < deadline and "GUEST9P done" not in read_text(console):
        time.sleep(2)
    text = read_text(console)
    check("the Linux guest mounts the 9p tag 'hostshare'", "GUEST9P mounted hostshare" in text,
          text[-1500:])
    check("... and reads the file the test wrote on the host",
          "GUEST9P hello=from the host" in text, text[-800:])
    check("... and sees the ich9 HDA controller on its PCI bus (8086:293e)",
          "GUESTPCI 0x8086:0x293e" in text, text[-1500:])
    wrote = read_text(os.path.join(share, "from-guest"))
    check("... and writes one back that the host reads (accessmode mapped)",
          "GUEST9P write ok" in text and wrote == "written by the guest\n", text[-800:] + wrote)
    while time.time() < deadline and dom.isActive():
        time.sleep(1)
    if dom.isActive():
        dom.destroy()
    dom.undefine()


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    work = private_tmpdir("tvgdev-")
    share = os.path.join(work, "share")
    os.mkdir(share)
    with open(os.path.join(share, "hello"), "w") as f:
        f.write("from the host\n")
    # what a user does for a share QEMU writes into (docs/formatdomain.rst):
    # tagvirtd leaves folders' owners alone, as libvirt does
    qemu_user = pwd.getpwnam("tagvirt-qemu")
    os.chown(share, qemu_user.pw_uid, qemu_user.pw_gid)
    d = Daemon(CACHE)
    conn = d.start(TAGVIRTD)
    sound_and_share(d, conn, share)
    linux_guest_reads_share(conn, work, share)
    share_not_writable(conn, work)
    vsock(d, conn)
    refused("<driver type='virtiofs'>: refused at define, saying virtiofsd is missing",
            lambda: conn.defineXML(domain_xml("vfs", "<filesystem><driver type='virtiofs'/>"
                                              "<source dir='/srv'/><target dir='t'/>"
                                              "</filesystem>")),
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["virtiofsd", "type='path'"])
    check("... and nothing was defined",
          "vfs" not in [x.name() for x in conn.listAllDomains()])
    conn.close()


run(main)
