"""The one helper module of the python tests that drive tagvirtd with
Debian's real clients (python3-libvirt, virsh, virt-install, virt-manager).

- TAP: check(), note(), refused(), error_of(); a test registers what it
  makes with cleanup() and ends with finish() (or run(main)), which undoes it
  in reverse order and prints the plan.  Tap is the same as an object
  (T.check(...), sys.exit(T.finish())).
- Commands: sh(), virsh_at(), wait_for(), network namespaces, pids_with(),
  qemu_pids_of().
- Daemon: one tagvirtd under its own --root (optionally inside a network
  namespace, with --listen), and everything it started killed with the test.
- TLS: Pki (a CA and certificates made with GnuTLS's certtool), dn_of(),
  free_port().
- Guests: guest_kit() (the Linux guest kit of tests/guest), elf_with_data()
  (the looping demo guest with random data in its RAM).
- libvirt's error and flag numbers the tests compare with.

Run with Debian's /usr/bin/python3 (python3-libvirt)."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import libvirt
except ImportError:
    print("1..1\nnot ok 1 - python3-libvirt is not installed (scripts/install-deps.sh)")
    sys.exit(1)

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(os.path.dirname(HERE))
QEMU_CACHE = os.environ.get("TAGVIRT_QEMU_CACHE", os.path.expanduser("~/.cache/tagvirt"))
QEMU_111 = os.environ.get("TAGVIRT_QEMU_111", QEMU_CACHE + "/qemu-sid/bin/qemu-system-aarch64")

# libvirt's numbers (virErrorNumber, virDomainMigrateFlags)
ERR_INVALID_ARG, ERR_OPERATION_INVALID, ERR_CONFIG_UNSUPPORTED = 8, 55, 67
ERR_ARGUMENT_UNSUPPORTED, ERR_OPERATION_ABORTED, ERR_OPERATION_UNSUPPORTED = 74, 78, 84
MIGRATE_LIVE, MIGRATE_PEER2PEER, MIGRATE_TUNNELLED, MIGRATE_PERSIST_DEST = 1, 2, 4, 8
MIGRATE_UNDEFINE_SOURCE = 16
NOVA_FLAGS = MIGRATE_LIVE | MIGRATE_PEER2PEER | MIGRATE_PERSIST_DEST | MIGRATE_UNDEFINE_SOURCE


def _quiet(*args):
    pass


libvirt.registerErrorHandler(_quiet, None)  # errors are checked, not printed

results = []
_cleanups = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), name))
    if not cond:
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()
    return bool(cond)


def note(text):
    for line in str(text).splitlines():
        print("# " + line)
    sys.stdout.flush()


def cleanup(fn):
    _cleanups.append(fn)


def error_of(call, *args):
    """(code, message) of the libvirtError call(*args) raises, or None."""
    try:
        call(*args)
    except libvirt.libvirtError as e:
        return e.get_error_code(), e.get_error_message()
    return None


def refused(name, fn, code, words=()):
    """fn must raise a libvirtError with code whose message has every word."""
    err = error_of(fn)
    check(name, err is not None and err[0] == code and all(w in err[1] for w in words),
          "accepted" if err is None else "%d: %s" % err)


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
    """One tagvirtd under its own --root: a new folder QEMU's user may enter
    (removed with the test) unless root is given, with the seed capabilities
    of cache and tagvirtd.conf holding conf; inside network namespace ns
    (None: the host's), with --listen when asked; wrap is a command that runs
    tagvirtd (e.g. unshare with a bind mount that hides a tool).  The daemon
    and every process whose command line names its root (QEMUs, dnsmasq:
    they outlive their daemon by design) are killed at finish()."""

    def __init__(self, cache=None, ns=None, conf="", wrap=(), tagvirtd=None, listen=False,
                 prefix="tvd-", root=None, verbose=True):
        self.cache, self.ns, self.conf, self.wrap = cache, ns, conf, list(wrap)
        self.tagvirtd, self.listen, self.verbose = tagvirtd, listen, verbose
        if root:
            self.root = root
            os.makedirs(root, exist_ok=True)
        else:
            self.root = private_tmpdir(prefix)
        self.sock, self.sock_ro = self.root + "/tagvirtd-sock", self.root + "/tagvirtd-sock-ro"
        self.uri = "qemu+unix:///system?socket=" + self.sock
        self.uri_ro = "qemu+unix:///system?socket=" + self.sock_ro
        self.proc = None
        cleanup(self.log_if_failed)
        cleanup(self.kill_leftovers)
        cleanup(self.stop)

    def start(self, tagvirtd=None, timeout=120, expect_fail=False):
        """Starts it and returns an open connection once it answers; with
        expect_fail, its exit status (None if it still runs after timeout)."""
        with open(os.path.join(self.root, "tagvirtd.conf"), "w") as f:
            f.write(self.conf)
        os.makedirs(self.root + "/cache", exist_ok=True)
        for f in glob.glob((self.cache or "/nonexistent") + "/*.xml"):
            if not os.path.exists(self.root + "/cache/" + os.path.basename(f)):
                shutil.copy(f, self.root + "/cache/")
        cmd = self.wrap + [tagvirtd or self.tagvirtd, "--root", self.root]
        if self.verbose:
            cmd.append("-v")
        if self.listen:
            cmd.append("--listen")
        if self.ns:
            cmd = ["ip", "netns", "exec", self.ns] + cmd
        with open(os.path.join(self.root, "daemon.log"), "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        if expect_fail:
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                libvirt.open(self.uri).close()
                return libvirt.open(self.uri)
            except libvirt.libvirtError:
                if self.proc.poll() is not None:
                    raise RuntimeError("tagvirtd exited: " + self.log())
                time.sleep(0.2)
        raise RuntimeError("tagvirtd did not answer within %d s: %s" % (timeout, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def qemus(self):
        """pids of the QEMUs this daemon started: their command line names
        its root, or they hold a file under it open (a guest whose files all
        live elsewhere: the daemon passes monitor and log as descriptors)."""
        found = []
        mine = self.root + "/"
        for pid in pids_with("qemu-system-aarch64"):
            if mine in read_text("/proc/%d/cmdline" % pid):
                found.append(pid)
                continue
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)).startswith(mine):
                        found.append(pid)
                        break
                except OSError:
                    pass
        return found

    def kill_leftovers(self):
        for pid in set(pids_with(self.root)) | set(self.qemus()):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def cleanup(self):
        """Now rather than at finish(): the daemon, what it started, its root."""
        self.stop(signal.SIGKILL)
        self.kill_leftovers()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_if_failed(self):
        if not all(results):
            note("the end of %s/daemon.log:\n%s" % (self.root, self.log()))

    def log(self, tail=3000):
        """The end of daemon.log (all of it with tail=None)."""
        text = read_text(os.path.join(self.root, "daemon.log"))
        return text if tail is None else text[-tail:]

    def virsh(self, *args, timeout=120):
        r = subprocess.run(["virsh", "-c", self.uri] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        return r.returncode, r.stdout, r.stderr

    def virt_install(self, *args, timeout=600):
        r = subprocess.run(["virt-install", "--connect", self.uri] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr


def virsh_at(uri, *args, timeout=240):
    """virsh -q -c uri ARGS: (exit status, stdout and stderr stripped)."""
    p = subprocess.run(["timeout", str(timeout), "virsh", "-q", "-c", uri] + list(args),
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def qemu_pids_of(uuid):
    """pids of the QEMUs started for this domain uuid (their -uuid)"""
    found = []
    for pid in pids_with(uuid):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                cmd = f.read().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0].endswith(b"qemu-system-aarch64") and uuid.encode() in cmd:
            found.append(pid)
    return found

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


def generic_kit(folder):
    """The kit of tests/guest/build-9p-kit.sh (Debian's generic arm64
    kernel: 9p and i6300esb, which the cloud kernel lacks) copied into
    folder, which QEMU's user may read: (kernel, initrd).  Modes
    'tagvirt.guest=9p' and 'tagvirt.guest=watchdog' of /init."""
    out = sh(os.path.join(SRCDIR, "tests", "guest", "build-9p-kit.sh"), "--print-paths",
             timeout=900)
    paths = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    kernel, initrd = os.path.join(folder, "vmlinuz-generic"), os.path.join(folder, "initrd-generic.gz")
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


def looping_guest_xml(name, kernel, console):
    """The looping MTE 3 guest (128 MiB, CPU max) with its console in the
    file console: what the migration tests move and watch count."""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
  <features><mte version='3'/></features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices><controller type='usb' model='none'/><memballoon model='none'/>
    <serial type='file'><source path='{console}'/></serial></devices>
</domain>
"""


def elf_with_data(src, out, nbytes, addr=0x42000000, seed=None):
    """A copy of the ELF kernel src with one more loadable segment: nbytes of
    random data at guest physical address addr (QEMU's loader puts it in the
    guest's RAM), so that a migration of the guest copies real data, not only
    zero pages.  The guest itself never looks at it."""
    import random
    import struct
    data = open(src, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "an ELF64 LE kernel"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize))
             for i in range(phnum)]
    rnd = random.Random(seed).randbytes(nbytes) if seed is not None else os.urandom(nbytes)
    phdrs.append([1, 6, 0, addr, addr, nbytes, nbytes, 0x1000])  # PT_LOAD, RW
    align = 0x10000
    pos = (64 + len(phdrs) * 56 + align - 1) // align * align
    body = []
    for ph, chunk in zip(phdrs, [None] * (len(phdrs) - 1) + [rnd]):
        if ph[0] != 1:
            continue
        if chunk is None:
            chunk = data[ph[2]:ph[2] + ph[5]]
        ph[2] = pos
        body.append((pos, chunk))
        pos = (pos + len(chunk) + align - 1) // align * align
    ehdr = bytearray(data[:64])
    struct.pack_into("<Q", ehdr, 0x20, 64)       # e_phoff
    struct.pack_into("<Q", ehdr, 0x28, 0)        # e_shoff: no sections
    struct.pack_into("<HHHHH", ehdr, 0x36, 56, len(phdrs), 64, 0, 0)
    with open(out, "wb") as f:
        f.write(ehdr)
        for ph in phdrs:
            f.write(struct.pack("<IIQQQQQQ", *ph))
        for off, chunk in body:
            f.seek(off)
            f.write(chunk)
    os.chmod(out, 0o644)
    return out



def free_port(host="127.0.0.1", netns=None):
    """A TCP port nobody listens on right now (in netns when given)."""
    if netns:
        out = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c",
                              "import socket; s = socket.socket(); s.bind(('%s', 0)); "
                              "print(s.getsockname()[1])" % host],
                             capture_output=True, text=True, check=True)
        return int(out.stdout.strip())
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def certtool(cwd, args, template=None):
    cmd = ["certtool"] + args
    if template is not None:
        path = os.path.join(cwd, "template.cfg")
        with open(path, "w") as f:
            f.write(template)
        cmd += ["--template", path]
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


class Pki:
    """A CA and certificates signed by it, made with certtool in one folder.
    pkipath(name) lays out a client's folder as libvirt's ?pkipath= expects
    (cacert.pem, clientcert.pem, clientkey.pem) and server_dir(name) a
    tagvirtd --root's DIR/pki (cacert.pem, servercert.pem, serverkey.pem)."""

    def __init__(self, top, ca_name="ca", cn="tagvirt test CA"):
        self.top = top
        self.dir = os.path.join(top, ca_name)
        os.makedirs(self.dir, exist_ok=True)
        self.ca = ca_name
        self._key("ca")
        certtool(self.dir, ["--generate-self-signed", "--load-privkey", "cakey.pem",
                            "--outfile", "cacert.pem"],
                 "cn = %s\nca\ncert_signing_key\nexpiration_days = 30\n" % cn)

    def _key(self, name):
        certtool(self.dir, ["--generate-privkey", "--outfile", name + "key.pem"])

    def _sign(self, name, template):
        self._key(name)
        certtool(self.dir, ["--generate-certificate", "--load-privkey", name + "key.pem",
                            "--load-ca-certificate", "cacert.pem", "--load-ca-privkey",
                            "cakey.pem", "--outfile", name + "cert.pem"], template)

    def server(self, name, hosts):
        """A server certificate for the host names and addresses in hosts."""
        lines = ["organization = tagvirt", "cn = %s" % hosts[0], "tls_www_server",
                 "encryption_key", "signing_key", "expiration_days = 30"]
        for h in hosts:
            is_ip = all(c.isdigit() or c in ".:" for c in h)
            lines.append(("ip_address = %s" if is_ip else "dns_name = %s") % h)
        self._sign(name, "\n".join(lines) + "\n")

    def client(self, name, cn, expired=False):
        lines = ["organization = tagvirt", "cn = %s" % cn, "tls_www_client",
                 "encryption_key", "signing_key"]
        if expired:
            lines += ['activation_date = "2020-01-01 00:00:00 UTC"',
                      'expiration_date = "2020-02-01 00:00:00 UTC"']
        else:
            lines.append("expiration_days = 30")
        self._sign(name, "\n".join(lines) + "\n")

    def _copy(self, dest, pairs):
        os.makedirs(dest, exist_ok=True)
        for src, dst in pairs:
            shutil.copy(os.path.join(self.dir, src), os.path.join(dest, dst))
        return dest

    def server_dir(self, name, dest):
        return self._copy(dest, [("cacert.pem", "cacert.pem"), (name + "cert.pem", "servercert.pem"),
                                 (name + "key.pem", "serverkey.pem")])

    def client_dir(self, name, dest, ca=None):
        """ca: another Pki whose CA the client trusts (default this one)."""
        self._copy(dest, [(name + "cert.pem", "clientcert.pem"),
                          (name + "key.pem", "clientkey.pem")])
        shutil.copy(os.path.join((ca or self).dir, "cacert.pem"), os.path.join(dest, "cacert.pem"))
        return dest

    def qemu_dir(self, server, client, dest):
        """A host's migrate_tls_x509_cert_dir (QEMU's own migration stream,
        --tls) under libvirt's names, the private keys 0600 root."""
        os.makedirs(dest, exist_ok=True)
        for src, name in (("cacert.pem", "ca-cert.pem"), (server + "cert.pem", "server-cert.pem"),
                          (server + "key.pem", "server-key.pem"),
                          (client + "cert.pem", "client-cert.pem"),
                          (client + "key.pem", "client-key.pem")):
            path = os.path.join(dest, name)
            shutil.copy(os.path.join(self.dir, src), path)
            os.chown(path, 0, 0)
            os.chmod(path, 0o600 if "key" in name else 0o644)
        return dest

    def add_client_to(self, name, dest):
        """A --root's pki folder also gets a client certificate: the daemon
        uses it when it connects to another one (peer-to-peer migration)."""
        return self._copy(dest, [(name + "cert.pem", "clientcert.pem"),
                                 (name + "key.pem", "clientkey.pem")])


def dn_of(pki, name):
    out = subprocess.run(["certtool", "--certificate-info", "--infile",
                          os.path.join(pki.dir, name + "cert.pem")],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Subject:"):
            return line.split(":", 1)[1].strip()
    return None



def _undo():
    while _cleanups:
        try:
            _cleanups.pop()()
        except Exception:
            pass


def finish():
    _undo()
    print("1..%d" % len(results))
    sys.exit(0 if results and all(results) else 1)


def run(main):
    try:
        main()
    except Exception:
        check("the test ran to its end", False, traceback.format_exc())
    finish()


class Tap:
    """The TAP functions above as an object, for tests written as
    T.check(...) ... sys.exit(T.finish())."""

    check = staticmethod(check)
    note = staticmethod(note)

    @property
    def failed(self):
        return results.count(False)

    def finish(self):
        """Undoes what was registered, prints the plan, returns the exit status."""
        _undo()
        print("1..%d" % len(results))
        return 0 if results and all(results) else 1


class DeviceEvents:
    """DEVICE_ADDED and DEVICE_REMOVED of one connection (hot-plug tests):
    (kind, alias) in seen; needs an event loop (event_loop())."""

    def __init__(self, conn):
        import threading
        self.seen, self.lock = [], threading.Lock()
        for ev, kind in ((libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, "added"),
                         (libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED, "removed")):
            conn.domainEventRegisterAny(None, ev, self._callback(kind), None)

    def _callback(self, kind):
        def cb(conn, dom, alias, opaque):
            with self.lock:
                self.seen.append((kind, alias))
        return cb

    def has(self, kind, alias, timeout=15):
        """(kind, alias) was seen, or is within timeout s."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                if (kind, alias) in self.seen:
                    return True
            if time.time() >= deadline:
                return False
            time.sleep(0.1)


def event_loop():
    """libvirt's default event loop, run by a thread of its own."""
    import threading
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()


def open_files(pid):
    """What process pid has open (the targets of /proc/PID/fd)."""
    out = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out
