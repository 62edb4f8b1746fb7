#!/bin/sh
# The QEMUs the test suite runs besides the system one, each fetched with
# scripts/fetch-qemu.sh into ${TAGVIRT_QEMU_CACHE:-~/.cache/tagvirt}/qemu-SUITE:
#   bookworm  QEMU 7.2  (its tag storage is broken: QEMU gitlab issue 1416)
#   trixie    QEMU 10.0
#   sid       QEMU 11.1 (max gives MTE level 4)
# A QEMU already there and running is kept (its exact package version is in
# qemu-SUITE/version).  Exits 1 when one cannot be had: the tests that need it
# then fail; they never skip.
#   scripts/test-qemus.sh            fetch what is missing
#   scripts/test-qemus.sh --print    also print SUITE=PATH lines
set -u
cd "$(dirname "$0")/.."
CACHE=${TAGVIRT_QEMU_CACHE:-$HOME/.cache/tagvirt}
rc=0
for suite in bookworm trixie sid; do
    dest=$CACHE/qemu-$suite
    bin=$dest/bin/qemu-system-aarch64
    if ! "$bin" --version >/dev/null 2>&1; then
        if ! ./scripts/fetch-qemu.sh "$suite" "$dest" >&2; then
            echo "test-qemus: cannot fetch QEMU from Debian $suite (scripts/fetch-qemu.sh $suite $dest)" >&2
            rc=1
            continue
        fi
    fi
    [ "${1:-}" = --print ] && echo "$suite=$bin"
done
exit $rc
