"""Shared parts of the python daemon tests that run several tagvirtd at once
(tls-test.py, migration-test.py): TAP output, daemons under their own
roots (optionally inside a network namespace), certificates made with
GnuTLS's certtool, and clean-up of every QEMU a root started.

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


class Tap:
    """TAP lines as checks happen; the plan is printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, desc, cond, info=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, desc))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, desc))
            for line in str(info).splitlines():
                print("# " + line)
        sys.stdout.flush()
        return bool(cond)

    def note(self, text):
        for line in str(text).splitlines():
            print("# " + line)
        sys.stdout.flush()

    def finish(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0


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


class Daemon:
    """One tagvirtd under its own --root (a new temporary folder unless
    given), seeded with a capabilities cache, optionally in a network
    namespace and with --listen."""

    def __init__(self, tagvirtd, root=None, cache=None, conf="", listen=False, netns=None,
                 prefix="tvd-"):
        self.tagvirtd = tagvirtd
        self.root = root or tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.root, 0o711)  # QEMU runs as tagvirt-qemu and must reach files here
        self.cache = cache
        self.conf = conf
        self.listen = listen
        self.netns = netns
        self.proc = None
        self.uri = "qemu+unix:///system?socket=%s/tagvirtd-sock" % self.root

    def log(self, tail=3000):
        try:
            with open(self.root + "/daemon.log", errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def start(self, timeout=90, expect_fail=False):
        os.makedirs(self.root + "/cache", exist_ok=True)
        for f in glob.glob((self.cache or "/nonexistent") + "/*.xml"):
            shutil.copy(f, self.root + "/cache/")
        with open(self.root + "/tagvirtd.conf", "w") as f:
            f.write(self.conf)
        cmd = [self.tagvirtd, "--root", self.root] + (["--listen"] if self.listen else [])
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        log = open(self.root + "/daemon.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log)
        if expect_fail:
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return None
        import libvirt
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if os.path.exists(self.root + "/tagvirtd-sock"):
                try:
                    libvirt.open(self.uri).close()
                    return self
                except libvirt.libvirtError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("tagvirtd did not come up: " + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def qemus(self):
        """pids of the QEMUs whose command line names this root"""
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read()
            except OSError:
                continue
            if b"qemu-system-aarch64" in cmd and self.root.encode() + b"/" in cmd:
                found.append(int(pid))
        return found

    def cleanup(self, keep_root=False):
        self.stop(signal.SIGKILL)
        for pid in self.qemus():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not keep_root:
            shutil.rmtree(self.root, ignore_errors=True)
