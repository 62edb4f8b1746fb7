#!/usr/bin/python3
"""tagvirtd's storage driver driven by python3-libvirt and virsh: the default
pool of the first start, pool lifecycle and events, volumes made with the real
qemu-img (qcow2, backing stores, clones) and by tagvirt (raw), resize, wipe,
delete, lookups, a daemon restart, the read-only socket, and bad input (a
target outside the allowed folders, names with '/' or '..', capacity
overflow, a volume in use by a running domain).  TAP.

Usage: storage-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]
Run with Debian's /usr/bin/python3; everything it starts is stopped at the end."""
import json
import os
import subprocess
import sys
import threading

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import Daemon, check, refused, run  # noqa: E402

TAGVIRTD, KERNEL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
DAEMON = Daemon(cache=CACHE)  # QEMU runs as tagvirt-qemu: its root is 0711
ROOT = DAEMON.root
IMAGES = os.path.join(ROOT, "images")
URI = DAEMON.uri
URI_RO = "qemu+unix:///system?socket=%s/tagvirtd-sock-ro" % ROOT

# libvirt's numbers
ERR_OPERATION_FAILED, ERR_XML_ERROR, ERR_OPERATION_DENIED = 9, 27, 29
ERR_NO_STORAGE_POOL, ERR_NO_STORAGE_VOL, ERR_OPERATION_INVALID = 49, 50, 55
ERR_STORAGE_VOL_EXIST = 90
POOL_EV_DEFINED, POOL_EV_UNDEFINED, POOL_EV_STARTED, POOL_EV_STOPPED = 0, 1, 2, 3
POOL_EV_CREATED, POOL_EV_DELETED = 4, 5

def start_daemon():
    DAEMON.start(TAGVIRTD, timeout=60).close()


def stop_daemon():
    DAEMON.stop()


def virsh(*args, ro=False):
    r = subprocess.run(["virsh", "-c", URI_RO if ro else URI] + list(args),
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def qemu_img_info(path):
    out = subprocess.run(["qemu-img", "info", "--output=json", "-U", path],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


class PoolEvents:
    def __init__(self):
        self.cond = threading.Condition()
        self.seen = []

    def lifecycle(self, conn, pool, event, detail, opaque):
        with self.cond:
            self.seen.append((pool.name(), event))
            self.cond.notify_all()

    def refresh(self, conn, pool, opaque):
        with self.cond:
            self.seen.append((pool.name(), "refresh"))
            self.cond.notify_all()

    def wait(self, item, timeout=10):
        with self.cond:
            return self.cond.wait_for(lambda: item in self.seen, timeout)


def event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def domain_xml(name, disk):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>"""


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)  # errors are checked, not printed
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=event_loop, daemon=True).start()
    start_daemon()
    conn = libvirt.open(URI)

    # --- the default pool of the first start
    pool = conn.storagePoolLookupByName("default")
    check("first start: pool 'default' exists, active, autostart",
          pool.isActive() == 1 and pool.autostart() == 1 and pool.isPersistent() == 1)
    check("default pool's folder is the images folder under the root",
          f"<path>{IMAGES}</path>" in pool.XMLDesc(0) and os.path.isdir(IMAGES))
    names = [p.name() for p in conn.listAllStoragePools(0)]
    check("listAllStoragePools lists it", names == ["default"], names)
    check("listAllStoragePools(INACTIVE) is empty",
          conn.listAllStoragePools(libvirt.VIR_CONNECT_LIST_STORAGE_POOLS_INACTIVE) == [])
    caps = conn.getStoragePoolCapabilities(0)
    check("storage pool capabilities: dir supported",
          "<pool type='dir' supported='yes'>" in caps, caps[:200])

    ev = PoolEvents()
    cb1 = conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                           ev.lifecycle, None)
    cb2 = conn.storagePoolEventRegisterAny(None, libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
                                           ev.refresh, None)

    # --- volumes: qcow2 by qemu-img, raw by tagvirt
    rc, out, err = virsh("vol-create-as", "default", "a.qcow2", "1G", "--format", "qcow2")
    info = qemu_img_info(os.path.join(IMAGES, "a.qcow2")) if rc == 0 else {}
    check("virsh vol-create-as 1G qcow2: qemu-img sees a 1 GiB qcow2",
          rc == 0 and info.get("format") == "qcow2" and info.get("virtual-size") == 1 << 30,
          err or info)
    rc, out, err = virsh("vol-create-as", "default", "b.img", "64M", "--allocation", "16M")
    st = os.stat(os.path.join(IMAGES, "b.img")) if rc == 0 else None
    check("virsh vol-create-as 64M raw with 16M allocated",
          rc == 0 and st.st_size == 64 << 20 and st.st_blocks * 512 >= 16 << 20, err)
    check("new volumes are 0600, owned by root",
          st is not None and (st.st_mode & 0o777) == 0o600 and st.st_uid == 0)
    rc, out, err = virsh("vol-list", "default", "--details")
    check("virsh vol-list --details shows both with their sizes",
          rc == 0 and "a.qcow2" in out and "1.00 GiB" in out and "b.img" in out
          and "64.00 MiB" in out, out + err)
    vol = pool.storageVolLookupByName("a.qcow2")
    xml = vol.XMLDesc(0)
    check("vol-dumpxml: format qcow2, compat 1.1, key = path",
          "<format type='qcow2'/>" in xml and "<compat>1.1</compat>" in xml
          and f"<key>{IMAGES}/a.qcow2</key>" in xml, xml)
    check("storageVolLookupByPath and ByKey find it",
          conn.storageVolLookupByPath(f"{IMAGES}/a.qcow2").name() == "a.qcow2"
          and conn.storageVolLookupByKey(f"{IMAGES}/a.qcow2").name() == "a.qcow2")
    check("storagePoolLookupByVolume", vol.storagePoolLookupByVolume().name() == "default")
    check("vol.info(): file, 1 GiB", vol.info()[0] == 0 and vol.info()[1] == 1 << 30)

    overlay = """<volume><name>overlay.qcow2</name><capacity unit='G'>2</capacity>
      <target><format type='qcow2'/></target>
      <backingStore><path>%s/a.qcow2</path></backingStore></volume>""" % IMAGES
    ov = pool.createXML(overlay, 0)
    info = qemu_img_info(ov.path())
    check("volume with a backing store: qemu-img shows the backing file and its format",
          info.get("backing-filename") == f"{IMAGES}/a.qcow2"
          and info.get("backing-filename-format") == "qcow2"
          and info.get("virtual-size") == 2 << 30, info)
    clone = pool.createXMLFrom("<volume><name>b-copy.qcow2</name><capacity unit='M'>128"
                               "</capacity><target><format type='qcow2'/></target></volume>",
                               pool.storageVolLookupByName("b.img"), 0)
    info = qemu_img_info(clone.path())
    check("createXMLFrom: raw copied into a larger qcow2",
          info.get("format") == "qcow2" and info.get("virtual-size") == 128 << 20, info)
    prealloc = pool.createXML("<volume><name>m.qcow2</name><capacity unit='M'>64</capacity>"
                              "<target><format type='qcow2'/></target></volume>",
                              libvirt.VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA)
    check("PREALLOC_METADATA: the qcow2 has its metadata preallocated",
          prealloc.info()[2] > 196 * 1024, prealloc.info())

    # --- resize, wipe, delete
    b = pool.storageVolLookupByName("b.img")
    b.resize(128 << 20, 0)
    check("resize grows a raw volume", os.path.getsize(b.path()) == 128 << 20)
    refused("resize below the capacity without SHRINK", lambda: b.resize(1 << 20, 0), 8,
            ["shrink"])
    b.resize(32 << 20, libvirt.VIR_STORAGE_VOL_RESIZE_SHRINK)
    check("resize SHRINK", os.path.getsize(b.path()) == 32 << 20)
    vol.resize(1 << 20, libvirt.VIR_STORAGE_VOL_RESIZE_DELTA)
    check("qcow2 resize DELTA by qemu-img",
          qemu_img_info(vol.path())["virtual-size"] == (1 << 30) + (1 << 20))
    with open(b.path(), "r+b") as f:
        f.write(b"\xaa" * 4096)
    b.wipe(0)
    with open(b.path(), "rb") as f:
        data = f.read(4096)
    check("wipe zeroes a raw volume and keeps its size",
          data == b"\0" * 4096 and os.path.getsize(b.path()) == 32 << 20)
    clone.delete(0)
    check("delete removes the file and the volume",
          not os.path.exists(f"{IMAGES}/b-copy.qcow2")
          and "b-copy.qcow2" not in pool.listVolumes())

    # --- bad input: nothing half-made
    refused("a volume name with '/'", lambda: pool.createXML(
        "<volume><name>x/y</name><capacity>1</capacity></volume>", 0), ERR_XML_ERROR, ["'/'"])
    refused("a volume name '..'", lambda: pool.createXML(
        "<volume><name>..</name><capacity>1</capacity></volume>", 0), ERR_XML_ERROR)
    refused("capacity overflow", lambda: pool.createXML(
        "<volume><name>huge</name><capacity unit='E'>9</capacity></volume>", 0), ERR_XML_ERROR,
        ["too large"])
    refused("a volume name in use", lambda: pool.createXML(
        "<volume><name>a.qcow2</name><capacity>1</capacity></volume>", 0), ERR_STORAGE_VOL_EXIST)
    refused("a backing store that does not exist", lambda: pool.createXML(
        "<volume><name>o2</name><capacity>1048576</capacity><target><format type='qcow2'/>"
        "</target><backingStore><path>/nonexistent.qcow2</path></backingStore></volume>", 0),
        ERR_OPERATION_INVALID, ["/nonexistent.qcow2"])
    leftovers = [f for f in os.listdir(IMAGES) if f.startswith(".") or f in ("huge", "o2")]
    check("refusals leave no file behind", leftovers == [], leftovers)
    refused("a pool target outside the allowed folders", lambda: conn.storagePoolDefineXML(
        "<pool type='dir'><name>etc</name><target><path>/etc/tagvirt-test</path></target>"
        "</pool>", 0), ERR_OPERATION_DENIED, ["allowed"])
    check("... nothing defined, no folder made",
          "etc" not in [p.name() for p in conn.listAllStoragePools(0)]
          and not os.path.exists("/etc/tagvirt-test"))
    refused("a pool whose folder escapes through a symbolic link",
            lambda: (os.symlink("/etc", os.path.join(ROOT, "etclink")),
                     conn.storagePoolDefineXML(
                         "<pool type='dir'><name>l</name><target><path>%s/etclink/x</path>"
                         "</target></pool>" % ROOT, 0)), ERR_OPERATION_DENIED, ["resolves"])
    refused("a second pool on the same folder", lambda: conn.storagePoolDefineXML(
        "<pool type='dir'><name>again</name><target><path>%s</path></target></pool>" % IMAGES,
        0), ERR_OPERATION_FAILED, ["already uses"])
    refused("an unknown pool", lambda: conn.storagePoolLookupByName("nope"), ERR_NO_STORAGE_POOL)
    refused("an unknown volume", lambda: pool.storageVolLookupByName("nope"), ERR_NO_STORAGE_VOL)
    refused("undefine an active pool", lambda: pool.undefine(), ERR_OPERATION_INVALID,
            ["still active"])

    # --- a volume in use by a running domain
    dom = conn.createXML(domain_xml("storage-user", vol.path()), 0)
    refused("delete a volume a running domain uses", lambda: vol.delete(0),
            ERR_OPERATION_INVALID, ["storage-user"])
    refused("wipe it", lambda: vol.wipe(0), ERR_OPERATION_INVALID, ["storage-user"])
    dom.destroy()
    check("... the volume is still there", os.path.exists(vol.path()))

    # --- a second pool: lifecycle and events
    p2dir = os.path.join(ROOT, "p2")
    p2 = conn.storagePoolDefineXML(
        "<pool type='dir'><name>p2</name><target><path>%s</path></target></pool>" % p2dir, 0)
    check("define: event DEFINED", ev.wait(("p2", POOL_EV_DEFINED)))
    p2.build(0)
    check("build: the folder exists, event CREATED",
          os.path.isdir(p2dir) and ev.wait(("p2", POOL_EV_CREATED)))
    p2.create(0)
    p2.setAutostart(1)
    check("start: event STARTED", ev.wait(("p2", POOL_EV_STARTED)))
    with open(os.path.join(p2dir, "dropped.iso"), "wb") as f:
        f.truncate(64 * 1024)
        f.seek(32769)
        f.write(b"CD001")
    p2.refresh(0)
    check("refresh finds a file put there, probed as iso, event REFRESH",
          "dropped.iso" in p2.listVolumes() and ev.wait(("p2", "refresh"))
          and "<format type='iso'/>" in p2.storageVolLookupByName("dropped.iso").XMLDesc(0))
    transient = conn.storagePoolCreateXML(
        "<pool type='dir'><name>t</name><target><path>%s/t</path></target></pool>" % ROOT,
        libvirt.VIR_STORAGE_POOL_CREATE_WITH_BUILD)
    check("a transient pool made and started", transient.isActive() == 1
          and transient.isPersistent() == 0)

    # --- the read-only socket
    ro = libvirt.openReadOnly(URI_RO)
    check("read-only: list and look up",
          len(ro.listAllStoragePools(0)) == 3
          and ro.storagePoolLookupByName("default").storageVolLookupByName("a.qcow2"))
    refused("read-only: creating a volume", lambda: ro.storagePoolLookupByName("p2").createXML(
        "<volume><name>z</name><capacity>1</capacity></volume>", 0), ERR_OPERATION_DENIED)
    ro.close()

    # --- restart: active pools stay active, volumes are found again
    conn.storagePoolEventDeregisterAny(cb1)
    conn.storagePoolEventDeregisterAny(cb2)
    conn.close()
    stop_daemon()
    start_daemon()
    conn = libvirt.open(URI)
    pools = {p.name(): p for p in conn.listAllStoragePools(0)}
    check("after a restart: default, p2 and the transient pool are active",
          sorted(pools) == ["default", "p2", "t"] and all(p.isActive() for p in pools.values()),
          sorted(pools))
    check("... and the volumes are listed again",
          sorted(pools["default"].listVolumes()) == ["a.qcow2", "b.img", "m.qcow2",
                                                     "overlay.qcow2"],
          pools["default"].listVolumes())
    rc, out, err = virsh("pool-destroy", "t")
    check("destroying a transient pool forgets it",
          rc == 0 and "t" not in [p.name() for p in conn.listAllStoragePools(0)], err)
    p2 = pools["p2"]
    refused("delete a pool folder that is not empty", lambda: (p2.destroy(), p2.delete(0)), 38)
    os.unlink(os.path.join(p2dir, "dropped.iso"))
    p2.delete(0)
    p2.undefine()
    check("stop, delete and undefine: folder and definition gone",
          not os.path.exists(p2dir)
          and not os.path.exists(os.path.join(ROOT, "config", "storage", "p2.xml")))
    conn.close()


run(main)
