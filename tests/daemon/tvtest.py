"""Helpers of the tests that drive tagvirtd with Debian's real clients
(python3-libvirt, virsh, virt-install, virt-manager): TAP output, commands,
network namespaces, a tagvirtd under --root (optionally inside a namespace),
and the Linux guest kit of tests/guest in a folder QEMU's user may read.

Every test registers what it makes with cleanup() and ends with finish(),
which undoes it in reverse order and prints the plan."""
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import libvirt

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))

results = []
_cleanups = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s %d - %s%s" % ("ok" if cond else "not ok", len(results), name,
                            "" if cond or not detail else " # " + str(detail).replace("\n", " ")))
    sys.stdout.flush()
    return bool(cond)


def cleanup(fn):
    _cleanups.append(fn)


def refused(name, fn, code, words=()):
    """fn must raise a libvirtError with code whose message has every word."""
    try:
        fn()
        check(name, False, "accepted")
    except libvirt.libvirtError as e:
        check(name, e.get_error_code() == code and all(w in e.get_error_message() for w in words),
              "%d: %s" % (e.get_error_code(), e.get_error_message()))


def need_tools(*tools):
    """A missing tool fails the test (scripts/install-deps.sh installs them)."""
    missing = [t for t in tools if not shutil.which(t) and not os.path.exists("/usr/sbin/" + t)]
    for t in missing:
        check("%s is installed (scripts/install-deps.sh)" % t, False)
    return not missing


def sh(*args, ns=None, check_rc=True, timeout=120, both=False, env=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check_rc and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), (r.stderr or r.stdout).strip()))
    return r.stdout + r.stderr if both else r.stdout


def wait_for(fn, timeout, step=0.5):
    """fn() until it returns something true, or None after timeout s."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v or None
        time.sleep(step)


def netns(name):
    sh("ip", "netns", "add", name)
    cleanup(lambda: subprocess.run(["ip", "netns", "del", name], capture_output=True))
    sh("ip", "link", "set", "lo", "up", ns=name)
    return name


def pids_with(needle):
    """Processes whose command line mentions needle (dnsmasq of a daemon's
    root, QEMU of a test's domain)."""
    pids = []
    for d in glob.glob("/proc/[0-9]*"):
        try:
            with open(d + "/cmdline", "rb") as f:
                args = f.read()
        except OSError:
            continue
        if needle.encode() in args:
            pids.append(int(d[6:]))
    return pids


def private_tmpdir(prefix):
    """A folder QEMU's own user may enter (its parents are /tmp)."""
    d = tempfile.mkdtemp(prefix=prefix)
    os.chmod(d, 0o711)
    cleanup(lambda: shutil.rmtree(d, ignore_errors=True))
    return d


class Daemon:
    """tagvirtd --root in a folder of its own, inside network namespace ns
    (None: the host's); wrap is a command that runs tagvirtd (e.g. unshare
    with a bind mount that hides a tool)."""

    def __init__(self, cache=None, ns=None, conf="", wrap=()):
        self.ns, self.wrap = ns, list(wrap)
        self.root = private_tmpdir("tvd-")
        with open(os.path.join(self.root, "tagvirtd.conf"), "w") as f:
            f.write(conf)
        os.makedirs(self.root + "/cache")
        for f in glob.glob((cache or "/nonexistent") + "/*.xml"):
            shutil.copy(f, self.root + "/cache/")
        self.uri = "qemu+unix:///system?socket=%s/tagvirtd-sock" % self.root
        self.proc = None
        cleanup(self.kill_leftovers)
        cleanup(self.stop)

    def start(self, tagvirtd, timeout=120):
        log = open(os.path.join(self.root, "daemon.out"), "ab")
        self.proc = subprocess.Popen((["ip", "netns", "exec", self.ns] if self.ns else []) +
                                     self.wrap + [tagvirtd, "--root", self.root, "-v"],
                                     stdout=log, stderr=log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                libvirt.open(self.uri).close()
                return libvirt.open(self.uri)
            except libvirt.libvirtError:
                if self.proc.poll() is not None:
                    raise RuntimeError("tagvirtd exited: " + self.log())
                time.sleep(0.2)
        raise RuntimeError("tagvirtd did not answer within %d s" % timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill_leftovers(self):
        """QEMUs and dnsmasqs outlive the daemon by design: the test's go."""
        for pid in pids_with(self.root):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def log(self, tail=3000):
        with open(os.path.join(self.root, "daemon.out"), errors="replace") as f:
            return f.read()[-tail:]

    def virsh(self, *args, timeout=120):
        r = subprocess.run(["virsh", "-c", self.uri] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def virt_install(self, *args, timeout=600):
        r = subprocess.run(["virt-install", "--connect", self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr


def guest_kit(folder):
    """The Linux guest kit (tests/guest: Debian's arm64 kernel, busybox
    initramfs) copied into folder, which QEMU's user may read: (kernel,
    initrd).  Its /init stays up with 'tagvirt.guest=stay' on the kernel
    command line (GUEST* lines on the serial port)."""
    out = sh(os.path.join(SRCDIR, "tests", "guest", "boot.sh"), "--print-paths", timeout=900)
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    kernel, initrd = os.path.join(folder, "vmlinuz"), os.path.join(folder, "initrd.gz")
    shutil.copy(paths["KERNEL"], kernel)
    shutil.copy(paths["INITRAMFS"], initrd)
    for f in (kernel, initrd):
        os.chmod(f, 0o644)
    return kernel, initrd


GUEST_ARGS = "console=ttyAMA0 panic=-1 quiet tagvirt.guest=stay"


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def finish():
    for fn in reversed(_cleanups):
        try:
            fn()
        except Exception:
            pass
    print("1..%d" % len(results))
    sys.exit(0 if results and all(results) else 1)


def run(main):
    try:
        main()
    except Exception:
        check("the test ran to its end", False, traceback.format_exc())
    finish()
