#!/usr/bin/env python3
"""Derive caps_hypothetical-mte-version_*.replies from a real QEMU 10.0
recording by adding the proposed interface that no QEMU has: an
'mte-version' property on the virt machine type and a
'query-mte-capabilities' command (reply shape designed by tagvirt).

    tests/qemucapabilitiesdata/derive-hypothetical.py caps_10.0.13_*.replies
"""
import json
import re
import sys

src = sys.argv[1]
version = re.match(r"caps_([0-9.]+)_", src.split("/")[-1]).group(1)
dst = src.rsplit("/", 1)[0] + "/" if "/" in src else ""
dst += "caps_hypothetical-mte-version_%s_aarch64.replies" % version

header, sections, cur = [], [], None
for line in open(src).read().split("\n"):
    if line.startswith("#") and cur is None:
        header.append(line)
    elif line.startswith("@"):
        cur = [line[1:], []]
        sections.append(cur)
    elif cur is not None:
        cur[1].append(line)

out = [header[0],
       "# HYPOTHETICAL: no QEMU release has this interface.  Derived from the QEMU",
       "# %s recording beside it by derive-hypothetical.py: the virt machine type" % version,
       "# gets an 'mte-version' property and QMP gets 'query-mte-capabilities' (reply",
       "# shape designed by tagvirt: [{\"accelerator\": \"tcg\", \"versions\": [2, 3]}]),",
       "# as proposed upstream, so tagvirt's mte-version route is tested.",
       "# The interface validates the CPU model: mte-version=N needs a model that",
       "# has MTE at level N or above (the boots below say which: cortex-a57 none,",
       "# cortex-a710 and neoverse-n2 2, max 3); it lowers a model's level, never",
       "# raises it, so cortex-a57 with mte-version=3 is refused.",
       "# See docs/capabilities.rst."] + header[1:]
prev = None
for kind, body in sections:
    text = "\n".join(body).strip()
    if kind not in ("greeting", "command", "reply"):
        out += ["@" + kind, text]
        continue
    obj = json.loads(text)
    if kind == "command":
        prev = obj
        if obj.get("execute") == "quit":
            out += ["@command", json.dumps({"execute": "query-mte-capabilities"}, indent=2),
                    "@reply", json.dumps({"return": [{"accelerator": "tcg", "versions": [2, 3]}]},
                                         indent=2)]
    elif kind == "reply" and prev.get("execute") == "qom-list-properties" and \
            prev["arguments"]["typename"].startswith("virt-"):
        obj["return"].append({"name": "mte-version", "type": "string",
                              "description": "MTE level the guest sees: none, 2, 3, max or host"})
    elif kind == "reply" and prev.get("execute") == "query-commands":
        obj["return"].append({"name": "query-mte-capabilities"})
    out += ["@" + kind, json.dumps(obj, indent=2, ensure_ascii=False)]
open(dst, "w").write("\n".join(out) + "\n")
print(dst)
