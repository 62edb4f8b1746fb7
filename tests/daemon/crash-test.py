#!/usr/bin/python3
"""<on_crash> with a guest that really crashes (issue 8 item 8), through
tagvirtd with python3-libvirt (events) and virsh: the Linux guest kit
(Debian's arm64 kernel and busybox) booted with 'tagvirt.guest=panic'
reports a panic through <panic model='pvpanic'/> (QEMU's pvpanic-pci) and
panics its kernel (tests/guest/init says why the report is written from
user space: Debian's arm64 kernels have no pvpanic driver).  QEMU emits
GUEST_PANICKED; each action libvirt accepts for QEMU is checked as libvirt
does it:

  destroy           CRASHED (panicked) event, then shut off (crashed),
                    STOPPED (crashed), QEMU gone
  restart           CRASHED, then the guest boots again in the same QEMU
                    (same pid and id): running (crashed), RESUMED events;
                    it panics on every boot, so several cycles are seen
  preserve          QEMU kept with its vCPUs stopped: crashed (panicked)
                    until destroyed; no second boot
  coredump-destroy  an ELF core of the guest's memory in the domain's log
                    folder, then as destroy
  coredump-restart  the core, then as restart
  rename-restart    refused at define (libvirt's QEMU driver refuses it)

TAP.  Usage: crash-test.py TAGVIRTD [CAPS_CACHE_DIR]"""
import glob
import os
import re
import sys
import threading
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import Daemon, check, guest_kit, private_tmpdir, read_text, refused, run, wait_for

TAGVIRTD = os.path.abspath(sys.argv[1])
CACHE = sys.argv[2] if len(sys.argv) > 2 else None
ARGS = "console=ttyAMA0 panic=-1 quiet tagvirt.guest=panic"
MIB = 256
EV_STARTED, EV_RESUMED, EV_STOPPED, EV_CRASHED = 2, 4, 5, 8
STOPPED_DESTROYED, STOPPED_CRASHED = 1, 2
RUNNING_CRASHED = 9
CRASHED_PANICKED = 1
BOOT_TIMEOUT = 420  # a Linux boot under TCG on a shared, loaded machine

events = {}  # name -> [(event, detail)]
events_lock = threading.Lock()


def on_lifecycle(conn, dom, event, detail, opaque):
    with events_lock:
        events.setdefault(dom.name(), []).append((event, detail))


def seen(name):
    """The domain's lifecycle events but DEFINED and UNDEFINED."""
    with events_lock:
        return [e for e in events.get(name, []) if e[0] > 1]


def domain_xml(name, action, kernel, initrd, console):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>{MIB}</memory>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{ARGS}</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <on_crash>{action}</on_crash>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    <panic model='pvpanic'/>
  </devices>
</domain>"""


def qemu_pid(root, name):
    """The pid in the domain's status file."""
    text = read_text(os.path.join(root, "state", name + ".xml"))
    m = re.search(r" pid='(\d+)'", text)
    return int(m.group(1)) if m else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def boots(console):
    return read_text(console).count("mode=panic")


def state(dom):
    try:
        return tuple(dom.state())
    except libvirt.libvirtError as e:
        return ("error", e.get_error_message())


def cores(root, name):
    return sorted(glob.glob(os.path.join(root, "log", name + "-*.core")))


def check_core(name, root):
    found = cores(root, name)
    if not found:
        check("%s: a core file LOG_DIR/%s-YYYYmmdd-HHMMSS.core" % (name, name), False,
              "none in %s: %s" % (root + "/log", os.listdir(root + "/log")))
        return
    path = found[0]
    with open(path, "rb") as f:
        magic = f.read(20)
    size = os.path.getsize(path)
    # ELF64 (class 2), little endian, type CORE (4), machine AArch64 (183)
    check("%s: the core is an aarch64 ELF core of the guest's %d MiB (%s, %d bytes)"
          % (name, MIB, os.path.basename(path), size),
          magic[:4] == b"\x7fELF" and magic[4] == 2 and magic[16] == 4 and magic[18] == 183
          and size >= MIB << 20, repr(magic))


def main():
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()
    work = private_tmpdir("tvcrash-")
    kernel, initrd = guest_kit(work)
    d = Daemon(CACHE)
    conn = d.start(TAGVIRTD)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_lifecycle, None)

    refused("on_crash rename-restart: refused at define, naming the element and what works",
            lambda: conn.defineXML(domain_xml("rr", "rename-restart", kernel, initrd,
                                              work + "/rr.console")),
            libvirt.VIR_ERR_CONFIG_UNSUPPORTED, ["<on_crash>rename-restart", "restart"])
    check("... nothing defined", "rr" not in [x.name() for x in conn.listAllDomains()])

    actions = ["destroy", "restart", "preserve", "coredump-destroy", "coredump-restart"]
    doms, consoles, pids = {}, {}, {}
    for action in actions:
        name = "c-" + action
        consoles[name] = os.path.join(work, name + ".console")
        doms[name] = conn.defineXML(domain_xml(name, action, kernel, initrd, consoles[name]))
    # the restart guests panic on every boot: coredump-restart (a 256 MiB
    # core per panic) runs alone at the end, restart is stopped once checked
    for name, dom in doms.items():
        if name != "c-coredump-restart":
            dom.create()
            pids[name] = qemu_pid(d.root, name)
    cmd = open("/proc/%d/cmdline" % pids["c-preserve"], "rb").read().split(b"\0")
    check("the QEMU of on_crash preserve has pvpanic-pci and -action panic=pause",
          any(a.startswith(b"pvpanic-pci") for a in cmd) and b"panic=pause" in cmd,
          b" ".join(cmd).decode(errors="replace")[-400:])

    # --- destroy
    name = "c-destroy"
    dom = doms[name]
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF and state(dom), BOOT_TIMEOUT)
    check("destroy: the guest's panic report reached QEMU (its console)",
          "GUEST pvpanic" in read_text(consoles[name]), read_text(consoles[name])[-500:])
    check("destroy: shut off (crashed)", st == (libvirt.VIR_DOMAIN_SHUTOFF, 3),
          "%s %s" % (st, d.log()))
    time.sleep(0.5)
    ev = seen(name)
    check("destroy: events STARTED, CRASHED (panicked), STOPPED (crashed)",
          ev[:1] == [(EV_STARTED, 0)] and (EV_CRASHED, 0) in ev and ev[-1] == (EV_STOPPED,
                                                                                STOPPED_CRASHED)
          and ev.index((EV_CRASHED, 0)) < len(ev) - 1, ev)
    check("destroy: its QEMU is gone", not alive(pids[name]))
    rc, out, err = d.virsh("domstate", name, "--reason")
    check("destroy: virsh domstate --reason says 'shut off (crashed)'",
          out.strip() == "shut off (crashed)", out + err)
    check("destroy: no core without a coredump action", not cores(d.root, name))

    # --- restart: a new boot in the same QEMU, every time
    name = "c-restart"
    dom = doms[name]
    n = wait_for(lambda: boots(consoles[name]) >= 3 and boots(consoles[name]), BOOT_TIMEOUT * 2)
    ev = seen(name)
    check("restart: the guest booted again after each panic (%s boots)" % n,
          (n or 0) >= 3, read_text(consoles[name])[-600:])
    check("restart: the same QEMU (pid %s) and the same id" % pids[name],
          qemu_pid(d.root, name) == pids[name] and alive(pids[name]) and dom.ID() > 0)
    check("restart: events CRASHED (panicked) then RESUMED for each restart, never STOPPED",
          ev.count((EV_CRASHED, 0)) >= 2 and ev.count((EV_RESUMED, 0)) >= 2
          and all(e != EV_STOPPED for e, _ in ev)
          and ev.index((EV_CRASHED, 0)) < ev.index((EV_RESUMED, 0)), ev)
    st = state(dom)
    check("restart: running (crashed) or crashed (panicked) between two boots",
          st in ((libvirt.VIR_DOMAIN_RUNNING, RUNNING_CRASHED),
                 (libvirt.VIR_DOMAIN_CRASHED, CRASHED_PANICKED)), st)
    rc, out, err = d.virsh("domstate", name, "--reason")
    check("restart: virsh domstate --reason says 'running (crashed)' or 'crashed (panicked)'",
          out.strip() in ("running (crashed)", "crashed (panicked)"), out + err)
    check("restart: no core without a coredump action", not cores(d.root, name))
    dom.destroy()

    # --- preserve: QEMU kept, vCPUs stopped
    name = "c-preserve"
    dom = doms[name]
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_CRASHED and state(dom),
                  BOOT_TIMEOUT)
    check("preserve: crashed (panicked)", st == (libvirt.VIR_DOMAIN_CRASHED, CRASHED_PANICKED),
          "%s %s" % (st, d.log()))
    time.sleep(5)
    check("preserve: 5 s later still crashed, the QEMU alive, no second boot",
          state(dom) == (libvirt.VIR_DOMAIN_CRASHED, CRASHED_PANICKED) and alive(pids[name])
          and boots(consoles[name]) == 1, "%s boots=%d" % (state(dom), boots(consoles[name])))
    rc, out, err = d.virsh("domstate", name, "--reason")
    check("preserve: virsh domstate --reason says 'crashed (panicked)'",
          out.strip() == "crashed (panicked)", out + err)
    check("preserve: events STARTED, CRASHED (panicked), nothing after",
          seen(name) == [(EV_STARTED, 0), (EV_CRASHED, 0)], seen(name))
    rc, out, err = d.virsh("destroy", name)
    check("preserve: virsh destroy ends it: shut off (destroyed), STOPPED (destroyed)",
          rc == 0 and state(dom) == (libvirt.VIR_DOMAIN_SHUTOFF, 2)
          and wait_for(lambda: seen(name)[-1] == (EV_STOPPED, STOPPED_DESTROYED), 10)
          and wait_for(lambda: not alive(pids[name]), 10), "%s %s %s" % (out + err, state(dom),
                                                                         seen(name)))

    # --- coredump-destroy: the dump, then shut off
    name = "c-coredump-destroy"
    dom = doms[name]
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF and state(dom),
                  BOOT_TIMEOUT)
    check("coredump-destroy: shut off (crashed)", st == (libvirt.VIR_DOMAIN_SHUTOFF, 3),
          "%s %s" % (st, read_text(os.path.join(d.root, "log", name + ".log"))[-800:]))
    check_core(name, d.root)
    time.sleep(0.5)
    ev = seen(name)
    check("coredump-destroy: events STARTED, CRASHED (panicked), STOPPED (crashed)",
          ev == [(EV_STARTED, 0), (EV_CRASHED, 0), (EV_STOPPED, STOPPED_CRASHED)], ev)

    # --- coredump-restart: a dump per panic, the guest boots again
    name = "c-coredump-restart"
    dom = doms[name]
    dom.create()
    pids[name] = qemu_pid(d.root, name)
    n = wait_for(lambda: boots(consoles[name]) >= 2 and cores(d.root, name) and
                 boots(consoles[name]), BOOT_TIMEOUT * 2)
    check("coredump-restart: the guest booted again after its panic (%s boots)" % n,
          (n or 0) >= 2, read_text(os.path.join(d.root, "log", name + ".log"))[-800:])
    check_core(name, d.root)
    ev = seen(name)
    check("coredump-restart: the same QEMU; CRASHED then RESUMED, never STOPPED",
          qemu_pid(d.root, name) == pids[name] and alive(pids[name])
          and (EV_CRASHED, 0) in ev and (EV_RESUMED, 0) in ev
          and all(e != EV_STOPPED for e, _ in ev), ev)

    dom.destroy()
    check("every QEMU of the test is gone at the end",
          wait_for(lambda: not any(alive(p) for p in pids.values() if p), 20),
          [p for p in pids.values() if p and alive(p)])
    for dom in doms.values():
        dom.undefine()
    conn.close()


run(main)
