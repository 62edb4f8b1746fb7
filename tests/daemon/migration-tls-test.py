#!/usr/bin/python3
"""Migration between two hosts made of two network namespaces joined by a
veth pair (docs/migration.rst): each tagvirtd in its own namespace with its
own root, listening for TLS on its end of the pair.  Peer-to-peer over
qemu+tls:// (python3-libvirt's migrateToURI3, as Nova calls it, and virsh
migrate --p2p back): the source daemon opens the destination with its client
certificate; the destination's incoming QEMU listens on the address the
Prepare call came in on, so QEMU's stream crosses the veth too.  The
looping demo guest (MTE 3) keeps counting with its tags intact.  A source
daemon whose client certificate another CA signed is refused by the
destination, and its guest runs on.

TLS for QEMU's own stream (--tls, VIR_MIGRATE_TLS): each host's
migrate_tls_x509_cert_dir (ROOT/pki/qemu: ca-cert.pem, server-cert.pem,
server-key.pem, client-cert.pem, client-key.pem, the keys 0600 root) and
migrations with --tls by virsh --p2p, client-managed virsh (run inside a
namespace) and migrateToURI3 with Nova's flags; a sniffer on the veth shows
the plain stream begin with QEMU's magic "QEVM" and the --tls one with a TLS
handshake record.  A missing file is refused naming it (source untouched), a
source whose QEMU client certificate another CA signed is refused by the
destination's QEMU, and the files are given back to root after each
migration.  TAP.

Usage: migration-tls-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]
       migration-tls-test.py --sniff DEV OUT   (run inside a namespace)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

MIGRATION_PORTS = range(49152, 49216)  # tagvirtd's default migration_port_min..max


def sniff(dev, out):
    """Write the first payload bytes (hex) of every TCP flow to or from a
    migration port seen on dev, one line per flow, until killed."""
    import socket
    import struct
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.bind((dev, 0))
    seen = set()
    with open(out, "w") as f:
        while True:
            frame = s.recv(65535)
            if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
                continue
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:total]
            if len(tcp) < 20:
                continue
            sport, dport = struct.unpack("!HH", tcp[:4])
            payload = tcp[(tcp[12] >> 4) * 4:]
            flow = (ip[12:16], sport, ip[16:20], dport)
            if payload and flow not in seen and (sport in MIGRATION_PORTS or
                                                 dport in MIGRATION_PORTS):
                seen.add(flow)
                f.write("%d %d %s\n" % (sport, dport, payload[:16].hex()))
                f.flush()


if len(sys.argv) == 4 and sys.argv[1] == "--sniff":
    sniff(sys.argv[2], sys.argv[3])

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
T = tvtest.Tap()
CHECK = re.compile(r"tags intact \(check (\d+)\)")


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def checks_of(path):
    try:
        text = open(path, errors="replace").read()
    except OSError:
        return "", []
    return text, [int(n) for n in CHECK.findall(text)]


def wait_checks(path, above, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        text, checks = checks_of(path)
        if (checks and checks[-1] > above) or time.monotonic() > deadline:
            return text, checks
        time.sleep(0.2)


def with_console(dom, path):
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    return re.sub(r"<source path='[^']*'/>", "<source path='%s'/>" % path, xml, count=1)


def main():
    tag = "tvmt%d" % (os.getpid() % 100000)
    net = "10.%d.%d" % (200 + os.getpid() % 50, os.getpid() % 250)
    ns = [tag + "a", tag + "b"]
    addr = [net + ".1", net + ".2"]
    top = tempfile.mkdtemp(prefix="tvmigtls-")
    os.chmod(top, 0o711)
    daemons = []
    try:
        for n in ns:
            sh("ip", "netns", "add", n)
            sh("ip", "netns", "exec", n, "ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", tag + "x", "netns", ns[0], "type", "veth", "peer", "name",
           tag + "y", "netns", ns[1])
        for n, dev, a in ((ns[0], tag + "x", addr[0]), (ns[1], tag + "y", addr[1])):
            sh("ip", "netns", "exec", n, "ip", "addr", "add", a + "/24", "dev", dev)
            sh("ip", "netns", "exec", n, "ip", "link", "set", dev, "up")
        run(top, ns, addr, daemons)
    finally:
        for d in daemons:
            d.cleanup()
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


class Sniffer:
    """The first bytes of each migration flow on a namespace's veth end."""

    def __init__(self, top, ns, dev):
        self.out = os.path.join(top, "sniff-%d.txt" % time.monotonic_ns())
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable,
                                      os.path.abspath(__file__), "--sniff", dev, self.out])
        tvtest.cleanup(self.stop)
        time.sleep(0.5)  # the socket is bound

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            return [line.split() for line in open(self.out).read().splitlines()]
        except OSError:
            return []


def stream_start(flows):
    """The first bytes the source's QEMU sent to the destination's port."""
    starts = [f[2] for f in flows if int(f[1]) in MIGRATION_PORTS]
    return starts


QEVM = b"QEVM".hex()


def owners(folder):
    return {f: (os.stat(os.path.join(folder, f)).st_uid, oct(os.stat(os.path.join(folder, f))
                                                             .st_mode & 0o777))
            for f in sorted(os.listdir(folder))}


def run(top, ns, addr, daemons):
    pki = tvtest.Pki(top)
    rogue = tvtest.Pki(top, "rogue", "another CA")
    port = 16514
    for i in range(2):
        pki.server("host%d" % i, [addr[i]])
    pki.client("migrator", "migrator")
    rogue.client("stranger", "migrator")
    for i in range(2):
        d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, listen=True, ns=ns[i],
                          prefix="tvmigtls%d-" % i,
                          conf='listen_addr = "%s"\ntls_port = "%d"\n' % (addr[i], port))
        pki.server_dir("host%d" % i, d.root + "/pki")
        pki.add_client_to("migrator", d.root + "/pki")
        pki.qemu_dir("host%d" % i, "migrator", d.root + "/pki/qemu")
        daemons.append(d)
        d.start()
    a, b = daemons
    qdir = [d.root + "/pki/qemu" for d in daemons]
    files_before = [owners(q) for q in qdir]
    ca, cb = libvirt.open(a.uri), libvirt.open(b.uri)
    # each source daemon's own client certificate, as libvirt's ?pkipath= names it
    tls_b = "qemu+tls://%s:%d/system?pkipath=%s/pki" % (addr[1], port, a.root)
    tls_a = "qemu+tls://%s:%d/system?pkipath=%s/pki" % (addr[0], port, b.root)
    veth_b = [line.split(":")[1].strip().split("@")[0] for line in subprocess.run(
        ["ip", "netns", "exec", ns[1], "ip", "-o", "link", "show", "type", "veth"],
        capture_output=True, text=True).stdout.splitlines()][0]

    con = [os.path.join(d.root, "loop.console") for d in daemons]
    dom = ca.defineXML(tvtest.looping_guest_xml("loop", KERNEL, con[0]))
    dom.create()
    text, checks = wait_checks(con[0], 1)
    T.check("the looping MTE 3 guest runs in the first namespace", len(checks) > 0, text[-300:])
    last = checks[-1] if checks else 0

    def moved(desc, conn, console, last):
        text, checks = wait_checks(console, last)
        d = conn.lookupByName("loop") if "loop" in [x.name() for x in
                                                    conn.listAllDomains()] else None
        T.check(desc, d is not None and d.state()[0] == libvirt.VIR_DOMAIN_RUNNING and checks and
                checks[0] > last and "FAIL" not in text and "MTE level" not in text,
                text[-300:])
        return checks[-1] if checks else last

    t0 = time.monotonic()
    err = None
    sniffer = Sniffer(top, ns[1], veth_b)
    try:
        dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dom, con[1])},
                          libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    flows = sniffer.stop()
    T.check("migrateToURI3 peer-to-peer over qemu+tls:// to the other namespace: done",
            err is None, err)
    T.note("%.2f s" % (time.monotonic() - t0))
    listens = re.findall(r"QEMU listens on (tcp:\S+)", b.log(20000))
    T.check("the destination's QEMU listened on its end of the veth (the address the "
            "Prepare call came in on)", listens and listens[-1].startswith("tcp:%s:" % addr[1]),
            listens)
    T.check("... without --tls QEMU's stream crosses the veth in the clear (it begins with "
            "QEMU's magic QEVM)", any(f.startswith(QEVM) for f in stream_start(flows)), flows)
    dd = cb.lookupByName("loop") if "loop" in [d.name() for d in cb.listAllDomains()] else None
    T.check("the guest runs in the second namespace",
            dd is not None and dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING,
            dd.state() if dd else None)
    text, checks = wait_checks(con[1], last)
    T.check("... its console there carries on counting, tags intact, no boot",
            checks and checks[0] > last and "FAIL" not in text and "MTE level" not in text,
            text[-300:])
    last = checks[-1] if checks else last

    # back with virsh --p2p --tls, run by the second daemon
    path = os.path.join(b.root, "back.xml")
    with open(path, "w") as f:
        f.write(with_console(dd, con[0]))
    sniffer = Sniffer(top, ns[1], veth_b)
    t0 = time.monotonic()
    p = subprocess.run(["virsh", "-q", "-c", b.uri, "migrate", "--live", "--p2p", "--tls",
                        "--xml", path, "loop", tls_a], capture_output=True, text=True)
    T.note("virsh migrate --p2p --tls: %.2f s" % (time.monotonic() - t0))
    flows = sniffer.stop()
    T.check("back with virsh migrate --live --p2p --tls over qemu+tls://: done",
            p.returncode == 0, p.stdout + p.stderr)
    starts = stream_start(flows)
    T.check("... QEMU's stream on the veth begins with a TLS handshake record (16 03), never "
            "QEVM", starts and all(f.startswith("1603") for f in starts), flows)
    last = moved("... it runs in the first namespace again and carries on counting", ca, con[0],
                 last)
    qlog = [read(os.path.join(d.root, "log", "loop.log")) for d in daemons]
    T.check("... the source's QEMU loaded client credentials and removed them after the job",
            re.search(r"migration TLS credentials .*client end.*\n(.*\n)*.*migration TLS "
                      r"credentials removed", qlog[1]) is not None, qlog[1][-1500:])
    T.check("... the destination's QEMU loaded server credentials and removed them once the "
            "guest arrived", re.search(r"migration TLS credentials .*server end.*\n(.*\n)*.*"
                                       r"migration TLS credentials removed", qlog[0])
            is not None, qlog[0][-1500:])
    T.check("... the certificate files are root's again with their modes (0600 keys)",
            [owners(q) for q in qdir] == files_before, [owners(q) for q in qdir])

    # Nova's flags with VIR_MIGRATE_TLS (live_migration_with_native_tls)
    dom = ca.lookupByName("loop")
    err = None
    try:
        dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dom, con[1])},
                          libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
                          libvirt.VIR_MIGRATE_TLS)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    T.check("migrateToURI3 peer-to-peer with VIR_MIGRATE_TLS: done", err is None, err)
    last = moved("... it runs in the second namespace and carries on counting", cb, con[1], last)

    # client-managed virsh migrate --tls: virsh runs in the second namespace
    dd = cb.lookupByName("loop")
    with open(path, "w") as f:
        f.write(with_console(dd, con[0]))
    from_b = "qemu+tls://%s:%d/system?pkipath=%s/pki" % (addr[1], port, a.root)
    p = subprocess.run(["ip", "netns", "exec", ns[1], "virsh", "-q", "-c", from_b, "migrate",
                        "--live", "--tls", "--xml", path, "loop", tls_b.replace(addr[1], addr[0])],
                       capture_output=True, text=True)
    T.check("client-managed virsh migrate --live --tls between the namespaces: done",
            p.returncode == 0, p.stdout + p.stderr)
    last = moved("... it runs in the first namespace and carries on counting", ca, con[0], last)
    T.check("... the certificate files are root's again with their modes",
            [owners(q) for q in qdir] == files_before, [owners(q) for q in qdir])

    dom = ca.lookupByName("loop")
    pid_before = a.qemus()

    def refused_tls(desc, want):
        err = None
        try:
            dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML:
                                      with_console(dom, con[1])},
                              libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
                              libvirt.VIR_MIGRATE_TLS)
        except libvirt.libvirtError as e:
            err = e.get_error_message()
        T.check(desc, err is not None and all(w in err for w in want), err)
        T.note(err)
        time.sleep(1)  # the destination's reaper
        T.check("... the guest runs on in the same QEMU, nothing in the second namespace",
                dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and a.qemus() == pid_before and
                "loop" not in [d.name() for d in cb.listAllDomains()] and not b.qemus(),
                (dom.state(), a.qemus(), pid_before, b.qemus()))

    # a missing file on either side: refused before anything starts, naming it
    key = os.path.join(qdir[0], "client-key.pem")
    os.rename(key, key + ".away")
    refused_tls("--tls with the source's client-key.pem missing: refused at Begin, naming it",
                ["the source cannot read '%s'" % key, "No such file or directory"])
    os.rename(key + ".away", key)
    cert = os.path.join(qdir[1], "server-cert.pem")
    os.rename(cert, cert + ".away")
    refused_tls("--tls with the destination's server-cert.pem missing: refused at Prepare, "
                "naming it", ["migration refused by the destination",
                              "the destination cannot read '%s'" % cert])
    os.rename(cert + ".away", cert)

    # the source's QEMU client certificate signed by a CA the destination
    # does not trust (the daemons' own certificates are fine)
    for src, name in (("strangercert.pem", "client-cert.pem"), ("strangerkey.pem",
                                                                 "client-key.pem")):
        shutil.copy(os.path.join(rogue.dir, src), os.path.join(qdir[0], name))
        os.chmod(os.path.join(qdir[0], name), 0o600)
    # the source's QEMU checks its own certificate against its CAs: it
    # trusts both, so only the destination's QEMU can refuse it
    with open(os.path.join(qdir[0], "ca-cert.pem"), "a") as f:
        f.write(open(os.path.join(rogue.dir, "cacert.pem")).read())
    t0 = time.monotonic()
    refused_tls("--tls from a source whose QEMU client certificate another CA signed: the "
                "destination's QEMU refuses it, the copy fails", ["migration of domain 'loop' "
                                                                  "failed", "the guest runs on "
                                                                  "here"])
    T.note("refused after %.2f s" % (time.monotonic() - t0))

    # migrate_tls_x509_verify = 0 on the destination: its QEMU no longer asks
    # for the source's certificate, so the same source gets through
    b.stop()
    b.conf += "migrate_tls_x509_verify = 0\n"
    cb = b.start()
    err = None
    try:
        dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dom, con[1])},
                          libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
                          libvirt.VIR_MIGRATE_TLS)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    T.check("with migrate_tls_x509_verify = 0 on the destination, that source migrates "
            "with --tls", err is None, err)
    last = moved("... it runs in the second namespace and carries on counting", cb, con[1], last)
    pki.qemu_dir("host0", "migrator", qdir[0])
    dd = cb.lookupByName("loop")
    err = None
    try:
        dd.migrateToURI3(tls_a, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dd, con[0])},
                         libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
                         libvirt.VIR_MIGRATE_TLS)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    last = moved("... and back with --tls (the first namespace checks the second's "
                 "certificate)", ca, con[0], last) if err is None else last
    T.check("... back with --tls: done", err is None, err)
    dom = ca.lookupByName("loop")
    pid_before = a.qemus()

    # a source daemon with a client certificate of another CA
    rogue_dir = os.path.join(top, "rogue-client")
    rogue.client_dir("stranger", rogue_dir, ca=pki)
    for f in ("clientcert.pem", "clientkey.pem"):
        shutil.copy(os.path.join(rogue_dir, f), os.path.join(a.root, "pki", f))
    # it trusts both CAs itself, so only the destination can refuse it
    with open(os.path.join(a.root, "pki", "cacert.pem"), "a") as f:
        f.write(open(os.path.join(rogue.dir, "cacert.pem")).read())
    err = None
    try:
        dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dom, con[1])},
                          libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    T.check("a source whose client certificate another CA signed: refused by the destination",
            err is not None and "clientcert.pem' is not signed" not in err, err)
    T.note(err)
    T.check("... the guest runs on in the same QEMU, nothing in the second namespace",
            dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING and a.qemus() == pid_before and
            "loop" not in [d.name() for d in cb.listAllDomains()],
            (dom.state(), a.qemus(), pid_before))
    dom.destroy()


def read(path):
    try:
        return open(path, errors="replace").read()
    except OSError:
        return ""


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
