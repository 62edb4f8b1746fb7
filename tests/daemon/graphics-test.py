#!/usr/bin/python3
"""virDomainOpenGraphicsFD through tagvirtd, as virt-manager opens the
graphical console of a local guest: python3-libvirt's dom.openGraphicsFD()
must give a socket already connected to the guest's VNC server (QMP getfd +
add_client), passed over the unix socket with the reply (REPLY_WITH_FDS,
SCM_RIGHTS).  The test speaks RFB on it up to ServerInit, checks the
refusals (bad index, unknown flags, a domain not running, the read-only
socket) and that the daemon keeps no descriptor per open.  TAP; it fails,
never skips, when something it needs is missing.

Usage: graphics-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402
from tvtest import check, error_of  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD, KERNEL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
DAEMON = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvgfx-")
URI = DAEMON.uri
URI_RO = "qemu+unix:///system?socket=%s/tagvirtd-sock-ro" % DAEMON.root


def guest_xml(name):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{KERNEL}</kernel>
  </os>
  <cpu mode='maximum'/>
  <devices>
    <controller type='usb' model='none'/>
    <graphics type='vnc' autoport='yes'/>
    <video><model type='virtio'/></video>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def rfb_handshake(fd):
    """RFB 3.8 up to ServerInit on fd (taken): (version line, security
    types, security result, width, height, desktop name)."""
    sock = socket.socket(fileno=fd)
    sock.settimeout(20)
    try:
        version = recv_exact(sock, 12)
        sock.sendall(b"RFB 003.008\n")
        ntypes = recv_exact(sock, 1)
        types = list(recv_exact(sock, ntypes[0])) if ntypes and ntypes[0] else []
        result = None
        width = height = None
        name = b""
        if 1 in types:  # None
            sock.sendall(b"\x01")
            result = struct.unpack(">I", recv_exact(sock, 4))[0]
            sock.sendall(b"\x01")  # ClientInit: shared
            init = recv_exact(sock, 24)
            width, height = struct.unpack(">HH", init[:4])
            name = recv_exact(sock, struct.unpack(">I", init[20:24])[0])
        return version, types, result, width, height, name
    finally:
        sock.close()


def daemon_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def run():
    conn = libvirt.open(URI)
    dom = conn.defineXML(guest_xml("gfx"))
    check("define a guest with <graphics type='vnc'> and a virtio video", dom is not None)

    r = error_of(dom.openGraphicsFD, 0, 0)
    check("openGraphicsFD of a shut-off domain: OPERATION_INVALID 'not running'",
          r is not None and r[0] == libvirt.VIR_ERR_OPERATION_INVALID and "not running" in r[1], r)

    dom.create()
    check("the guest runs", dom.isActive() == 1)

    fd = dom.openGraphicsFD(0, 0)
    check("openGraphicsFD(0, 0) gives a descriptor", isinstance(fd, int) and fd >= 0, fd)
    version, types, result, width, height, name = rfb_handshake(fd)
    check("the server on it says 'RFB 003.008'", version == b"RFB 003.008\n", version)
    check("it offers security type None (tagvirt sets no VNC password)", 1 in types, types)
    check("SecurityResult OK", result == 0, result)
    check("ServerInit: a framebuffer (%sx%s)" % (width, height),
          width is not None and width > 0 and height > 0, (width, height, name))

    fd = dom.openGraphicsFD(0, libvirt.VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH)
    version = rfb_handshake(fd)[0]
    check("openGraphicsFD(0, SKIPAUTH) speaks RFB too", version == b"RFB 003.008\n", version)

    r = error_of(dom.openGraphicsFD, 1, 0)
    check("graphics index 1 of a domain with one: INVALID_ARG naming the index",
          r is not None and r[0] == libvirt.VIR_ERR_INVALID_ARG and "graphics device 1" in r[1], r)
    r = error_of(dom.openGraphicsFD, 0, 2)
    check("unknown flags 0x2: INVALID_ARG naming the accepted ones",
          r is not None and r[0] == libvirt.VIR_ERR_INVALID_ARG and "0x1 (skipauth)" in r[1], r)

    ro = libvirt.openReadOnly(URI_RO)
    r = error_of(ro.lookupByName("gfx").openGraphicsFD, 0, 0)
    check("read-only connection: OPERATION_DENIED",
          r is not None and r[0] == libvirt.VIR_ERR_OPERATION_DENIED, r)
    ro.close()

    # every open leaves QEMU a client and the daemon nothing: settle (the
    # read-only connection just closed may still hold its socket: seen under
    # ASan), then compare
    before = daemon_fds(DAEMON.proc.pid)
    for _ in range(50):
        time.sleep(0.2)
        now = daemon_fds(DAEMON.proc.pid)
        if now == before:
            break
        before = now
    for _ in range(20):
        fd = dom.openGraphicsFD(0, 0)
        os.close(fd)
    time.sleep(0.5)
    after = daemon_fds(DAEMON.proc.pid)
    check("20 opens leave the daemon's descriptors as they were (%d -> %d)" % (before, after),
          after == before)

    dom.destroy()
    dom.undefine()
    conn.close()


if __name__ == "__main__":
    def main():
        DAEMON.start()
        run()
    tvtest.run(main)
