#!/usr/bin/python3
"""A domain's QEMU under tagvirtd's defaults is confined (docs/security.rst):
it runs as tagvirt-qemu, with QEMU's seccomp sandbox (Seccomp 2, no new
privileges, no capabilities), in its own session, in a private mount
namespace with a minimal /dev; its kernel and disk are given to tagvirt-qemu
while it runs and back to their owner (a made-up uid:gid) at stop, also when
two domains share the kernel; a file QEMU's user cannot reach is refused
with the user and the path named; a QEMU stopped with SIGSTOP survives
tagvirtd's exit and is taken over.  The bundled demo guest and the Linux
guest kit (tests/guest/, built or fetched by boot.sh --print-paths) both run
so.  TAP; fails (never skips) when something it needs is missing.

Usage: confinement-test.py TAGVIRTD DEMO_LOOP_ELF SOURCE_DIR [CAPS_CACHE_DIR]"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

results = []


def check(desc, cond, info=""):
    results.append(bool(cond))
    print(("ok %d - %s" if cond else "not ok %d - %s") % (len(results), desc))
    if not cond and info:
        for line in str(info).splitlines()[-30:]:
            print("# " + line)
    sys.stdout.flush()


def bail(msg):
    print("1..1\nnot ok 1 - %s" % msg)
    sys.exit(1)


try:
    import libvirt
except ImportError:
    bail("python3-libvirt is not installed (scripts/install-deps.sh installs it)")
try:
    QEMU_USER = pwd.getpwnam("tagvirt-qemu")
except KeyError:
    bail("the user tagvirt-qemu does not exist (scripts/install-deps.sh creates it)")
if os.geteuid() != 0:
    bail("must run as root: QEMU's user is changed only by a root tagvirtd")

TAGVIRTD, DEMO, SRC = (os.path.abspath(a) for a in sys.argv[1:4])
CACHE = sys.argv[4] if len(sys.argv) > 4 else None
ROOT = tempfile.mkdtemp(prefix="tvsec-")
os.chmod(ROOT, 0o711)
FILES = os.path.join(ROOT, "images")  # reachable by tagvirt-qemu
os.makedirs(FILES)
os.chmod(FILES, 0o711)
PRIVATE = os.path.join(ROOT, "private")  # not reachable
os.makedirs(PRIVATE)
os.chmod(PRIVATE, 0o700)
URI = "qemu+unix:///system?socket=%s/tagvirtd-sock" % ROOT
OWNER = (4321, 4322)  # nobody's: a restored owner cannot be a default
daemon = None
libvirt.registerErrorHandler(lambda *_: None, None)


def start_daemon():
    global daemon
    log = open(ROOT + "/daemon.log", "ab")
    daemon = subprocess.Popen([TAGVIRTD, "--root", ROOT], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and daemon.poll() is None:
        try:
            return libvirt.open(URI)
        except libvirt.libvirtError:
            time.sleep(0.1)
    raise RuntimeError("tagvirtd did not come up: " + open(ROOT + "/daemon.log").read())


def stop_daemon():
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(30)


def own(path, mode=0o644):
    os.chown(path, *OWNER)
    os.chmod(path, mode)


def owner(path):
    st = os.stat(path)
    return (st.st_uid, st.st_gid)


def xml(name, kernel, disk=None, initrd=None, cmdline=None, serial_file=None, memory=128,
        serial_log=None):
    devices = ""
    if disk:
        devices += ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                    "<source file='%s'/><target dev='vda' bus='virtio'/></disk>" % disk)
    log = "<log file='%s' append='off'/>" % serial_log if serial_log else ""
    devices += ("<serial type='file'><source path='%s'/><target port='0'/></serial>" % serial_file
                if serial_file else "<serial type='pty'>%s<target port='0'/></serial>" % log)
    boot = "<kernel>%s</kernel>" % kernel
    if initrd:
        boot += "<initrd>%s</initrd><cmdline>%s</cmdline>" % (initrd, cmdline)
    return f"""<domain type='qemu'><name>{name}</name><memory unit='MiB'>{memory}</memory>
<vcpu>1</vcpu><os><type arch='aarch64' machine='virt'>hvm</type>{boot}</os>
<features><mte version='3'/></features><cpu mode='maximum'/>
<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot>
<devices><controller type='usb' model='none'/>{devices}<memballoon model='none'/></devices>
</domain>"""


def descends_from(pid, ancestor):
    for _ in range(64):
        try:
            with open("/proc/%d/stat" % pid) as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
    return False


def qemu_pid(name):
    """The one QEMU named name of this test's tagvirtd (its descendant:
    tagvirtd is the subreaper of its QEMUs); another run at the same time
    has its own 'demo'."""
    out = subprocess.run(["pgrep", "-f", "guest=%s," % name], capture_output=True, text=True)
    pids = [int(p) for p in out.stdout.split() if daemon and descends_from(int(p), daemon.pid)]
    return pids[0] if len(pids) == 1 else None


def status_fields(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


def confined(desc, pid):
    """The QEMU process pid is confined as the defaults say."""
    ps = subprocess.run(["ps", "-o", "user:32=,group:32=,sid=", "-p", str(pid)], capture_output=True,
                        text=True).stdout.split()
    check("%s: ps shows user and group tagvirt-qemu" % desc,
          ps[:2] == ["tagvirt-qemu", "tagvirt-qemu"], ps)
    check("%s: its own session (sid = pid)" % desc, ps[2:3] == [str(pid)], ps)
    st = status_fields(pid)
    check("%s: seccomp filter on (Seccomp 2), no new privileges, no capabilities" % desc,
          st.get("Seccomp") == "2" and st.get("NoNewPrivs") == "1" and
          st.get("CapEff") == "0000000000000000", st)
    cmdline = open("/proc/%d/cmdline" % pid).read().split("\0")
    want = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
    check("%s: -sandbox %s" % (desc, want), "-sandbox" in cmdline and want in cmdline)
    check("%s: a mount namespace other than tagvirtd's" % desc,
          os.readlink("/proc/%d/ns/mnt" % pid) != os.readlink("/proc/%d/ns/mnt" % daemon.pid))
    dev = sorted(os.listdir("/proc/%d/root/dev" % pid))
    check("%s: a minimal /dev" % desc,
          {"null", "urandom", "ptmx", "pts"} <= set(dev) and "mem" not in dev and
          not any(d.startswith(("sd", "vd", "nvme", "loop", "tty")) for d in dev), dev)


def log_of(name):
    try:
        return open(os.path.join(ROOT, "log", name + ".log")).read()
    except OSError:
        return ""


try:
    conn = start_daemon()
    kernel = os.path.join(FILES, "demo-loop.elf")
    shutil.copy(DEMO, kernel)
    own(kernel, 0o600)
    disk = os.path.join(FILES, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    own(disk, 0o600)

    # --- the demo guest, confined
    dom = conn.defineXML(xml("demo", kernel, disk=disk))
    dom.create()
    pid = qemu_pid("demo")
    check("demo guest: started, one QEMU", pid is not None, log_of("demo"))
    confined("demo guest", pid)
    check("while it runs: kernel and disk belong to tagvirt-qemu",
          owner(kernel) == owner(disk) == (QEMU_USER.pw_uid, QEMU_USER.pw_gid),
          (owner(kernel), owner(disk)))
    time.sleep(1)
    check("demo guest: still running 1 s later",
          dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, log_of("demo"))

    # --- a second domain sharing the kernel: the last one gives it back
    dom2 = conn.defineXML(xml("demo2", kernel))
    dom2.create()
    dom.destroy()
    check("after destroy: the disk is given back to %d:%d" % OWNER, owner(disk) == OWNER,
          owner(disk))
    check("the shared kernel stays tagvirt-qemu's while demo2 runs",
          owner(kernel) == (QEMU_USER.pw_uid, QEMU_USER.pw_gid), owner(kernel))
    dom2.destroy()
    check("after the last destroy: the kernel is given back to %d:%d" % OWNER,
          owner(kernel) == OWNER, owner(kernel))

    # --- Nova's serial <log file>: in a folder QEMU's user cannot write
    # (FILES is root's, 0711), so tagvirtd creates it and gives it for the run
    console_log = os.path.join(FILES, "console.log")
    logged = conn.defineXML(xml("logged", kernel, serial_log=console_log))
    err = None
    try:
        logged.create()
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    check("a pty serial's <log file> in a folder QEMU cannot write: started, the log is "
          "tagvirt-qemu's while it runs",
          err is None and owner(console_log) == (QEMU_USER.pw_uid, QEMU_USER.pw_gid),
          err or owner(console_log))
    if logged.isActive():
        logged.destroy()
    check("after destroy: the serial's log file is given back to root",
          os.path.exists(console_log) and owner(console_log) == (0, 0),
          os.path.exists(console_log) and owner(console_log))
    logged.undefine()

    # --- a file QEMU's user cannot reach
    hidden = os.path.join(PRIVATE, "kernel.elf")
    shutil.copy(DEMO, hidden)
    os.chmod(hidden, 0o644)
    bad = conn.defineXML(xml("unreachable", hidden))
    err = None
    try:
        bad.create()
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    check("a kernel in a 0700 folder: start refused naming the user and the file",
          err and "tagvirt-qemu" in err and hidden in err and "Permission denied" in err, err)
    check("nothing runs and the file's owner is unchanged",
          qemu_pid("unreachable") is None and owner(hidden) == (0, 0), owner(hidden))

    # --- SIGSTOP, daemon exit, take over (finding 7), give back after restart
    dom.create()
    pid = qemu_pid("demo")
    os.kill(pid, signal.SIGSTOP)
    stop_daemon()
    time.sleep(0.5)
    alive = os.path.exists("/proc/%d" % pid) and "Z" not in status_fields(pid).get("State", "Z")
    os.kill(pid, signal.SIGCONT)
    check("a SIGSTOPped QEMU outlives tagvirtd's exit (no SIGHUP)", alive)
    conn = start_daemon()
    dom = conn.lookupByName("demo")
    check("the restarted tagvirtd takes it over",
          dom.isActive() and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING, log_of("demo"))
    dom.destroy()
    check("destroyed after the restart: kernel and disk given back",
          owner(kernel) == owner(disk) == OWNER, (owner(kernel), owner(disk)))

    # --- the Linux guest kit, confined
    paths = subprocess.run([os.path.join(SRC, "tests", "guest", "boot.sh"), "--print-paths"],
                           capture_output=True, text=True, timeout=900)
    kit = dict(line.split("=", 1) for line in paths.stdout.split() if "=" in line)
    if paths.returncode != 0 or "KERNEL" not in kit:
        check("the Linux guest kit is there (tests/guest/boot.sh --print-paths)", False,
              paths.stderr)
    else:
        lk, li = os.path.join(FILES, "vmlinuz"), os.path.join(FILES, "initrd.gz")
        shutil.copy(kit["KERNEL"], lk)
        shutil.copy(kit["INITRAMFS"], li)
        own(lk)
        own(li)
        serial = os.path.join(FILES, "linux.serial")
        linux = conn.defineXML(xml("linux", lk, initrd=li, serial_file=serial, memory=512,
                                   cmdline="console=ttyAMA0 panic=-1 quiet"))
        linux.create()
        pid = qemu_pid("linux")
        confined("Linux guest", pid)
        deadline = time.monotonic() + 240
        out = ""
        while time.monotonic() < deadline and "MTETEST result=" not in out:
            time.sleep(1)
            out = open(serial, errors="replace").read()
        check("the Linux guest boots and passes its MTE test at level 3 under the sandbox",
              "MTETEST result=PASS level=3" in out, out[-3000:] + log_of("linux"))
        if linux.isActive():
            linux.destroy()
        check("Linux guest: kernel and initramfs given back", owner(lk) == owner(li) == OWNER,
              (owner(lk), owner(li)))
except Exception as e:  # a broken step is a failure, with what led to it
    import traceback
    check("no unexpected error", False, traceback.format_exc() + "\n" +
          open(ROOT + "/daemon.log", errors="replace").read()[-2000:])
finally:
    if daemon and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    for p in subprocess.run(["pgrep", "-f", ROOT], capture_output=True,
                            text=True).stdout.split():
        try:
            os.kill(int(p), signal.SIGKILL)
        except OSError:
            pass
    shutil.rmtree(ROOT, ignore_errors=True)

print("1..%d" % len(results))
sys.exit(0 if all(results) else 1)
