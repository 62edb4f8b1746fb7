#!/bin/bash
# TAP: the Linux guest kit (tests/guest/) started through the runtime with
# `tagvirt run` on tagvirt XML, for every QEMU available:
#   QEMU 7.2:   version 3 -> `mte mte3` + SEGV_MTESERR; no <mte> -> neither;
#               version max -> live XML says 3; version 2 -> refused, no QEMU started
#   QEMU >= 8.2 (TAGVIRT_QEMU_NEWER, else ~/.cache/tagvirt/qemu-trixie from
#   scripts/fetch-qemu.sh): cortex-a710 version 2 -> `mte` without `mte3`;
#               cortex-a710 version max -> live XML says 2; max version 3 -> `mte mte3`
# Usage: guest-e2e.sh TAGVIRT CAPS_CACHE_DIR
set -uo pipefail

tagvirt=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tvguest-XXXXXX)
trap 'rm -rf "$work"' EXIT

newer=${TAGVIRT_QEMU_NEWER:-${TAGVIRT_QEMU_NEWER_DIR:-$HOME/.cache/tagvirt/qemu-trixie}/bin/qemu-system-aarch64}
# it must really run (an unpacked QEMU whose files are gone does not)
"$newer" --version > /dev/null 2>&1 || newer=

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    shift; for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f" | tail -40; done
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

echo "1..8"
if ! paths=$("$src/tests/guest/boot.sh" --print-paths 2> "$work/kit.err"); then
    for i in 1 2 3 4 5 6 7 8; do
        skip "the Linux guest kit could not be fetched/built: $(tail -1 "$work/kit.err")"
    done
    exit 0
fi
kernel=$(printf '%s\n' "$paths" | sed -n 's/^KERNEL=//p')
initrd=$(printf '%s\n' "$paths" | sed -n 's/^INITRAMFS=//p')

# domain_xml NAME FEATURES CPU [EMULATOR]
domain_xml() {
    local emu=""
    [ -n "${4:-}" ] && emu="<emulator>$4</emulator>"
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>$kernel</kernel>
    <initrd>$initrd</initrd>
    <cmdline>console=ttyAMA0 panic=-1 quiet</cmdline>
  </os>
  <features>$2</features>
  $3
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    $emu
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
EOF
}

# run NAME: tagvirt run NAME.xml; console in NAME.out, messages in NAME.err
run() {
    timeout 300 "$tagvirt" run --state-dir "$work/run" --log-dir "$work/log" \
        --cache-dir "$cache" --live-xml "$work/$1.live.xml" "$work/$1.xml" \
        > "$work/$1.out" 2> "$work/$1.err"
}

# guest_case DESC NAME FEATURES CPU EMULATOR LEVEL LIVE_MTE
#   LEVEL: 3 (mte mte3 + fault), 2 (mte only + fault), 0 (neither, no tag access)
#   LIVE_MTE: the <mte> element the live XML must hold, or "none"
guest_case() {
    local desc=$1 name=$2 level=$6 live=$7
    domain_xml "$name" "$3" "$4" "$5" > "$work/$name.xml"
    local t0=$(date +%s.%N)
    run "$name"
    local rc=$? secs
    secs=$(echo "$(date +%s.%N) - $t0" | bc)
    local out=$work/$name.out why=
    case $level in
    3) words="cpuinfo_mte=1 cpuinfo_mte3=1"; fault="fault=SEGV_MTESERR" ;;
    2) words="cpuinfo_mte=1 cpuinfo_mte3=0"; fault="fault=SEGV_MTESERR" ;;
    0) words="cpuinfo_mte=0 cpuinfo_mte3=0"; fault="fault=skipped" ;;
    esac
    [ $rc -eq 0 ] || why="tagvirt run exited $rc"
    grep -q "MTETEST $words" "$out" || why="${why:+$why; }console lacks '$words'"
    grep -q "MTETEST $fault" "$out" || why="${why:+$why; }console lacks '$fault'"
    grep -q "MTETEST result=PASS level=$level" "$out" || why="${why:+$why; }no PASS at level $level"
    if [ "$live" = none ]; then
        grep -q "<mte" "$work/$name.live.xml" && why="${why:+$why; }live XML has <mte>"
    else
        grep -qF "$live" "$work/$name.live.xml" || why="${why:+$why; }live XML lacks $live"
    fi
    [ -e "$work/run/$name.xml" ] && why="${why:+$why; }status file left behind"
    if [ -z "$why" ]; then
        echo "# $desc: $(grep -h 'MTETEST features=' "$out" | grep -o 'mte[a-z0-9]*' | tr '\n' ' ')in ${secs}s"
        ok "$desc"
    else
        not_ok "$desc: $why" "$work/$name.err" "$out"
    fi
}

# refused_case DESC NAME FEATURES CPU EMULATOR MESSAGE
refused_case() {
    local desc=$1 name=$2 why=
    domain_xml "$name" "$3" "$4" "$5" > "$work/$name.xml"
    run "$name"
    local rc=$?
    [ $rc -ne 0 ] || why="tagvirt run exited 0"
    grep -qF "$6" "$work/$name.err" || why="${why:+$why; }error lacks '$6'"
    # no QEMU was spawned, so it has no log and no status file
    [ -e "$work/log/$name.log" ] && why="${why:+$why; }a QEMU log exists"
    [ -e "$work/run/$name.xml" ] && why="${why:+$why; }a status file exists"
    if [ -z "$why" ]; then
        echo "# $desc: $(head -1 "$work/$name.err")"
        ok "$desc"
    else
        not_ok "$desc: $why" "$work/$name.err"
    fi
}

max="<cpu mode='maximum'/>"
a710="<cpu mode='custom'><model>cortex-a710</model></cpu>"

guest_case "QEMU 7.2 version 3: mte mte3 and SEGV_MTESERR" g72-v3 "<mte version='3'/>" "$max" "" 3 "<mte version='3'/>"
guest_case "QEMU 7.2 no <mte>: neither mte nor mte3, live XML says MTE 0" g72-none "" "$max" "" 0 "<abi mte='0' mte_frac='0' mtex='0'"
guest_case "QEMU 7.2 version max: live XML shows 3" g72-max "<mte version='max'/>" "$max" "" 3 "<mte version='3'/>"
refused_case "QEMU 7.2 version 2: refused, no QEMU started" g72-v2 "<mte version='2'/>" "$max" "" \
    "MTE version 2 is not available"

if [ -z "$newer" ]; then
    for d in "version 2 cortex-a710" "version max cortex-a710" "version 3 max" "version 2 refused"; do
        skip "newer QEMU $d: no QEMU >= 8.2 (set TAGVIRT_QEMU_NEWER, or run scripts/fetch-qemu.sh trixie ~/.cache/tagvirt/qemu-trixie)"
    done
else
    v=$("$newer" --version | head -1 | sed 's/^QEMU emulator version \([0-9.]*\).*/\1/')
    guest_case "QEMU $v cortex-a710 version 2: mte without mte3" gnew-v2 "<mte version='2'/>" "$a710" "$newer" 2 "<mte version='2'/>"
    guest_case "QEMU $v cortex-a710 version max: live XML shows 2" gnew-max "<mte version='max'/>" "$a710" "$newer" 2 "<mte version='2'/>"
    guest_case "QEMU $v max version 3: mte mte3" gnew-v3 "<mte version='3'/>" "$max" "$newer" 3 "<mte version='3'/>"
    refused_case "QEMU $v max version 2: refused, no QEMU started" gnew-refused "<mte version='2'/>" "$max" "$newer" \
        "MTE version 2 is not available with CPU model 'max'"
fi
echo "# $((n - failed)) of $n passed"
[ $failed -eq 0 ]
