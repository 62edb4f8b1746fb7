#!/bin/bash
# TAP test: a Debian arm64 Linux guest under QEMU (TCG) sees exactly the MTE the machine
# was given, and a tag mismatch really faults.
#   virt,mte=on  -cpu max   -> cpuinfo 'mte mte3', SEGV_MTESERR, level 3
#   virt,mte=off -cpu max   -> neither word, no tag access tried, level 0
#   QEMU 10.0, virt,mte=on -cpu cortex-a710 -> 'mte' without 'mte3', SEGV_MTESERR, level 2
# QEMU 7.2 and 10.0 are the ones scripts/test-qemus.sh fetches (tests/qemus.sh),
# unless TAGVIRT_GUEST_QEMU / TAGVIRT_GUEST_QEMU_NEWER name others.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/../qemus.sh"
# QEMU 7.2 and 10.0 from scripts/test-qemus.sh, unless named
qemu=${TAGVIRT_GUEST_QEMU:-$QEMU_72}
newer=${TAGVIRT_GUEST_QEMU_NEWER:-$QEMU_100}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/tagvirt-guest-test.XXXXXX")
trap 'rm -rf "$logdir"' EXIT
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $*"
}
not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $*"
}
diag() { sed 's/^/# /'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

echo "1..5"

t=$(now_ms)
if paths=$("$here/fetch.sh" --print-paths 2>"$logdir/fetch.err"); then
    kernel=$(sed -n 's/^KERNEL=//p' <<<"$paths")
    ok "fetch kernel and busybox ($(($(now_ms) - t)) ms)"
else
    not_ok "fetch kernel and busybox"
    diag <"$logdir/fetch.err"
    echo "Bail out! no guest kernel"
    exit 1
fi

t=$(now_ms)
if paths=$("$here/build-initramfs.sh" --print-path 2>"$logdir/build.err"); then
    initrd=$(sed -n 's/^INITRAMFS=//p' <<<"$paths")
    ok "build initramfs ($(($(now_ms) - t)) ms)"
else
    not_ok "build initramfs"
    diag <"$logdir/build.err"
    echo "Bail out! no initramfs"
    exit 1
fi

# boot NAME QEMU EXPECT_LEVEL WORDS_PRESENT WORDS_ABSENT FAULT -- QEMU-ARGS...
boot() {
    local name=$1 q=$2 level=$3 present=$4 absent=$5 fault=$6
    shift 7
    local log="$logdir/$name.log" err="$logdir/$name.err" t rc problems="" w features
    t=$(now_ms)
    "$here/boot.sh" --quiet --qemu "$q" --kernel "$kernel" --initrd "$initrd" \
        --timeout 240 --log "$log" --expect-level "$level" -- "$@" 2>"$err"
    rc=$?
    local ms=$(($(now_ms) - t))
    [ -f "$log" ] || : >"$log"
    features=",$(tr -d '\r' <"$log" | sed -n 's/^MTETEST features=//p' | head -n1),"
    [ "$features" != ",," ] || problems+=" no features line;"
    for w in $present; do
        [[ "$features" == *",$w,"* ]] || problems+=" '$w' missing from Features;"
    done
    for w in $absent; do
        [[ "$features" != *",$w,"* ]] || problems+=" '$w' in Features;"
    done
    tr -d '\r' <"$log" | grep -qx "MTETEST fault=$fault" || problems+=" no 'fault=$fault';"
    if [ "$fault" = skipped ] && grep -q '^MTETEST \(tag\|wrong_tag\)=' "$log"; then
        problems+=" a tag access was tried;"
    fi
    [ "$rc" = 0 ] || problems+=" boot.sh exit $rc;"
    if [ -z "$problems" ]; then
        ok "$name: level $level ($ms ms)"
    else
        not_ok "$name:$problems ($ms ms)"
        { cat "$err"; tr -d '\r' <"$log" | tail -n 30; } | diag
    fi
}

boot "qemu-7.2 max mte=on" "$qemu" 3 "mte mte3" "" SEGV_MTESERR \
    -- -machine virt,mte=on -cpu max
boot "qemu-7.2 max mte=off" "$qemu" 0 "" "mte mte3" skipped \
    -- -machine virt,mte=off -cpu max
if qemu_runs "$newer"; then
    boot "qemu-10.0 cortex-a710 mte=on" "$newer" 2 "mte" "mte3" SEGV_MTESERR \
        -- -machine virt,mte=on -cpu cortex-a710
else
    not_ok "QEMU 10.0 ($newer) does not run: run scripts/test-qemus.sh"
fi
exit $failed
