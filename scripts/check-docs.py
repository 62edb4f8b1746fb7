#!/usr/bin/python3
"""Every reStructuredText page under docs/ parses without a docutils warning
(a malformed table or a short title line renders as an error box, or not at
all).  One TAP line per page.  Needs Debian's python3-docutils
(scripts/install-deps.sh); a missing docutils fails, it is not skipped."""
import glob
import io
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    from docutils.core import publish_doctree
    from docutils.utils import SystemMessage
except ImportError:
    print("not ok 1 - python3-docutils is installed (scripts/install-deps.sh)")
    print("1..1")
    sys.exit(1)

pages = sorted(glob.glob(os.path.join(ROOT, "docs", "**", "*.rst"), recursive=True))
failed = 0
for n, page in enumerate(pages, 1):
    name = os.path.relpath(page, ROOT)
    errors = io.StringIO()
    with open(page, encoding="utf-8") as f:
        text = f.read()
    try:
        publish_doctree(text, source_path=name,
                        settings_overrides={"halt_level": 2, "report_level": 2,
                                            "warning_stream": errors})
        ok = True
    except SystemMessage as e:
        ok = False
        errors.write(str(e))
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not ok:
        failed += 1
        for line in errors.getvalue().splitlines():
            print("# " + line)
print("1..%d" % len(pages))
sys.exit(1 if failed or not pages else 0)
