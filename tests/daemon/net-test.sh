#!/bin/bash
# tagvirtd's bridge and ethernet interfaces, in a network namespace this test
# makes (the host's own network is never touched): a tap per NIC made through
# netlink on an existing bridge (kernel-named vnetN and a named one with an
# MTU), an os-vif style pre-made tap used as it is (managed='no'), the taps'
# MACs (fe:...) and masters, their removal at destroy; a missing bridge, a
# taken tap name and a type='network' NIC on a missing network refused at
# start with nothing left behind (tests/daemon/guest-network-test.py has
# the networks themselves).
# Usage: net-test.sh TAGVIRTD DEMO_LOOP_ELF.  Needs root (ip netns). TAP.
set -u
TAGVIRTD=$(realpath "${1:?usage: net-test.sh TAGVIRTD DEMO_LOOP_ELF}")
KERNEL=$(realpath "${2:?usage: net-test.sh TAGVIRTD DEMO_LOOP_ELF}")
T=$(mktemp -d /tmp/tvnet-XXXXXX)
NS=tvnet-$$
URI="qemu+unix:///system?socket=$T/tagvirtd-sock"
V=(timeout 60 virsh -q -c "$URI")
DAEMON=
N=0
FAILED=0
cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
    local p
    for p in $(pgrep -f "qemu-system-aarch64.*guest=tvnet$$-" || true); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAILED=1; echo "not ok $N - $1"; shift; local l; for l in "$@"; do echo "# $l"; done; }
expect() { # expect "description" "command output" "grep pattern"
    if grep -q -- "$3" <<<"$2"; then ok "$1"; else not_ok "$1" "$2"; fi
}
links() { ip -n "$NS" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }

echo "1..12"
if ! ip netns add "$NS" 2>"$T/netns.err"; then
    not_ok "network namespace" "$(cat "$T/netns.err")"
    exit 1
fi
ip -n "$NS" link set lo up
ip -n "$NS" link add br0 type bridge && ip -n "$NS" link set br0 up
ip -n "$NS" tuntap add dev pretap0 mode tap && ip -n "$NS" link set pretap0 up
ip netns exec "$NS" "$TAGVIRTD" --root "$T" >>"$T/daemon.log" 2>&1 &
DAEMON=$!
for i in $(seq 1 600); do
    [ -S "$T/tagvirtd-sock" ] && "${V[@]}" version >/dev/null 2>&1 && break
    sleep 0.1
done
domain() { # NAME FIRST-INTERFACE-LINES
    cat <<XML
<domain type='qemu'>
  <name>tvnet$$-$1</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>$KERNEL</kernel></os>
  <devices>
$2
    <interface type='bridge'>
      <mac address='52:54:00:aa:00:02'/>
      <source bridge='br0'/>
      <target dev='tvtap1'/>
      <mtu size='1400'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:aa:00:03'/>
      <target dev='pretap0' managed='no'/>
    </interface>
  </devices>
</domain>
XML
}
BR1="    <interface type='bridge'>
      <mac address='52:54:00:aa:00:01'/>
      <source bridge='br0'/>
    </interface>"
domain nets "$BR1" >"$T/nets.xml"
if out=$("${V[@]}" define "$T/nets.xml" 2>&1 && "${V[@]}" start "tvnet$$-nets" 2>&1); then
    ok "start with two bridge NICs and a pre-made tap"
else
    not_ok "start with two bridge NICs and a pre-made tap" "$out"
fi
out=$(ip -n "$NS" -o link show master br0 2>&1)
expect "a kernel-named tap (vnet0) joined br0 with MAC fe:54:00:aa:00:01" "$out" "vnet0.*master br0.*fe:54:00:aa:00:01"
expect "the named tap tvtap1 joined br0 with MTU 1400" "$out" "tvtap1.*mtu 1400.*master br0"
out=$("${V[@]}" dumpxml "tvnet$$-nets" 2>&1)
expect "live XML names the kernel's tap" "$out" "<target dev='vnet0'/>"
expect "live XML keeps the unmanaged tap" "$out" "<target dev='pretap0' managed='no'/>"
out=$("${V[@]}" dumpxml --inactive "tvnet$$-nets" 2>&1)
if grep -q "vnet0" <<<"$out"; then not_ok "inactive XML has no generated tap name" "$out"; else ok "inactive XML has no generated tap name"; fi
out=$(pgrep -af "qemu-system-aarch64.*guest=tvnet$$-nets," | tr ' ' '\n' | grep -c "^tap,id=hostnet[0-9],fd=")
expect "QEMU gets the three taps as descriptors" "$out" "^3$"
"${V[@]}" destroy "tvnet$$-nets" >/dev/null 2>&1
sleep 0.3
out=$(links)
expect "destroy removes the taps tagvirt made, keeps the pre-made one" "$out" "^br0 lo pretap0 $"
domain nobr "$(sed "s/br0/nosuchbr/" <<<"$BR1")" >"$T/nobr.xml"
out=$("${V[@]}" define "$T/nobr.xml" 2>&1 && "${V[@]}" start "tvnet$$-nobr" 2>&1)
expect "a bridge that does not exist is refused" "$out" "bridge 'nosuchbr' does not exist"
domain taken "$(sed "s#<source bridge='br0'/>#<source bridge='br0'/><target dev='pretap0'/>#" <<<"$BR1")" >"$T/taken.xml"
out=$("${V[@]}" define "$T/taken.xml" 2>&1 && "${V[@]}" start "tvnet$$-taken" 2>&1)
expect "a tap name that is taken is refused" "$out" "tap name 'pretap0' is taken"
domain network "    <interface type='network'><source network='nosuchnet'/></interface>" >"$T/network.xml"
out=$("${V[@]}" define "$T/network.xml" 2>&1 && "${V[@]}" start "tvnet$$-network" 2>&1)
expect "type='network' on a network that does not exist: defined, refused at start" "$out" \
    "network not found: no network with matching name 'nosuchnet'"
out=$(links)
expect "refused starts leave no tap behind" "$out" "^br0 lo pretap0 $"
exit $FAILED
