#!/usr/bin/python3
"""tagvirtd's network driver, in network namespaces this test makes, so no
bridge, rule or DHCP packet reaches the machine's own network.  Driven by
python3-libvirt and virsh: the 'default' network of the first start (and a
free /24 when 192.168.122.0/24 is taken), its bridge, nftables table and
dnsmasq; a DHCP lease taken by a client (busybox udhcpc) on a veth joined to
the bridge, which then pings the bridge; net-destroy removing everything; a
daemon restart keeping a running network; events; and refusals (overlapping
subnets, a bridge name that is not ours, a DHCP range outside the subnet,
dnsmasq missing) leaving nothing behind.  TAP; needs root.

Usage: network-test.py TAGVIRTD [CAPS_CACHE_DIR]"""
import os
import subprocess
import sys
import threading
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (Daemon as TvDaemon, check, need_tools, netns, pids_with,  # noqa: E402
                    read_text, refused, run, sh)

TAGVIRTD = os.path.abspath(sys.argv[1])
CACHE = sys.argv[2] if len(sys.argv) > 2 else None
TAG = "tvn%d" % os.getpid()

ERR_XML_ERROR, ERR_NO_NETWORK, ERR_OPERATION_INVALID, ERR_OPERATION_FAILED = 27, 43, 55, 9
NET_EV_DEFINED, NET_EV_UNDEFINED, NET_EV_STARTED, NET_EV_STOPPED = 0, 1, 2, 3


class Daemon(TvDaemon):
    """A daemon that makes the default network on its first start (its
    dnsmasq and any QEMU are killed with the test: networks outlive their
    daemon, as libvirt's)."""

    def __init__(self, ns, conf="default_network = 1\n", wrap=()):
        super().__init__(cache=CACHE, ns=ns, conf=conf, wrap=wrap)

    def start(self):
        return super().start(TAGVIRTD, timeout=60)


def dnsmasq_pids(conf_dir):
    """The dnsmasq processes whose configuration lives under conf_dir."""
    return [p for p in pids_with(conf_dir) if read_text("/proc/%d/comm" % p).strip() == "dnsmasq"]


def ping(ns, addr):
    """With STP on, a new bridge port forwards after twice the forward delay
    (the kernel's minimum is 2 s): retry for up to 10 s."""
    deadline = time.time() + 10
    while time.time() < deadline:
        r = subprocess.run(["ip", "netns", "exec", ns, "busybox", "ping", "-c", "1", "-W", "1",
                            addr], capture_output=True, text=True)
        if r.returncode == 0:
            return True
    return False


class NetEvents:
    def __init__(self):
        self.cond = threading.Condition()
        self.seen = []

    def callback(self, conn, net, event, detail, opaque):
        with self.cond:
            self.seen.append((net.name(), event))
            self.cond.notify_all()

    def wait(self, item, timeout=10):
        with self.cond:
            return self.cond.wait_for(lambda: item in self.seen, timeout)


def main():
    if not need_tools("ip", "nft", "dnsmasq", "busybox", "virsh", "unshare"):
        return
    if os.geteuid() != 0:
        check("runs as root (network namespaces, bridges)", False)
        return
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()

    # what the machine's own namespace has before (another daemon, e.g. a
    # system tagvirtd or libvirtd, may have its own virbr0 there)
    host_tables_before = sh("nft", "list", "tables")
    host_links_before = sh("ip", "-br", "link")
    ns = netns(TAG + "a")
    d = Daemon(ns)
    conn = d.start()
    net = conn.networkLookupByName("default")
    check("first start: network 'default', NAT, active, autostart",
          net.isActive() == 1 and net.autostart() == 1 and "<forward mode='nat'/>" in net.XMLDesc(0))
    addr = sh("ip", "-br", "-4", "addr", "show", "virbr0", ns=ns)
    check("its bridge virbr0 carries 192.168.122.1/24", "192.168.122.1/24" in addr, addr)
    rules = sh("nft", "list", "table", "ip", "tagvirt_virbr0", ns=ns)
    check("its nftables table masquerades the subnet",
          "masquerade" in rules and "192.168.122.0/24" in rules, rules)
    conf_dir = os.path.join(d.root, "state", "network")
    pids = dnsmasq_pids(conf_dir)
    check("one dnsmasq serves it", len(pids) == 1, pids)
    host_tables = sh("nft", "list", "tables")
    host_links = sh("ip", "-br", "link")
    new_tables = set(host_tables.splitlines()) - set(host_tables_before.splitlines())
    new_links = {l.split()[0] for l in host_links.splitlines()} - \
        {l.split()[0] for l in host_links_before.splitlines()}
    check("nothing reached the machine's own network namespace",
          not new_tables and not any(l.startswith(("virbr", TAG)) for l in new_links),
          "new tables: %s, new links: %s" % (sorted(new_tables), sorted(new_links)))

    # a DHCP client on a veth joined to the bridge
    cli = netns(TAG + "c")
    sh("ip", "link", "add", TAG + "0", "type", "veth", "peer", "name", TAG + "1")
    sh("ip", "link", "set", TAG + "0", "netns", ns)
    sh("ip", "link", "set", TAG + "1", "netns", cli)
    sh("ip", "link", "set", TAG + "0", "master", "virbr0", "up", ns=ns)
    sh("ip", "link", "set", TAG + "1", "address", "52:54:00:12:34:56", "up", ns=cli)
    out = sh("busybox", "udhcpc", "-i", TAG + "1", "-q", "-n", "-f", "-t", "8", "-s", "/bin/true",
             ns=cli, check_rc=False, both=True)
    lease_ip = out.split("lease of ")[1].split()[0] if "lease of " in out else None
    check("a client on the bridge gets a DHCP lease from dnsmasq", lease_ip is not None, out)
    leases = net.DHCPLeases()
    check("networkGetDHCPLeases reports it (MAC, address, prefix, bridge)",
          any(l["mac"] == "52:54:00:12:34:56" and l["ipaddr"] == lease_ip and l["prefix"] == 24
              and l["iface"] == "virbr0" for l in leases), leases)
    rc, out, err = d.virsh("net-dhcp-leases", "default", "--mac", "52:54:00:12:34:56")
    check("virsh net-dhcp-leases --mac", rc == 0 and lease_ip in out, out + err)
    if lease_ip:
        sh("ip", "addr", "add", lease_ip + "/24", "dev", TAG + "1", ns=cli)
        check("the client pings the bridge address", ping(cli, "192.168.122.1"))

    # events, define, refusals
    ev = NetEvents()
    conn.networkEventRegisterAny(None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE, ev.callback, None)
    refused("a DHCP range outside the subnet", lambda: conn.networkDefineXML(
        "<network><name>r</name><ip address='10.9.0.1' netmask='255.255.255.0'><dhcp>"
        "<range start='10.8.0.2' end='10.8.0.9'/></dhcp></ip></network>"), ERR_XML_ERROR,
        ["range"])
    over = conn.networkDefineXML("<network><name>over</name><forward/><ip address='192.168.122.129'"
                                 " netmask='255.255.255.128'/></network>")
    check("define: event DEFINED", ev.wait(("over", NET_EV_DEFINED)))
    refused("starting a network whose subnet overlaps an active one", over.create,
            ERR_OPERATION_INVALID, ["overlaps", "default"])
    sh("ip", "link", "add", "tvtaken", "type", "bridge", ns=ns)
    taken = conn.networkDefineXML("<network><name>taken</name><bridge name='tvtaken'/>"
                                  "<ip address='10.77.0.1' netmask='255.255.255.0'/></network>")
    refused("starting a network on a bridge name that exists and is not its own", taken.create,
            ERR_OPERATION_INVALID, ["tvtaken"])
    links = sh("ip", "-br", "link", ns=ns)
    check("... refusals leave no bridge, rule or dnsmasq behind",
          links.count("virbr") == 1 and "tagvirt_tvtaken" not in sh("nft", "list", "tables", ns=ns)
          and len(dnsmasq_pids(conf_dir)) == 1, links)
    over.undefine()
    taken.undefine()
    check("undefine: event UNDEFINED", ev.wait(("over", NET_EV_UNDEFINED)))
    iso = conn.networkCreateXML("<network><name>iso</name><ip address='10.66.0.1' "
                                "netmask='255.255.255.0'><dhcp><range start='10.66.0.10' "
                                "end='10.66.0.20'/><host mac='52:54:00:00:00:01' ip='10.66.0.5'/>"
                                "</dhcp></ip></network>")
    br = iso.bridgeName()
    check("a transient isolated network: its own bridge (%s), event STARTED" % br,
          br.startswith("virbr") and br != "virbr0" and ev.wait(("iso", NET_EV_STARTED)))
    isorules = sh("nft", "list", "table", "ip", "tagvirt_" + br, ns=ns)
    check("... it forwards nothing off the bridge (reject rules, no masquerade)",
          "reject" in isorules and "masquerade" not in isorules, isorules)
    hosts = open(os.path.join(conf_dir, "iso.hostsfile")).read()
    check("... its static DHCP host is given to dnsmasq", "52:54:00:00:00:01,10.66.0.5" in hosts,
          hosts)

    # a restart keeps running networks running, with the same dnsmasq
    before = sorted(dnsmasq_pids(conf_dir))
    conn.close()
    d.stop()
    conn = d.start()
    check("after a restart: both networks active, same dnsmasq processes",
          conn.networkLookupByName("default").isActive() == 1
          and conn.networkLookupByName("iso").isActive() == 1
          and sorted(dnsmasq_pids(conf_dir)) == before, (before, dnsmasq_pids(conf_dir)))
    check("... the client still reaches the bridge", ping(cli, "192.168.122.1"))

    rc, out, err = d.virsh("net-destroy", "default")
    links = sh("ip", "-br", "link", ns=ns)
    check("net-destroy removes the bridge, the rules and dnsmasq",
          rc == 0 and "virbr0" not in links
          and "tagvirt_virbr0" not in sh("nft", "list", "tables", ns=ns)
          and len(dnsmasq_pids(conf_dir)) == 1, (out, err, links))
    rc, out, err = d.virsh("net-destroy", "iso")
    check("destroying a transient network forgets it",
          rc == 0 and "iso" not in [n.name() for n in conn.listAllNetworks(0)]
          and dnsmasq_pids(conf_dir) == [], err)
    refused("an unknown network", lambda: conn.networkLookupByName("nope"), ERR_NO_NETWORK)
    conn.close()
    d.stop()

    # 192.168.122.0/24 taken: the default network takes the next free /24
    ns2 = netns(TAG + "b")
    sh("ip", "link", "add", "up0", "type", "veth", "peer", "name", "up1", ns=ns2)
    sh("ip", "addr", "add", "192.168.122.5/24", "dev", "up0", ns=ns2)
    d2 = Daemon(ns2)
    conn2 = d2.start()
    xml = conn2.networkLookupByName("default").XMLDesc(0)
    check("192.168.122.0/24 in use: the default network is 192.168.123.0/24",
          "address='192.168.123.1'" in xml, xml)
    conn2.networkLookupByName("default").destroy()
    conn2.close()
    d2.stop()

    # dnsmasq missing: the start fails and leaves nothing
    ns3 = netns(TAG + "d")
    d3 = Daemon(ns3, conf="default_network = 1\nautostart = 0\n",
                wrap=["unshare", "-m", "sh", "-c",
                      "mount --bind /dev/null \"$(command -v dnsmasq || echo /usr/sbin/dnsmasq)\""
                      " && exec \"$0\" \"$@\""])
    conn3 = d3.start()
    refused("dnsmasq missing: the start is refused with dnsmasq's name",
            conn3.networkLookupByName("default").create, ERR_OPERATION_FAILED, ["dnsmasq"])
    check("... and leaves no bridge or rule behind",
          "virbr0" not in sh("ip", "-br", "link", ns=ns3)
          and "tagvirt" not in sh("nft", "list", "tables", ns=ns3))
    conn3.close()
    d3.stop()


run(main)
