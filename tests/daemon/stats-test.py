#!/usr/bin/python3
"""What clients poll (issue 9): getAllDomainStats / domainListGetStats
(procedure 344) with python3-libvirt and virsh domstats, compared field by
field with what tagvirtd answers elsewhere (dominfo, vcpuinfo, domblkstat,
domifstat, the file's size); the list filters (active, inactive, running,
paused, shutoff, persistent, transient) and ENFORCE_STATS' refusal of a
group tagvirtd lacks; the snapshot calls as libvirt answers them for a
domain without snapshots (virsh snapshot-list empty, creation refused);
node devices' isActive/isPersistent (436, 435).  A running firmware guest
with a disk, an ethernet NIC (tagvirtd's tap, in a network namespace the
test makes, with traffic the test sends into it) and a user NIC, beside a
shut-off domain.  TAP; needs root.

Usage: stats-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]"""
import os
import re
import sys
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (ERR_ARGUMENT_UNSUPPORTED, ERR_OPERATION_UNSUPPORTED, Daemon, check,
                    need_tools, netns, private_tmpdir, refused, run, sh, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
TAP = "tvst0"
ERR_NO_DOMAIN_SNAPSHOT = 72


def domain_xml(name, disk, nics=""):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices>
    <disk type='file' device='disk'><source file='{disk}'/><target dev='vda'/></disk>
{nics}
  </devices>
</domain>"""


def disk_file(folder, name, size):
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.truncate(size)
        f.seek(0)
        f.write(b"tagvirt" * 1000)  # some blocks allocated
    return path


def stats_of(records, name):
    for dom, params in records:
        if dom.name() == name:
            return params
    return None


def names(records):
    return sorted(dom.name() for dom, _ in records)


def virsh_domstats(d, *args):
    """virsh domstats' output: {domain: {field: text}}."""
    rc, out, err = d.virsh("domstats", *args)
    result, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"Domain: '(.*)'", line)
        if m:
            cur = result.setdefault(m.group(1), {})
        elif "=" in line and cur is not None:
            k, v = line.strip().split("=", 1)
            cur[k] = v
    return rc, result, err


def main():
    if not need_tools("ip", "virsh"):
        return
    if os.geteuid() != 0:
        check("runs as root (a network namespace for the tap)", False)
        return
    work = private_tmpdir("tvst-")
    run_disk = disk_file(work, "run.img", 4 << 20)
    off_disk = disk_file(work, "off.img", 2 << 20)
    ns = netns("tvst%d" % os.getpid())
    d = Daemon(CACHE, ns=ns)
    conn = d.start(TAGVIRTD)
    nics = (f"    <interface type='ethernet'><mac address='52:54:00:5e:00:01'/>"
            f"<target dev='{TAP}'/><model type='virtio'/></interface>\n"
            "    <interface type='user'><mac address='52:54:00:5e:00:02'/>"
            "<model type='virtio'/></interface>")
    dom = conn.defineXML(domain_xml("st-run", run_disk, nics))
    off = conn.defineXML(domain_xml("st-off", off_disk))
    dom.create()

    # traffic into the tap: the ARP requests of the host looking for the guest
    sh("ip", "addr", "add", "10.77.0.1/24", "dev", TAP, ns=ns)
    sh(sys.executable, "-c", "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
       ".sendto(b'x', ('10.77.0.2', 9))", ns=ns)
    wait_for(lambda: dom.interfaceStats(TAP)[1] > 0, 10)

    # --- every domain, every group
    info1 = dom.info()
    vcpus1 = dom.vcpus()
    recs = conn.getAllDomainStats(0, 0)
    info2 = dom.info()
    vcpus2 = dom.vcpus()
    check("getAllDomainStats(0): a record for each domain", names(recs) == ["st-off", "st-run"],
          names(recs))
    s = stats_of(recs, "st-run") or {}
    print("# st-run: %s" % sorted(s.items()))
    state = dom.state()
    check("state.state / state.reason as getState (running, booted)",
          [s.get("state.state"), s.get("state.reason")] == state, (s, state))
    check("cpu.time between two dominfo cpuTime samples, = cpu.user + cpu.system",
          info1[4] <= s.get("cpu.time", -1) <= info2[4] and
          s.get("cpu.time") == s.get("cpu.user", 0) + s.get("cpu.system", 0),
          (info1[4], s.get("cpu.time"), info2[4]))
    check("balloon.current / balloon.maximum as dominfo's memory and maxMem (KiB)",
          s.get("balloon.current") == info2[2] and s.get("balloon.maximum") == info2[1],
          (s, info2))
    check("vcpu.current / vcpu.maximum as dominfo and maxVcpus (1 of 2)",
          s.get("vcpu.current") == info2[3] == 1 and s.get("vcpu.maximum") == dom.maxVcpus() == 2,
          (s, info2))
    check("vcpu.0.state as vcpuinfo; vcpu.0.time between two vcpuinfo samples",
          s.get("vcpu.0.state") == vcpus2[0][0][1] and
          vcpus1[0][0][2] <= s.get("vcpu.0.time", -1) <= vcpus2[0][0][2],
          (s, vcpus1, vcpus2))

    blk = dom.blockStats("vda")
    st = os.stat(run_disk)
    check("block.count 1, block.0.name vda, block.0.path the file",
          s.get("block.count") == 1 and s.get("block.0.name") == "vda" and
          s.get("block.0.path") == run_disk, s)
    check("block.0.rd/wr reqs and bytes as domblkstat (blockStats)",
          (s.get("block.0.rd.reqs"), s.get("block.0.rd.bytes"), s.get("block.0.wr.reqs"),
           s.get("block.0.wr.bytes")) == tuple(blk[:4]), (s, blk))
    check("block.0.capacity (QEMU's virtual size), physical and allocation as the file's",
          s.get("block.0.capacity") == 4 << 20 and s.get("block.0.physical") == st.st_size and
          s.get("block.0.allocation") == st.st_blocks * 512, (s, st))
    flags = dom.blockStatsFlags("vda")
    check("blockStatsFlags: libvirt's names, the same counts",
          flags.get("rd_operations") == blk[0] and flags.get("rd_bytes") == blk[1] and
          flags.get("wr_operations") == blk[2] and flags.get("wr_bytes") == blk[3] and
          "flush_operations" in flags and "rd_total_times" in flags, flags)

    ifs = dom.interfaceStats(TAP)
    check("net.count 2 (ethernet and user); net.0.name the tap; the user NIC has no name",
          s.get("net.count") == 2 and s.get("net.0.name") == TAP and "net.1.name" not in s, s)
    check("net.0 counters as domifstat (interfaceStats), the host's ARP received by the guest",
          [s.get("net.0." + k) for k in ("rx.bytes", "rx.pkts", "rx.errs", "rx.drop", "tx.bytes",
                                         "tx.pkts", "tx.errs", "tx.drop")] == list(ifs) and
          ifs[1] > 0, (s, ifs))
    check("domifstat by MAC gives the same", dom.interfaceStats("52:54:00:5e:00:01") == ifs)
    refused("domifstat of the user NIC: no host device to count",
            lambda: dom.interfaceStats("52:54:00:5e:00:02"), ERR_OPERATION_UNSUPPORTED,
            ["user-mode"])
    refused("domblkstat of a disk the domain lacks: refused naming it",
            lambda: dom.blockStats("vdz"), libvirt.VIR_ERR_INVALID_ARG, ["vdz"])

    o = stats_of(recs, "st-off") or {}
    print("# st-off: %s" % sorted(o.items()))
    oinfo = off.info()
    check("shut off: state 5 (shutoff), balloon and vcpu from the definition, no cpu or net",
          o.get("state.state") == libvirt.VIR_DOMAIN_SHUTOFF and
          o.get("balloon.maximum") == oinfo[1] and o.get("vcpu.current") == 1 and
          "cpu.time" not in o and "net.count" not in o, o)
    check("shut off: block.0 name, path, capacity and physical of the file, no I/O counters",
          o.get("block.0.name") == "vda" and o.get("block.0.path") == off_disk and
          o.get("block.0.capacity") == 2 << 20 and "block.0.rd.reqs" not in o, o)

    # --- groups and filters
    only = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_STATE, 0)
    check("stats=STATE: only state.*",
          all(set(p) == {"state.state", "state.reason"} for _, p in only), only)
    F = libvirt
    for flag, want in ((F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE, ["st-run"]),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE, ["st-off"]),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING, ["st-run"]),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF, ["st-off"]),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED, []),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT, ["st-off", "st-run"]),
                       (F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT, [])):
        got = names(conn.getAllDomainStats(F.VIR_DOMAIN_STATS_STATE, flag))
        check("filter 0x%x: %s" % (flag, want), got == want, got)
    dom.suspend()
    got = names(conn.getAllDomainStats(F.VIR_DOMAIN_STATS_STATE,
                                       F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED))
    check("filter PAUSED after suspend: st-run", got == ["st-run"], got)
    dom.resume()
    perf = conn.getAllDomainStats(F.VIR_DOMAIN_STATS_PERF, 0)
    check("stats=PERF (not tagvirtd's) without ENFORCE_STATS: records with nothing in them",
          names(perf) == ["st-off", "st-run"] and all(not p for _, p in perf), perf)
    refused("stats=PERF with ENFORCE_STATS: VIR_ERR_ARGUMENT_UNSUPPORTED naming the bits",
            lambda: conn.getAllDomainStats(
                F.VIR_DOMAIN_STATS_PERF,
                F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS), ERR_ARGUMENT_UNSUPPORTED,
            ["0x40"])
    listed = conn.domainListGetStats([off], F.VIR_DOMAIN_STATS_BLOCK, 0)
    check("domainListGetStats([st-off], BLOCK): that domain's block group only",
          names(listed) == ["st-off"] and set(listed[0][1]) >= {"block.count", "block.0.name"}
          and "state.state" not in listed[0][1], listed)
    listed = conn.domainListGetStats([dom, off], F.VIR_DOMAIN_STATS_STATE,
                                     F.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    check("domainListGetStats([st-run, st-off], ACTIVE): the filter applies to the list",
          names(listed) == ["st-run"], listed)
    ro = libvirt.openReadOnly(d.uri)
    check("a read-only connection may read statistics",
          names(ro.getAllDomainStats(F.VIR_DOMAIN_STATS_STATE, 0)) == ["st-off", "st-run"])

    # --- virsh domstats, field by field against python's
    rc, vs, err = virsh_domstats(d, "st-run")
    py = stats_of(conn.getAllDomainStats(0, 0), "st-run") or {}
    v = vs.get("st-run", {})
    static = [k for k in py if not re.search(r"cpu\.|\.time$|\.times$", k)]
    diff = [(k, v.get(k), py[k]) for k in static if v.get(k) != str(py[k])]
    check("virsh domstats st-run: the same fields as python's (%d); equal values but the "
          "moving CPU times" % len(py),
          rc == 0 and set(v) == set(py) and not diff, (err, diff, sorted(set(v) ^ set(py))))
    rc, vs, err = virsh_domstats(d, "--state", "--list-shutoff")
    check("virsh domstats --state --list-shutoff: st-off, state.state=5",
          rc == 0 and list(vs) == ["st-off"] and vs["st-off"].get("state.state") == "5", vs)
    rc, out, err = d.virsh("domstats", "--perf", "--enforce")
    check("virsh domstats --perf --enforce: refused", rc != 0 and "not supported" in err, err)
    rc, out, err = d.virsh("domblkstat", "st-run", "vda")
    m = dict(re.findall(r"vda (\w+) (\d+)", out))
    check("virsh domblkstat st-run vda: the counts of block.0",
          rc == 0 and int(m.get("rd_req", -1)) == py.get("block.0.rd.reqs") and
          int(m.get("wr_bytes", -1)) == py.get("block.0.wr.bytes"), out + err)
    rc, out, err = d.virsh("domifstat", "st-run", TAP)
    m = dict(re.findall(TAP + r" (\w+) (\d+)", out))
    now = dom.interfaceStats(TAP)
    check("virsh domifstat st-run %s: the counts of interfaceStats" % TAP,
          rc == 0 and int(m.get("rx_packets", -1)) == now[1] and
          int(m.get("tx_bytes", -1)) == now[4], out + err)

    # --- snapshots: none
    rc, out, err = d.virsh("snapshot-list", "st-run")
    check("virsh snapshot-list st-run: an empty table",
          rc == 0 and "Name" in out and not out.strip().splitlines()[2:], out + err)
    check("listAllSnapshots, snapshotNum, snapshotListNames: none",
          dom.listAllSnapshots() == [] and dom.snapshotNum() == 0 and
          dom.snapshotListNames() == [] and dom.hasCurrentSnapshot() == 0)
    refused("snapshotCurrent: VIR_ERR_NO_DOMAIN_SNAPSHOT", lambda: dom.snapshotCurrent(),
            ERR_NO_DOMAIN_SNAPSHOT, ["current snapshot"])
    refused("snapshotLookupByName: VIR_ERR_NO_DOMAIN_SNAPSHOT naming it",
            lambda: dom.snapshotLookupByName("s1"), ERR_NO_DOMAIN_SNAPSHOT, ["s1"])
    refused("snapshotCreateXML: VIR_ERR_OPERATION_UNSUPPORTED naming the domain",
            lambda: dom.snapshotCreateXML("<domainsnapshot><name>s1</name></domainsnapshot>"),
            ERR_OPERATION_UNSUPPORTED, ["st-run", "snapshots"])
    rc, out, err = d.virsh("snapshot-create-as", "st-run", "s1")
    check("virsh snapshot-create-as: refused, nothing made",
          rc != 0 and "not supported" in err and dom.snapshotNum() == 0, err)
    rc, out, err = d.virsh("snapshot-list", "st-off", "--roots")
    check("virsh snapshot-list --roots of the shut-off domain: empty", rc == 0, err)

    # --- node devices
    devs = conn.listAllDevices(0)
    check("node devices are listed (%d)" % len(devs), devs)
    if devs:
        check("nodeDeviceIsActive 1, nodeDeviceIsPersistent 0 (found on the host, not defined)",
              all(x.isActive() == 1 and x.isPersistent() == 0 for x in devs[:5]))
        rc, out, err = d.virsh("nodedev-info", devs[0].name())
        check("virsh nodedev-info: active yes, persistent no",
              rc == 0 and re.search(r"Active:\s+yes", out) and
              re.search(r"Persistent:\s+no", out), out + err)

    dom.destroy()
    dom.undefine()
    off.undefine()
    conn.close()
    ro.close()


run(main)
