#!/usr/bin/env python3
"""TAP, one check: no tracked file names a path of the machine it was written
on.  The project reaches the shared folder as ../shared from its root, and
tests use temporary directories: an absolute path such as this machine's
project folder works only where it was typed.
A missing git is a failure, not a skip."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# spelled in pieces so this file does not match itself
# (generic places such as /root/.cache or virt-install's /home/user/Downloads
# in a test input are no machine's own)
PATTERNS = [
    "/" + "work/",          # the project's folder on the development machine
    "/tmp/" + "bash_jobs",  # a job folder of the machine's shell
    "/tmp/" + "ci-clone",   # CI's clean clones
]
MACHINE_PATH = re.compile("|".join(re.escape(p) for p in PATTERNS))


def main():
    print("1..1")
    try:
        files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                               check=True).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"not ok 1 cannot list the tracked files with git: {e}")
        return 1
    hits = []
    for name in filter(None, files):
        path = os.path.join(ROOT, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            m = MACHINE_PATH.search(line)
            if m:
                hits.append(f"{name}:{n}: {line.strip()[:120]}")
    if not hits:
        print("ok 1 no tracked file names a path of this machine")
        return 0
    print(f"not ok 1 {len(hits)} lines name a machine path ({', '.join(PATTERNS)})")
    for h in hits:
        print(f"# {h}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
