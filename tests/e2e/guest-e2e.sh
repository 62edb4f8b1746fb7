#!/bin/bash
# TAP: the Linux guest kit (tests/guest/) started through the runtime with
# `tagvirt run` on tagvirt XML, with QEMU 7.2, 10.0 and 11.1 (tests/qemus.sh):
#   QEMU 7.2:  version 3 and max refused (broken tag storage); with
#              --allow-broken-tag-storage version 3 -> `mte mte3` + SEGV_MTESERR and a
#              warning; no <mte> -> neither (live XML: MTE 0); version 2 refused
#   QEMU 10.0: cortex-a710 version 2 / max -> `mte` without `mte3`; max version
#              3; state='off' -> live XML says MTE 1; max version 2 refused
#   QEMU 11.1: max version 4 (live XML 4); no <mte> -> MTE 1 with the MTE4
#              fields; max version 3 refused; cortex-a78ae refused; n2 version 2
# A QEMU that does not run is a failure (Bail out), never a skip.
# Usage: guest-e2e.sh TAGVIRT CAPS_CACHE_DIR
set -uo pipefail

tagvirt=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
work=$(mktemp -d /tmp/tvguest-XXXXXX)
trap 'rm -rf "$work"' EXIT

. "$here/../qemus.sh"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
    shift; for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f" | tail -40; done
}

echo "1..16"
if ! paths=$("$src/tests/guest/boot.sh" --print-paths 2> "$work/kit.err"); then
    echo "Bail out! the Linux guest kit could not be fetched/built: $(tail -1 "$work/kit.err")"
    exit 1
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

# run NAME: tagvirt run NAME.xml ($run_opts too); console in NAME.out, messages in NAME.err
run_opts=""
run() {
    # shellcheck disable=SC2086
    timeout 300 "$tagvirt" run $run_opts --state-dir "$work/run" --log-dir "$work/log" \
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

a78ae="<cpu mode='custom'><model>cortex-a78ae</model></cpu>"
off111="<abi mte='1' mte_frac='0' mtex='1' mtefar='1' mtestoreonly='1' mteperm='1'/>"

for q in "$QEMU_72" "$QEMU_100" "$QEMU_111"; do
    qemu_runs "$q" || { echo "Bail out! $q does not run: run scripts/test-qemus.sh"; exit 1; }
done

# QEMU 7.2 (Debian bookworm's, fetched): max gives 3, off 0, but its tag storage
# is broken: MTE is refused unless allowed explicitly
refused_case "QEMU 7.2 version 3: refused (broken tag storage, QEMU gitlab issue 1416), no QEMU started" \
    g72-v3 "<mte version='3'/>" "$max" "$QEMU_72" "its tag storage is broken"
refused_case "QEMU 7.2 version max: refused the same way" g72-max "<mte version='max'/>" "$max" "$QEMU_72" \
    "fixed in QEMU 8.0"
run_opts=--allow-broken-tag-storage
guest_case "QEMU 7.2 version 3 with --allow-broken-tag-storage: mte mte3 and SEGV_MTESERR" \
    g72-v3-allowed "<mte version='3'/>" "$max" "$QEMU_72" 3 "<mte version='3'/>"
if grep -q "tag storage is broken" "$work/g72-v3-allowed.err" &&
    grep -q "tagvirt: warning: .*tag storage is broken" "$work/log/g72-v3-allowed.log"; then
    ok "QEMU 7.2 allowed: the start warned on stderr and in the domain's log"
else
    not_ok "QEMU 7.2 allowed: no warning on stderr or in the domain's log" "$work/g72-v3-allowed.err"
fi
run_opts=""
guest_case "QEMU 7.2 no <mte>: neither mte nor mte3, live XML says MTE 0" g72-none "" "$max" "$QEMU_72" 0 "<abi mte='0' mte_frac='0' mtex='0'"
refused_case "QEMU 7.2 version 2: refused, no QEMU started" g72-v2 "<mte version='2'/>" "$max" "$QEMU_72" \
    "MTE version 2 is not available"

# QEMU 10.0 (trixie): cortex-a710 gives 2, max 3, off 1 (instructions only)
guest_case "QEMU 10.0 cortex-a710 version 2: mte without mte3" g100-v2 "<mte version='2'/>" "$a710" "$QEMU_100" 2 "<mte version='2'/>"
guest_case "QEMU 10.0 cortex-a710 version max: live XML shows 2" g100-max "<mte version='max'/>" "$a710" "$QEMU_100" 2 "<mte version='2'/>"
guest_case "QEMU 10.0 max version 3: mte mte3" g100-v3 "<mte version='3'/>" "$max" "$QEMU_100" 3 "<mte version='3'/>"
guest_case "QEMU 10.0 max state=off: no mte, live XML says MTE 1" g100-off "<mte state='off'/>" "$max" "$QEMU_100" 0 "<abi mte='1' mte_frac='0' mtex='0'"
refused_case "QEMU 10.0 max version 2: refused, no QEMU started" g100-refused "<mte version='2'/>" "$max" "$QEMU_100" \
    "MTE version 2 is not available with CPU model 'max'"

# QEMU 11.1 (sid): max gives level 4 (the 6.1 guest kernel shows mte mte3), never 3;
# off keeps MTE 1 and the MTE4 fields; cortex-a78ae cannot run on virt
guest_case "QEMU 11.1 max version 4: mte mte3, live XML shows 4" g111-v4 "<mte version='4'/>" "$max" "$QEMU_111" 3 "<mte version='4'/>"
guest_case "QEMU 11.1 max no <mte>: no mte, live XML says MTE 1 with the MTE4 fields" g111-none "" "$max" "$QEMU_111" 0 "$off111"
refused_case "QEMU 11.1 max version 3: refused (max is level 4), no QEMU started" g111-v3 "<mte version='3'/>" "$max" "$QEMU_111" \
    "MTE version 3 is not available with CPU model 'max' (it provides level 4)"
refused_case "QEMU 11.1 cortex-a78ae: refused (QEMU cannot run it on virt), no QEMU started" g111-a78ae "" "$a78ae" "$QEMU_111" \
    "CPU model 'cortex-a78ae' cannot run on the virt machine"
guest_case "QEMU 11.1 neoverse-n2 version 2: mte without mte3" g111-v2 "<mte version='2'/>" "<cpu mode='custom'><model>neoverse-n2</model></cpu>" "$QEMU_111" 2 "<mte version='2'/>"
echo "# $((n - failed)) of $n passed"
[ $failed -eq 0 ]
