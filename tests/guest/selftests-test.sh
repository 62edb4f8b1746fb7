#!/bin/bash
# TAP: the Linux kernel's own arm64 MTE selftests (tools/testing/selftests/arm64/mte
# of Debian's linux-source, built statically: build-initramfs.sh --selftests) in a
# Debian arm64 guest started through `tagvirt run`, for each MTE level on each QEMU
# that offers it.  Every selftest must pass (rc 0) or skip (rc 4), except the ones
# the guest kernel cannot run, listed in unsupported() below.  Where a level is not
# offered (QEMU 7.2, broken tag storage) the guest is started anyway with
# --allow-broken-tag-storage, and the selftests must show the defect.
#   QEMU 10.0: cortex-a710 level 2, max level 3             (bookworm's 6.1 kernel)
#   QEMU 11.1: neoverse-n2 level 2                          (6.1)
#   QEMU 11.1: max level 4 with sid's kernel (>= 6.16; a 6.1 kernel sees no FEAT_MTE4
#              part), whose AT_HWCAP3 shows mtefar and mtestoreonly, so the
#              selftests use FEAT_MTE4's parts
#   QEMU 7.2:  max level 3 (allowed explicitly): selftests fail
# Usage: selftests-test.sh TAGVIRT CAPS_CACHE_DIR
set -uo pipefail

tagvirt=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../qemus.sh"
work=$(mktemp -d /tmp/tvselftests-XXXXXX)
trap 'rm -rf "$work"' EXIT
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    shift; for f in "$@"; do [ -f "$f" ] && tail -40 "$f" | sed 's/^/# /'; done
}

echo "1..6"
kit=$("$here/fetch.sh" --print-paths 2>"$work/kit.err") &&
    st=$("$here/fetch-selftests.sh" --print-paths 2>>"$work/kit.err") &&
    ird=$("$here/build-initramfs.sh" --print-path --selftests 2>>"$work/kit.err") || {
    echo "Bail out! the selftests kit could not be fetched/built: $(tail -1 "$work/kit.err")"
    exit 1
}
kernel61=$(sed -n 's/^KERNEL=//p' <<<"$kit")
kernel_new=$(sed -n 's/^KERNEL=//p' <<<"$st")
initrd=$(sed -n 's/^INITRAMFS=//p' <<<"$ird")
echo "# selftests and new kernel: $(tr '\n' ' ' <"$(sed -n 's/^VERSIONS=//p' <<<"$st")")"
for q in "$QEMU_72" "$QEMU_100" "$QEMU_111"; do
    qemu_runs "$q" || { echo "Bail out! $q does not run: run scripts/test-qemus.sh"; exit 1; }
done

# unsupported KERNEL-TAG: selftests that guest kernel cannot run (listed, not run as failures)
unsupported() {
    case $1 in
    6.1) echo "check_hugetlb_options" ;; # PROT_MTE on hugetlb mappings: Linux 6.13
    *) echo "" ;;
    esac
}

# domain NAME KERNEL FEATURES CPU EMULATOR
domain() {
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>768</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>$2</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyAMA0 panic=-1 quiet</cmdline>
  </os>
  <features>$3</features>
  $4
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>$5</emulator>
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
EOF
}

# run NAME KTAG KERNEL FEATURES CPU EMULATOR [tagvirt options]: boots, console in NAME.out
run() {
    local name=$1
    domain "$name" "$3" "$4" "$5" "$6" >"$work/$name.xml"
    shift 6
    timeout 1500 "$tagvirt" run "$@" --state-dir "$work/run" --log-dir "$work/log" \
        --cache-dir "$cache" --live-xml "$work/$name.live.xml" "$work/$name.xml" \
        >"$work/$name.out" 2>"$work/$name.err"
}

# results NAME: "check_x=rc ..." from the console
results() {
    tr -d '\r' <"$work/$1.out" | sed -n 's/^SELFTEST \(check_[a-z0-9_]*\) rc=\([0-9]*\)$/\1=\2/p'
}

# pass_case DESC NAME KTAG KERNEL FEATURES CPU EMULATOR LIVE [HWCAP3 words]
pass_case() {
    local desc=$1 name=$2 ktag=$3 live=$8 words=${9:-}
    local t0=$SECONDS why="" passed=0 skipped=0 listed="" bad=""
    run "$name" "$3" "$4" "$5" "$6" "$7"
    local rc=$?
    [ $rc -eq 0 ] || why="tagvirt run exited $rc"
    grep -qF "$live" "$work/$name.live.xml" 2>/dev/null || why="${why:+$why; }live XML lacks $live"
    grep -q "^SELFTEST done" "$work/$name.out" || why="${why:+$why; }the selftests did not finish"
    local feats
    feats=",$(tr -d '\r' <"$work/$name.out" | sed -n 's/^MTETEST features=//p' | head -n1),"
    for w in $words; do
        [[ $feats == *",$w,"* ]] || why="${why:+$why; }'$w' missing from the guest's Features"
    done
    local un
    un=" $(unsupported "$ktag") "
    for r in $(results "$name"); do
        local t=${r%=*} v=${r#*=}
        if [[ $un == *" $t "* ]]; then
            listed="$listed $t(rc=$v)"
        elif [ "$v" = 0 ]; then
            passed=$((passed + 1))
        elif [ "$v" = 4 ]; then
            skipped=$((skipped + 1))
        else
            bad="$bad $t(rc=$v)"
        fi
    done
    [ -z "$bad" ] || why="${why:+$why; }failed:$bad"
    [ $passed -gt 0 ] || why="${why:+$why; }no selftest passed"
    local summary="$passed passed, $skipped skipped${listed:+, unsupported by the $ktag kernel:$listed}"
    if [ -z "$why" ]; then
        ok "$desc: $summary ($((SECONDS - t0)) s)"
    else
        not_ok "$desc: $why ($summary)" "$work/$name.err" "$work/$name.out"
    fi
}

pass_case "QEMU 10.0 cortex-a710 level 2, Linux 6.1" s100-v2 6.1 "$kernel61" \
    "<mte version='2'/>" "<cpu mode='custom'><model>cortex-a710</model></cpu>" "$QEMU_100" "<mte version='2'/>"
pass_case "QEMU 10.0 max level 3, Linux 6.1" s100-v3 6.1 "$kernel61" \
    "<mte version='3'/>" "<cpu mode='maximum'/>" "$QEMU_100" "<mte version='3'/>"
pass_case "QEMU 11.1 neoverse-n2 level 2, Linux 6.1" s111-v2 6.1 "$kernel61" \
    "<mte version='2'/>" "<cpu mode='custom'><model>neoverse-n2</model></cpu>" "$QEMU_111" "<mte version='2'/>"
pass_case "QEMU 11.1 max level 4, sid's kernel (mtefar, mtestoreonly in AT_HWCAP3)" s111-v4new new "$kernel_new" \
    "<mte version='4'/>" "<cpu mode='maximum'/>" "$QEMU_111" "<mte version='4'/>" "mte mte3 mtefar mtestoreonly"

# QEMU 7.2: not offered; allowed explicitly it starts with a warning, and the
# kernel's own selftests show the broken tag storage
t0=$SECONDS
run s72-v3 6.1 "$kernel61" "<mte version='3'/>" "<cpu mode='maximum'/>" "$QEMU_72" --allow-broken-tag-storage
rc=$?
fails=""
for r in $(results s72-v3); do
    [ "${r#*=}" = 0 ] || [ "${r#*=}" = 4 ] || fails="$fails ${r%=*}(rc=${r#*=})"
done
if [ $rc -eq 0 ] && grep -q "tag storage is broken" "$work/s72-v3.err" && [ -n "$fails" ]; then
    ok "QEMU 7.2 max level 3 (--allow-broken-tag-storage): warned, and the selftests fail:$fails ($((SECONDS - t0)) s)"
else
    not_ok "QEMU 7.2 max level 3 (--allow-broken-tag-storage): rc=$rc, failures:${fails:- none}" \
        "$work/s72-v3.err" "$work/s72-v3.out"
fi
# ... and without the setting it is refused, naming the defect and the fix
domain s72-refused "$kernel61" "<mte version='3'/>" "<cpu mode='maximum'/>" "$QEMU_72" >"$work/s72-refused.xml"
if ! "$tagvirt" validate --cache-dir "$cache" "$work/s72-refused.xml" >"$work/s72-refused.out" 2>&1 &&
    grep -q "QEMU gitlab issue 1416" "$work/s72-refused.out" &&
    grep -q "fixed in QEMU 8.0" "$work/s72-refused.out"; then
    ok "QEMU 7.2 max level 3 without the setting: refused at validate ($(head -c 120 "$work/s72-refused.out")...)"
else
    not_ok "QEMU 7.2 max level 3 without the setting: not refused as expected" "$work/s72-refused.out"
fi
echo "# $((n - failed)) of $n passed"
exit $((failed > 0))
