#!/usr/bin/python3
"""<watchdog model='i6300esb'> seen firing in a Linux guest, through
tagvirtd with python3-libvirt (event callbacks) and virsh (event,
domstate --reason).  The guest is the generic kit (tests/guest/build-9p-kit.sh:
Debian's generic arm64 kernel has i6300esb, the cloud kernel not) booted with
'tagvirt.guest=watchdog tagvirt.wdt=3': its /init loads i6300esb with a 3 s
heartbeat, opens /dev/watchdog, pets it once and never again.  QEMU sends
WATCHDOG with its action; libvirt 9.0 (qemuProcessHandleWatchdog) gives each
action as:

  reset     WATCHDOG (reset), then REBOOT; the guest boots again in the same
            QEMU, running (booted)
  poweroff  WATCHDOG (poweroff), then QEMU exits with no SHUTDOWN event:
            shut off (crashed), STOPPED (failed) as libvirt
  pause     WATCHDOG (pause), SUSPENDED (watchdog): paused (watchdog), the
            guest stops; resume runs it again
  none      WATCHDOG (none); nothing else changes

and a <watchdog action='poweroff'> hot-plugged into the running guest (which
waits for /dev/watchdog) acts as poweroff.

TAP.  Usage: watchdog-test.py TAGVIRTD [CAPS_CACHE_DIR]"""
import os
import re
import subprocess
import sys
import threading
import time

import libvirt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvtest import (Daemon, check, cleanup, event_loop, generic_kit, private_tmpdir, read_text,
                    run, wait_for)

TAGVIRTD = os.path.abspath(sys.argv[1])
CACHE = sys.argv[2] if len(sys.argv) > 2 else None
ARGS = "console=ttyAMA0 panic=-1 quiet tagvirt.guest=watchdog tagvirt.wdt=3"
BOOT_TIMEOUT = 480  # Linux boots under TCG on a shared, loaded machine
# libvirt's numbers: virDomainEventWatchdogAction, lifecycle events and details
WD_NONE, WD_PAUSE, WD_RESET, WD_POWEROFF = 0, 1, 2, 3
EV_STARTED, EV_SUSPENDED, EV_RESUMED, EV_STOPPED = 2, 3, 4, 5
SUSPENDED_WATCHDOG, RESUMED_UNPAUSED, STOPPED_FAILED = 3, 0, 5
PAUSED_WATCHDOG, SHUTOFF_CRASHED, RUNNING_UNPAUSED = 6, 3, 5

events = {}  # name -> [("lifecycle", event, detail) | ("reboot",) | ("watchdog", action)]
events_lock = threading.Lock()


def record(dom, item):
    with events_lock:
        events.setdefault(dom.name(), []).append(item)


def seen(name):
    with events_lock:
        return [e for e in events.get(name, []) if e[:2] not in (("lifecycle", 0), ("lifecycle", 1))]


def domain_xml(name, console, action):
    # without a watchdog: the slots a hot-plugged one needs (a PCI device:
    # behind a pcie-to-pci-bridge, as libvirt places it)
    wd = (f"<watchdog model='i6300esb' action='{action}'/>" if action else
          "<controller type='pci' index='1' model='pcie-root-port'/>\n"
          "    <controller type='pci' index='2' model='pcie-to-pci-bridge'/>")
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>{KERNEL}</kernel>
    <initrd>{INITRD}</initrd>
    <cmdline>{ARGS}</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model>cortex-a57</model></cpu>
  <devices>
    <serial type='file'><source path='{console}'/></serial>
    {wd}
  </devices>
</domain>"""


def state(dom):
    try:
        return tuple(dom.state())
    except libvirt.libvirtError as e:
        return ("error", e.get_error_message())


def boots(console):
    return read_text(console).count("mode=watchdog")


def alive_count(console):
    found = re.findall(r"GUESTWDT alive (\d+)", read_text(console))
    return int(found[-1]) if found else 0


def qemu_pid(root, name):
    m = re.search(r" pid='(\d+)'", read_text(os.path.join(root, "state", name + ".xml")))
    return int(m.group(1)) if m else None


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (OSError, TypeError):
        return False


def main():
    global KERNEL, INITRD
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    event_loop()
    work = private_tmpdir("tvwdog-")
    KERNEL, INITRD = generic_kit(work)
    d = Daemon(CACHE)
    conn = d.start(TAGVIRTD)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                lambda c, dom, e, det, o: record(dom, ("lifecycle", e, det)), None)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                lambda c, dom, o: record(dom, ("reboot",)), None)
    conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG,
                                lambda c, dom, action, o: record(dom, ("watchdog", action)), None)

    cases = {"wd-reset": "reset", "wd-poweroff": "poweroff", "wd-pause": "pause",
             "wd-none": "none", "wd-plug": None}
    doms, consoles, pids = {}, {}, {}
    for name, action in cases.items():
        consoles[name] = os.path.join(work, name + ".console")
        doms[name] = conn.defineXML(domain_xml(name, consoles[name], action))
    # virsh event, as a user watches: the first watchdog event of wd-pause
    vev = subprocess.Popen(["virsh", "-c", d.uri, "event", "wd-pause", "watchdog", "--timeout",
                            str(BOOT_TIMEOUT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    cleanup(lambda: vev.poll() is None and vev.kill())
    time.sleep(1)  # registered before the guests start
    for name, dom in doms.items():
        dom.create()
        pids[name] = qemu_pid(d.root, name)
    cmd = open("/proc/%d/cmdline" % pids["wd-pause"], "rb").read().split(b"\0")
    check("wd-pause: its QEMU has an i6300esb device and -action watchdog=pause",
          any(a.startswith(b"i6300esb") for a in cmd) and b"watchdog=pause" in cmd,
          b" ".join(cmd).decode(errors="replace")[-400:])

    # --- pause
    name, dom = "wd-pause", doms["wd-pause"]
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_PAUSED and state(dom), BOOT_TIMEOUT)
    text = read_text(consoles[name])
    check("pause: the guest opened i6300esb's /dev/watchdog and stopped petting it",
          "GUESTWDT opened i6300ESB timer" in text and "GUESTWDT petted once" in text, text[-600:])
    check("pause: paused (watchdog)", st == (libvirt.VIR_DOMAIN_PAUSED, PAUSED_WATCHDOG),
          "%s %s" % (st, d.log()))
    rc, out, err = d.virsh("domstate", name, "--reason")
    check("pause: virsh domstate --reason says 'paused (watchdog)'",
          out.strip() == "paused (watchdog)", out + err)
    wait_for(lambda: len(seen(name)) >= 3, 10)
    check("pause: events STARTED, WATCHDOG (pause), SUSPENDED (watchdog), in libvirt's order",
          seen(name) == [("lifecycle", EV_STARTED, 0), ("watchdog", WD_PAUSE),
                         ("lifecycle", EV_SUSPENDED, SUSPENDED_WATCHDOG)], seen(name))
    try:
        vout = vev.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        vev.kill()
        vout = vev.communicate()[0]
    check("pause: virsh event printed the watchdog event with action 'pause'",
          vev.returncode == 0 and "event 'watchdog' for domain 'wd-pause': pause" in vout, vout)
    n = alive_count(consoles[name])
    time.sleep(6)
    check("pause: the guest's vCPUs are stopped (no new 'alive' line in 6 s)",
          alive_count(consoles[name]) == n and state(dom)[0] == libvirt.VIR_DOMAIN_PAUSED,
          "%d -> %d" % (n, alive_count(consoles[name])))
    rc, out, err = d.virsh("resume", name)
    check("pause: virsh resume runs it again: running (unpaused), RESUMED, the guest goes on",
          rc == 0 and state(dom) == (libvirt.VIR_DOMAIN_RUNNING, RUNNING_UNPAUSED)
          and wait_for(lambda: alive_count(consoles[name]) > n, 60)
          and ("lifecycle", EV_RESUMED, RESUMED_UNPAUSED) in seen(name),
          "%s %s %s" % (out + err, state(dom), seen(name)))
    dom.destroy()

    # --- none: the event only
    name, dom = "wd-none", doms["wd-none"]
    wait_for(lambda: ("watchdog", WD_NONE) in seen(name), BOOT_TIMEOUT)
    n = alive_count(consoles[name])
    check("none: WATCHDOG (none) arrived, the guest still running",
          ("watchdog", WD_NONE) in seen(name) and state(dom)[0] == libvirt.VIR_DOMAIN_RUNNING,
          "%s %s" % (seen(name), state(dom)))
    check("none: ... and it goes on ('alive' lines after the event), one boot only",
          wait_for(lambda: alive_count(consoles[name]) > n + 1, 60)
          and boots(consoles[name]) == 1, read_text(consoles[name])[-400:])
    check("none: no other event than STARTED and WATCHDOG (none)",
          all(e in (("lifecycle", EV_STARTED, 0), ("watchdog", WD_NONE)) for e in seen(name)),
          seen(name))
    dom.destroy()

    # --- reset: the guest boots again in the same QEMU
    name, dom = "wd-reset", doms["wd-reset"]
    got = wait_for(lambda: boots(consoles[name]) >= 2 and boots(consoles[name]), BOOT_TIMEOUT)
    check("reset: the guest booted again after the watchdog fired (%s boots)" % got,
          (got or 0) >= 2, read_text(consoles[name])[-600:])
    ev = seen(name)
    check("reset: events WATCHDOG (reset) then REBOOT, never STOPPED",
          ("watchdog", WD_RESET) in ev and ("reboot",) in ev
          and ev.index(("watchdog", WD_RESET)) < ev.index(("reboot",))
          and not any(e[:2] == ("lifecycle", EV_STOPPED) for e in ev), ev)
    check("reset: the same QEMU (pid %s), running (booted)" % pids[name],
          qemu_pid(d.root, name) == pids[name] and alive(pids[name])
          and state(dom) == (libvirt.VIR_DOMAIN_RUNNING, 1), state(dom))
    dom.destroy()

    # --- poweroff: QEMU ends
    name, dom = "wd-poweroff", doms["wd-poweroff"]
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF and state(dom), BOOT_TIMEOUT)
    check("poweroff: shut off (crashed), as libvirt (QEMU exits without SHUTDOWN)",
          st == (libvirt.VIR_DOMAIN_SHUTOFF, SHUTOFF_CRASHED), "%s %s" % (st, d.log()))
    rc, out, err = d.virsh("domstate", name, "--reason")
    check("poweroff: virsh domstate --reason says 'shut off (crashed)'",
          out.strip() == "shut off (crashed)", out + err)
    wait_for(lambda: len(seen(name)) >= 3, 10)
    check("poweroff: events STARTED, WATCHDOG (poweroff), STOPPED (failed)",
          seen(name) == [("lifecycle", EV_STARTED, 0), ("watchdog", WD_POWEROFF),
                         ("lifecycle", EV_STOPPED, STOPPED_FAILED)], seen(name))
    check("poweroff: its QEMU is gone", wait_for(lambda: not alive(pids[name]), 20))

    # --- hot-plug: the guest waits for /dev/watchdog, then it acts
    name, dom = "wd-plug", doms["wd-plug"]
    check("hot-plug: the guest without a watchdog waits for one",
          wait_for(lambda: "GUESTWDT waiting" in read_text(consoles[name]), BOOT_TIMEOUT),
          read_text(consoles[name])[-400:])
    dom.attachDeviceFlags("<watchdog model='i6300esb' action='poweroff'/>",
                          libvirt.VIR_DOMAIN_AFFECT_LIVE)
    check("hot-plug: the guest finds the hot-plugged i6300esb and opens it",
          wait_for(lambda: "GUESTWDT opened" in read_text(consoles[name]), 120),
          read_text(consoles[name])[-400:])
    st = wait_for(lambda: state(dom)[0] == libvirt.VIR_DOMAIN_SHUTOFF and state(dom), 120)
    check("hot-plug: its action (poweroff, set with set-action) happens: shut off (crashed)",
          st == (libvirt.VIR_DOMAIN_SHUTOFF, SHUTOFF_CRASHED), "%s %s" % (st, seen(name)))
    check("hot-plug: WATCHDOG (poweroff) arrived", ("watchdog", WD_POWEROFF) in seen(name),
          seen(name))

    check("every QEMU of the test is gone at the end",
          wait_for(lambda: not any(alive(p) for p in pids.values() if p), 20),
          [p for p in pids.values() if p and alive(p)])
    for dom in doms.values():
        dom.undefine()
    conn.close()


run(main)
