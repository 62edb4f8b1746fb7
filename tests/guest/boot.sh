#!/bin/bash
# Boot the MTE test guest (Debian arm64 kernel + our initramfs) and report mtetest's result.
#
# Usage:
#   tests/guest/boot.sh --print-paths
#       fetch/build as needed, print KERNEL=<path> and INITRAMFS=<path> (value = rest of line)
#   tests/guest/boot.sh [options] [-- QEMU-ARGS...]
#       boot with QEMU-ARGS (default: -machine virt,mte=on -cpu max) plus
#       -kernel -initrd -append '...' -m 512 -nographic -no-reboot -nic none
# Options:
#   --qemu PATH          QEMU binary (default: qemu-system-aarch64); may be a command with
#                        arguments, e.g. a loader line, when quoted as one word with spaces
#   --timeout SEC        kill QEMU after SEC seconds (default 300)
#   --log FILE           also keep the console output in FILE
#   --expect-level N     exit 1 unless mtetest reports level=N (3, 2 or 0)
#   --kernel P --initrd P  boot these instead of the cached ones
#   --quiet              do not copy the console to stdout
# Exit: 0 result=PASS (and the expected level), 1 result=FAIL or another level,
#       2 bad usage, 3 no result (QEMU refused to start, timed out, or the guest died).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
qemu=qemu-system-aarch64
timeout_s=300
log=
expect_level=
kernel=
initrd=
quiet=0
print_paths=0

usage() {
    echo "boot.sh: $*" >&2
    echo "usage: boot.sh --print-paths | [--qemu PATH] [--timeout SEC] [--log FILE]" \
        "[--expect-level N] [--kernel P --initrd P] [--quiet] [-- QEMU-ARGS...]" >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --print-paths) print_paths=1 ;;
    --qemu | --timeout | --log | --expect-level | --kernel | --initrd)
        [ $# -ge 2 ] || usage "$1 needs a value"
        case "$1" in
        --qemu) qemu=$2 ;;
        --timeout) timeout_s=$2 ;;
        --log) log=$2 ;;
        --expect-level) expect_level=$2 ;;
        --kernel) kernel=$2 ;;
        --initrd) initrd=$2 ;;
        esac
        shift
        ;;
    --quiet) quiet=1 ;;
    --)
        shift
        break
        ;;
    -h | --help)
        sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) usage "unknown argument '$1'" ;;
    esac
    shift
done

[[ "$timeout_s" =~ ^[0-9]+$ ]] || usage "--timeout wants whole seconds, not '$timeout_s'"
case "$expect_level" in
"" | 0 | 2 | 3) ;;
*) usage "--expect-level wants 0, 2 or 3, not '$expect_level'" ;;
esac

if [ -z "$kernel" ]; then
    kernel=$("$here/fetch.sh" --print-paths | sed -n 's/^KERNEL=//p')
fi
if [ -z "$initrd" ]; then
    initrd=$("$here/build-initramfs.sh" --print-path | sed -n 's/^INITRAMFS=//p')
fi
[ -f "$kernel" ] || usage "no kernel at '$kernel'"
[ -f "$initrd" ] || usage "no initramfs at '$initrd'"

if [ "$print_paths" = 1 ]; then
    echo "KERNEL=$kernel"
    echo "INITRAMFS=$initrd"
    exit 0
fi

if [ $# -eq 0 ]; then
    set -- -machine virt,mte=on -cpu max
fi

read -r -a qemu_cmd <<<"$qemu"
out=$(mktemp "${TMPDIR:-/tmp}/tagvirt-guest.XXXXXX")
trap 'rm -f "$out"' EXIT

t0=$(date +%s%N)
set +e
# QEMU's stdin is /dev/null so it never waits on a terminal; --kill-after covers a stuck exit.
timeout --kill-after=5 "$timeout_s" "${qemu_cmd[@]}" \
    -kernel "$kernel" -initrd "$initrd" \
    -append 'console=ttyAMA0 panic=-1 quiet' \
    -m 512 -nographic -no-reboot -nic none "$@" </dev/null >"$out" 2>&1 &
qpid=$!
if [ "$quiet" = 0 ]; then
    tail -s 0.2 -n +1 -f --pid="$qpid" "$out" &
    tpid=$!
fi
wait "$qpid"
qrc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$quiet" = 0 ]; then
    wait "$tpid"
fi
set -e

if [ -n "$log" ]; then
    cp "$out" "$log"
fi

result=$(tr -d '\r' <"$out" | sed -n 's/^MTETEST result=\([A-Z]*\) level=\([0-9]*\).*/\1 \2/p' |
    tail -n1)
if [ -z "$result" ]; then
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        echo "boot.sh: no result: QEMU timed out after ${timeout_s} s" >&2
    else
        echo "boot.sh: no result: QEMU exited with status $qrc after $ms ms" >&2
        if [ "$quiet" = 1 ]; then
            tail -n 5 "$out" >&2
        fi
    fi
    exit 3
fi
read -r verdict level <<<"$result"
echo "boot.sh: result=$verdict level=$level in $ms ms (QEMU status $qrc)" >&2
if [ "$verdict" != PASS ]; then
    exit 1
fi
if [ -n "$expect_level" ] && [ "$level" != "$expect_level" ]; then
    echo "boot.sh: expected level=$expect_level, the guest reports level=$level" >&2
    exit 1
fi
exit 0
