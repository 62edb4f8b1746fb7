#!/bin/bash
# tagvirtd driven by Debian's virsh (libvirt-clients): define good and bad
# MTE XML, domcapabilities, capabilities, list, start (the demo guest runs
# and prints its MTE level), live and inactive XML, a daemon restart with the
# guest running (same QEMU, still listed), domjobinfo / domjobabort shut off
# and running and on the read-only socket, the host and tuning commands
# (nodecpumap, nodecpustats, nodememstats, cpu-models, cpu-baseline,
# nodedev-*, secret-list, vcpuinfo, vcpupin, vcpucount, setvcpus, setmem,
# setmaxmem, desc, metadata, reset), domxml-to-native, a call stuck on a stopped QEMU
# holding the domain's job (dominfo answers, resume fails with "cannot
# acquire state change lock"), destroy, undefine (its managed save and
# snapshot queries answered, not "unknown procedure").  TAP output.
#
# Usage: virsh-test.sh TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]
# Every wait is bounded; the EXIT trap kills the daemon and any QEMU whose
# command line names this test's root.
set -u
TAGVIRTD=${1:?usage: virsh-test.sh TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]}
KERNEL=${2:?usage: virsh-test.sh TAGVIRTD DEMO_LOOP_ELF [CAPS_CACHE_DIR]}
CACHE=${3:-}
TAGVIRTD=$(realpath "$TAGVIRTD"); KERNEL=$(realpath "$KERNEL") # meson passes paths relative to the build dir
command -v virsh >/dev/null || { echo "Bail out! virsh is not installed (Debian package libvirt-clients)"; exit 1; }

T=$(mktemp -d /tmp/tvvirsh-XXXXXX)
# QEMU runs as tagvirt-qemu: it must reach the files made here (the serial log)
chmod 0711 "$T"
URI="qemu+unix:///system?socket=$T/tagvirtd-sock"
URI_RO="qemu+unix:///system?socket=$T/tagvirtd-sock-ro"
V=(timeout 60 virsh -q -c "$URI")
DAEMON=
N=0
FAILED=0

cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
    local p
    for p in $(pgrep -f "qemu-system-aarch64.*$T" || true); do
        echo "# killing QEMU $p left by the test"
        kill -9 "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap cleanup EXIT

ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $1"; shift; local l; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
check() { # check "description" command...: ok when it succeeds
    local d=$1; shift
    local out; if out=$("$@" 2>&1); then ok "$d"; else not_ok "$d" "$out"; fi
}

start_daemon() {
    "$TAGVIRTD" --root "$T" >>"$T/daemon.log" 2>&1 &
    DAEMON=$!
    local i
    for i in $(seq 1 300); do # the first capabilities probe takes a few seconds
        [ -S "$T/tagvirtd-sock" ] && "${V[@]}" version >/dev/null 2>&1 && return 0
        kill -0 "$DAEMON" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}

stop_daemon() {
    kill "$DAEMON" 2>/dev/null
    local i
    for i in $(seq 1 100); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$DAEMON" 2>/dev/null; then kill -9 "$DAEMON"; wait "$DAEMON" 2>/dev/null; return 1; fi
    wait "$DAEMON" 2>/dev/null
    DAEMON=
}

domain_xml() { # domain_xml NAME MTE-ELEMENT
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>$KERNEL</kernel>
  </os>
  <features>
    $2
  </features>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$T/$1.serial'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

wait_for_text() { # wait_for_text FILE TEXT SECONDS
    local i
    for i in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

qemu_pid() { pgrep -f "qemu-system-aarch64 -name guest=$1,.*$T" | head -1; }

echo "1..47"
mkdir -p "$T/cache"
# a short job wait, so a call that waits for another's job fails quickly
echo "job_wait_ms = 500" >"$T/tagvirtd.conf"
[ -n "$CACHE" ] && cp "$CACHE"/*.xml "$T/cache/" 2>/dev/null
if start_daemon; then ok "tagvirtd --root answers virsh"; else
    not_ok "tagvirtd --root answers virsh" "$(tail -5 "$T/daemon.log")"; exit 1; fi

domain_xml demo "<mte version='max'/>" >"$T/good.xml"
domain_xml bad2 "<mte version='2'/>" >"$T/bad2.xml"
domain_xml bad1 "<mte version='1'/>" >"$T/bad1.xml"
domain_xml badschema "<mte version='3'/><nonsense/>" >"$T/badschema.xml"

check "define good MTE XML" "${V[@]}" define "$T/good.xml"

out=$("${V[@]}" define "$T/bad2.xml" 2>&1)
[[ $? -ne 0 && $out == *"MTE version 2 is not available with CPU model 'max'"* ]] &&
    ok "define <mte version='2'>: the reason reaches the user" || not_ok "define <mte version='2'>" "$out"
out=$("${V[@]}" define "$T/bad1.xml" 2>&1)
[[ $? -ne 0 && $out == *"invalid value '1' for attribute 'version' of <mte>"* ]] &&
    ok "define <mte version='1'>: XML error with the allowed values" || not_ok "define <mte version='1'>" "$out"
out=$("${V[@]}" define --validate "$T/badschema.xml" 2>&1)
[[ $? -ne 0 && $out == *"does not match the schema"* ]] && ok "define --validate: schema error" ||
    not_ok "define --validate: schema error" "$out"

out=$("${V[@]}" domcapabilities --arch aarch64 --virttype qemu --machine virt 2>&1)
[[ $out == *"<mte supported='yes'>"* && $out == *"<value>3</value>"* ]] &&
    ok "domcapabilities lists MTE 3" || not_ok "domcapabilities lists MTE 3" "$out"
out=$("${V[@]}" capabilities 2>&1)
[[ $out == *"<arch name='aarch64'>"* && $out == *"<domain type='qemu'/>"* && $out == *"canonical='virt-"* ]] &&
    ok "capabilities: aarch64 guest with machines" || not_ok "capabilities" "$out"

# domxml-to-native (connectDomainXMLToNative): the command line a start would use
out=$("${V[@]}" domxml-to-native qemu-argv "$T/good.xml" 2>&1)
[[ $? -eq 0 && $out == *"qemu-system-aarch64"* && $out == *"guest=demo"* && $out == *"mte=on"* ]] &&
    ok "domxml-to-native qemu-argv: QEMU's command line with mte=on" || not_ok "domxml-to-native qemu-argv" "$out"
out=$("${V[@]}" domxml-to-native xen-xm "$T/good.xml" 2>&1)
[[ $? -ne 0 && $out == *"unsupported config type 'xen-xm'"*"qemu-argv"* ]] &&
    ok "domxml-to-native xen-xm: refused naming the format and the accepted one" ||
    not_ok "domxml-to-native xen-xm" "$out"
out=$(timeout 60 virsh -q -c "$URI_RO" domxml-to-native qemu-argv "$T/good.xml" 2>&1)
[[ $? -ne 0 && $out == *"read only access prevents"* ]] && ok "domxml-to-native on the read-only socket: refused" ||
    not_ok "domxml-to-native on the read-only socket" "$out"

out=$("${V[@]}" list --all 2>&1)
[[ $out =~ -\ +demo\ +shut\ off && $out != *bad* ]] && ok "list --all: defined, shut off; the bad ones absent" ||
    not_ok "list --all" "$out"

# no job exists in tagvirt: "None", and nothing to abort
no_job() { # no_job WHEN [virsh options]: domjobinfo and domjobinfo --completed say None
    local when=$1 out; shift
    out=$("${V[@]}" domjobinfo "$@" demo 2>&1)
    [[ $? -eq 0 && $out =~ Job\ type:\ +None ]] && ok "domjobinfo $*($when): Job type: None" ||
        not_ok "domjobinfo $*($when)" "$out"
}
no_job "shut off"
no_job "shut off" --completed
out=$("${V[@]}" domjobabort demo 2>&1)
[[ $? -ne 0 && $out == *"domain 'demo' is not running"* ]] &&
    ok "domjobabort (shut off): not running" || not_ok "domjobabort (shut off)" "$out"

check "start" "${V[@]}" start demo
PID=$(qemu_pid demo)
if [ -n "$PID" ] && wait_for_text "$T/demo.serial" "level=3" 30; then
    ok "the guest runs and sees MTE level 3 (QEMU pid $PID)"
else not_ok "the guest runs and sees MTE level 3" "$(cat "$T/demo.serial" 2>&1 | tail -5)"; fi

out=$("${V[@]}" dumpxml demo 2>&1)
[[ $out == *"<mte version='3'/>"* && $out =~ \<domain\ type=\'qemu\'\ id=\'[0-9]+\'\> ]] &&
    ok "dumpxml (live): the resolved level and the id" || not_ok "dumpxml live" "$out"
out=$("${V[@]}" dumpxml --inactive demo 2>&1)
[[ $out == *"<mte version='max'/>"* && $out != *" id='"* ]] &&
    ok "dumpxml --inactive: what the user wrote" || not_ok "dumpxml --inactive" "$out"

ID=$("${V[@]}" domid demo 2>&1)
if stop_daemon && start_daemon; then
    out=$("${V[@]}" list 2>&1)
    [[ $(qemu_pid demo) == "$PID" ]] && kill -0 "$PID" && [[ $out =~ $ID\ +demo\ +running ]] &&
        ok "daemon restart: the same QEMU keeps running and is listed with id $ID" ||
        not_ok "daemon restart" "pid $PID now $(qemu_pid demo)" "$out"
else not_ok "daemon restart" "$(tail -5 "$T/daemon.log")"; fi
out=$("${V[@]}" domstate --reason demo 2>&1)
[[ $out == "running (booted)" ]] && ok "domstate after the restart: running (booted)" || not_ok "domstate" "$out"

no_job "running"
no_job "running" --completed
out=$("${V[@]}" domjobabort demo 2>&1)
[[ $? -ne 0 && $out == *"no job is active on domain 'demo'"* ]] &&
    ok "domjobabort (running): no job is active" || not_ok "domjobabort (running)" "$out"
# the read-only socket without -r, so the daemon (not virsh) decides
out=$(timeout 60 virsh -q -c "$URI_RO" domjobinfo demo 2>&1)
[[ $? -eq 0 && $out =~ Job\ type:\ +None ]] && ok "read-only socket: domjobinfo answered" ||
    not_ok "read-only socket: domjobinfo" "$out"
out=$(timeout 60 virsh -q -c "$URI_RO" domjobabort demo 2>&1)
[[ $? -ne 0 && $out == *"read only access prevents DOMAIN_ABORT_JOB"* ]] &&
    ok "read-only socket: domjobabort refused" || not_ok "read-only socket: domjobabort" "$out"

# the host and tuning commands (issue 9) on the running guest
out=$("${V[@]}" nodecpumap 2>&1)
[[ $out =~ CPUs\ present:\ +$(nproc) && $out =~ CPUs\ online:\ +$(nproc) ]] &&
    ok "nodecpumap: this host's CPUs" || not_ok "nodecpumap" "$out"
out=$("${V[@]}" nodecpustats 2>&1; "${V[@]}" nodememstats 2>&1)
[[ $out == *"user:"* && $out == *"idle:"* && $out == *"total  :"* && $out == *"free   :"* ]] &&
    ok "nodecpustats, nodememstats" || not_ok "nodecpustats, nodememstats" "$out"
out=$("${V[@]}" cpu-models aarch64 2>&1)
[[ $out == *cortex-a57* && $out == *max* ]] && ok "cpu-models aarch64: the emulator's models" ||
    not_ok "cpu-models aarch64" "$out"
printf "<cpu><arch>aarch64</arch><model>cortex-a72</model></cpu>\n" >"$T/cpu.xml"
out=$("${V[@]}" cpu-baseline "$T/cpu.xml" 2>&1)
[[ $out == *"<model fallback='allow'>cortex-a72</model>"* ]] && ok "cpu-baseline" ||
    not_ok "cpu-baseline" "$out"
out=$("${V[@]}" nodedev-list 2>&1; "${V[@]}" nodedev-dumpxml computer 2>&1)
secrets=$("${V[@]}" secret-list 2>&1)
[[ $? -eq 0 && -z $secrets && $out == *computer* && $out == *"<capability type='system'>"* ]] &&
    ok "nodedev-list, nodedev-dumpxml computer, secret-list (empty)" ||
    not_ok "nodedev-list, nodedev-dumpxml, secret-list" "$out"
out=$("${V[@]}" vcpuinfo demo 2>&1; "${V[@]}" vcpupin demo 2>&1; "${V[@]}" vcpucount demo 2>&1)
[[ $out =~ VCPU:\ +0 && $out =~ State:\ +running && $out =~ CPU\ Affinity:\ +y+ &&
   $out =~ 0\ +0-$(($(nproc) - 1)) && $out =~ current\ +live\ +1 ]] &&
    ok "vcpuinfo, vcpupin (query), vcpucount" || not_ok "vcpuinfo, vcpupin, vcpucount" "$out"
out=$("${V[@]}" setvcpus demo 2 --live 2>&1)
[[ $? -ne 0 && $out == *"cpu hotplug is not supported"* ]] &&
    ok "setvcpus --live: refused (no CPU hot-plug on virt)" || not_ok "setvcpus --live" "$out"
out=$("${V[@]}" setvcpus demo 2 --config --maximum 2>&1; "${V[@]}" setvcpus demo 2 --config 2>&1;
      "${V[@]}" setmaxmem demo 256M --config 2>&1; "${V[@]}" setmem demo 192M --config 2>&1;
      "${V[@]}" dumpxml --inactive demo 2>&1)
[[ $out == *"<vcpu>2</vcpu>"* && $out == *"<memory unit='KiB'>262144</memory>"* &&
   $out == *"<currentMemory unit='KiB'>196608</currentMemory>"* ]] &&
    ok "setvcpus/setmaxmem/setmem --config change the next start's definition" ||
    not_ok "setvcpus/setmaxmem/setmem --config" "$out"
out=$("${V[@]}" setvcpus demo 3 --config 2>&1; "${V[@]}" setmem demo 1G --config 2>&1)
[[ $out == *"greater than max allowable vcpus"* && $out == *"cannot set memory higher than max memory"* ]] &&
    ok "setvcpus above the maximum, setmem above the maximum: refused" ||
    not_ok "setvcpus/setmem above the maximum" "$out"
out=$("${V[@]}" desc demo --title --live --config "A title" 2>&1;
      "${V[@]}" metadata demo http://example.org/tv/1 --key tv --set "<note>hi</note>" --live --config 2>&1;
      "${V[@]}" metadata demo http://example.org/tv/1 2>&1; "${V[@]}" desc demo --title 2>&1)
[[ $out == *"<note>hi</note>"* && $out == *"A title"* ]] &&
    ok "desc --title, metadata --set / read back" || not_ok "desc, metadata" "$out"
out=$("${V[@]}" metadata demo http://example.org/none 2>&1)
[[ $? -ne 0 && $out == *"metadata not found"* ]] && ok "metadata of an unknown namespace: not found" ||
    not_ok "metadata unknown namespace" "$out"
out=$("${V[@]}" reset demo 2>&1 && "${V[@]}" domstate demo 2>&1)
[[ $? -eq 0 && $out == *running* && $(qemu_pid demo) == "$PID" ]] &&
    ok "reset: the same QEMU, running" || not_ok "reset" "$out"

# A call stuck on QEMU holds the domain's job: with QEMU stopped, suspend's
# 'stop' has no reply (for up to the 5 s command timeout).  Meanwhile
# dominfo answers, and resume fails after the 0.5 s job wait naming the
# holder.  Once QEMU goes on, suspend ends and resume works.
kill -STOP "$PID"
"${V[@]}" suspend demo >"$T/suspend.out" 2>&1 &
SUSPEND=$!
sleep 1.5 # suspend reaches the daemon and waits for QEMU's reply
"${V[@]}" resume demo >"$T/resume.out" 2>&1 &
RESUME=$!
out=$("${V[@]}" dominfo demo 2>&1)
rc=$?
kill -0 "$SUSPEND" 2>/dev/null && suspend_waits=1 || suspend_waits=0
[[ $rc -eq 0 && $out =~ State:\ +running && $suspend_waits -eq 1 ]] &&
    ok "dominfo answers while suspend holds the job" ||
    not_ok "dominfo while suspend holds the job" "suspend still running: $suspend_waits" "$out"
wait "$RESUME"
rc=$?
out=$(cat "$T/resume.out")
kill -0 "$SUSPEND" 2>/dev/null && suspend_waits=1 || suspend_waits=0
[[ $rc -ne 0 && $suspend_waits -eq 1 &&
    $out == *"cannot acquire state change lock for 'resume' (a modify job) within 0.5 s (held by 'suspend', a suspend job, for "* ]] &&
    ok "resume meanwhile: cannot acquire state change lock, held by suspend" ||
    not_ok "resume while suspend holds the job" "suspend still running: $suspend_waits" "$out"
kill -CONT "$PID"
wait "$SUSPEND"
rc=$?
for i in $(seq 1 100); do
    out=$("${V[@]}" domstate demo 2>&1)
    [[ $out == paused ]] && break
    sleep 0.1
done
[[ $rc -eq 0 && $out == paused ]] && ok "QEMU continued: suspend ends, the guest is paused" ||
    not_ok "suspend after QEMU continued" "exit $rc: $(cat "$T/suspend.out")" "$out"
out=$("${V[@]}" resume demo 2>&1 && "${V[@]}" domstate --reason demo 2>&1)
[[ $out == *"running (unpaused)"* ]] && ok "resume works again: running (unpaused)" ||
    not_ok "resume after the job ended" "$out"

check "destroy" "${V[@]}" destroy demo
for i in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
out=$("${V[@]}" domstate --reason demo 2>&1)
! kill -0 "$PID" 2>/dev/null && [[ $out == "shut off (destroyed)" ]] &&
    ok "QEMU is gone; shut off (destroyed)" || not_ok "after destroy" "$out"

# virsh undefine asks for a managed save image (183) and snapshots (187)
# first; its client log shows the replies' status (0: answered, 1: error)
out=$(LIBVIRT_DEBUG=1 LIBVIRT_LOG_OUTPUTS="1:file:$T/undefine.log" "${V[@]}" undefine demo 2>/dev/null)
[[ $? -eq 0 && ! -e $T/config/demo.xml ]] && ok "undefine removes the definition" || not_ok "undefine" "$out"
if ! grep -q "RPC_CLIENT_MSG_RX:" "$T/undefine.log" 2>/dev/null; then
    not_ok "undefine: virsh's debug log has no RPC_CLIENT_MSG_RX lines to check 183/187 with" "$out"
elif grep -q "RPC_CLIENT_MSG_RX:.* proc=183 type=1 status=0 " "$T/undefine.log" &&
    grep -q "RPC_CLIENT_MSG_RX:.* proc=187 type=1 status=0 " "$T/undefine.log" &&
    ! grep -q "unknown procedure" "$T/undefine.log"; then
    ok "undefine: managed save (183) and snapshot count (187) answered, no unknown procedure"
else not_ok "undefine: 183/187 answered" "$(grep -E 'proc=18[37] type=1|unknown procedure' "$T/undefine.log")"; fi
out=$("${V[@]}" list --all --name 2>&1)
[[ -z $out ]] && ok "list --all is empty" || not_ok "list --all is empty" "$out"

if stop_daemon; then ok "SIGTERM stops tagvirtd"; else not_ok "SIGTERM stops tagvirtd"; fi
exit $FAILED
