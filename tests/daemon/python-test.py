#!/usr/bin/python3
"""tagvirtd driven by python3-libvirt (what Nova and virt-manager use): open,
getDomainCapabilities, defineXML (good and bad MTE XML), lifecycle events
through the default event loop (virEventRegisterDefaultImpl +
domainEventRegisterAny, the loop in a thread), create, live XML, info,
state, suspend/resume, listAllDomains filters, jobs (jobStats, jobInfo,
abortJob), managed save and snapshot counts, the read-only socket, the
serial console (openConsole streams, and virsh console under a pty),
the host calls of Nova's resource tracker and virt-manager (CPU map and
statistics, memory, capabilities' NUMA cells, CPU models, compare,
baseline, node devices, secrets, every event registration), vCPU info,
setTime/getTime without a guest agent, metadata, reset and its reboot event, destroy, undefine.  TAP.

Usage: python-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR [DEMO_FLOOD_ELF]]
Run with Debian's /usr/bin/python3.  Bounded waits; every QEMU and the
daemon are killed at the end whatever happens."""
import faulthandler
import os
import pty
import select
import re
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402
from tvtest import check, error_of, results  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD, KERNEL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
FLOOD = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
D = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvpy-", verbose=False)
ROOT = D.root  # QEMU runs as tagvirt-qemu: it reaches files made here (0711)
URI = D.uri
URI_RO = "qemu+unix:///system?socket=%s/tagvirtd-sock-ro" % ROOT

# libvirt's numbers
EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_SUSPENDED, EV_RESUMED, EV_STOPPED = 0, 1, 2, 3, 4, 5


def domain_xml(name, mte, devices="", kernel=KERNEL):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{kernel}</kernel>
  </os>
  <features>
    {mte}
  </features>
  <cpu mode='maximum'/>
  <devices>
    <controller type='usb' model='none'/>
    {devices}
    <memballoon model='none'/>
  </devices>
</domain>
"""

PTY_SERIAL = "<serial type='pty'><target port='0'/></serial>"


class Events:
    def __init__(self):
        self.cond = threading.Condition()
        self.seen = []

    def callback(self, conn, dom, event, detail, opaque):
        with self.cond:
            self.seen.append((dom.name(), event, detail))
            self.cond.notify_all()

    def wait(self, name, event, detail, timeout=10):
        deadline = time.monotonic() + timeout
        with self.cond:
            while (name, event, detail) not in self.seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


def event_loop():
    while True:
        libvirt.virEventRunDefaultImpl()


def refused(result, code, text):
    return result is not None and result[0] == code and text in result[1]


def check_no_job(dom, when):
    """No job on a tagvirt domain: stats and info say so, abort is refused."""
    check("jobStats (%s): type NONE, no statistics" % when,
          dom.jobStats() == {"type": libvirt.VIR_DOMAIN_JOB_NONE}, dom.jobStats())
    check("jobStats(COMPLETED) (%s): none completed" % when,
          dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED) ==
          {"type": libvirt.VIR_DOMAIN_JOB_NONE})
    check("jobInfo (%s): type NONE, all zero" % when, dom.jobInfo() == [0] * 12, dom.jobInfo())


def run():
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=event_loop, daemon=True).start()
    conn = libvirt.open(URI)
    check("open " + URI, conn is not None)
    events = Events()
    cb_id = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        events.callback, None)

    caps = conn.getDomainCapabilities(None, "aarch64", "virt", "qemu", 0)
    check("getDomainCapabilities: <mte> with level 3",
          "<mte supported='yes'>" in caps and "<value>3</value>" in caps, caps)
    check("getVersion is QEMU's", conn.getVersion() >= 7000000, conn.getVersion())
    # tagvirt has no interface driver: the calls are NO_SUPPORT (as libvirt
    # without that driver), not empty lists (storage, networks: their tests;
    # node devices: check_host; getAllDomainStats: stats-test.py)
    missing = {
        "listAllInterfaces": lambda: conn.listAllInterfaces(0),
    }
    answers = {name: error_of(call) for name, call in missing.items()}
    check("no interface driver: NO_SUPPORT for " + ", ".join(missing),
          all(a is not None and a[0] == libvirt.VIR_ERR_NO_SUPPORT for a in answers.values()),
          answers)
    check_host(conn)

    try:
        conn.defineXML(domain_xml("bad", "<mte version='2'/>"))
        check("defineXML <mte version='2'> is refused", False)
    except libvirt.libvirtError as e:
        check("defineXML <mte version='2'> is refused with CONFIG_UNSUPPORTED and the reason",
              e.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED and
              "MTE version 2 is not available" in e.get_error_message(),
              "%d %s" % (e.get_error_code(), e.get_error_message()))

    dom = conn.defineXML(domain_xml("py", "<mte version='max'/>"))
    check("defineXML good MTE XML", dom.name() == "py" and dom.ID() == -1)
    check("DEFINED event (added)", events.wait("py", EV_DEFINED, 0))
    check("state: shut off, never started",
          dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_UNKNOWN],
          dom.state())

    check_no_job(dom, "shut off")
    r = error_of(dom.abortJob)
    check("abortJob (shut off): OPERATION_INVALID, not running",
          refused(r, libvirt.VIR_ERR_OPERATION_INVALID, "domain 'py' is not running"), r)
    check("hasManagedSaveImage: 0", dom.hasManagedSaveImage(0) == 0)
    check("snapshotNum, with and without the METADATA filter: 0",
          dom.snapshotNum(0) == 0 and dom.snapshotNum(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_METADATA) == 0)
    r = [error_of(dom.jobStats, 4), error_of(dom.hasManagedSaveImage, 1),
         error_of(dom.snapshotNum, 0x800)]
    check("unknown flags of jobStats, hasManagedSaveImage, snapshotNum: INVALID_ARG naming them",
          refused(r[0], libvirt.VIR_ERR_INVALID_ARG, "flags 0x4") and
          refused(r[1], libvirt.VIR_ERR_INVALID_ARG, "flags 0x1") and
          refused(r[2], libvirt.VIR_ERR_INVALID_ARG, "flags 0x800"), r)

    r = error_of(dom.setTime, {"seconds": 1, "nseconds": 0})
    check("setTime (shut off): OPERATION_INVALID, not running",
          refused(r, libvirt.VIR_ERR_OPERATION_INVALID, "domain 'py' is not running"), r)

    dom.create()
    check("create: running", dom.isActive() == 1 and dom.ID() >= 1)
    check("STARTED event (booted)", events.wait("py", EV_STARTED, 0))
    live = dom.XMLDesc(0)
    check("live XML: the resolved MTE level and the id",
          "<mte version='3'/>" in live and re.search(r"<domain type='qemu' id='\d+'>", live), live)
    check("inactive XML: what was defined",
          "<mte version='max'/>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    info = dom.info()
    check("info: running, 128 MiB, 1 vCPU",
          info[0] == libvirt.VIR_DOMAIN_RUNNING and info[1] == 131072 and info[3] == 1, info)
    dom.suspend()
    check("suspend: SUSPENDED event, paused", events.wait("py", EV_SUSPENDED, 0) and
          dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED)
    dom.resume()
    check("resume: RESUMED event", events.wait("py", EV_RESUMED, 0))
    names = lambda flags: sorted(d.name() for d in conn.listAllDomains(flags))
    check("listAllDomains(ACTIVE | RUNNING)",
          names(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE | libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING) == ["py"])
    check("listAllDomains(INACTIVE) is empty",
          names(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE) == [])

    check_no_job(dom, "running")
    r = error_of(dom.abortJob)
    check("abortJob (running): OPERATION_INVALID, no job",
          refused(r, libvirt.VIR_ERR_OPERATION_INVALID, "no job is active on domain 'py'"), r)
    # Nova's sync_guest_time after resume and migration: no guest agent
    # channel, so libvirt's "not configured" (Nova logs it at debug level)
    now = time.time()
    r = [error_of(dom.setTime, {"seconds": int(now), "nseconds": 5}),
         error_of(dom.setTime, {"seconds": 0}, libvirt.VIR_DOMAIN_TIME_SYNC), error_of(dom.getTime)]
    check("setTime, setTime(SYNC), getTime without an agent channel: ARGUMENT_UNSUPPORTED",
          all(refused(x, libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED,
                      "QEMU guest agent is not configured: domain 'py' has no <channel>")
              for x in r), r)
    r = [error_of(dom.setTime, {"seconds": 1, "nseconds": 1000000000}),
         error_of(dom.setTime, {"seconds": 1}, 2)]
    check("setTime with nseconds 10^9, or unknown flags: INVALID_ARG naming them",
          refused(r[0], libvirt.VIR_ERR_INVALID_ARG, "nseconds 1000000000") and
          refused(r[1], libvirt.VIR_ERR_INVALID_ARG, "flags 0x2"), r)
    # the read-only socket, opened as read-write so the daemon (not the client
    # library) decides: queries answered, abort refused
    ro = libvirt.open(URI_RO)
    rdom = ro.lookupByName("py")
    check("read-only socket: jobStats, jobInfo, hasManagedSaveImage, snapshotNum answered",
          rdom.jobStats() == {"type": 0} and rdom.jobInfo()[0] == 0 and
          rdom.hasManagedSaveImage(0) == 0 and rdom.snapshotNum(0) == 0)
    r = error_of(rdom.abortJob)
    check("read-only socket: abortJob refused (OPERATION_DENIED)",
          refused(r, libvirt.VIR_ERR_OPERATION_DENIED, "read only access prevents DOMAIN_ABORT_JOB"),
          r)
    ro.close()
    check_console(conn, dom)
    check_running_host_calls(conn, dom, events)

    dom.destroy()
    check("destroy: STOPPED event (destroyed)", events.wait("py", EV_STOPPED, 1))
    check("state: shut off, destroyed",
          dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED],
          dom.state())
    dom.undefine()
    check("undefine: UNDEFINED event", events.wait("py", EV_UNDEFINED, 0))
    check("nothing listed", conn.listAllDomains(0) == [])
    r = [error_of(dom.jobStats), error_of(dom.abortJob), error_of(dom.hasManagedSaveImage, 0),
         error_of(dom.snapshotNum, 0)]
    check("undefined domain: jobStats, abortJob, hasManagedSaveImage, snapshotNum: NO_DOMAIN",
          all(refused(x, libvirt.VIR_ERR_NO_DOMAIN, "domain not found") for x in r), r)
    conn.domainEventDeregisterAny(cb_id)
    conn.close()


def check_host(conn):
    """The host calls Nova's resource tracker and virt-manager make (issue 9)."""
    ncpus, cpumap, online = conn.getCPUMap()
    check("getCPUMap: this host's CPUs, all online",
          ncpus == os.cpu_count() and online == ncpus and all(cpumap), (ncpus, cpumap, online))
    stats = conn.getCPUStats(libvirt.VIR_NODE_CPU_STATS_ALL_CPUS)
    check("getCPUStats(all): kernel, user, idle, iowait in ns",
          sorted(stats) == ["idle", "iowait", "kernel", "user"] and stats["idle"] > 0, stats)
    r = error_of(conn.getCPUStats, 4096)
    check("getCPUStats of a CPU that is not there: INVALID_ARG",
          refused(r, libvirt.VIR_ERR_INVALID_ARG, "cpuNum 4096"), r)
    mem = conn.getMemoryStats(libvirt.VIR_NODE_MEMORY_STATS_ALL_CELLS)
    info = conn.getInfo()
    check("getMemoryStats(all): total as getInfo's memory",
          sorted(mem) == ["buffers", "cached", "free", "total"] and mem["total"] // 1024 == info[1],
          (mem, info))
    caps = conn.getCapabilities()
    check("capabilities: <host><topology><cells> with this host's CPUs",
          re.search(r"<cells num='\d+'>", caps) and caps.count("<cpu id='") == ncpus and
          "siblings='" in caps, caps[:3000])
    models = conn.getCPUModelNames("aarch64")
    check("getCPUModelNames(aarch64): the emulator's models", "max" in models and
          "cortex-a57" in models, models)
    r = error_of(conn.getCPUModelNames, "pdp11")
    check("getCPUModelNames of an unknown architecture: INVALID_ARG",
          refused(r, libvirt.VIR_ERR_INVALID_ARG, "cannot find architecture pdp11"), r)
    check("compareCPU: a guest CPU model the emulator has is identical",
          conn.compareCPU("<cpu mode='custom'><model>cortex-a57</model></cpu>", 0) ==
          libvirt.VIR_CPU_COMPARE_IDENTICAL)
    base = conn.baselineCPU(["<cpu><arch>aarch64</arch><model>cortex-a72</model></cpu>"], 0)
    check("baselineCPU: the first CPU's model", "<model fallback='allow'>cortex-a72</model>" in base,
          base)
    devs = conn.listAllDevices(0)
    names = [d.name() for d in devs]
    pci = conn.listDevices("pci", 0)
    check("node devices: the computer, this host's PCI devices and interfaces",
          "computer" in names and set(pci) <= set(names) and
          any(n.startswith("net_lo_") for n in names), names)
    computer = conn.nodeDeviceLookupByName("computer")
    check("node device 'computer': capability system, no parent",
          "<capability type='system'>" in computer.XMLDesc(0) and computer.parent() is None and
          computer.listCaps() == ["system"])
    if pci:
        x = conn.nodeDeviceLookupByName(pci[0]).XMLDesc(0)
        check("node device %s: its PCI address and ids" % pci[0],
              "<capability type='pci'>" in x and "<vendor id='0x" in x, x)
    r = error_of(conn.nodeDeviceLookupByName, "pci_ffff_ff_1f_7")
    check("a node device that is not there: NO_NODE_DEVICE",
          refused(r, libvirt.VIR_ERR_NO_NODE_DEVICE, "no node device with matching name"), r)
    check("secrets: none listed", conn.listAllSecrets(0) == [] and conn.numOfSecrets() == 0)
    r = error_of(conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/images/x")
    check("secretLookupByUsage: NO_SECRET (a host with none)",
          refused(r, libvirt.VIR_ERR_NO_SECRET, "no secret with matching usage"), r)
    ids = {}
    for name in ("DEVICE_REMOVED", "DEVICE_REMOVAL_FAILED", "TRAY_CHANGE", "BALLOON_CHANGE",
                 "AGENT_LIFECYCLE", "DEVICE_ADDED", "METADATA_CHANGE", "REBOOT"):
        ids[name] = conn.domainEventRegisterAny(
            None, getattr(libvirt, "VIR_DOMAIN_EVENT_ID_" + name), lambda *a: None, None)
    others = [conn.networkEventRegisterAny(None, 0, lambda *a: None, None),
              conn.storagePoolEventRegisterAny(None, 0, lambda *a: None, None),
              conn.storagePoolEventRegisterAny(None, 1, lambda *a: None, None),
              conn.nodeDeviceEventRegisterAny(None, 0, lambda *a: None, None),
              conn.nodeDeviceEventRegisterAny(None, 1, lambda *a: None, None)]
    check("event registrations of Nova (15, 22) and virt-manager (10, 13, 18, 19, 23, network, "
          "pool, node device) are taken", len(set(ids.values())) == len(ids) and
          all(x >= 0 for x in others), (ids, others))
    for i in ids.values():
        conn.domainEventDeregisterAny(i)
    conn.networkEventDeregisterAny(others[0])
    conn.storagePoolEventDeregisterAny(others[1])
    conn.storagePoolEventDeregisterAny(others[2])
    conn.nodeDeviceEventDeregisterAny(others[3])
    conn.nodeDeviceEventDeregisterAny(others[4])


def check_running_host_calls(conn, dom, events):
    """vCPU info, metadata, reset and its reboot event on a running guest."""
    vcpus = dom.vcpus()
    check("vcpus(): one running vCPU with its host CPU and map",
          len(vcpus[0]) == 1 and vcpus[0][0][1] == libvirt.VIR_VCPU_RUNNING and
          len(vcpus[1][0]) == os.cpu_count(), vcpus)
    check("vcpuPinInfo(): every host CPU", dom.vcpuPinInfo(0) == [tuple([True] * os.cpu_count())])
    check("vcpusFlags: 1 live, 1 config",
          dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_LIVE) == 1 and
          dom.vcpusFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG) == 1)
    r = error_of(dom.setVcpusFlags, 2, libvirt.VIR_DOMAIN_AFFECT_LIVE)
    check("setVcpusFlags(2, LIVE): OPERATION_UNSUPPORTED (no CPU hot-plug on virt)",
          refused(r, libvirt.VIR_ERR_OPERATION_UNSUPPORTED, "cpu hotplug is not supported"), r)
    got = []
    mcb = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                      lambda c, d, t, ns, o: got.append(("metadata", t, ns)), None)
    rcb = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                      lambda c, d, o: got.append(("reboot",)), None)
    ns = "http://openstack.org/xmlns/libvirt/nova/1.1"
    dom.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, "<instance><name>x</name></instance>",
                    "nova", ns, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
    check("setMetadata(LIVE|CONFIG): in both definitions, without the namespace when read",
          dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, ns, libvirt.VIR_DOMAIN_AFFECT_LIVE) ==
          dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, ns, libvirt.VIR_DOMAIN_AFFECT_CONFIG) ==
          "<instance>\n  <name>x</name>\n</instance>")
    r = error_of(dom.metadata, libvirt.VIR_DOMAIN_METADATA_ELEMENT, "urn:none", 0)
    check("metadata of an unknown namespace: NO_DOMAIN_METADATA",
          refused(r, libvirt.VIR_ERR_NO_DOMAIN_METADATA, "urn:none"), r)
    dom.reset(0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and ("reboot",) not in got:
        time.sleep(0.05)
    check("METADATA_CHANGE (element, its URI) and REBOOT (after reset) events",
          ("metadata", libvirt.VIR_DOMAIN_METADATA_ELEMENT, ns) in got and ("reboot",) in got, got)
    check("reset: still running", dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
    conn.domainEventDeregisterAny(mcb)
    conn.domainEventDeregisterAny(rcb)


def recv_until(stream, needle, timeout=10):
    """What a blocking stream gives until needle shows up (or the time is up)."""
    got, deadline = b"", time.monotonic() + timeout
    while needle not in got and time.monotonic() < deadline:
        chunk = stream.recv(4096)
        if not isinstance(chunk, bytes) or not chunk:
            break
        got += chunk
    return got


def virsh_console(name):
    """virsh console NAME on a pty (it needs a terminal): (exit code, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(["virsh", "-c", URI, "console", name], stdin=slave, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    shown, deadline, sent = b"", time.monotonic() + 15, False
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([master], [], [], 0.2)[0]:
            try:
                shown += os.read(master, 4096)
            except OSError:
                break
        if not sent and b"tagvirt-demo:" in shown.split(b"Escape character", 1)[-1]:
            os.write(master, b"\x1d")  # ^], virsh console's escape
            sent = True
    try:
        rc = proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    os.close(master)
    return rc, shown.decode(errors="replace")


def check_console(conn, plain):
    r = error_of(plain.openConsole, None, conn.newStream(0), 0)
    check("openConsole without a pty serial: OPERATION_UNSUPPORTED, says what would do",
          refused(r, libvirt.VIR_ERR_OPERATION_UNSUPPORTED, "<serial type='pty'>"), r)
    dom = conn.defineXML(domain_xml("pycon", "", PTY_SERIAL))
    dom.create()
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    live = dom.XMLDesc(0)
    check("live XML: the pty's <source path> (what virt-manager shows)",
          re.search(r"<serial type='pty'>\s*<source path='/dev/pts/\d+'/>", live), live)
    got = recv_until(st, b"tagvirt-demo:")
    check("openConsole: the guest's serial output arrives", b"tagvirt-demo:" in got, got[-200:])
    check("stream send (console input) is taken", st.send(b"\r") == 1)
    r = error_of(dom.openConsole, None, conn.newStream(0), 0)
    check("a second console session is refused (OPERATION_FAILED) while one is open",
          refused(r, libvirt.VIR_ERR_OPERATION_FAILED, "an active console session exists"), r)
    r = [error_of(dom.openConsole, "serial1", conn.newStream(0), 0),
         error_of(dom.openConsole, None, conn.newStream(0), 4)]
    check("unknown console device and unknown flags: INVALID_ARG naming them",
          refused(r[0], libvirt.VIR_ERR_INVALID_ARG, "no console device 'serial1'") and
          refused(r[1], libvirt.VIR_ERR_INVALID_ARG, "console flags 0x4"), r)
    ro = libvirt.open(URI_RO)
    r = error_of(ro.lookupByName("pycon").openConsole, None, ro.newStream(0), 0)
    ro.close()
    check("read-only socket: openConsole refused (OPERATION_DENIED)",
          refused(r, libvirt.VIR_ERR_OPERATION_DENIED, "DOMAIN_OPEN_CONSOLE"), r)
    forced = conn.newStream(0)
    dom.openConsole("serial0", forced, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
    r = error_of(recv_until, st, b"never")
    check("FORCE takes the console over; the old session ends with OPERATION_ABORTED",
          refused(r, libvirt.VIR_ERR_OPERATION_ABORTED, "took the console over"), r)
    check("the new session reads the guest", b"tagvirt-demo:" in recv_until(forced, b"tagvirt-demo:"))
    forced.finish()
    rc, shown = virsh_console("pycon")
    check("virsh console: connects, shows the guest, ^] ends it with status 0",
          rc == 0 and "Connected to domain 'pycon'" in shown and
          "tagvirt-demo:" in shown.split("Escape character", 1)[-1], "%s\n%s" % (rc, shown[-600:]))
    last = conn.newStream(0)
    dom.openConsole(None, last, 0)
    dom.destroy()
    t0 = time.monotonic()
    recv_until(last, b"never", timeout=10)
    check("destroy ends an open console: end of data within 5 s", time.monotonic() - t0 < 5)
    last.finish()
    r = error_of(dom.openConsole, None, conn.newStream(0), 0)
    check("openConsole of a shut-off domain: OPERATION_INVALID, not running",
          refused(r, libvirt.VIR_ERR_OPERATION_INVALID, "is not running"), r)
    dom.undefine()
    check_console_flood(conn)


def daemon_rss_kib(daemon):
    for line in open("/proc/%d/status" % daemon.pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def check_console_flood(conn):
    """A guest that writes as fast as it can and a client that does not read:
    the daemon stops reading the pty instead of queueing (or dropping the
    client), and the data flows again once the client reads."""
    if not FLOOD:
        check("console flood: no demo-flood.elf given (4th argument)", False)
        return
    dom = conn.defineXML(domain_xml("pyflood", "", PTY_SERIAL, FLOOD))
    dom.create()
    st = conn.newStream(0)
    dom.openConsole(None, st, 0)
    before = daemon_rss_kib(DAEMON)
    time.sleep(3)  # not reading: the socket buffer fills, then the daemon's queue
    grown = daemon_rss_kib(DAEMON) - before
    alive = error_of(dom.state) is None
    got = recv_until(st, b"flood 5", timeout=10) if alive else b""
    check("console flood, client not reading for 3 s: still connected, daemon RSS +%d KiB "
          "(< 8 MiB), data flows again" % grown,
          alive and grown < 8192 and b"flood " in got, (alive, grown, got[-200:]))
    st.abort()
    dom.destroy()
    dom.undefine()


DAEMON = None
WATCHDOG_S = 240  # meson's timeout is 300 s; the whole test takes 10-15 s


def watchdog():
    """A test that hangs says where, and leaves no daemon or QEMU behind."""
    time.sleep(WATCHDOG_S)
    print("not ok - the test did not finish within %d s (where each thread was: stderr)"
          % WATCHDOG_S, flush=True)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    D.cleanup()
    os._exit(1)


def main():
    global DAEMON
    print("1..76")
    threading.Thread(target=watchdog, daemon=True).start()
    daemon = None
    try:
        D.start(timeout=30)
        daemon = DAEMON = D.proc
        run()
    except Exception:
        check("no exception", False, traceback.format_exc())
    finally:
        if daemon:
            daemon.terminate()
            try:
                rc = daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                rc = daemon.wait()
            # in the sanitizer build a leak report makes the exit status non-zero
            check("tagvirtd exits with status 0 on SIGTERM", rc == 0,
                  "status %s; the end of its log:\n%s" %
                  (rc, open(ROOT + "/daemon.log", errors="replace").read()[-3000:]))
        D.cleanup()
    return 0 if results and all(results) else 1


sys.exit(main())
