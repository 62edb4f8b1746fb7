#!/usr/bin/python3
"""Guests on virtual networks (issue 14 item 3), end to end, in a network
namespace this test makes (nothing reaches the machine's own network):
tagvirtd's 'default' network comes up; Debian's virt-install with no network
flag on the privileged connection writes <interface type='network'><source
network='default'/> and the guest runs with its tap (vnetN, fe:-MAC) on the
bridge; the Linux guest kit (Debian's arm64 kernel, busybox) gets a DHCP
lease from the network's dnsmasq and pings the bridge; virsh domiflist and
domifaddr (lease and arp sources) show it; live XML names the bridge; after
a daemon restart the guest still pings the bridge and answers the host.
Refused at start, with no tap left behind: a network that does not exist, a
network that is not active.  virt-install --network network=lab,portgroup=sales
with a second NIC on default: a tap on each bridge, the portgroup kept, a
lease on lab.  TAP; needs root.

Usage: guest-network-test.py TAGVIRTD [CAPS_CACHE_DIR]"""
import os
import re
import sys

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (GUEST_ARGS, Daemon, check, guest_kit, need_tools, netns, private_tmpdir,
                    read_text, refused, run, sh, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
CACHE = sys.argv[2] if len(sys.argv) > 2 else None
TAG = "tvg%d" % os.getpid()
ERR_NO_NETWORK, ERR_OPERATION_INVALID = 43, 55


def taps(ns):
    """Taps in the namespace: name -> (MAC, master)."""
    out = {}
    for line in sh("ip", "-o", "link", "show", ns=ns).splitlines():
        m = re.match(r"\d+: (vnet\d+):", line)
        if m:
            master = re.search(r" master (\S+)", line)
            out[m.group(1)] = (re.search(r"link/ether (\S+)", line).group(1),
                               master.group(1) if master else None)
    return out


def pings_after(console, count):
    """The guest's own pings of the bridge that succeeded after line count."""
    lines = read_text(console).splitlines()[count:]
    return [l for l in lines if l.startswith("GUESTNET ping") and l.endswith(" ok")]


def main():
    if not need_tools("ip", "nft", "dnsmasq", "busybox", "virsh", "virt-install"):
        return
    if os.geteuid() != 0:
        check("runs as root (network namespaces, bridges)", False)
        return
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    work = private_tmpdir("tvgn-")
    kernel, initrd = guest_kit(work)
    ns = netns(TAG)
    d = Daemon(CACHE, ns, conf="default_network = 1\n")
    conn = d.start(TAGVIRTD)
    net = conn.networkLookupByName("default")
    check("the default network is active", net.isActive() == 1)

    console = os.path.join(work, "g1.console")
    rc, out = d.virt_install(
        "--name", "g1", "--arch", "aarch64", "--machine", "virt", "--virt-type", "qemu",
        "--memory", "256", "--vcpus", "1", "--osinfo", "linux2020", "--import",
        "--boot", "kernel=%s,initrd=%s,kernel_args=%s" % (kernel, initrd, GUEST_ARGS),
        "--features", "acpi=off", "--disk", "none", "--graphics", "none",
        "--serial", "file,path=" + console, "--noautoconsole")
    check("virt-install without a network flag defines and starts a guest", rc == 0, out)
    dom = conn.lookupByName("g1")
    inactive = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    mac = re.search(r"<mac address='([0-9a-f:]+)'/>", inactive).group(1)
    check("... on network 'default' (what virt-install picks on a privileged connection)",
          "<interface type='network'>" in inactive and "<source network='default'/>" in inactive,
          inactive)
    live = dom.XMLDesc(0)
    check("live XML names the network's bridge and the tap",
          "<source network='default' bridge='virbr0'/>" in live and "<target dev='vnet0'/>" in live,
          live)
    t = taps(ns)
    check("its tap vnet0 sits on virbr0 with the guest's MAC behind fe:",
          t.get("vnet0") == ("fe" + mac[2:], "virbr0"), t)
    rc, out, err = d.virsh("domiflist", "g1")
    check("virsh domiflist: vnet0, network, default, virtio, the MAC",
          rc == 0 and re.search(r"vnet0\s+network\s+default\s+virtio\s+" + mac, out), out + err)

    lease = wait_for(lambda: re.search(r"GUESTNET lease eth0 (192\.168\.122\.\d+)/24",
                                       read_text(console)), 300)
    check("the Linux guest gets a DHCP lease from the network's dnsmasq", lease,
          read_text(console)[-1500:])
    ip = lease.group(1) if lease else "none"
    check("... and pings the bridge address 192.168.122.1",
          wait_for(lambda: pings_after(console, 0), 120), read_text(console)[-800:])
    rc, out, err = d.virsh("domifaddr", "g1")
    check("virsh domifaddr (source lease): vnet0, its MAC, %s/24" % ip,
          rc == 0 and re.search(r"vnet0\s+%s\s+ipv4\s+%s/24" % (mac, re.escape(ip)), out),
          out + err)
    addrs = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    check("interfaceAddresses(LEASE) as libvirt gives it",
          addrs == {"vnet0": {"hwaddr": mac, "addrs": [{"type": 0, "addr": ip, "prefix": 24}]}},
          addrs)
    sh("busybox", "ping", "-c", "1", "-W", "2", ip, ns=ns, check_rc=False)
    rc, out, err = d.virsh("domifaddr", "g1", "--source", "arp")
    check("virsh domifaddr --source arp finds it in the host's ARP table",
          rc == 0 and ip in out, out + err)
    refused("the agent source: not supported (tagvirt has no guest agent)",
            lambda: dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT),
            libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED, ["agent"])

    # a daemon restart leaves the guest, its tap and the network running
    conn.close()
    d.stop()
    seen = len(read_text(console).splitlines())
    conn = d.start(TAGVIRTD)
    dom = conn.lookupByName("g1")
    check("after a daemon restart the guest runs, its tap still on the bridge",
          dom.isActive() == 1 and taps(ns).get("vnet0", (0, 0))[1] == "virbr0")
    check("... the guest still pings the bridge",
          wait_for(lambda: pings_after(console, seen), 120), read_text(console)[-500:])
    out = sh("busybox", "ping", "-c", "2", "-W", "3", ip, ns=ns, check_rc=False, both=True)
    check("... and the host reaches the guest at %s" % ip, " 0% packet loss" in out, out)

    # refusals: nothing half-done
    before = taps(ns)
    tmpl = inactive.replace("<name>g1</name>", "<name>g2</name>")
    tmpl = re.sub(r"<uuid>[^<]*</uuid>", "", tmpl)
    tmpl = re.sub(r"<mac address='[^']*'/>", "<mac address='52:54:00:7e:00:02'/>", tmpl)
    tmpl = re.sub(r"<serial type='file'>.*?</serial>", "", tmpl, flags=re.S)
    g2 = conn.defineXML(tmpl.replace("network='default'", "network='nosuch'"))
    refused("a NIC on a network that does not exist: refused at start (NO_NETWORK)", g2.create,
            ERR_NO_NETWORK, ["nosuch", "52:54:00:7e:00:02"])
    conn.networkDefineXML("<network><name>stopped</name><ip address='10.55.0.1' "
                          "netmask='255.255.255.0'/></network>")
    g2.undefine()
    g2 = conn.defineXML(tmpl.replace("network='default'", "network='stopped'"))
    refused("a NIC on a network that is not active: refused (OPERATION_INVALID)", g2.create,
            ERR_OPERATION_INVALID, ["stopped", "not active"])
    check("... both left no tap behind and the domain shut off",
          taps(ns) == before and g2.isActive() == 0, (before, taps(ns)))
    g2.undefine()
    dom.destroy()
    check("destroy removes the guest's tap", wait_for(lambda: "vnet0" not in taps(ns), 10),
          taps(ns))

    # virt-install --network network=NAME,portgroup=GROUP on a network with portgroups
    lab = conn.networkDefineXML(
        "<network><name>lab</name><forward mode='nat'/><bridge name='tvlab0'/>"
        "<portgroup name='engineering' default='yes'/><portgroup name='sales'/>"
        "<ip address='10.56.0.1' netmask='255.255.255.0'><dhcp>"
        "<range start='10.56.0.10' end='10.56.0.20'/></dhcp></ip></network>")
    lab.create()
    check("a network with two portgroups keeps them",
          "<portgroup name='engineering' default='yes'/>" in lab.XMLDesc(0) and
          "<portgroup name='sales'/>" in lab.XMLDesc(0), lab.XMLDesc(0))
    refused("a portgroup with a <vlan> is refused, naming it",
            lambda: conn.networkDefineXML(
                "<network><name>v</name><portgroup name='x'><vlan><tag id='4'/></vlan>"
                "</portgroup></network>"), libvirt.VIR_ERR_XML_ERROR, ["<vlan>", "portgroup"])
    console3 = os.path.join(work, "g3.console")
    rc, out = d.virt_install(
        "--name", "g3", "--arch", "aarch64", "--machine", "virt", "--virt-type", "qemu",
        "--memory", "256", "--vcpus", "1", "--osinfo", "linux2020", "--import",
        "--boot", "kernel=%s,initrd=%s,kernel_args=%s" % (kernel, initrd, GUEST_ARGS),
        "--features", "acpi=off", "--disk", "none", "--graphics", "none",
        "--network", "network=lab,portgroup=sales", "--network", "network=default",
        "--serial", "file,path=" + console3, "--noautoconsole")
    check("virt-install --network network=lab,portgroup=sales --network network=default "
          "defines and starts a guest", rc == 0, out)
    g3 = conn.lookupByName("g3")
    inactive = g3.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    live = g3.XMLDesc(0)
    check("... its definition names the network and the portgroup",
          "<source network='lab' portgroup='sales'/>" in inactive and
          "<source network='default'/>" in inactive, inactive)
    check("... live XML adds each network's bridge",
          "<source network='lab' portgroup='sales' bridge='tvlab0'/>" in live and
          "<source network='default' bridge='virbr0'/>" in live, live)
    masters = sorted(m for _, m in taps(ns).values())
    check("... one tap on each bridge", masters == ["tvlab0", "virbr0"], taps(ns))
    lease3 = wait_for(lambda: re.search(r"GUESTNET lease eth\d (10\.56\.0\.\d+)/24",
                                        read_text(console3)), 300)
    check("... and the guest gets a lease from lab's dnsmasq on that NIC", lease3,
          read_text(console3)[-1500:])
    g3.destroy()
    check("destroy removes both taps", wait_for(lambda: not taps(ns), 10), taps(ns))
    lab.destroy()
    conn.close()


run(main)
