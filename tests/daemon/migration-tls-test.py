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
destination, and its guest runs on.  TAP.

Usage: migration-tls-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]"""
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

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
T = tvtest.Tap()
CHECK = re.compile(r"tags intact \(check (\d+)\)")


def sh(*args):
    subprocess.run(args, check=True, capture_output=True)


def domain_xml(name, console):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <features><mte version='3'/></features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices><controller type='usb' model='none'/><memballoon model='none'/>
    <serial type='file'><source path='{console}'/></serial></devices>
</domain>
"""


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
        daemons.append(d)
        d.start()
    a, b = daemons
    ca, cb = libvirt.open(a.uri), libvirt.open(b.uri)
    # each source daemon's own client certificate, as libvirt's ?pkipath= names it
    tls_b = "qemu+tls://%s:%d/system?pkipath=%s/pki" % (addr[1], port, a.root)
    tls_a = "qemu+tls://%s:%d/system?pkipath=%s/pki" % (addr[0], port, b.root)

    con = [os.path.join(d.root, "loop.console") for d in daemons]
    dom = ca.defineXML(domain_xml("loop", con[0]))
    dom.create()
    text, checks = wait_checks(con[0], 1)
    T.check("the looping MTE 3 guest runs in the first namespace", len(checks) > 0, text[-300:])
    last = checks[-1] if checks else 0

    t0 = time.monotonic()
    err = None
    try:
        dom.migrateToURI3(tls_b, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: with_console(dom, con[1])},
                          libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
    except libvirt.libvirtError as e:
        err = e.get_error_message()
    T.check("migrateToURI3 peer-to-peer over qemu+tls:// to the other namespace: done",
            err is None, err)
    T.note("%.2f s" % (time.monotonic() - t0))
    listens = re.findall(r"QEMU listens on (tcp:\S+)", b.log(20000))
    T.check("the destination's QEMU listened on its end of the veth (the address the "
            "Prepare call came in on)", listens and listens[-1].startswith("tcp:%s:" % addr[1]),
            listens)
    dd = cb.lookupByName("loop") if "loop" in [d.name() for d in cb.listAllDomains()] else None
    T.check("the guest runs in the second namespace",
            dd is not None and dd.state()[0] == libvirt.VIR_DOMAIN_RUNNING,
            dd.state() if dd else None)
    text, checks = wait_checks(con[1], last)
    T.check("... its console there carries on counting, tags intact, no boot",
            checks and checks[0] > last and "FAIL" not in text and "MTE level" not in text,
            text[-300:])
    last = checks[-1] if checks else last

    # back with virsh --p2p, run by the second daemon
    path = os.path.join(b.root, "back.xml")
    with open(path, "w") as f:
        f.write(with_console(dd, con[0]))
    p = subprocess.run(["virsh", "-q", "-c", b.uri, "migrate", "--live", "--p2p", "--xml", path,
                        "loop", tls_a], capture_output=True, text=True)
    T.check("back with virsh migrate --live --p2p over qemu+tls://: done", p.returncode == 0,
            p.stdout + p.stderr)
    text, checks = wait_checks(con[0], last)
    T.check("... it runs in the first namespace again and carries on counting",
            ca.lookupByName("loop").state()[0] == libvirt.VIR_DOMAIN_RUNNING and checks and
            checks[0] > last, text[-300:])

    # a source daemon with a client certificate of another CA
    rogue_dir = os.path.join(top, "rogue-client")
    rogue.client_dir("stranger", rogue_dir, ca=pki)
    for f in ("clientcert.pem", "clientkey.pem"):
        shutil.copy(os.path.join(rogue_dir, f), os.path.join(a.root, "pki", f))
    # it trusts both CAs itself, so only the destination can refuse it
    with open(os.path.join(a.root, "pki", "cacert.pem"), "a") as f:
        f.write(open(os.path.join(rogue.dir, "cacert.pem")).read())
    dom = ca.lookupByName("loop")
    pid_before = a.qemus()
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


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
