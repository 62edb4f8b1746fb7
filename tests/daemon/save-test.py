#!/usr/bin/python3
"""Managed save, save and restore (docs/migration.rst, "Save and restore")
with Debian's virsh and python3-libvirt against tagvirtd, on the looping
demo guest with MTE 3 (firmware/demo-loop.elf: it checks the tags of a
64 KiB buffer every 500 ms and numbers its checks, so a restored guest goes
on from the number it stopped at, with its tags intact, instead of booting
again).

What it checks: virsh managedsave / dominfo / domstate --reason / start
(restores and removes the image) / start --force-boot / undefine (refused,
then --managed-save); virsh save FILE / save-image-dumpxml / restore FILE
(also --paused and --xml); python3-libvirt's managedSave, saveFlags,
restoreFlags, saveImageGetXMLDesc, saveImageDefineXML, managedSaveGetXMLDesc,
managedSaveRemove, listAllDomains' managed-save filter; refusals that leave
no QEMU and the image as it was: a corrupt, a truncated and a foreign file,
a definition for QEMU 11.1 (which cannot give MTE 3), and a daemon whose
emulator is QEMU 11.1 restoring a level-3 image and an MTE-off image saved
on the system QEMU (10.0); a failed save (a missing folder; a full tmpfs
that QEMU's write fails on) leaves the guest running in the same QEMU, no
file, and no descriptor of the removed file in QEMU; a restored QEMU keeps
no descriptor of its image.  TAP.

Usage: save-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
QEMU_CACHE, QEMU_111 = tvtest.QEMU_CACHE, tvtest.QEMU_111
T = tvtest.Tap()

SAVE_RUNNING, SAVE_PAUSED = 2, 4
LIST_MANAGEDSAVE, LIST_NO_MANAGEDSAVE = 256, 512


virsh = tvtest.virsh_at
error_of = tvtest.error_of


def domain_xml(name, mte, serial, emulator=True):
    emu = "<emulator>/usr/bin/qemu-system-aarch64</emulator>" if emulator else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <features>{mte}</features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices>{emu}<controller type='usb' model='none'/><memballoon model='none'/>
    <serial type='file'><source path='{serial}'/></serial>
  </devices>
</domain>
"""


def checks(serial):
    """the check numbers the guest printed to its serial file so far, and
    whether it printed its boot banner"""
    try:
        text = open(serial, errors="replace").read()
    except OSError:
        return [], False
    nums = [int(n) for n in re.findall(r"tags intact \(check (\d+)\)", text)]
    bad = "FAIL" in text
    return nums, ("done level=" in text) or bad


def wait_checks(serial, count=2, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        nums, banner = checks(serial)
        if len(nums) >= count:
            return nums, banner
        time.sleep(0.2)
    return checks(serial)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def state(uri, name):
    return virsh(uri, "domstate", "--reason", name)[1]


def leftovers(folder):
    return [f for f in os.listdir(folder) if re.search(r"\.(img|save)\.[A-Za-z0-9]{6}$", f)]


def open_files_of(pids, dev, ino=None):
    """the descriptors of the processes pids open on a file of device dev
    (and inode ino when given): "PID/fd/N -> TARGET" """
    found = []
    for pid in pids:
        for fd in glob.glob("/proc/%d/fd/*" % pid):
            try:
                st = os.stat(fd)
                target = os.readlink(fd)
            except OSError:
                continue
            if st.st_dev == dev and (ino is None or st.st_ino == ino):
                found.append("%s -> %s" % (fd[6:], target))
    return found


def failed_save_into_full_folder(d, uri, root, pid):
    """QEMU (10.0: file:/dev/fdset/N) fails to write a save into a full
    tmpfs: the guest runs on, no file, and QEMU holds no descriptor of the
    deleted temporary file (its add-fd set is removed)."""
    full = root + "/full"
    os.makedirs(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", full],
                   check=True)
    try:
        dev = os.stat(full).st_dev
        rc, out = virsh(uri, "save", "saved", full + "/x.img")
        T.check("virsh save into a full folder fails with QEMU's error",
                rc != 0 and "save of domain 'saved' failed" in out, out)
        T.note(out)
        # paused for the save, then running again: libvirt's reason
        T.check("... the guest runs on in the same QEMU (running (save canceled)), no file left",
                state(uri, "saved") == "running (save canceled)" and d.qemus() == pid and
                os.listdir(full) == [], (state(uri, "saved"), pid, d.qemus(), os.listdir(full)))
        held = open_files_of(pid, dev)
        T.check("... QEMU holds no descriptor of the removed temporary file (its fd set is gone)",
                not held, held)
    finally:
        subprocess.run(["umount", "-l", full])


def seed_caps(daemon):
    os.makedirs(daemon.root + "/cache", exist_ok=True)
    for f in glob.glob(QEMU_CACHE + "/capabilities/*.xml"):
        shutil.copy(f, daemon.root + "/cache/")


def managed_save(d, conn):
    uri, root = d.uri, d.root
    serial = root + "/demo.serial"
    dom = conn.defineXML(domain_xml("demo", "<mte version='3'/>", serial))
    dom.create()
    nums, banner = wait_checks(serial)
    T.check("the demo guest runs with MTE 3 and checks its tags", len(nums) >= 2 and banner,
            open(serial, errors="replace").read() if os.path.exists(serial) else "no serial")

    t0 = time.monotonic()
    rc, out = virsh(uri, "managedsave", "demo")
    T.check("virsh managedsave", rc == 0, out)
    T.note("managedsave of a 128 MiB guest: %.2f s" % (time.monotonic() - t0))
    image = root + "/save/demo.save"
    T.check("... the image is SAVE_DIR/demo.save, no temporary file beside it",
            os.path.exists(image) and not leftovers(root + "/save"), os.listdir(root + "/save"))
    T.check("... no QEMU of this daemon is left", d.qemus() == [], d.qemus())
    T.check("... domstate --reason: shut off (saved)", state(uri, "demo") == "shut off (saved)",
            state(uri, "demo"))
    rc, out = virsh(uri, "dominfo", "demo")
    T.check("... virsh dominfo: Managed save: yes", re.search(r"Managed save:\s+yes", out), out)
    T.check("... hasManagedSaveImage() is 1", dom.hasManagedSaveImage() == 1)
    names = [x.name() for x in conn.listAllDomains(LIST_MANAGEDSAVE)]
    others = [x.name() for x in conn.listAllDomains(LIST_NO_MANAGEDSAVE)]
    T.check("... listAllDomains: in the managed-save filter, not in the other",
            names == ["demo"] and "demo" not in others, (names, others))
    rc, out = virsh(uri, "managedsave-dumpxml", "demo")
    T.check("... managedsave-dumpxml: the level as a number", rc == 0 and
            "<mte version='3'/>" in out, out[:400])
    before, _ = checks(serial)

    rc, out = virsh(uri, "undefine", "demo")
    T.check("virsh undefine is refused while the image exists",
            rc != 0 and "managed save image exists" in out, out)
    T.note(out)
    err = error_of(dom.undefine)
    T.check("... and by tagvirtd itself (python undefine())", err and err[0] == 55 and
            "while its managed save image exists" in err[1], err)
    T.note(err)
    T.check("... the domain is still defined, the image still there",
            "demo" in [x.name() for x in conn.listAllDomains()] and os.path.exists(image))

    t0 = time.monotonic()
    rc, out = virsh(uri, "start", "demo")
    T.check("virsh start restores it", rc == 0, out)
    T.note("start from the managed save image: %.2f s" % (time.monotonic() - t0))
    T.check("... domstate --reason: running (restored)",
            state(uri, "demo") == "running (restored)", state(uri, "demo"))
    T.check("... the image is removed, Managed save: no", not os.path.exists(image) and
            re.search(r"Managed save:\s+no", virsh(uri, "dominfo", "demo")[1]))
    after, banner = wait_checks(serial)
    T.check("... the guest goes on counting where it stopped, tags intact, no new boot",
            before and after and after[0] == before[-1] + 1 and not banner,
            "before %s after %s banner %s" % (before[-3:], after[:3], banner))

    # start --force-boot discards the image
    rc, out = virsh(uri, "managedsave", "demo")
    rc2, out2 = virsh(uri, "start", "--force-boot", "demo")
    nums, banner = wait_checks(serial, 1)
    T.check("virsh start --force-boot: the image is discarded and the guest boots",
            rc == 0 and rc2 == 0 and not os.path.exists(image) and banner and
            state(uri, "demo") == "running (booted)", (out, out2, nums, state(uri, "demo")))

    # python3-libvirt: managedSave, the image's XML, remove
    dom = conn.lookupByName("demo")
    dom.managedSave(0)
    xml = dom.managedSaveGetXMLDesc(0)
    T.check("python: managedSave and managedSaveGetXMLDesc", "<mte version='3'/>" in xml and
            dom.info()[0] == libvirt.VIR_DOMAIN_SHUTOFF, xml[:300])
    dom.managedSaveDefineXML(xml.replace("</domain>", "<description>edited</description>"
                                         "</domain>"), SAVE_PAUSED)
    T.check("python: managedSaveDefineXML changes what the image holds",
            "<description>edited</description>" in dom.managedSaveGetXMLDesc(0))
    err = error_of(dom.managedSaveDefineXML,
                   xml.replace("<mte version='3'/>", "<mte version='2'/>"), 0)
    T.check("... a definition with another MTE level is refused by the ABI check",
            err and err[0] == 67 and "MTE version 2 does not match source 3" in err[1], err)
    dom.create()
    T.check("... the image said paused: start leaves the guest paused",
            dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED, dom.state())
    dom.resume()
    dom.managedSave(0)
    dom.managedSaveRemove(0)
    T.check("python: managedSaveRemove", dom.hasManagedSaveImage(0) == 0 and
            not os.path.exists(image))
    dom.create()
    rc, out = virsh(uri, "managedsave", "demo")
    rc, out = virsh(uri, "undefine", "--managed-save", "demo")
    T.check("virsh undefine --managed-save removes definition and image",
            rc == 0 and not os.path.exists(image) and
            "demo" not in [x.name() for x in conn.listAllDomains()], out)


def save_restore(d, conn, d111):
    uri, root = d.uri, d.root
    serial = root + "/save.serial"
    dom = conn.defineXML(domain_xml("saved", "<mte version='3'/>", serial))
    dom.create()
    wait_checks(serial)
    pid = d.qemus()

    # a failed save: nothing changes
    rc, out = virsh(uri, "save", "saved", root + "/no-such-folder/x.img")
    T.check("virsh save into a missing folder fails", rc != 0 and "cannot create" in out, out)
    T.check("... the guest runs on in the same QEMU, no file",
            state(uri, "saved") == "running (booted)" and d.qemus() == pid and
            not os.path.exists(root + "/no-such-folder"), (state(uri, "saved"), pid, d.qemus()))
    failed_save_into_full_folder(d, uri, root, pid)
    other = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE).replace("<mte version='3'/>",
                                                                   "<mte version='2'/>")
    err = error_of(dom.saveFlags, root + "/x.img", other, 0)
    T.check("python saveFlags with a definition of another level is refused, guest runs on",
            err and "MTE version 2 does not match source 3" in err[1] and
            dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and d.qemus() == pid and
            not os.path.exists(root + "/x.img"), err)
    T.check("... flags running|paused together are refused",
            error_of(dom.saveFlags, root + "/x.img", None, SAVE_RUNNING | SAVE_PAUSED)[0] == 8)

    image = root + "/saved.img"
    rc, out = virsh(uri, "save", "saved", image)
    T.check("virsh save FILE", rc == 0 and os.path.exists(image) and d.qemus() == [] and
            state(uri, "saved") == "shut off (saved)", (out, state(uri, "saved")))
    T.check("... no temporary file beside it", not leftovers(root), leftovers(root))
    T.check("... not a managed save image", dom.hasManagedSaveImage(0) == 0)
    rc, out = virsh(uri, "save-image-dumpxml", image)
    T.check("virsh save-image-dumpxml", rc == 0 and "<name>saved</name>" in out and
            "<mte version='3'/>" in out, out[:400])
    before, _ = checks(serial)
    digest = sha(image)

    # refusals: nothing started, the image as it was
    bad = root + "/corrupt.img"
    shutil.copy(image, bad)
    with open(bad, "r+b") as f:
        f.seek(os.path.getsize(bad) - 5000)
        f.write(b"garbage!")
    rc, out = virsh(uri, "restore", bad)
    T.check("virsh restore of a corrupt image is refused", rc != 0 and
            "does not match its SHA-256 (the file is corrupt)" in out, out)
    T.note(out)
    short = root + "/short.img"
    shutil.copy(image, short)
    os.truncate(short, os.path.getsize(image) // 2)
    rc, out = virsh(uri, "restore", short)
    T.check("... a truncated one", rc != 0 and "(truncated or changed)" in out, out)
    T.note(out)
    rc, out = virsh(uri, "restore", KERNEL)
    T.check("... a file that is no save image", rc != 0 and
            "not a tagvirt save image" in out, out)
    T.note(out)
    xml111 = virsh(uri, "save-image-dumpxml", image)[1].replace(
        "/usr/bin/qemu-system-aarch64", QEMU_111)
    with open(root + "/111.xml", "w") as f:
        f.write(xml111)
    t0 = time.monotonic()
    rc, out = virsh(uri, "restore", image, "--xml", root + "/111.xml")
    T.check("... restore --xml onto QEMU 11.1 (whose max is level 4): the start's own refusal",
            rc != 0 and "restore refused: MTE version 3 is not available with CPU model 'max' "
            "(it provides level 4)" in out, out)
    T.note(out)
    T.note("refusal: %.2f s" % (time.monotonic() - t0))
    T.check("... after every refusal: no QEMU, the domain shut off, the image unchanged",
            d.qemus() == [] and state(uri, "saved") == "shut off (saved)" and
            sha(image) == digest, (d.qemus(), state(uri, "saved")))

    rc, out = virsh(uri, "restore", "--paused", image)
    T.check("virsh restore --paused", rc == 0 and state(uri, "saved").startswith("paused"),
            (out, state(uri, "saved")))
    T.check("... into the persistent domain (one definition)", dom.isPersistent() == 1 and
            [x.name() for x in conn.listAllDomains()].count("saved") == 1)
    st = os.stat(image)
    held = open_files_of(d.qemus(), st.st_dev, st.st_ino)
    T.check("... the restored QEMU holds no descriptor of the image (its fd set is removed)",
            not held, held)
    virsh(uri, "resume", "saved")
    after, banner = wait_checks(serial)
    T.check("... resumed, the guest goes on counting where it stopped, tags intact",
            before and after and after[0] == before[-1] + 1 and not banner,
            "before %s after %s" % (before[-3:], after[:3]))
    T.check("... the image stays (it is the caller's file)", sha(image) == digest)

    # python: saveFlags with a definition, saveImageDefineXML, restoreFlags
    dom = conn.lookupByName("saved")
    dxml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    dom.saveFlags(image, dxml.replace("</domain>", "<title>t1</title></domain>"), SAVE_PAUSED)
    x = conn.saveImageGetXMLDesc(image, 0)
    T.check("python saveFlags(dxml, paused) and saveImageGetXMLDesc",
            "<title>t1</title>" in x, x[:400])
    conn.saveImageDefineXML(image, x.replace("<title>t1</title>", "<title>t2</title>"),
                            SAVE_RUNNING)
    T.check("python saveImageDefineXML", "<title>t2</title>" in conn.saveImageGetXMLDesc(image, 0))
    seen = []
    cb = conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, ev, det, o: seen.append((ev, det)) if d.name() == "saved" else None, None)
    conn.restoreFlags(image, None, 0)
    T.check("python restoreFlags: the image said running", dom.state()[0] ==
            libvirt.VIR_DOMAIN_RUNNING, dom.state())
    # as libvirt: started (restored), then resumed "from snapshot" (the
    # detail of the running reason 'restored'); no suspended event between
    want = [(libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_RESTORED),
            (libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT)]
    tvtest.wait_for(lambda: len(seen) >= len(want), 15)
    T.check("... lifecycle events: started (restored), resumed (from snapshot)", seen == want,
            "seen %s, want %s" % (seen, want))
    dom.destroy()
    dom.undefine()
    del seen[:]
    conn.restoreFlags(image, None, SAVE_PAUSED)
    dom = conn.lookupByName("saved")
    T.check("python restoreFlags(paused) of an undefined guest: a transient domain, paused",
            dom.isPersistent() == 0 and dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED,
            (dom.isPersistent(), dom.state()))
    want = [(libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_RESTORED),
            (libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)]
    tvtest.wait_for(lambda: len(seen) >= len(want), 15)
    T.check("... lifecycle events: started (restored), suspended (paused)", seen == want,
            "seen %s, want %s" % (seen, want))
    conn.domainEventDeregisterAny(cb)
    dom.destroy()

    # a daemon whose emulator is QEMU 11.1 restores nothing saved on 10.0
    c111 = libvirt.open(d111.uri)
    for desc, mte, want in [
            ("MTE 3", "<mte version='3'/>",
             "restore refused: MTE version 3 is not available with CPU model 'max' (it "
             "provides level 4)"),
            ("MTE off", "",
             "guest ABI: ID_AA64PFR1_EL1.MTEX differs: saved image 0, host 1")]:
        name = "nomte" if not mte else "mte3"
        xml = domain_xml(name, mte, root + "/%s.serial" % name)
        dom = conn.defineXML(xml)
        dom.create()
        wait_checks(root + "/%s.serial" % name, 1)
        path = root + "/%s.img" % name
        # the image's definition names no emulator: the restoring daemon's default is used
        dxml = re.sub(r"\s*<emulator>[^<]*</emulator>", "",
                      dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE))
        dom.saveFlags(path, dxml, 0)
        T.check("... saved with a definition that names no emulator",
                "<emulator>" not in conn.saveImageGetXMLDesc(path, 0))
        digest = sha(path)
        rc, out = virsh(d111.uri, "restore", path)
        T.check("a daemon on QEMU 11.1 refuses an image of a %s guest saved on 10.0" % desc,
                rc != 0 and want in out, out)
        T.note(out)
        T.check("... no QEMU there, no domain, the image unchanged",
                d111.qemus() == [] and c111.listAllDomains() == [] and sha(path) == digest,
                (d111.qemus(), [x.name() for x in c111.listAllDomains()]))
    c111.close()


def main():
    if not T.check("QEMU 11.1 is there (scripts/test-qemus.sh)",
                   subprocess.run([QEMU_111, "--version"], capture_output=True).returncode == 0,
                   QEMU_111):
        return
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvsave-")
    seed_caps(d)
    d.start(timeout=240)
    d111 = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvsave111-",
                           conf='emulator = "%s"\n' % QEMU_111)
    seed_caps(d111)
    daemons = [d]
    tvtest.event_loop()  # before the first connection: lifecycle events of restores
    try:
        d111.start(timeout=240)
        daemons.append(d111)
        conn = libvirt.open(d.uri)
        managed_save(d, conn)
        save_restore(d, conn, d111)
        # a restart keeps the managed save and says why the domain is off
        serial = d.root + "/restart.serial"
        dom = conn.defineXML(domain_xml("restart", "<mte version='3'/>", serial))
        dom.create()
        wait_checks(serial, 1)
        dom.managedSave(0)
        conn.close()
        d.stop()
        d.start()
        T.check("after a daemon restart: shut off (saved), Managed save: yes",
                state(d.uri, "restart") == "shut off (saved)" and
                re.search(r"Managed save:\s+yes", virsh(d.uri, "dominfo", "restart")[1]),
                state(d.uri, "restart"))
        rc, out = virsh(d.uri, "start", "restart")
        T.check("... and start restores it", rc == 0 and
                state(d.uri, "restart") == "running (restored)", out)
        virsh(d.uri, "destroy", "restart")
    except Exception:
        T.check("no exception", False, traceback.format_exc() + "\n" + d.log())
    finally:
        for x in [d, d111]:
            x.cleanup()


main()
sys.exit(T.finish())
