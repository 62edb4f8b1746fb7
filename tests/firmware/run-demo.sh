#!/bin/bash
# Boot the demo guest (firmware/demo) in the real QEMU and check what it
# prints: the MTE level, the tag-check faults really raised, the --loop
# watch. The deliberately broken builds must be reported as failures, which
# shows these checks can fail. TAP output.
#
# usage: run-demo.sh DEMO.elf DEMO-LOOP.elf DEMO-NOFAULT.elf DEMO-LOOP-CORRUPT.elf
# env:   TAGVIRT_QEMU  qemu-system-aarch64 to use (default: the one in PATH)
set -u

demo=$1 demo_loop=$2 demo_nofault=$3 demo_loop_corrupt=$4
qemu=${TAGVIRT_QEMU:-qemu-system-aarch64}
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "1..0 # SKIP $qemu not found"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $1"
    sed 's/^/# /' "$out"
}

# boot ELF QEMU-ARGS...: run to power-off (the demo's PSCI SYSTEM_OFF), output in $out
boot() {
    local elf=$1
    shift
    out=$work/out.$n
    local start=$(date +%s%N)
    timeout 60 "$qemu" -display none -nodefaults -no-user-config -serial stdio \
        "$@" -kernel "$elf" >"$out" 2>&1 </dev/null
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
}

# boot_until ELF PATTERN QEMU-ARGS...: run the never-ending loop build until
# PATTERN appears in its output (at most 60 s), then stop it
boot_until() {
    local elf=$1 pattern=$2
    shift 2
    out=$work/out.$n
    "$qemu" -display none -nodefaults -no-user-config -serial stdio \
        "$@" -kernel "$elf" >"$out" 2>&1 </dev/null &
    local pid=$! i
    for ((i = 0; i < 600; i++)); do
        grep -q -- "$pattern" "$out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

has() {
    grep -q -E -- "$1" "$out"
}

# the demo's ESR for a wrongly tagged read: EC 0x25 (data abort, same EL), DFSC 0x11, WnR 0
fault_esr_ok() {
    local esr
    esr=$(sed -n -E "s/^tagvirt-demo: ${1}tag check fault caught \(ESR=(0x[0-9a-f]+), FAR=0x[0-9a-f]+\)$/\1/p" "$out")
    [ -n "$esr" ] && (((esr >> 26 & 0x3f) == 0x25 && (esr & 0x3f) == 0x11 && (esr >> 6 & 1) == 0))
}

echo "1..8"

# 1: level 3 (max, mte=on): synchronous fault, asymmetric read fault and async write
boot "$demo" -M virt,mte=on -cpu max
if [ $rc -eq 0 ] && has '^tagvirt-demo: MTE level 3 \(PFR1=0x[0-9a-f]{16} PFR2=0x[0-9a-f]{16}\)$' &&
    has '^tagvirt-demo: correctly tagged access ok' && fault_esr_ok '' &&
    fault_esr_ok 'asymmetric mode: ' &&
    has '^tagvirt-demo: asymmetric mode: wrongly tagged write did not trap, TFSR_EL1=0x[0-9a-f]*[13579bdf] \(TF0=1\)$' &&
    ! has 'FAIL' && [ "$(tail -n 1 "$out")" = "tagvirt-demo: done level=3 result=PASS" ]; then
    ok "mte=on -cpu max: level 3, sync and asymmetric tag-check faults caught (${ms} ms)"
else
    not_ok "mte=on -cpu max: level 3 with both faults (rc=$rc)"
fi

# 2: max with mte=off: no tag storage (QEMU 7.2 shows MTE 0, 8.2 and later 1)
boot "$demo" -M virt,mte=off -cpu max
if [ $rc -eq 0 ] && has '^tagvirt-demo: MTE level [01] \(' &&
    has '^tagvirt-demo: tag storage absent \(MTE level [01]\): tag tests skipped$' &&
    ! has 'fault caught|FAIL' && tail -n 1 "$out" | grep -q -E '^tagvirt-demo: done level=[01] result=PASS$'; then
    ok "mte=off -cpu max: $(sed -n -E 's/^tagvirt-demo: (MTE level [0-9]).*/\1/p' "$out"), tag tests skipped (${ms} ms)"
else
    not_ok "mte=off -cpu max: no tag storage path (rc=$rc)"
fi

# 3: a CPU without MTE at all
boot "$demo" -M virt -cpu cortex-a57
if [ $rc -eq 0 ] && has '^tagvirt-demo: MTE level 0 \(PFR1=0x0000000000000000 ' &&
    has '^tagvirt-demo: tag storage absent' &&
    [ "$(tail -n 1 "$out")" = "tagvirt-demo: done level=0 result=PASS" ]; then
    ok "-cpu cortex-a57: level 0, tag tests skipped (${ms} ms)"
else
    not_ok "-cpu cortex-a57: level 0 (rc=$rc)"
fi

# 4: the build whose "wrong" pointer has the right tag: no fault, so it must FAIL
boot "$demo_nofault" -M virt,mte=on -cpu max
if [ $rc -eq 0 ] && has '^tagvirt-demo: FAIL: wrongly tagged read of 0x[0-9a-f]+ raised no tag check fault$' &&
    ! has 'fault caught' && [ "$(tail -n 1 "$out")" = "tagvirt-demo: done level=3 result=FAIL" ]; then
    ok "a missing tag-check fault is reported as result=FAIL"
else
    not_ok "a missing tag-check fault is reported as result=FAIL (rc=$rc)"
fi

# 5: the loop build keeps checking its tagged buffer
boot_until "$demo_loop" 'tags intact (check 2)' -M virt,mte=on -cpu max
if has '^tagvirt-demo: done level=3 result=PASS, looping$' && has '^tagvirt-demo: loop: watching 4096 granules' &&
    has '^tagvirt-demo: tags intact \(check 1\)$' && has '^tagvirt-demo: tags intact \(check 2\)$' && ! has 'FAIL'; then
    ok "loop build, mte=on: tags intact (check 1, 2)"
else
    not_ok "loop build, mte=on: tags intact (check 1, 2)"
fi

# 6: the loop build without tag storage only shows it is alive
boot_until "$demo_loop" 'check 1' -M virt,mte=off -cpu max
if has '^tagvirt-demo: alive \(check 1, no tag storage\)$' && ! has 'FAIL'; then
    ok "loop build, mte=off: heartbeat without tag storage"
else
    not_ok "loop build, mte=off: heartbeat without tag storage"
fi

# 7: the loop build that retags a page behind its own back must say so
boot_until "$demo_loop_corrupt" 'check 2' -M virt,mte=on -cpu max
if has '^tagvirt-demo: tags intact \(check 1\)$' &&
    has '^tagvirt-demo: FAIL: tags changed \(check 2\): [0-9]+ of 4096 granules'; then
    ok "loop build notices changed tags"
else
    not_ok "loop build notices changed tags"
fi

# 8: MTE level 2 (no asymmetric mode): QEMU 10.0's cortex-a710 (tests/qemus.sh)
. "$(dirname "$0")/../qemus.sh"
if qemu_runs "$QEMU_100"; then
    qemu1=$qemu
    qemu=$QEMU_100
    boot "$demo" -M virt,mte=on -cpu cortex-a710
    qemu=$qemu1
    if [ $rc -eq 0 ] && has '^tagvirt-demo: MTE level 2 \(' && fault_esr_ok '' &&
        has '^tagvirt-demo: asymmetric mode skipped \(needs MTE level 3\)$' && ! has 'FAIL' &&
        [ "$(tail -n 1 "$out")" = "tagvirt-demo: done level=2 result=PASS" ]; then
        ok "QEMU 10.0 mte=on -cpu cortex-a710: level 2, sync fault caught, asymmetric skipped (${ms} ms)"
    else
        not_ok "QEMU 10.0 mte=on -cpu cortex-a710: level 2 (rc=$rc)"
    fi
else
    out=/dev/null
    not_ok "QEMU 10.0 ($QEMU_100) does not run: run scripts/test-qemus.sh"
fi

exit $((failed > 0))
