#!/usr/bin/env python3
"""TAP: every file under tests/*data/ is used by a case list or a test, so
data that no test reads (a case removed from a list, an expected file of a
renamed case, a flag lost from a line) fails here instead of rotting.

The rules follow how each test finds its files:
  qemuxml2argvdata/    cases; NAME.xml and NAME.CAPS-HOST.{args,err} of each
                       line "NAME CAPS HOST [flags]" (qemuxml2argvtest)
  qemuxml2xmloutdata/  NAME.CAPS-HOST.{inactive,live}.xml of each line of
                       qemuxml2argvdata/cases with the flag xml2xml
                       (qemuxml2xmltest)
  domaincapsdata/      cases; CAPS-HOST-VIRTTYPE.{xml,err} of each line
                       "CAPS HOST VIRTTYPE" (domaincapstest)
  domainconfdata/,     every NAME.xml is a case (domainconftest,
  storageconfdata/,    objectxmltest); its NAME.out.xml (good input) or
  networkconfdata/     NAME.err (bad input), and NAME.schema-ok beside a
                       NAME.err
  qemucapabilitiesdata/ every NAME.replies is replayed against NAME.xml
                       (qemucapabilitiestest); a script there must be named
                       by a recording it made
  qemumonitordata/     every *.replies is a recorded session (qemumonitortest)
  qemustatusdata/      every NAME.xml, and the NAME.err beside it (qemustatustest)
  domainabidata/       base.xml, and every other NAME.xml with its verdict
                       NAME.out (domainabitest)
  hostcapsdata/        NAME.txt of each host in driverhosttest's hosts[]
  hostdata/            each fixture host is named by a case line or a test
                       source, and holds only files that the host readers in
                       src/ name (or whose folder, or a folder above, they
                       read), or that a test
                       input or firmware descriptor names by absolute path
A new tests/*data/ folder needs a rule here first.  Usage: check-test-data.py
[TESTS_DIR]."""
import os
import re
import sys

TESTS = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
SRC = os.path.dirname(TESTS)


def files_under(d):
    """Paths relative to d of every file (or symlink) below it."""
    out = []
    for root, dirs, names in os.walk(d):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for n in names:
            out.append(os.path.relpath(os.path.join(root, n), d))
    return sorted(out)


def case_lines(path):
    """Word lists of a cases file (no comments, no @caps lines)."""
    lines = []
    with open(path) as f:
        for line in f:
            w = line.split()
            if w and not w[0].startswith("#") and w[0] != "@caps":
                lines.append(w)
    return lines


def caps_aliases(path):
    aliases = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) >= 3 and w[0] == "@caps":
                aliases[w[1]] = w[2]
    return aliases


def rule_argv():
    lines = case_lines(os.path.join(TESTS, "qemuxml2argvdata", "cases"))
    used = {"cases"}
    for w in lines:
        used.add(f"{w[0]}.xml")
        used.update(f"{w[0]}.{w[1]}-{w[2]}.{ext}" for ext in ("args", "err"))
    return used


def rule_xml2xml():
    lines = case_lines(os.path.join(TESTS, "qemuxml2argvdata", "cases"))
    used = set()
    for w in lines:
        if "xml2xml" in w[3:]:
            used.update(f"{w[0]}.{w[1]}-{w[2]}.{k}.xml" for k in ("inactive", "live"))
    return used


def rule_domaincaps():
    lines = case_lines(os.path.join(TESTS, "domaincapsdata", "cases"))
    used = {"cases"}
    for w in lines:
        used.update(f"{w[0]}-{w[1]}-{w[2]}.{ext}" for ext in ("xml", "err"))
    return used


def rule_conf(folder):
    """NAME.xml inputs, each with NAME.out.xml (good) or NAME.err (bad), and
    NAME.schema-ok beside a NAME.err (domainconftest, storageconftest)."""
    names = os.listdir(os.path.join(TESTS, folder))
    inputs = {n[:-4] for n in names if n.endswith(".xml") and not n.endswith(".out.xml")}
    used = set()
    problems = []
    for base in inputs:
        used.add(base + ".xml")
        has_out, has_err = base + ".out.xml" in names, base + ".err" in names
        if has_out and has_err:
            problems.append(f"{folder}/{base}: both .out.xml and .err (one is stale)")
        used.update({base + ".out.xml", base + ".err"})
        if has_err:
            used.add(base + ".schema-ok")
    return used, problems


def rule_monitor():
    """Every *.replies is a recorded session (qemumonitortest)."""
    return {n for n in os.listdir(os.path.join(TESTS, "qemumonitordata")) if n.endswith(".replies")}


def rule_status():
    """Every NAME.xml is a status file, NAME.err its expected error (qemustatustest)."""
    names = os.listdir(os.path.join(TESTS, "qemustatusdata"))
    used = {n for n in names if n.endswith(".xml")}
    used.update([n[:-4] + ".err" for n in used])
    return used


def rule_abi():
    """base.xml is the source; every other NAME.xml a target with its NAME.out
    (domainabitest)."""
    names = os.listdir(os.path.join(TESTS, "domainabidata"))
    used = {"base.xml"}
    for n in names:
        if n.endswith(".xml") and n != "base.xml":
            used.update({n, n[:-4] + ".out"})
    return used


def rule_caps():
    d = os.path.join(TESTS, "qemucapabilitiesdata")
    names = os.listdir(d)
    used = set()
    recordings = ""
    for n in names:
        if n.endswith(".replies"):
            used.update({n, n[:-len(".replies")] + ".xml"})
            with open(os.path.join(d, n), errors="replace") as f:
                recordings += f.read(4096)
    for n in names:
        if n.endswith(".py") and n in recordings:
            used.add(n)
    return used


def read_all(top, suffixes):
    text = []
    for root, dirs, files in os.walk(top):
        dirs[:] = [x for x in dirs if x != "__pycache__"]
        for n in files:
            if n.endswith(suffixes):
                with open(os.path.join(root, n), errors="replace") as f:
                    text.append(f.read())
    return "\n".join(text)


def rule_hostdata():
    d = os.path.join(TESTS, "hostdata")
    src = read_all(os.path.join(SRC, "src"), (".c", ".h"))
    # test sources and every test input (case lists, XML, descriptors)
    tests = read_all(TESTS, (".c", ".py", ".sh", ".xml", ".json", "cases"))
    used = set()
    for host in os.listdir(d):
        if f" {host}" not in tests and f'"{host}"' not in tests:
            continue
        for rel in files_under(os.path.join(d, host)):
            # the host readers open it (qemu_host.c: "proc/cpuinfo"), read its
            # folder (qemu_firmware.c: "/usr/share/qemu/firmware"), or a test
            # input or firmware descriptor names it ("/usr/share/AAVMF/...")
            # or the reader walks a folder above it (qemu_driver_node*.c:
            # "sys/devices", followed from sys/bus/pci/devices' links)
            parts = rel.split("/")
            above = ["/".join(parts[:i]) for i in range(1, len(parts))]
            if (f'"{rel}"' in src or f'"/{os.path.dirname(rel)}"' in src
                    or f"/{rel}" in tests
                    or any(f'"{a}"' in src or f'"{a}/"' in src for a in above)):
                used.add(os.path.join(host, rel))
    return used


def rule_hostcaps():
    """NAME.txt is the report of the fixture host NAME (driverhosttest's
    hosts[])."""
    with open(os.path.join(TESTS, "daemon", "driverhosttest.c")) as f:
        text = f.read()
    m = re.search(r"hosts\[\] = \{([^}]*)\}", text)
    hosts = re.findall(r'"([^"]+)"', m.group(1)) if m else []
    return {h + ".txt" for h in hosts}


RULES = {
    "qemuxml2argvdata": rule_argv,
    "qemuxml2xmloutdata": rule_xml2xml,
    "domaincapsdata": rule_domaincaps,
    "domainconfdata": lambda: rule_conf("domainconfdata"),
    "storageconfdata": lambda: rule_conf("storageconfdata"),
    "networkconfdata": lambda: rule_conf("networkconfdata"),
    "qemucapabilitiesdata": rule_caps,
    "qemumonitordata": rule_monitor,
    "qemustatusdata": rule_status,
    "domainabidata": rule_abi,
    "hostdata": rule_hostdata,
    "hostcapsdata": rule_hostcaps,
}


def main():
    dirs = sorted(n for n in os.listdir(TESTS)
                  if n.endswith("data") and os.path.isdir(os.path.join(TESTS, n)))
    print(f"1..{len(dirs)}")
    failed = 0
    for i, d in enumerate(dirs, 1):
        if d not in RULES:
            print(f"not ok {i} - {d}: no rule in tests/check-test-data.py says which files are used")
            failed += 1
            continue
        r = RULES[d]()
        used, problems = r if isinstance(r, tuple) else (r, [])
        present = files_under(os.path.join(TESTS, d))
        unused = [f for f in present if f not in used]
        if unused or problems:
            print(f"not ok {i} - {d}: {len(unused)} files no test uses")
            for f in unused:
                print(f"# unused: tests/{d}/{f}")
            for p in problems:
                print(f"# {p}")
            failed += 1
        else:
            print(f"ok {i} - {d}: all {len(present)} files used")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
