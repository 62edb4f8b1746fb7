#!/bin/sh
# TAP, one check: every tracked C file is as clang-format with the checked-in
# .clang-format leaves it (fix: git ls-files '*.c' '*.h' | xargs clang-format -i).
# One clang-format process for all files (one per file took a minute on a
# busy machine).  A missing clang-format or git is a failure, not a skip.
cd "$(dirname "$0")/.." || exit 1
echo "1..1"
if ! command -v clang-format >/dev/null; then
    echo "not ok 1 clang-format is not installed (Debian package clang-format)"
    exit 1
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
    echo "not ok 1 not a git checkout: the tracked files cannot be listed"
    exit 1
fi
out=$(git ls-files -z '*.c' '*.h' | xargs -0 clang-format --dry-run -Werror 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then
    echo "ok 1 every C file is clang-formatted"
    exit 0
fi
# "FILE:LINE:COL: error: code should be clang-formatted" per difference
bad=$(printf '%s\n' "$out" | sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u | tr '\n' ' ')
echo "not ok 1 not clang-formatted: ${bad:-(clang-format failed)}"
printf '%s\n' "$out" | head -40 | sed 's/^/# /'
exit 1
