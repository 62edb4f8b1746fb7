#!/usr/bin/python3
"""tagvirtd on the wire: starts `tagvirtd --root TMP` and drives it with the
real virsh, python3-libvirt and raw clients (keepalive, unknown procedure,
read-only socket, clients that vanish mid-message, send nothing or garbage,
500 connections at once, the client limit), then checks that a normal client
is still served and that SIGTERM shuts the daemon down cleanly.  TAP output.

Usage: tagvirtd_wire_test.py PATH/TO/tagvirtd
Run with Debian's /usr/bin/python3 (python3-libvirt).  The daemon runs its QEMU
driver with the default emulator, /usr/bin/qemu-system-aarch64."""
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

REMOTE, KEEPALIVE = 0x20008086, 0x6B656570
CALL, REPLY, MESSAGE, STREAM = 0, 1, 2, 3
OK, ERROR, CONTINUE = 0, 1, 2
MAX_CLIENTS = 600
EMULATOR = "/usr/bin/qemu-system-aarch64"  # the driver's default
MAX_RO_CLIENTS = MAX_CLIENTS - MAX_CLIENTS // 5  # the default: four fifths of max_clients
MESSAGE_TIMEOUT = 6
MAX_CLIENT_OUTPUT = 65536


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def xdr_string(s):
    b = s.encode()
    return u32(len(b)) + b + b"\0" * (-len(b) % 4)


def listening(path):
    """True when something accepts connections on the unix socket at path."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def i32(self):
        (v,) = struct.unpack(">i", self.data[self.pos:self.pos + 4])
        self.pos += 4
        return v

    def string(self):
        n = self.i32()
        s = self.data[self.pos:self.pos + n].decode()
        self.pos += n + (-n % 4)
        return s

    def opt_string(self):
        return self.string() if self.i32() else None


def parse_error(payload):
    r = Reader(payload)
    code, domain = r.i32(), r.i32()
    message = r.opt_string()
    level = r.i32()
    return code, domain, message, level


class Raw:
    """A hand-written client: frames in, frames out, nothing hidden."""

    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.serial = 0

    def close(self):
        self.sock.close()

    def send_frame(self, prog, proc, typ, serial, payload=b"", vers=1, status=OK):
        body = u32(prog) + u32(vers) + u32(proc) + u32(typ) + u32(serial) + u32(status) + payload
        self.sock.sendall(u32(4 + len(body)) + body)

    def recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            if not chunk:
                raise EOFError("server closed the connection")
            buf += chunk
        return bytes(buf)

    def recv_frame(self):
        (length,) = struct.unpack(">I", self.recv_exact(4))
        data = self.recv_exact(length - 4)
        return struct.unpack(">IIiiIi", data[:24]), data[24:]

    def call(self, proc, payload=b""):
        """Returns (status, payload) of the reply; answers server pings meanwhile."""
        self.serial += 1
        self.send_frame(REMOTE, proc, CALL, self.serial, payload)
        while True:
            hdr, body = self.recv_frame()
            if hdr[0] == KEEPALIVE and hdr[3] == MESSAGE and hdr[2] == 1:
                self.send_frame(KEEPALIVE, 2, MESSAGE, 0)
                continue
            prog, vers, rproc, typ, serial, status = hdr
            assert (prog, vers, rproc, typ, serial) == (REMOTE, 1, proc, REPLY, self.serial), hdr
            return status, body

    def ping(self):
        """A keepalive PING answered by a PONG: the server serves this client."""
        self.send_frame(KEEPALIVE, 1, MESSAGE, 0)
        hdr, _ = self.recv_frame()
        assert hdr[:4] == (KEEPALIVE, 1, 2, MESSAGE), hdr

    def open(self, uri="qemu:///system", flags=0):
        status, body = self.call(1, u32(1) + xdr_string(uri) + u32(flags))
        assert status == OK, parse_error(body)

    def expect_eof(self, timeout):
        """True when the server hangs up within timeout (data before that is ignored)."""
        self.sock.settimeout(timeout)
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                if not self.sock.recv(65536):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True
        return False


class Daemon:
    def __init__(self, binary, root, conf):
        self.binary, self.root = binary, root
        with open(os.path.join(root, "tagvirtd.conf"), "w") as f:
            f.write(conf)
        self.sock = os.path.join(root, "tagvirtd-sock")
        self.sock_ro = os.path.join(root, "tagvirtd-sock-ro")
        self.uri = "qemu+unix:///system?socket=" + self.sock
        self.log_path = os.path.join(root, "daemon.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen([self.binary, "--root", self.root, "--verbose"],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        # opening the driver probes QEMU when the root has no capabilities cache:
        # seconds, more on a loaded machine
        for _ in range(1200):
            if self.proc.poll() is not None:
                raise RuntimeError(f"tagvirtd exited with {self.proc.returncode}")
            if listening(self.sock_ro):  # not just present: a killed daemon leaves the file
                return
            time.sleep(0.05)
        raise RuntimeError("tagvirtd did not listen on its sockets within 60 s")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()


def virsh(uri, *args, timeout=30):
    return subprocess.run(["virsh", "-q", "-c", uri, *args], capture_output=True, text=True,
                          timeout=timeout)


def libvirt_python(code, timeout=60):
    """Runs code in Debian's python3 with python3-libvirt; returns (rc, stdout, stderr)."""
    r = subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


# ---- the checks; each returns nothing or raises ----

def t_virsh_connection(d):
    r = virsh(d.uri, "version")
    assert r.returncode == 0, r.stderr
    assert "Using API: QEMU 9.0.0" in r.stdout, r.stdout
    # the default emulator's own version, e.g. "QEMU emulator version 7.2.22 (Debian ...)"
    q = subprocess.run([EMULATOR, "--version"], capture_output=True, text=True, timeout=30)
    words = q.stdout.split()
    assert q.returncode == 0 and words[:3] == ["QEMU", "emulator", "version"], (q.stdout, q.stderr)
    assert f"Running hypervisor: QEMU {words[3]}\n" in r.stdout, (words[3], r.stdout)
    r = virsh(d.uri, "hostname")
    assert r.returncode == 0 and r.stdout.strip() == socket.gethostname(), (r.stdout, r.stderr)
    r = virsh(d.uri, "uri")
    assert r.returncode == 0 and r.stdout.strip() == d.uri, (r.stdout, r.stderr)
    r = virsh("qemu+unix:///system?socket=" + d.sock_ro, "-r", "hostname")
    assert r.returncode == 0 and r.stdout.strip() == socket.gethostname(), (r.stdout, r.stderr)


def t_virsh_list(d):
    start = time.monotonic()
    r = virsh(d.uri, "list", "--all", timeout=20)
    took = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert took < 10, f"list --all took {took:.1f} s"


def t_virsh_unsupported(d):
    """A command whose procedures tagvirtd does not implement (network
    filters): virsh fails at once with a clean error.  Its client turns
    'unknown procedure' for CONNECT_LIST_ALL_NWFILTERS (286) into NO_SUPPORT
    and falls back to the old CONNECT_NUM_OF_NWFILTERS (178), whose
    'unknown procedure: 178' it prints."""
    start = time.monotonic()
    r = virsh(d.uri, "nwfilter-list", timeout=20)
    took = time.monotonic() - start
    assert r.returncode != 0, "nwfilter-list succeeded on a daemon without network filters"
    assert "unknown procedure: 178" in r.stderr, r.stderr
    assert took < 10, f"nwfilter-list took {took:.1f} s"


def t_python_libvirt(d):
    rc, out, err = libvirt_python(f"""
import libvirt
c = libvirt.open({d.uri!r})
print(c.getHostname(), c.getType(), c.getLibVersion(), c.isSecure(), c.isAlive())
for call in (c.listAllDomains, c.listAllNWFilters):
    try:
        call()
        print("ok")
    except libvirt.libvirtError as e:
        print("error", e.get_error_code(), e.get_error_domain())
print(c.getHostname())
c.close()
ro = libvirt.openReadOnly("qemu+unix:///system?socket=" + {d.sock_ro!r})
print(ro.getHostname())
ro.close()
""")
    assert rc == 0, err
    lines = out.split("\n")
    assert lines[0] == f"{socket.gethostname()} QEMU 9000000 1 1", lines
    assert lines[1] == "ok", lines
    # network filters are not served: the client turns (RPC, FROM_RPC,
    # "unknown procedure") into NO_SUPPORT (3), and the connection still works
    assert lines[2] == "error 3 7", lines
    assert lines[3] == socket.gethostname(), lines
    assert lines[4] == socket.gethostname(), lines


def t_python_keepalive(d):
    """A client with an event loop and keepalive stays connected across pings."""
    rc, out, err = libvirt_python(f"""
import libvirt, time
libvirt.virEventRegisterDefaultImpl()
c = libvirt.open({d.uri!r})
c.setKeepAlive(1, 2)
end = time.monotonic() + 4
while time.monotonic() < end:
    libvirt.virEventRunDefaultImpl()
print(c.isAlive(), c.getHostname())
c.close()
""")
    assert rc == 0, err
    assert out.strip() == f"1 {socket.gethostname()}", (out, err)


def t_ping_pong(d):
    c = Raw(d.sock)
    c.send_frame(KEEPALIVE, 1, MESSAGE, 0)
    hdr, body = c.recv_frame()
    assert hdr == (KEEPALIVE, 1, 2, MESSAGE, 0, OK) and body == b"", hdr
    c.close()


def t_server_pings(d):
    """After feature 10 the server pings a silent client and drops it when unanswered."""
    c = Raw(d.sock)
    status, body = c.call(60, u32(10))
    assert status == OK and body == u32(1), (status, body)
    c.sock.settimeout(5)
    hdr, _ = c.recv_frame()
    assert hdr == (KEEPALIVE, 1, 1, MESSAGE, 0, OK), hdr
    # keepalive_interval 1 s, keepalive_count 2: hung up a few seconds after
    assert c.expect_eof(8), "server kept a client that never answers pings"
    c.close()


def t_unknown_procedure(d):
    c = Raw(d.sock)
    c.open()
    for proc in (4242, 103, 100000):
        status, body = c.call(proc)
        assert status == ERROR, proc
        code, domain, message, level = parse_error(body)
        assert (code, domain, level) == (39, 7, 2), (proc, code, domain, level)
        assert message.startswith("unknown procedure"), message
    # unknown program: an error reply, the connection stays
    c.serial += 1
    c.send_frame(0x12345678, 1, CALL, c.serial)
    hdr, body = c.recv_frame()
    assert hdr[3] == REPLY and hdr[5] == ERROR and parse_error(body)[0] == 39, hdr
    status, _ = c.call(59)
    assert status == OK
    c.close()


def t_migrate_param_types(d):
    """Migration parameters of the wrong type (which python3-libvirt never
    sends: it converts by type before the call): INVALID_ARG naming the
    parameter and both types, before the domain is even looked up."""
    c = Raw(d.sock)
    c.open()
    dom = xdr_string("nosuch") + bytes(16) + u32(0xFFFFFFFF)  # name, uuid, id -1
    cases = [
        ("bandwidth", u32(7) + xdr_string("fast"),  # VIR_TYPED_PARAM_STRING
         "migration parameter 'bandwidth' must be an unsigned long long (type 4), got type 7"),
        ("destination_xml", u32(1) + u32(5),  # VIR_TYPED_PARAM_INT
         "migration parameter 'destination_xml' must be a string (type 7), got type 1"),
    ]
    for field, value, want in cases:
        payload = dom + u32(1) + xdr_string(field) + value + u32(1)  # 1 param, flags LIVE
        status, body = c.call(302, payload)  # DOMAIN_MIGRATE_BEGIN3_PARAMS
        assert status == ERROR, field
        code, domain, message, level = parse_error(body)
        assert code == 8 and want in (message or ""), (field, code, message)
    status, _ = c.call(59)  # the connection stays usable
    assert status == OK
    c.close()


def t_stream_without_stream(d):
    """Stream packets for no open stream: data is dropped, a finish or abort
    gets a stream error (the client waits for an answer), the connection
    stays; a stream packet of another program is a protocol error."""
    c = Raw(d.sock)
    c.open()
    c.send_frame(REMOTE, 201, STREAM, 77, b"data for nobody", status=CONTINUE)
    for status in (OK, ERROR):
        c.send_frame(REMOTE, 201, STREAM, 78, status=status)
        hdr, body = c.recv_frame()
        assert hdr[:5] == (REMOTE, 1, 201, STREAM, 78) and hdr[5] == ERROR, hdr
        code, _, message, _ = parse_error(body)
        assert code == 39 and "no open stream" in message, (code, message)
    status, _ = c.call(59)
    assert status == OK
    c.send_frame(0x12345678, 1, STREAM, 79, b"x", status=CONTINUE)
    assert c.expect_eof(5), "a stream packet of an unknown program did not end the connection"
    c.close()


def t_readonly(d):
    c = Raw(d.sock_ro)
    c.open()
    dom = xdr_string("vm1") + bytes(16) + u32(-1)
    for proc in (12, 11, 35, 305):  # destroy, define, undefine, migrate perform
        payload = dom if proc != 11 else xdr_string("<domain/>")
        status, body = c.call(proc, payload)
        code, domain, message, _ = parse_error(body)
        assert status == ERROR and code == 29, (proc, code, message)
        assert "read only" in message, message
    status, body = c.call(59)
    assert status == OK and Reader(body).string() == socket.gethostname()
    c.close()


def t_pipelined(d):
    """Forty calls in one write come back, each once, on the same connection."""
    c = Raw(d.sock)
    c.open()
    frames = b""
    for serial in range(100, 140):
        body = u32(REMOTE) + u32(1) + u32(59) + u32(CALL) + u32(serial) + u32(OK)
        frames += u32(4 + len(body)) + body
    c.sock.sendall(frames)
    seen = set()
    while len(seen) < 40:
        hdr, body = c.recv_frame()
        assert hdr[2] == 59 and hdr[3] == REPLY and hdr[5] == OK, hdr
        seen.add(hdr[4])
    assert seen == set(range(100, 140))
    c.close()


def t_split_frames(d):
    """Calls whose bytes arrive in pieces, several calls in one piece, a frame larger than
    the daemon's read buffer: every call is answered once, in order."""
    c = Raw(d.sock)
    c.open()

    def frame(proc, serial, payload=b""):
        body = u32(REMOTE) + u32(1) + u32(proc) + u32(CALL) + u32(serial) + u32(OK) + payload
        return u32(4 + len(body)) + body

    def expect(serials):
        for serial in serials:
            hdr, _ = c.recv_frame()
            assert hdr[3] == REPLY and hdr[4] == serial, (hdr, serial)

    # one byte at a time: the length word and the header arrive split
    for b in frame(59, 500):
        c.sock.sendall(bytes([b]))
        time.sleep(0.002)
    expect([500])
    # three calls cut into 7-byte pieces, so pieces hold the end of one call and the start of the next
    data = frame(59, 501) + frame(3, 502) + frame(59, 503)
    for i in range(0, len(data), 7):
        c.sock.sendall(data[i:i + 7])
        time.sleep(0.002)
    expect([501, 502, 503])
    # a 200 KiB call (a lookup of a long name: an error reply) and a small one in the same write
    c.sock.sendall(frame(23, 504, xdr_string("n" * 200000)) + frame(59, 505))
    expect([504, 505])
    c.close()


def t_pipelined_pool(d):
    """Forty calls in one write, half of them for the worker pool: reading pauses at
    max_client_requests with calls already received, resumes, and answers each once."""
    c = Raw(d.sock)
    c.open()
    frames = b""
    for serial in range(200, 240):
        proc = 7 if serial % 2 else 59  # CONNECT_GET_CAPABILITIES (pool), GET_HOSTNAME (inline)
        body = u32(REMOTE) + u32(1) + u32(proc) + u32(CALL) + u32(serial) + u32(OK)
        frames += u32(4 + len(body)) + body
    c.sock.sendall(frames)
    seen = []
    c.sock.settimeout(60)
    while len(seen) < 40:
        hdr, _ = c.recv_frame()
        assert hdr[3] == REPLY and hdr[2] == (7 if hdr[4] % 2 else 59), hdr
        seen.append(hdr[4])
    assert sorted(seen) == list(range(200, 240)), seen
    c.close()


def t_events(d):
    c = Raw(d.sock)
    c.open()
    status, body = c.call(316, u32(0) + u32(0))
    assert status == OK, parse_error(body)
    cb = Reader(body).i32()
    status, _ = c.call(317, u32(cb))
    assert status == OK
    status, body = c.call(317, u32(cb))
    assert status == ERROR
    c.close()


def t_event_kinds(d):
    """Every libvirt 9.0 domain event id registers; network, node device and
    secret registrations too (storage pools: the storage driver's); ids past them get libvirt's
    INTERNAL_ERROR (1, RPC) naming the id; a deregistration of an unknown
    callback or of another kind is refused; all of it read-only too."""
    for sock in (d.sock, d.sock_ro):
        c = Raw(sock)
        c.open()
        ids = []
        for ev in range(27):
            status, body = c.call(316, u32(ev) + u32(0))
            assert status == OK, (ev, parse_error(body))
            ids.append(Reader(body).i32())
        assert len(set(ids)) == 27, ids
        for proc, good, bad in ((313, 1, 1), (374, 2, 2), (380, 2, 2)):
            for ev in range(good):
                status, body = c.call(proc, u32(ev) + u32(0))
                assert status == OK, (proc, ev, parse_error(body))
            status, body = c.call(proc, u32(bad) + u32(0))
            code, domain, message, _ = parse_error(body)
            assert status == ERROR and (code, domain) == (1, 7), (proc, code, domain, message)
            assert f"event ID {bad}" in message, message
        status, body = c.call(316, u32(27) + u32(0))
        code, domain, message, _ = parse_error(body)
        assert status == ERROR and (code, domain) == (1, 7) and "ID 27" in message, message
        status, body = c.call(314, u32(ids[0]))  # a domain callback, as a network one
        assert status == ERROR and "not registered" in parse_error(body)[2]
        for cb in ids:
            assert c.call(317, u32(cb))[0] == OK
        c.close()


def t_host_limits(d):
    """Map sizes past the wire's limits are refused before anything is
    allocated; host queries work read-only; secrets answer as a host with
    none."""
    c = Raw(d.sock_ro)
    c.open()
    dom = xdr_string("nope") + bytes(16) + u32(-1)
    # GET_VCPUS {dom; maxinfo; maplen}: maxinfo past 16384, and maxinfo * maplen past 8 MiB
    for maxinfo, maplen in ((16385, 1), (16384, 1024), (-1, 1)):
        status, body = c.call(20, dom + u32(maxinfo) + u32(maplen))
        code, domain, message, _ = parse_error(body)
        assert status == ERROR and code in (1, 8), (maxinfo, maplen, code, message)
    # GET_VCPU_PIN_INFO {dom; ncpumaps; maplen; flags}
    status, body = c.call(230, dom + u32(1 << 20) + u32(1 << 20) + u32(0))
    assert status == ERROR
    # secrets: empty, NO_SECRET (66, domain 30) on lookups
    status, body = c.call(139)
    assert status == OK and Reader(body).i32() == 0
    status, body = c.call(147, u32(1) + xdr_string("/var/lib/x.img"))
    code, domain, message, _ = parse_error(body)
    assert status == ERROR and (code, domain) == (66, 30), (code, domain, message)
    status, body = c.call(287, u32(1) + u32(0))
    assert status == OK and body == u32(0) + u32(0), body
    # NODE_GET_CPU_MAP {need_map; need_online; flags}: this host's CPUs
    status, body = c.call(293, u32(1) + u32(1) + u32(0))
    assert status == OK, parse_error(body)
    r = Reader(body)
    maplen = r.i32()
    r.pos += maplen + (-maplen % 4)
    online, ncpus = r.i32(), r.i32()
    assert ncpus == os.cpu_count() and online == ncpus and maplen == (ncpus + 7) // 8
    # NODE_GET_CPU_STATS {cpuNum; nparams; flags}: the count first
    status, body = c.call(227, u32(-1) + u32(0) + u32(0))
    assert status == OK and body[-4:] == u32(4), body
    status, body = c.call(227, u32(-1) + u32(17) + u32(0))
    assert status == ERROR
    c.close()


def t_mid_message(d):
    """Clients that vanish inside the length word, the header or the payload."""
    for cut in (2, 10, 40):
        c = Raw(d.sock)
        data = u32(4 + 24 + 100) + u32(REMOTE) + u32(1) + u32(1) + u32(CALL) + u32(1) + u32(0)
        data += b"x" * 60
        c.sock.sendall(data[:cut])
        c.close()
    # and one that leaves while its call is being answered
    c = Raw(d.sock)
    c.open()
    c.send_frame(REMOTE, 59, CALL, 77)
    c.close()


def t_silent(d):
    """A client that sends nothing does not disturb others and is dropped after handshake_timeout."""
    idle = Raw(d.sock)
    other = Raw(d.sock)
    other.open()
    assert other.call(3)[0] == OK
    other.close()
    assert idle.expect_eof(8), "a client that never spoke was kept beyond handshake_timeout"
    idle.close()


def t_partial_message(d):
    """A client that sent a whole message, then part of one and nothing more, is dropped
    after message_timeout; so is one trickling the bytes of a message it never finishes.
    A client between messages without keepalive stays, as libvirtd keeps it; one sending
    whole messages slowly stays too."""
    stuck = Raw(d.sock)
    stuck.ping()
    stuck.sock.sendall(u32(28 + 100) + u32(REMOTE) + u32(1))  # 12 of 128 bytes
    trickle = Raw(d.sock)
    trickle.ping()
    idle = Raw(d.sock)
    idle.ping()
    slow = Raw(d.sock)
    frame = u32(28) + u32(KEEPALIVE) + u32(1) + u32(1) + u32(MESSAGE) + u32(0) + u32(OK)
    partial = u32(128) + u32(REMOTE) + u32(1) + u32(59) + u32(CALL) + u32(1) + u32(OK) + bytes(100)
    start = time.monotonic()
    sent = 0
    trickle.sock.settimeout(0.05)
    # for 1.5 x message_timeout: a byte every 0.5 s to trickle (a 128-byte frame that
    # never ends), a whole ping every 1.5 s from slow
    while time.monotonic() - start < MESSAGE_TIMEOUT * 1.5:
        try:
            trickle.sock.sendall(partial[sent:sent + 1])
            sent += 1
        except (BrokenPipeError, ConnectionResetError):
            break
        if sent % 3 == 0:
            slow.sock.sendall(frame)
            hdr, _ = slow.recv_frame()
            assert hdr[2] == 2, hdr
        try:
            if trickle.sock.recv(1) == b"":
                break
        except (socket.timeout, TimeoutError):
            pass
        time.sleep(0.45)
    took = time.monotonic() - start
    assert took < MESSAGE_TIMEOUT * 1.5, f"a client trickling one message was kept {took:.1f} s"
    assert took >= MESSAGE_TIMEOUT - 1, f"a trickling client was dropped after {took:.1f} s"
    assert stuck.expect_eof(3), "a client that sent part of a message was kept"
    slow.ping()
    idle.ping()  # idle for longer than handshake_timeout and message_timeout
    assert "sent part of a message and not the rest within message_timeout" in d.log()
    for c in (stuck, trickle, idle, slow):
        c.close()


def t_keepalive_whole_messages(d):
    """Keepalive counts whole messages, as libvirt's: a keepalive client that never answers
    pings is dropped after interval x (count + 1), even while bytes of a message trickle in."""
    c = Raw(d.sock)
    status, body = c.call(60, u32(10))  # supports_feature(KEEPALIVE): the server pings it
    assert status == OK and body == u32(1)
    start = time.monotonic()
    c.sock.sendall(u32(28 + 100))
    c.sock.settimeout(0.05)
    gone = False
    while time.monotonic() - start < MESSAGE_TIMEOUT - 0.5 and not gone:
        try:
            c.sock.sendall(b"k")
            while True:
                if c.sock.recv(4096) == b"":
                    gone = True
                    break
        except (socket.timeout, TimeoutError):
            pass
        except (BrokenPipeError, ConnectionResetError):
            gone = True
        time.sleep(0.2)
    took = time.monotonic() - start
    c.close()
    # keepalive_interval 1, keepalive_count 2: 3 s and the next tick; message_timeout is 6
    assert gone, f"kept for {took:.1f} s without answering a ping while bytes trickled in"
    assert "no answer to keepalive" in d.log()


def t_unread_answers(d):
    """A client that sends 3000 pings and reads nothing: once its answers fill the socket
    and max_client_requests x 2 frames wait, the server stops reading it (memory stays
    bounded) and serves the others; when it reads, every answer is there."""
    c = Raw(d.sock_ro)
    c.ping()
    before = d.rss_kb()
    frame = u32(28) + u32(KEEPALIVE) + u32(1) + u32(1) + u32(MESSAGE) + u32(0) + u32(OK)
    c.sock.sendall(frame * 3000)
    time.sleep(1)
    grown = d.rss_kb() - before
    other = Raw(d.sock)
    other.open()
    assert other.call(59)[0] == OK
    other.close()
    for i in range(3000):
        hdr, _ = c.recv_frame()
        assert hdr[:4] == (KEEPALIVE, 1, 2, MESSAGE), (i, hdr)
    c.ping()
    c.close()
    assert grown < 2048, f"RSS grew {grown} kB while a client did not read"


def t_garbage(d):
    rng = random.Random(20261125)
    # text: its first word is a length far above the limit
    c = Raw(d.sock)
    c.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.expect_eof(5), "HTTP request not refused"
    c.close()
    # a plausible length, then a header no server accepts (type 99)
    c = Raw(d.sock)
    c.sock.sendall(u32(40) + u32(REMOTE) + u32(1) + u32(3) + u32(99) + u32(1) + u32(0) + bytes(12))
    assert c.expect_eof(5), "unknown message type not refused"
    c.close()
    # a call whose arguments are garbage: an error reply, not a hang-up
    c = Raw(d.sock)
    c.open()
    status, body = c.call(60, b"\xff\xff")
    assert status == ERROR and parse_error(body)[0] == 39, body
    status, body = c.call(23, u32(0xFFFFFFF0) + b"abcd")
    assert status == ERROR, body
    c.close()
    # random bytes from a fixed seed, with a short first word so they are read as a frame
    for _ in range(20):
        c = Raw(d.sock)
        junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
        try:
            c.sock.sendall(u32(rng.randint(0, 3000)) + junk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        c.close()


def t_huge_length(d):
    """Length words at and above the limit: refused or waited for, never allocated up front."""
    before = d.rss_kb()
    held = []
    for _ in range(50):
        c = Raw(d.sock)
        c.sock.sendall(u32(0x7FFFFFFF))
        assert c.expect_eof(5), "length 0x7fffffff not refused"
        c.close()
        # the largest legal length: accepted, but only what arrives is stored
        c = Raw(d.sock)
        c.sock.sendall(u32(33554432) + u32(REMOTE) + u32(1))
        held.append(c)
    time.sleep(0.5)
    grown = d.rss_kb() - before
    for c in held:
        c.close()
    assert grown < 64 * 1024, f"RSS grew {grown} kB for 50 frames announced at 32 MiB"


def t_many_connections(d):
    """500 clients at once are all served, then all go away."""
    fds_before = d.fd_count()
    clients = [Raw(d.sock) for _ in range(500)]
    for c in clients:
        c.send_frame(KEEPALIVE, 1, MESSAGE, 0)
    for c in clients:
        hdr, _ = c.recv_frame()
        assert hdr[2] == 2, hdr
    for c in clients:
        c.close()
    for _ in range(50):
        if d.fd_count() <= fds_before:
            break
        time.sleep(0.1)
    assert d.fd_count() <= fds_before, f"{d.fd_count()} fds open, {fds_before} before"


def t_client_limit(d):
    """Past max_clients new connections are closed at once; the rest keep working."""
    clients = []
    refused = 0
    # each speaks at once: a client silent for handshake_timeout (3 s here) while the
    # others connect on a loaded machine would be dropped and counted as refused
    for _ in range(MAX_CLIENTS + 50):
        c = Raw(d.sock)
        clients.append(c)
        try:
            c.send_frame(KEEPALIVE, 1, MESSAGE, 0)
            c.recv_frame()
        except (EOFError, ConnectionResetError, BrokenPipeError):
            refused += 1
    for c in clients:
        c.close()
    assert 50 <= refused <= 60, f"{refused} of {MAX_CLIENTS + 50} refused"


def t_readonly_limit(d):
    """Read-only clients stop at max_ro_clients (four fifths of max_clients by default), so a
    local user filling the read-only socket leaves the rest of the slots to the read-write
    socket, where root still connects and works."""
    # the clients of the previous test are gone (a slow daemon may still be closing them)
    for _ in range(100):
        if d.fd_count() < 50:
            break
        time.sleep(0.1)
    ro, refused = [], 0
    for _ in range(MAX_CLIENTS + 10):
        c = Raw(d.sock_ro)
        try:
            c.ping()
            ro.append(c)
        except (EOFError, ConnectionResetError, BrokenPipeError):
            c.close()
            refused += 1
            if refused >= 10:
                break
    try:
        assert len(ro) == MAX_RO_CLIENTS, f"{len(ro)} read-only clients served"
        rw = []
        for _ in range(MAX_CLIENTS - MAX_RO_CLIENTS):
            c = Raw(d.sock)
            rw.append(c)
            c.ping()
        rw[0].open()
        status, body = rw[0].call(59)
        assert status == OK and Reader(body).string() == socket.gethostname()
        r = virsh(d.uri, "hostname")
        # every slot is taken now: max_clients refuses even root
        assert r.returncode != 0, "a client beyond max_clients was served"
        for c in rw:
            c.close()
        assert "refusing a connection to the read-only socket from pid" in d.log()
        assert "(max_ro_clients reached" in d.log()
    finally:
        for c in ro:
            c.close()
    time.sleep(0.5)  # the server sees the hang-ups
    r = virsh(d.uri, "hostname")
    assert r.returncode == 0, r.stderr


def t_still_serving(d):
    assert d.alive(), "tagvirtd died"
    t_virsh_connection(d)
    c = Raw(d.sock)
    c.open()
    assert c.call(59)[0] == OK
    c.close()


def t_second_daemon(d):
    """A second daemon on the same root refuses to steal the live sockets."""
    r = subprocess.run([d.binary, "--root", d.root], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "already listening" in r.stderr, r.stderr


def t_bad_config(d):
    with tempfile.TemporaryDirectory(prefix="tagvirtd-conf-") as root:
        with open(os.path.join(root, "tagvirtd.conf"), "w") as f:
            f.write("max_clients = 10\nmax_cleints = 5\n")
        r = subprocess.run([d.binary, "--root", root], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1, r
        assert "tagvirtd.conf:2: unknown key 'max_cleints'" in r.stderr, r.stderr


def t_socket_activation(d):
    """Sockets passed as systemd does (LISTEN_FDS, LISTEN_FDNAMES) are served, not replaced."""
    activate = shutil.which("systemd-socket-activate")
    assert activate, "systemd-socket-activate is not installed (Debian package systemd)"
    with tempfile.TemporaryDirectory(prefix="tagvirtd-act-") as root:
        rw, ro = os.path.join(root, "rw.sock"), os.path.join(root, "ro.sock")
        log = open(os.path.join(root, "daemon.log"), "w")
        # it listens on both, and execs tagvirtd with them at the first connection
        proc = subprocess.Popen([activate, "-l", rw, "-l", ro, "--fdname=tagvirtd-rw:tagvirtd-ro",
                                 d.binary, "--root", os.path.join(root, "state")],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if os.path.exists(ro):
                    break
                time.sleep(0.05)
            # the first connection starts tagvirtd, which opens the driver (a QEMU probe
            # without a cache: over 10 s on a loaded machine) before it answers
            c = Raw(rw, timeout=90)
            c.open()
            assert c.call(59)[0] == OK
            c.close()
            r = Raw(ro)
            r.open()
            status, body = r.call(12, xdr_string("vm1") + bytes(16) + u32(-1))
            assert status == ERROR and parse_error(body)[0] == 29, "activated ro socket not read-only"
            r.close()
            assert not os.path.exists(os.path.join(root, "state", "tagvirtd-sock")), \
                "created its own socket despite socket activation"
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(10)
            log.close()
        assert rc == 0, f"exit status {rc}"


def t_sigterm(d):
    rc = d.stop(signal.SIGTERM)
    assert rc == 0, f"exit status {rc}"
    assert not os.path.exists(d.sock) and not os.path.exists(d.sock_ro), "sockets left behind"


def t_restart_after_kill(d):
    """After SIGKILL the sockets are stale; a new daemon replaces them."""
    d.start()
    d.stop(signal.SIGKILL)
    assert os.path.exists(d.sock), "expected a stale socket after SIGKILL"
    d.start()
    r = virsh(d.uri, "hostname")
    assert r.returncode == 0, r.stderr
    assert d.stop() == 0


TESTS = [
    ("virsh version / hostname / uri (rw and ro sockets)", t_virsh_connection),
    ("virsh list --all works", t_virsh_list),
    ("virsh nwfilter-list: clean unsupported error, no hang", t_virsh_unsupported),
    ("python3-libvirt open, getHostname, read-only socket", t_python_libvirt),
    ("python3-libvirt with keepalive stays connected", t_python_keepalive),
    ("raw PING gets PONG", t_ping_pong),
    ("server pings a keepalive client and drops it when silent", t_server_pings),
    ("unknown procedure: code 39, domain 7, level 2, 'unknown procedure'", t_unknown_procedure),
    ("read-only socket refuses state changes with OPERATION_DENIED", t_readonly),
    ("migration parameters of the wrong type: INVALID_ARG naming them", t_migrate_param_types),
    ("stream packets for no open stream", t_stream_without_stream),
    ("40 pipelined calls on one connection", t_pipelined),
    ("calls split across writes, several per write, larger than the read buffer",
     t_split_frames),
    ("40 pipelined calls, half for the worker pool (reading pauses and resumes)",
     t_pipelined_pool),
    ("event callback register / deregister", t_events),
    ("every event kind and id libvirt 9.0 has registers; past them INTERNAL_ERROR", t_event_kinds),
    ("host procedures: wire limits, read-only, secrets of a host with none", t_host_limits),
    ("clients that disconnect mid-message", t_mid_message),
    ("a client that sends nothing", t_silent),
    ("part of a message, trickled bytes, idle and slow clients (message_timeout)",
     t_partial_message),
    ("keepalive counts whole messages", t_keepalive_whole_messages),
    ("a client that does not read its answers is paused, then served in full",
     t_unread_answers),
    ("garbage senders", t_garbage),
    ("huge length words", t_huge_length),
    ("500 connections at once, then closed", t_many_connections),
    (f"client limit ({MAX_CLIENTS})", t_client_limit),
    (f"read-only clients at their limit ({MAX_RO_CLIENTS}): the read-write socket still works",
     t_readonly_limit),
    ("a normal client is still served", t_still_serving),
    ("second daemon on the same sockets", t_second_daemon),
    ("unknown config key is a clear error", t_bad_config),
    ("socket activation (LISTEN_FDS)", t_socket_activation),
    ("SIGTERM: clean exit, sockets removed", t_sigterm),
    ("restart after SIGKILL replaces stale sockets", t_restart_after_kill),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binary = os.path.abspath(sys.argv[1])
    print(f"1..{len(TESTS)}")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="tagvirtd-wire-") as root:
        d = Daemon(binary, root, f"""# written by tagvirtd_wire_test.py
max_clients = {MAX_CLIENTS}
keepalive_interval = 1
keepalive_count = 2
handshake_timeout = 3
message_timeout = {MESSAGE_TIMEOUT}
max_client_output = {MAX_CLIENT_OUTPUT}
log_level = 2
""")
        try:
            d.start()
            for i, (name, fn) in enumerate(TESTS, 1):
                start = time.monotonic()
                try:
                    skip = fn(d)
                    note = f" # {skip}" if skip else ""
                    print(f"ok {i} - {name} ({time.monotonic() - start:.1f} s){note}", flush=True)
                except Exception:
                    failed += 1
                    print(f"not ok {i} - {name}")
                    for line in traceback.format_exc().splitlines():
                        print("# " + line)
                    sys.stdout.flush()
        finally:
            d.stop(signal.SIGKILL)
            if failed:
                for line in d.log().splitlines()[-40:]:
                    print("# daemon: " + line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
