#!/usr/bin/python3
"""OpenStack Nova's resource tracker call, LibvirtDriver.get_available_resource
(Debian's python3-nova, run by nova-compute every minute and at start-up),
through tagvirtd and through Debian's libvirtd, interleaved in one process so
load changes hit both alike.  Run with Debian's /usr/bin/python3.

  nova-resource-bench.py [--rounds N] [--guests G ...] [--libvirtd-pid PID]
                         [--also NAME=PID:URI ...] TAGVIRTD KERNEL LIBVIRTD_URI

TAGVIRTD is started here with a private root (a copy of CACHE's probed
capabilities if --cache is given); LIBVIRTD_URI is a running libvirtd, e.g.
the anchor (../shared/bench/libvirt-anchor/daemon.sh start):
qemu+unix:///system?socket=$ANCHOR_DIR/sock/libvirt-sock.

One Nova driver per daemon, each brought up with init_host as nova-compute
does (its capabilities and domain capabilities are then cached by Nova, as in
a running nova-compute).  For each guest count G (default 0 and 50), G
guests are defined on both daemons (the same XML: an aarch64 kernel guest
with a raw disk, as Nova's are); then N rounds (default 30) each time one
get_available_resource per daemon, alternating which goes first.  Medians
and 10th percentiles of the wall time (on a loaded machine the median holds
the waits for a CPU, the 10th percentile much less), their ratios tagvirtd /
libvirtd; "Nova's own": the same call with every libvirt call answered from
memory (class Memo), the part no daemon changes, and "floor", that over
libvirtd's 10th percentile: the ratio a daemon that took no time at all
would get.  With --libvirtd-pid, also each daemon's own CPU time per call
(/proc/PID/stat, all threads).  With G guests defined, Nova reads each
guest's XML (its disk over-commit accounting), so the call grows with G.

What needs Nova's database is mocked as in tests/daemon/nova-test.py
(InstanceList, BlockDeviceMappingList, Service): empty answers, so Nova
counts every defined guest as not its own instance, which changes nothing in
the calls it makes to the daemon.  The guests are named nbench-*; all are
undefined at the end.

--also adds another running daemon to the same interleaved rounds (e.g. an
older tagvirtd build started with its own --root), so a change can be
compared with what it replaces and with libvirtd under the same load; PID
(0: unknown) is for its CPU time.  One row per daemon: wall-time median and
10th percentile, their ratios to libvirtd's, and the daemon's CPU time per
call."""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import nova.monkey_patch  # noqa: F401  eventlet, as nova-compute does
import libvirt
from unittest import mock
import nova.conf
from oslo_log import log as logging

GUEST = """<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{kernel}</kernel>
  </os>
  <cpu mode='maximum'/>
  <clock offset='utc'/>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def start_tagvirtd(binary, root, cache):
    os.makedirs(root + "/cache", exist_ok=True)
    for f in glob.glob((cache or "/nonexistent") + "/*.xml"):
        shutil.copy(f, root + "/cache/")
    log = open(root + "/daemon.log", "ab")
    proc = subprocess.Popen([binary, "--root", root], stdout=log, stderr=log)
    uri = "qemu+unix:///system?socket=%s/tagvirtd-sock" % root
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.exists(root + "/tagvirtd-sock"):
            try:
                libvirt.open(uri).close()
                return proc, uri
            except libvirt.libvirtError:
                pass
        time.sleep(0.1)
    sys.exit("tagvirtd did not come up: " + open(root + "/daemon.log").read()[-2000:])


class Wrapped:
    """Every public method of the binding's connection, domain and node
    device classes replaced by self.wrap(cls, name, original) until
    restore()."""

    def __init__(self):
        self.saved = []
        for cls in (libvirt.virConnect, libvirt.virDomain, libvirt.virNodeDevice):
            for name in dir(cls):
                fn = getattr(cls, name)
                if name.startswith("_") or not callable(fn):
                    continue
                self.saved.append((cls, name, fn))
                setattr(cls, name, self.wrap(cls, name, fn))

    def restore(self):
        for cls, name, fn in self.saved:
            setattr(cls, name, fn)


class Memo(Wrapped):
    """Nova's own share of the call: every libvirt call of one real
    get_available_resource recorded, then answered from memory (no daemon,
    no socket); what is left is Nova's Python, eventlet's thread pool and
    the binding.  No daemon can take the call below this."""

    def __init__(self):
        self.answers, self.replay = {}, False
        super().__init__()

    def wrap(self, cls, name, fn):
        memo = self

        def call(obj, *args, **kwargs):
            if name in ("name", "UUIDString"):
                return fn(obj, *args, **kwargs)
            ident = obj.name() if cls is not libvirt.virConnect else ""
            key = (cls.__name__, name, ident, repr(args), repr(kwargs))
            if memo.replay and key in memo.answers:
                return memo.answers[key]
            out = fn(obj, *args, **kwargs)
            memo.answers[key] = out
            return out
        return call


class InCall(Wrapped):
    """--breakdown: the time spent inside each libvirt call (binding, client
    library, socket, daemon) as Nova's thread pool runs it, summed per
    daemon and method; the rest of a get_available_resource is Nova's own
    Python and eventlet's hand-over to and from its thread pool."""

    def __init__(self):
        self.current, self.total = None, {}
        super().__init__()

    def wrap(self, cls, name, fn):
        me = self

        def call(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                if me.current:
                    key = (me.current, name)
                    n, ms = me.total.get(key, (0, 0.0))
                    me.total[key] = (n + 1, ms + (time.perf_counter() - t) * 1000)
        return call

    def report(self, rounds):
        for daemon in sorted({d for d, _ in self.total}):
            rows = sorted(((ms, n, name) for (d, name), (n, ms) in self.total.items()
                           if d == daemon), reverse=True)
            calls = sum(n for _, n, _ in rows) / rounds
            ms = sum(ms for ms, _, _ in rows) / rounds
            print("# %s: %.0f libvirt calls, %.2f ms inside them per call (%.0f us each); most:"
                  % (daemon, calls, ms, 1000 * ms / max(calls, 1)))
            for t, n, name in rows[:5]:
                print("#   %-28s %5.1f calls %7.2f ms" % (name, n / rounds, t / rounds))
        self.total = {}


def nova_share(drv, rounds):
    memo = Memo()
    try:
        drv.get_available_resource("nbench")  # record
        memo.replay = True
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            drv.get_available_resource("nbench")
            times.append((time.perf_counter() - t) * 1000)
        return p10(times)
    finally:
        memo.restore()


def cpu_ms(pid):
    """User + system CPU time of a process (all its threads), in ms."""
    if not pid:
        return 0.0
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def p10(values):
    return sorted(values)[len(values) // 10]


def nova_driver(uri, host):
    from nova.virt import fake as fakevirt
    from nova.virt.libvirt import driver as libvirt_driver
    nova.conf.CONF.set_override("connection_uri", uri, group="libvirt")
    drv = libvirt_driver.LibvirtDriver(fakevirt.FakeVirtAPI(), False)
    drv.init_host(host)
    return drv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--guests", type=int, nargs="+", default=[0, 50])
    ap.add_argument("--cache")
    ap.add_argument("--libvirtd-pid", type=int, help="for its CPU time per call")
    ap.add_argument("--breakdown", action="store_true",
                    help="also the time spent inside the libvirt calls, per daemon")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=PID:URI",
                    help="another running daemon in the same rounds")
    ap.add_argument("tagvirtd")
    ap.add_argument("kernel", type=os.path.abspath)
    ap.add_argument("libvirtd_uri")
    args = ap.parse_args()

    root = tempfile.mkdtemp(prefix="nbench-")
    os.chmod(root, 0o755)
    CONF = nova.conf.CONF
    logging.register_options(CONF)
    CONF([], project="nova", default_config_files=[])
    nova.conf.neutron.register_dynamic_opts(CONF)
    CONF.set_override("virt_type", "qemu", group="libvirt")
    CONF.set_override("cpu_mode", "none", group="libvirt")
    CONF.set_override("images_type", "raw", group="libvirt")
    CONF.set_override("instances_path", root + "/instances")
    os.makedirs(root + "/instances")
    CONF.set_override("state_path", root + "/nova")
    CONF.set_override("default_log_levels", ["nova=ERROR", "oslo_concurrency=WARNING"])
    logging.setup(CONF, "nova")
    from nova import objects
    objects.register_all()
    service = objects.Service(host="nbench", binary="nova-compute", topic="compute",
                              disabled=False, disabled_reason=None, forced_down=False)
    for m in (mock.patch("nova.objects.Service.get_by_compute_host", return_value=service),
              mock.patch("nova.objects.Service.save"),
              mock.patch("nova.objects.InstanceList.get_by_host", return_value=[]),
              mock.patch("nova.objects.InstanceList.get_by_filters", return_value=[]),
              mock.patch("nova.objects.BlockDeviceMappingList.bdms_by_instance_uuid",
                         return_value={})):
        m.start()

    tv, tv_uri = start_tagvirtd(os.path.abspath(args.tagvirtd), root + "/tv", args.cache)
    uris = {"tagvirtd": tv_uri, "libvirtd": args.libvirtd_uri}
    pids = {"tagvirtd": tv.pid, "libvirtd": args.libvirtd_pid}
    for spec in args.also:
        name, rest = spec.split("=", 1)
        pid, uri = rest.split(":", 1)
        uris[name], pids[name] = uri, int(pid)
    conns = {name: libvirt.open(uri) for name, uri in uris.items()}
    defined = {name: [] for name in conns}
    try:
        drivers = {name: nova_driver(uri, "nbench") for name, uri in uris.items()}
        for drv in drivers.values():
            drv.get_available_resource("nbench")  # what init_host left uncached
        os.makedirs(root + "/disks")
        print("# load average %.1f %.1f %.1f, %d rounds" % (os.getloadavg() + (args.rounds,)))
        print("%-6s %-14s %9s %9s %6s %6s %8s" % (
            "guests", "daemon", "median", "p10", "ratio", "p10", "CPU ms"))
        for count in args.guests:
            for name, conn in conns.items():
                while len(defined[name]) < count:
                    guest = "nbench-%d" % len(defined[name])
                    disk = "%s/disks/%s.img" % (root, guest)
                    if not os.path.exists(disk):
                        with open(disk, "wb") as f:
                            f.truncate(64 << 20)
                    conn.defineXML(GUEST.format(name=guest, kernel=args.kernel, disk=disk))
                    defined[name].append(guest)
            times = {name: [] for name in drivers}
            cpu = {name: 0.0 for name in drivers}
            order = list(drivers)
            incall = InCall() if args.breakdown else None
            for r in range(args.rounds):
                for name in (order if r % 2 == 0 else order[::-1]):
                    c = cpu_ms(pids[name])
                    if incall:
                        incall.current = name
                    t = time.perf_counter()
                    drivers[name].get_available_resource("nbench")
                    times[name].append((time.perf_counter() - t) * 1000)
                    cpu[name] += cpu_ms(pids[name]) - c
            if incall:
                incall.restore()
                incall.report(args.rounds)
            if os.environ.get("NBENCH_DIST"):
                for name in times:
                    print("# %s: %s" % (name, " ".join("%.0f" % x for x in sorted(times[name]))))
            lv_ms, lv_p = statistics.median(times["libvirtd"]), p10(times["libvirtd"])
            for name in drivers:
                ms, p = statistics.median(times[name]), p10(times[name])
                print("%-6d %-14s %9.2f %9.2f %6.2f %6.2f %8s" % (
                    count, name, ms, p, ms / lv_ms, p / lv_p,
                    "%.2f" % (cpu[name] / args.rounds) if pids[name] else "-"))
            own = nova_share(drivers["tagvirtd"], args.rounds)
            print("%-6d %-14s %9s %9.2f %6s %6.2f   (every libvirt call answered from memory)" % (
                count, "Nova's own", "", own, "", own / lv_p))
            print("# load average %.1f %.1f %.1f" % os.getloadavg())
            sys.stdout.flush()
    finally:
        for name, conn in conns.items():
            for guest in defined[name]:
                try:
                    conn.lookupByName(guest).undefine()
                except libvirt.libvirtError as e:
                    print("# %s: %s: %s" % (name, guest, e))
            conn.close()
        tv.terminate()
        tv.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
