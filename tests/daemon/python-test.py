#!/usr/bin/python3
"""tagvirtd driven by python3-libvirt (what Nova and virt-manager use): open,
getDomainCapabilities, defineXML (good and bad MTE XML), lifecycle events
through the default event loop (virEventRegisterDefaultImpl +
domainEventRegisterAny, the loop in a thread), create, live XML, info,
state, suspend/resume, listAllDomains filters, jobs (jobStats, jobInfo,
abortJob), managed save and snapshot counts, the read-only socket, destroy,
undefine.  TAP.

Usage: python-test.py TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]
Run with Debian's /usr/bin/python3.  Bounded waits; every QEMU and the
daemon are killed at the end whatever happens."""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

try:
    import libvirt
except ImportError:
    print("1..0 # SKIP python3-libvirt is not installed")
    sys.exit(0)

TAGVIRTD, KERNEL = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
ROOT = tempfile.mkdtemp(prefix="tvpy-")
URI = "qemu+unix:///system?socket=%s/tagvirtd-sock" % ROOT
URI_RO = "qemu+unix:///system?socket=%s/tagvirtd-sock-ro" % ROOT

# libvirt's numbers
EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_SUSPENDED, EV_RESUMED, EV_STOPPED = 0, 1, 2, 3, 4, 5


def domain_xml(name, mte):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{KERNEL}</kernel>
  </os>
  <features>
    {mte}
  </features>
  <cpu mode='maximum'/>
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


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


results = []


def check(desc, cond, info=""):
    results.append((bool(cond), desc, info))
    n = len(results)
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, desc))
    if not cond and info:
        for line in str(info).splitlines():
            print("# " + line)
    sys.stdout.flush()


def error_of(call, *args):
    """(code, message) of the libvirtError call raises, None if it returns."""
    try:
        call(*args)
    except libvirt.libvirtError as e:
        return e.get_error_code(), e.get_error_message()
    return None


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


def start_daemon():
    os.makedirs(ROOT + "/cache", exist_ok=True)
    for f in glob.glob((CACHE or "/nonexistent") + "/*.xml"):
        shutil.copy(f, ROOT + "/cache/")
    log = open(ROOT + "/daemon.log", "ab")
    proc = subprocess.Popen([TAGVIRTD, "--root", ROOT], stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(ROOT + "/tagvirtd-sock"):
            try:
                libvirt.open(URI).close()
                return proc
            except libvirt.libvirtError:
                pass
        time.sleep(0.1)
    raise RuntimeError("tagvirtd did not come up: " + open(ROOT + "/daemon.log").read()[-2000:])


def kill_qemus():
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open("/proc/%s/cmdline" % pid, "rb").read()
        except OSError:
            continue
        if b"qemu-system-aarch64" in cmd and ROOT.encode() in cmd:
            print("# killing QEMU %s left by the test" % pid)
            os.kill(int(pid), signal.SIGKILL)


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
    # tagvirt has no network, storage, node device or interface driver: the
    # calls are NO_SUPPORT (as libvirt without those drivers), not empty lists.
    # virt-manager's support checks (listAllStoragePools, listNetworks,
    # listDevices) turn exactly that into "does not support ... management";
    # its domain stats fall back to per-domain calls when getAllDomainStats is.
    missing = {
        "listAllNetworks": lambda: conn.listAllNetworks(0),
        "listNetworks": lambda: conn.listNetworks(),
        "listAllStoragePools": lambda: conn.listAllStoragePools(0),
        "listAllDevices": lambda: conn.listAllDevices(0),
        "listDevices": lambda: conn.listDevices(None, 0),
        "listAllInterfaces": lambda: conn.listAllInterfaces(0),
        "getAllDomainStats": lambda: conn.getAllDomainStats(0, 0),
    }
    answers = {name: error_of(call) for name, call in missing.items()}
    check("no network/storage/nodedev/interface driver, no bulk stats: NO_SUPPORT for " +
          ", ".join(missing),
          all(a is not None and a[0] == libvirt.VIR_ERR_NO_SUPPORT for a in answers.values()),
          answers)

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


def main():
    print("1..35")
    daemon = None
    try:
        daemon = start_daemon()
        run()
    except Exception:
        check("no exception", False, traceback.format_exc())
    finally:
        if daemon:
            daemon.terminate()
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        kill_qemus()
        shutil.rmtree(ROOT, ignore_errors=True)
    return 0 if results and all(r[0] for r in results) else 1


sys.exit(main())
