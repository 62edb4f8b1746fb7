#!/usr/bin/env python3
"""TAP, one check: every C file of this build compiles without a warning
under clang too (clang -fsyntax-only with the build's own flags and -Werror).

CI builds with gcc and with clang; this check lets a gcc build see what only
clang warns about (an unused g_autoptr variable, for one) before it reaches
CI.  It reads the build's compile_commands.json and runs the commands with
clang in place of the compiler, two at a time.  A missing clang is a failure.
Usage: check-clang.py BUILD_DIR"""
import concurrent.futures
import json
import os
import shlex
import shutil
import subprocess
import sys

# options that only make sense for an object file or its dependency file
DROP_WITH_VALUE = {"-o", "-MQ", "-MF", "-MT"}
DROP = {"-MD", "-MMD", "-c", "-fdiagnostics-color=always"}


def clang_command(entry, clang):
    argv = entry["arguments"] if "arguments" in entry else shlex.split(entry["command"])
    out = [clang, "-fsyntax-only", "-Werror", "-fno-color-diagnostics"]
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a in DROP_WITH_VALUE:
            skip = True
            continue
        if a in DROP:
            continue
        out.append(a)
    return out


def check(entry, clang):
    cmd = clang_command(entry, clang)
    r = subprocess.run(cmd, cwd=entry["directory"], capture_output=True, text=True)
    return entry["file"], r.returncode, r.stderr


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
    print("1..1")
    clang = shutil.which("clang")
    if not clang:
        print("not ok 1 clang is not installed (Debian package clang)")
        return 1
    path = os.path.join(build, "compile_commands.json")
    try:
        with open(path) as f:
            entries = json.load(f)
    except (OSError, ValueError) as e:
        print(f"not ok 1 cannot read {path}: {e}")
        return 1
    # the compiler is clang already, or the entry is clang-only (libFuzzer)
    entries = [e for e in entries if "fsanitize=fuzzer" not in e.get("command", "")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda e: check(e, clang), entries))
    bad = [(f, err) for f, rc, err in results if rc != 0]
    if not bad:
        print(f"ok 1 {len(results)} C files compile without a warning under clang")
        return 0
    print(f"not ok 1 {len(bad)} of {len(results)} C files have clang warnings or errors")
    for f, err in bad:
        for line in err.strip().splitlines()[:20]:
            print(f"# {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
