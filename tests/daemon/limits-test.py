#!/usr/bin/python3
"""tagvirtd's limits on what one client may cost others (docs/security.rst,
"Sockets"), with the real QEMU driver behind it:

1. 1000 read-only clients register for lifecycle events and then never read.
   Domains are defined and undefined until every one of them is dropped for
   passing max_client_output (a warning naming each); the daemon's peak RSS
   stays within what the limit allows; a python3-libvirt subscriber that
   reads gets every event; a read-write client is served throughout.
2. A domain with a 4 MB <description>: while its XML is formatted and sent,
   another client's pings, state and list calls are answered at once (the
   formatting runs on a worker, and not under the domain's lock).

Usage: limits-test.py [--rss-factor F] TAGVIRTD KERNEL [CAPS_CACHE_DIR]
--rss-factor: the RSS bound is F x 1000 x max_client_output (default 1.5;
a sanitizer build keeps freed memory resident, so meson passes more there).
Run with Debian's /usr/bin/python3 (python3-libvirt).  TAP."""
import os
import resource
import select
import socket
import statistics
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import tagvirtd_wire_test as wire  # noqa: E402  (the raw client and XDR helpers)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402
from tvtest import check, results  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

ARGS = sys.argv[1:]
RSS_FACTOR = 1.5
if ARGS[:1] == ["--rss-factor"]:
    RSS_FACTOR = float(ARGS[1])
    ARGS = ARGS[2:]
TAGVIRTD, KERNEL = os.path.abspath(ARGS[0]), os.path.abspath(ARGS[1])
CACHE = ARGS[2] if len(ARGS) > 2 else None
SUBSCRIBERS = 1000
MAX_CLIENT_OUTPUT = 65536
MAX_CYCLES = 1500  # define + undefine pairs at most (3000 events)
DESCRIPTION = 4_000_000
ROUNDS = 8

PROC_OPEN, PROC_GET_XML_DESC, PROC_GET_STATE, PROC_LIST_ALL = 1, 14, 212, 273
PROC_REGISTER_ANY = 316

def domain_xml(name, description=""):
    desc = f"<description>{description}</description>" if description else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>{desc}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>{KERNEL}</kernel></os>
  <cpu mode='maximum'/>
  <devices><controller type='usb' model='none'/><memballoon model='none'/></devices>
</domain>
"""


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wire_domain(name, uuid):
    return wire.xdr_string(name) + uuid + wire.u32(-1)


def subscribers_drop(d, conn):
    """Part 1: clients that never read their events."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    # the reader: python3-libvirt with an event loop, on the read-only socket
    libvirt.virEventRegisterDefaultImpl()
    seen = []
    reader = libvirt.openReadOnly(d.uri_ro)
    reader.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                  lambda c, dom, ev, det, op: seen.append((dom.name(), ev)), None)
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()

    mute = []
    for _ in range(SUBSCRIBERS):
        c = wire.Raw(d.sock_ro)
        c.open()
        status, body = c.call(PROC_REGISTER_ANY, wire.u32(0) + wire.u32(0))
        assert status == wire.OK, wire.parse_error(body)
        mute.append(c)
    check(f"{SUBSCRIBERS} read-only clients registered for lifecycle events", True)

    pid = d.proc.pid
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")  # VmHWM starts again from the current RSS
    base = proc_status(pid, "VmRSS")
    cycles, dropped, rw_ok = 0, 0, True

    def delivered(timeout=120):
        """Events are fanned out by the driver's event thread, after define returns: wait
        until the reader has them all (the mute clients got theirs by then, or soon)."""
        deadline = time.monotonic() + timeout
        while len(seen) < 2 * cycles and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)

    start = time.monotonic()
    while cycles < MAX_CYCLES:
        dom = conn.defineXML(domain_xml("ev"))
        dom.undefine()
        cycles += 1
        if cycles % 50 == 0:
            rw_ok = rw_ok and conn.getHostname() == socket.gethostname()
            delivered()
            dropped = d.log(None).count("dropped: it does not read its events")
            if dropped >= SUBSCRIBERS:
                break
    delivered()
    took = time.monotonic() - start
    dropped = d.log(None).count("dropped: it does not read its events")
    # and some more events once they are gone: nothing piles up any more
    for _ in range(100):
        conn.defineXML(domain_xml("ev")).undefine()
    cycles += 100
    delivered()
    peak = proc_status(pid, "VmHWM") - base
    after = proc_status(pid, "VmRSS") - base

    check(f"all {SUBSCRIBERS} clients that never read were dropped ({dropped} after "
          f"{cycles - 100} define/undefine pairs, {took:.1f} s)", dropped == SUBSCRIBERS,
          d.log(None)[-2000:])
    named = [line for line in d.log(None).splitlines()
             if "dropped: it does not read its events" in line]
    check("each drop is a warning naming the client, its pid and uid",
          all(" warning: " in line and " (pid " in line and ", uid " in line for line in named),
          "\n".join(named[:3]))
    # each client may hold max_client_output of events (frames and their bookkeeping)
    # plus what a wakeup adds; the bound allows half as much again
    bound = int(SUBSCRIBERS * MAX_CLIENT_OUTPUT * RSS_FACTOR) // 1024
    check(f"peak RSS growth {peak} kB <= {bound} kB ({SUBSCRIBERS} x max_client_output "
          f"{MAX_CLIENT_OUTPUT} x {RSS_FACTOR}); {after} kB above the start at the end",
          peak <= bound, f"VmHWM - VmRSS at the start: {peak} kB")
    check(f"the subscriber that reads got all {2 * cycles} events, in order",
          seen == [("ev", 0), ("ev", 1)] * cycles, f"{len(seen)} events")
    check("the read-write client was served throughout", rw_ok)
    for c in mute:
        c.close()
    stop.set()
    reader.close()
    print(f"# {SUBSCRIBERS} mute subscribers: peak RSS +{peak} kB, +{after} kB at the end, "
          f"{cycles} pairs")


def big_definition(d, conn):
    """Part 2: a 4 MB definition formatted while others are answered."""
    big = conn.defineXML(domain_xml("big", "x" * DESCRIPTION))
    uuid = big.UUIDString().replace("-", "")
    dom_args = wire_domain("big", bytes.fromhex(uuid)) + wire.u32(0)
    a = wire.Raw(d.sock, timeout=60)
    a.open()
    b = wire.Raw(d.sock_ro, timeout=60)
    b.open()
    calls = [
        ("ping", None),
        ("state", (PROC_GET_STATE, dom_args)),
        ("list", (PROC_LIST_ALL, wire.u32(1) + wire.u32(0))),
    ]
    answered_before, rtts, durations = 0, [], []
    for _ in range(ROUNDS):
        a.serial += 1
        t0 = time.monotonic()
        a.send_frame(wire.REMOTE, PROC_GET_XML_DESC, wire.CALL, a.serial, dom_args)
        before = 0
        for i in range(1000):
            name, call = calls[i % len(calls)]
            t = time.monotonic()
            if call is None:
                b.ping()
            else:
                status, body = b.call(*call)
                assert status == wire.OK, (name, wire.parse_error(body))
            rtts.append(time.monotonic() - t)
            if select.select([a.sock], [], [], 0)[0]:
                break
            before += 1
        hdr, body = a.recv_frame()
        durations.append(time.monotonic() - t0)
        assert hdr[5] == wire.OK and len(body) > DESCRIPTION, (hdr, len(body))
        if before:
            answered_before += 1
    a.close()
    b.close()
    med_rtt, med_dump = statistics.median(rtts), statistics.median(durations)
    print(f"# 4 MB dumpxml: median {med_dump * 1000:.1f} ms; other client's calls meanwhile: "
          f"median {med_rtt * 1000:.2f} ms, max {max(rtts) * 1000:.1f} ms, "
          f"{len(rtts)} calls; answered before the XML in {answered_before}/{ROUNDS} rounds")
    check(f"another client's ping/state/list were answered while the 4 MB XML was being "
          f"made, in {answered_before} of {ROUNDS} rounds (at least half)",
          answered_before * 2 >= ROUNDS)
    check(f"their median answer time {med_rtt * 1000:.2f} ms is under a quarter of the "
          f"4 MB dumpxml's {med_dump * 1000:.1f} ms", med_rtt * 4 < med_dump)
    big.undefine()


def main():
    print("1..8")
    d = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvlimits-", verbose=False,
                      conf=f"max_client_output = {MAX_CLIENT_OUTPUT}\nlog_level = 3\n")
    try:
        conn = d.start(timeout=60)
        for part in (subscribers_drop, big_definition):
            try:
                part(d, conn)
            except Exception:
                check(part.__name__ + " ran to the end", False, traceback.format_exc())
        conn.close()
    finally:
        d.cleanup()
    return 0 if all(results) and len(results) == 8 else 1


if __name__ == "__main__":
    sys.exit(main())
