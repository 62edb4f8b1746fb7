#!/usr/bin/python3
"""Live migration: tagvirtd against QEMU's own `migrate` run by hand
(docs/performance.md, "Migration").

A running 512 MiB TCG guest with MTE 3 (the looping demo guest, with
RANDOM_MIB (default 256) of random data loaded into its RAM with its kernel,
tests/daemon/tvtest.py elf_with_data, so that the copy is not only zero
pages) migrates between two tagvirtd on this machine, each
under its own root and unix socket:

  tagvirt   virsh migrate --live (client-managed) and migrateToURI3 with
            Nova's flags (peer-to-peer), the guest going back and forth;
            wall time of the call (Begin, Prepare with the incoming QEMU's
            start, the copy, Finish, Confirm), the copy time and downtime
            from the completed job's statistics.
  by hand   the same QEMU binary with the same arguments (the daemon's own
            command line for the guest, with the monitor on a socket of our
            own and without the confinement's -sandbox), the destination
            started with -incoming tcp:..., QMP migrate-set-parameters
            (max-bandwidth as tagvirt sets it: unlimited) and migrate, then
            query-migrate until completed and cont on the destination; wall
            time from starting the destination QEMU to its cont, the copy
            time and downtime from query-migrate.
  --tls     the same two ways with VIR_MIGRATE_TLS (QEMU's own stream under
            TLS; each daemon's ROOT/pki/qemu from a test CA, the server
            certificate for 127.0.0.1), in the same rounds.
  refusal   migrateToURI3 towards QEMU 11.1 (whose max is MTE level 4) of
            the level-3 guest: time to the error (decided in Prepare, before
            any memory is sent).

Usage: migration-bench.py TAGVIRTD DEMO_LOOP_ELF [ROUNDS]
Prints one line per measurement and a summary; needs root (QEMU runs as the
daemon's unprivileged user), python3-libvirt, virsh."""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "daemon"))
import tvtest  # noqa: E402
import libvirt  # noqa: E402

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
RANDOM_MIB = int(os.environ.get("RANDOM_MIB", "256"))
QEMU_111 = os.environ.get("TAGVIRT_QEMU_111", os.path.expanduser(
    "~/.cache/tagvirt/qemu-sid/bin/qemu-system-aarch64"))
NOVA = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER |
        libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)


def guest_xml(kernel):
    return f"""<domain type='qemu'>
  <name>mbench</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{kernel}</kernel></os>
  <features><mte version='3'/></features>
  <cpu mode='custom'><model>max</model></cpu>
  <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>
</domain>
"""


def completed_stats(dom):
    """the source's completed job (gone with the domain after undefine-source)"""
    try:
        st = dom.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
    except libvirt.libvirtError:
        return float("nan"), -1
    return st.get("time_elapsed", 0) / 1000.0, st.get("downtime", -1)


class Qmp:
    def __init__(self, path, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        self.f = self.s.makefile("rw")
        json.loads(self.f.readline())
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            msg = json.loads(self.f.readline())
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError("%s: %s" % (name, msg["error"]))


def hand_args(pid, monitor):
    """the daemon's QEMU command line for the guest, with our own monitor
    and without the descriptors and the sandbox only the daemon gives"""
    argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
    argv = [a.decode() for a in argv]
    out, skip = [], False
    for i, a in enumerate(argv):
        if skip:
            skip = False
            continue
        if a in ("-chardev", "-mon", "-sandbox", "-incoming") and i + 1 < len(argv):
            skip = True
            continue
        out.append(a)
    return out + ["-qmp", "unix:%s,server=on,wait=off" % monitor]


def by_hand(tmp, argv_src, port):
    """one migration of QEMU by hand: (wall s from destination start to
    cont, copy s, downtime ms)"""
    src_mon, dst_mon = os.path.join(tmp, "src.qmp"), os.path.join(tmp, "dst.qmp")
    for p in (src_mon, dst_mon):
        if os.path.exists(p):
            os.unlink(p)
    log = open(os.path.join(tmp, "hand.log"), "ab")
    src = subprocess.Popen(hand_args_list(argv_src, src_mon), stdout=log, stderr=log)
    qs = Qmp(src_mon)
    qs.cmd("cont")
    time.sleep(3)  # the guest boots and starts its loop
    t0 = time.monotonic()
    dst = subprocess.Popen(hand_args_list(argv_src, dst_mon) +
                           ["-incoming", "tcp:127.0.0.1:%d" % port], stdout=log, stderr=log)
    qd = Qmp(dst_mon)
    qs.cmd("migrate-set-capabilities", capabilities=[
        {"capability": "auto-converge", "state": False}])
    qs.cmd("migrate-set-parameters", **{"max-bandwidth": (2 ** 63 - 1) // (1 << 20) << 20})
    qs.cmd("migrate", uri="tcp:127.0.0.1:%d" % port)
    while True:
        info = qs.cmd("query-migrate")
        if info.get("status") in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.05)
    while qd.cmd("query-migrate").get("status") != "completed":
        time.sleep(0.05)
    qd.cmd("cont")
    wall = time.monotonic() - t0
    for p in (src, dst):
        p.send_signal(signal.SIGKILL)
        p.wait()
    if info.get("status") != "completed":
        raise RuntimeError("QEMU by hand: %s" % info)
    return wall, info.get("total-time", 0) / 1000.0, info.get("downtime", -1)


def hand_args_list(argv, monitor):
    out = list(argv)
    return out + ["-qmp", "unix:%s,server=on,wait=off" % monitor]


def qemu_of(uuid):
    """pid of the QEMU whose command line has this -uuid"""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"qemu-system-aarch64") and uuid.encode() in cmd:
                return int(pid)
    raise RuntimeError("no QEMU runs the guest %s" % uuid)


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    tmp = tempfile.mkdtemp(prefix="tvmigbench-")
    os.chmod(tmp, 0o711)
    kernel = tvtest.elf_with_data(KERNEL, os.path.join(tmp, "loop-data.elf"), RANDOM_MIB << 20)
    a = tvtest.Daemon(tagvirtd=TAGVIRTD, prefix="tvmigb-a-")
    b = tvtest.Daemon(tagvirtd=TAGVIRTD, prefix="tvmigb-b-")
    pki = tvtest.Pki(tmp)
    pki.server("local", ["127.0.0.1"])
    pki.client("migrator", "migrator")
    for d in (a, b):
        pki.qemu_dir("local", "migrator", d.root + "/pki/qemu")
    a.start()
    b.start()
    try:
        run(tmp, kernel, a, b)
    finally:
        a.cleanup()
        b.cleanup()
        # the guest's QEMUs name the kernel in tmp, not a daemon's root
        for pid in os.listdir("/proc"):
            try:
                if pid.isdigit() and tmp.encode() in open("/proc/%s/cmdline" % pid, "rb").read():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp, kernel, a, b):
    ca, cb = libvirt.open(a.uri), libvirt.open(b.uri)
    dom = ca.defineXML(guest_xml(kernel))
    dom.create()
    time.sleep(3)
    uuid = dom.UUIDString()
    pid = qemu_of(uuid)
    argv_src = hand_args(pid, "unused")[:-2]
    print("guest: 512 MiB, MTE 3, %d MiB random in RAM; QEMU %s" % (
        RANDOM_MIB, subprocess.run([argv_src[0], "--version"], capture_output=True,
                                   text=True).stdout.splitlines()[0]))
    print("load: %s" % open("/proc/loadavg").read().strip())
    here, there = (a, ca), (b, cb)
    results = {"client": [], "p2p": [], "client-tls": [], "p2p-tls": [], "hand": []}
    for r in range(ROUNDS):
        for tls in ("", "-tls"):
            # client-managed, as virsh does it
            t0 = time.monotonic()
            p = subprocess.run(["virsh", "-q", "-c", here[0].uri, "migrate", "--live"] +
                               (["--tls"] if tls else []) + ["mbench", there[0].uri],
                               capture_output=True, text=True)
            wall = time.monotonic() - t0
            if p.returncode != 0:
                raise RuntimeError(p.stdout + p.stderr)
            copy, down = completed_stats(here[1].lookupByName("mbench"))
            print("tagvirt client-managed%s %s->%s: %.3f s (copy %.3f s, downtime %d ms)" % (
                tls and " --tls", here[0].root[-8:], there[0].root[-8:], wall, copy, down))
            results["client" + tls].append((wall, copy, down))
            if here[1].lookupByName("mbench").isPersistent():
                here[1].lookupByName("mbench").undefine()
            here, there = there, here
            # peer-to-peer with Nova's flags, back
            d = here[1].lookupByName("mbench")
            xml = d.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
            t0 = time.monotonic()
            d.migrateToURI3(there[0].uri, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
                                           libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: xml},
                            NOVA | (libvirt.VIR_MIGRATE_TLS if tls else 0))
            wall = time.monotonic() - t0
            copy, down = completed_stats(d)
            print("tagvirt p2p (Nova's flags%s) %s->%s: %.3f s (copy %.3f s, downtime %d ms)"
                  % (tls and " + TLS", here[0].root[-8:], there[0].root[-8:], wall, copy, down))
            results["p2p" + tls].append((wall, copy, down))
            here, there = there, here

    # refusal: towards QEMU 11.1
    d = here[1].lookupByName("mbench")
    refusals = []
    if os.path.exists(QEMU_111):
        xml = d.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE).replace(
            "<emulator>/usr/bin/qemu-system-aarch64</emulator>",
            "<emulator>%s</emulator>" % QEMU_111)
        for i in range(ROUNDS + 2):
            t0 = time.monotonic()
            try:
                d.migrateToURI3(there[0].uri, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml},
                                libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
                raise RuntimeError("the migration to QEMU 11.1 was not refused")
            except libvirt.libvirtError as e:
                el = time.monotonic() - t0
                if i > 0:  # the first one may probe QEMU 11.1
                    refusals.append(el)
                print("refusal (%s): %.3f s" % (e.get_error_message()[:60], el))
    pid = qemu_of(uuid)
    argv_src = hand_args(pid, "unused")[:-2]
    d.destroy()

    for r in range(ROUNDS):
        wall, copy, down = by_hand(tmp, argv_src, tvtest.free_port())
        print("QEMU by hand: %.3f s from the destination's start to its cont (copy %.3f s, "
              "downtime %d ms)" % (wall, copy, down))
        results["hand"].append((wall, copy, down))

    print("\nmedians of %d:" % ROUNDS)
    for k in ("client", "p2p", "client-tls", "p2p-tls", "hand"):
        xs = results[k]
        print("  %-7s wall %.3f s  copy %.3f s  downtime %d ms" % (
            k, med([x[0] for x in xs]), med([x[1] for x in xs]), med([x[2] for x in xs])))
    h = med([x[0] for x in results["hand"]])
    for k in ("client", "p2p", "client-tls", "p2p-tls"):
        print("  %s / by hand (wall): %.2f" % (k, med([x[0] for x in results[k]]) / h))
    if refusals:
        print("  refusal towards QEMU 11.1 (caps cached): median %.3f s, max %.3f s" % (
            med(refusals), max(refusals)))


if __name__ == "__main__":
    main()
