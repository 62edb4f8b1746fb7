#!/usr/bin/python3
"""Two destination daemons on one host preparing incoming migrations at the
same moment (docs/migration.rst, "Prepare3"): each picks the first port of
the same migration_port_min..max range that binds, and before its QEMU binds
it the other may have picked it too.  The QEMU that finds the port taken
("Address already in use") is told to listen on the next free one, so both
migrations complete, and no STOPPED/FAILED event is seen for the QEMU
that found its port taken.  One source daemon sends two looping guests at once,
peer-to-peer, to the two destinations, and back, several rounds; every
migration must succeed and each guest keeps counting.  (Before the fix about
one round in two failed here with "Failed to find an available port:
Address already in use".)  TAP.

Usage: migration-ports-test.py TAGVIRTD KERNEL [CAPS_CACHE_DIR]"""
import os
import random
import re
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tvtest  # noqa: E402

import libvirt  # noqa: E402  (tvtest fails the test when it is missing)

TAGVIRTD = os.path.abspath(sys.argv[1])
KERNEL = os.path.abspath(sys.argv[2])
CACHE = sys.argv[3] if len(sys.argv) > 3 else None
T = tvtest.Tap()
CHECK = re.compile(r"tags intact \(check (\d+)\)")
ROUNDS = 4


def last_check(path):
    try:
        found = CHECK.findall(open(path, errors="replace").read())
    except OSError:
        return 0
    return int(found[-1]) if found else 0


def counting_on(path, above, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if last_check(path) > above:
            return True
        time.sleep(0.3)
    return False


def with_console(dom, path):
    xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    return re.sub(r"<source path='[^']*'/>", "<source path='%s'/>" % path, xml, count=1)


def migrate_all(jobs):
    """[(dom, desturi, xml)] all at once; the errors (None: done)"""
    errors = [None] * len(jobs)
    start = threading.Barrier(len(jobs))

    def one(i, dom, uri, xml):
        start.wait()
        try:
            dom.migrateToURI3(uri, {libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml},
                              libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER)
        except libvirt.libvirtError as e:
            errors[i] = e.get_error_message()
    threads = [threading.Thread(target=one, args=(i,) + job) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    return errors


def listen_ports(daemon):
    return [int(p) for p in re.findall(r"QEMU listens on tcp:[^:\s]+:(\d+)", daemon.log(None))]


def main():
    base = random.randrange(50000, 60000, 10)
    conf = "migration_port_min = %d\nmigration_port_max = %d\n" % (base, base + 3)
    src = tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, prefix="tvmigp-src-")
    dsts = [tvtest.Daemon(CACHE, tagvirtd=TAGVIRTD, conf=conf, prefix="tvmigp-dst%d-" % i)
            for i in range(2)]
    tvtest.event_loop()  # before the connections: the destinations' lifecycle events
    sconn = src.start()
    dconns = [d.start() for d in dsts]
    failed = []  # STOPPED/FAILED on a destination (a port retry must not say one)
    for dc in dconns:
        dc.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            lambda c, d, ev, det, o: failed.append(d.name()) if (
                ev == libvirt.VIR_DOMAIN_EVENT_STOPPED and
                det == libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED) else None, None)
    names = ["port0", "port1"]
    home = [os.path.join(src.root, n + ".console") for n in names]
    away = [os.path.join(d.root, n + ".console") for d, n in zip(dsts, names)]
    for n, c in zip(names, home):
        sconn.defineXML(tvtest.looping_guest_xml(n, KERNEL, c)).create()
    T.check("two looping guests count on the source",
            all(counting_on(c, 0) for c in home), [last_check(c) for c in home])
    for r in range(ROUNDS):
        doms = [sconn.lookupByName(n) for n in names]
        before = [last_check(c) for c in home]
        ports0 = [len(listen_ports(d)) for d in dsts]
        t0 = time.monotonic()
        errors = migrate_all([(doms[i], dsts[i].uri, with_console(doms[i], away[i]))
                              for i in range(2)])
        T.note("round %d: both out in %.2f s" % (r + 1, time.monotonic() - t0))
        T.check("round %d: both guests go to their destination at the same moment" % (r + 1),
                errors == [None, None], errors)
        ports = [listen_ports(d)[ports0[i]:] for i, d in enumerate(dsts)]
        T.note("ports listened on: %s" % ports)
        # (the same port twice is fine when one migration had ended first)
        T.check("... each incoming QEMU listened once, on a port of the range",
                all(len(p) == 1 and base <= p[0] <= base + 3 for p in ports), ports)
        T.check("... both count on there", all(counting_on(away[i], before[i])
                                               for i in range(2)),
                [last_check(c) for c in away])
        back = [dc.lookupByName(n) for dc, n in zip(dconns, names)]
        before = [last_check(c) for c in away]
        errors = migrate_all([(back[i], src.uri, with_console(back[i], home[i]))
                              for i in range(2)])
        T.check("... and both come back", errors == [None, None] and
                all(counting_on(home[i], before[i]) for i in range(2)), errors)
    taken = sum(d.log(None).count("was taken meanwhile") for d in dsts)
    T.note("a destination found its port taken and moved on %d times in %d rounds"
           % (taken, ROUNDS))
    # as libvirt, a start on a port that was taken (which QEMU left at once)
    # is no domain that stopped: no STOPPED/FAILED event for it
    T.check("... no STOPPED/FAILED event on a destination (%d port retries)" % taken,
            failed == [], failed)
    for n in names:
        d = sconn.lookupByName(n)
        d.destroy()
        d.undefine()
    T.check("nothing left on the destinations", not dsts[0].qemus() and not dsts[1].qemus(),
            [d.qemus() for d in dsts])


if __name__ == "__main__":
    try:
        main()
    except Exception:
        T.check("no exception", False, traceback.format_exc())
    sys.exit(T.finish())
