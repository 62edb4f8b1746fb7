#!/usr/bin/python3
"""tagvirtd's TLS listener (--listen, listen_tls, tls_port, listen_addr,
ca_file/cert_file/key_file, tls_allowed_dn_list, tls_no_verify_certificate)
driven by Debian's virsh and python3-libvirt over qemu+tls:// with
certificates made by certtool: calls work (a 3 MB definition both ways, so
frames span many TLS records), the connection is secure; an untrusted, an
expired and a missing client certificate, a DN outside the allowed list and
a client that does not speak TLS are refused while the others go on being
served; bad TLS configuration stops the daemon with a message naming the
key or file.  TAP.

Usage: tls-test.py TAGVIRTD [CAPS_CACHE_DIR]"""
import os
import socket
import ssl
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD = os.path.abspath(sys.argv[1])
CACHE = sys.argv[2] if len(sys.argv) > 2 else None
T = tvtest.Tap()
TOP = tempfile.mkdtemp(prefix="tvtls-")


def virsh(uri, *args):
    return tvtest.virsh_at(uri, *args, timeout=60)


error_of = tvtest.error_of


def domain_xml(name, description=""):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <description>{description}</description>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>/nonexistent</kernel></os>
  <cpu mode='maximum'/>
  <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>
</domain>
"""


def config_errors(pki):
    """Bad TLS settings: the daemon exits with a message naming what is wrong."""
    cases = [
        ('auth_tls = "sasl"\n', 'auth_tls "sasl" is not supported'),
        ('tls_port = "99999"\n', "tls_port must be a port number"),
        ('tls_allowed_dn_list = []\n', "tls_allowed_dn_list is empty"),
        ('tls_allowed_dn_list = ["a", b]\n', "tls_allowed_dn_list must be a list"),
        ('cert_file = "/nonexistent/cert.pem"\n', "/nonexistent/cert.pem"),
    ]
    for conf, text in cases:
        d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, listen=True, prefix="tvtls-bad-",
                            conf='listen_addr = "127.0.0.1"\ntls_port = "%d"\n%s' %
                            (tvtest.free_port(), conf))
        pki.server_dir("server", d.root + "/pki")
        try:
            rc = d.start(expect_fail=True, timeout=120)
            T.check("tagvirtd refuses %s naming it" % conf.strip(),
                    rc not in (None, 0) and text in d.log(), d.log())
        finally:
            d.cleanup()
    # without --listen no TCP socket is opened, whatever listen_tls says
    port = tvtest.free_port()
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvtls-nolisten-",
                        conf='listen_addr = "127.0.0.1"\ntls_port = "%d"\nlog_level = 2\n' % port)
    try:
        d.start()
        s = socket.socket()
        refused = s.connect_ex(("127.0.0.1", port)) != 0
        s.close()
        T.check("without --listen nothing listens on tls_port", refused)
    finally:
        d.cleanup()


def raw_tls(port, cafile, cert):
    """libvirt's one-byte answer to a TLS client presenting cert (a
    (certfile, keyfile) pair or None), or why there was none."""
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    if cert:
        ctx.load_cert_chain(*cert)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                data = t.recv(1)
        except (ssl.SSLError, OSError) as e:
            return "refused: %s" % e
    return data


def run():
    pki = tvtest.Pki(TOP)
    pki.server("server", ["localhost", "127.0.0.1"])
    pki.client("client1", "client1")
    pki.client("client2", "client2")
    pki.client("old", "client1", expired=True)
    rogue = tvtest.Pki(TOP, "rogue", "another CA")
    rogue.client("stranger", "client1")
    good = pki.client_dir("client1", TOP + "/cli-good")
    other = pki.client_dir("client2", TOP + "/cli-other")
    expired = pki.client_dir("old", TOP + "/cli-expired")
    stranger = rogue.client_dir("stranger", TOP + "/cli-stranger")
    with open(stranger + "/cacert.pem", "a") as f:  # trusts both CAs
        f.write(open(pki.dir + "/cacert.pem").read())

    config_errors(pki)

    port = tvtest.free_port()
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, listen=True, prefix="tvtls-",
                        conf='listen_addr = "127.0.0.1"\ntls_port = "%d"\nlog_level = 2\n' % port)
    pki.server_dir("server", d.root + "/pki")
    try:
        d.start()
        uri = "qemu+tls://localhost:%d/system?pkipath=%s" % (port, good)
        rc, out = virsh(uri, "version")
        T.check("virsh over qemu+tls:// (client certificate checked): version", rc == 0 and
                "Running hypervisor: QEMU" in out, out)
        rc, out = virsh("qemu+tls://127.0.0.1:%d/system?pkipath=%s" % (port, good), "list", "--all")
        T.check("virsh over qemu+tls:// to an address in the certificate: list", rc == 0, out)

        conn = libvirt.open(uri)
        T.check("python3-libvirt over TLS: isSecure", conn.isSecure() == 1)
        big = "x" * (3 * 1024 * 1024)
        dom = conn.defineXML(domain_xml("tlsbig", big))
        back = dom.XMLDesc(0)
        T.check("a 3 MB definition goes up and comes back whole over TLS",
                big in back and dom.name() == "tlsbig", len(back))
        rc, out = virsh(uri, "dominfo", "tlsbig")
        T.check("virsh dominfo of it over TLS", rc == 0 and "tlsbig" in out, out)

        # libvirt's client checks its own certificate against the CAs it trusts
        # first: this one trusts both CAs, so only the server can refuse it
        r = error_of(libvirt.open, "qemu+tls://localhost:%d/system?pkipath=%s" % (port, stranger))
        T.check("virsh's library with a certificate of another CA is refused by the server",
                r is not None, r)
        # (GnuTLS offers no certificate the server's CA did not sign)
        T.check("the daemon logs why it refused it",
                "refused: the client sent no certificate" in d.log(20000), d.log())
        cafile = pki.dir + "/cacert.pem"
        r = raw_tls(port, cafile, None)
        T.check("a TLS client without a certificate never gets the byte 1", r != b"\x01", r)
        r = raw_tls(port, cafile, (expired + "/clientcert.pem", expired + "/clientkey.pem"))
        T.check("a TLS client with an expired certificate never gets the byte 1", r != b"\x01", r)
        r = raw_tls(port, cafile, (good + "/clientcert.pem", good + "/clientkey.pem"))
        T.check("the same raw client with a good certificate gets it", r == b"\x01", r)
        T.check("the daemon logs the refusal of the expired certificate",
                "refused: the client's certificate is refused" in d.log(20000) and
                "expired" in d.log(20000), d.log(20000))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            # a plain RPC call (CONNECT_OPEN) where a ClientHello belongs
            s.sendall(bytes.fromhex("0000002c200080860000000100000001000000000000000100000000"
                                    "00000000000000000000000000000000"))
            s.settimeout(10)
            try:
                got = s.recv(100)
            except OSError:
                got = b""
        T.check("a client that does not speak TLS is hung up on, nothing answered",
                got == b"" or not got.startswith(b"\x00\x00"), got)
        T.check("the first connection is still served after the refusals",
                conn.lookupByName("tlsbig").name() == "tlsbig")
        dom.undefine()
        conn.close()
    finally:
        d.cleanup()

    # tls_allowed_dn_list, as libvirtd's: exact DNs or glob patterns
    port = tvtest.free_port()
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, listen=True, prefix="tvtls-dn-",
                        conf='listen_addr = "127.0.0.1"\ntls_port = "%d"\n'
                             'tls_allowed_dn_list = [\n  "O=tagvirt,CN=client1",\n'
                             '  "O=nobody,CN=*",\n]\n' % port)
    pki.server_dir("server", d.root + "/pki")
    try:
        d.start()
        rc, out = virsh("qemu+tls://localhost:%d/system?pkipath=%s" % (port, good), "version")
        T.check("tls_allowed_dn_list (over two lines): the listed DN is served", rc == 0, out)
        rc, out = virsh("qemu+tls://localhost:%d/system?pkipath=%s" % (port, other), "version")
        T.check("a DN outside tls_allowed_dn_list is refused", rc != 0, out)
        T.check("the log names the refused DN and the key",
                "CN=client2" in d.log(20000) and "tls_allowed_dn_list" in d.log(20000), d.log())
    finally:
        d.cleanup()

    # tls_no_verify_certificate = 1: the opt-out libvirtd has, with a warning
    port = tvtest.free_port()
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, listen=True, prefix="tvtls-nv-",
                        conf='listen_addr = "127.0.0.1"\ntls_port = "%d"\n'
                             'tls_no_verify_certificate = 1\n' % port)
    pki.server_dir("server", d.root + "/pki")
    try:
        d.start()
        r = raw_tls(port, pki.dir + "/cacert.pem", None)
        T.check("tls_no_verify_certificate = 1 serves a client without a certificate",
                r == b"\x01", r)
        T.check("... and the daemon warns about it", "tls_no_verify_certificate" in d.log(20000),
                d.log())
    finally:
        d.cleanup()


def main():
    try:
        run()
    except Exception:
        T.check("the test ran to its end", False, traceback.format_exc())
    finally:
        import shutil
        shutil.rmtree(TOP, ignore_errors=True)
    return T.finish()


if __name__ == "__main__":
    sys.exit(main())
