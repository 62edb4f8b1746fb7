#!/bin/bash
# tagvirtd with Debian's virt-install and virsh (issue 8, the domain-level
# half): virt-install --boot uefi finds UEFI in the domain capabilities and
# its XML defines; firmware='efi' is chosen at define and the variable store
# is created at the first start; undefine needs --nvram/--keep-nvram while it
# exists; on_poweroff=restart keeps the guest running in the same QEMU across
# many power-offs (demo.elf powers off about 0.1 s after each start, so a
# power-off often comes in the same read as the restart's own replies: before
# the watcher ran pending actions itself, 0 to 2 of 30 were handled);
# <currentMemory> is the balloon target that dominfo reports.
# Usage: uefi-lifecycle-test.sh TAGVIRTD DEMO_ELF DEMO_LOOP_ELF [CAPS_CACHE_DIR]
set -u
TAGVIRTD=$1
DEMO=$(readlink -f "$2")
LOOP=$(readlink -f "$3")
CACHE=${4:-}
T=$(mktemp -d /tmp/tv-uefi-XXXXXX)
chmod 755 "$T" # QEMU runs as its own user and must reach the variable store
N=0
FAIL=0
cleanup() {
    [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAIL=1; echo "not ok $N - $1"; printf '%s\n' "$2" | sed 's/^/# /'; }
mkdir -p "$T/root/cache"
[ -n "$CACHE" ] && cp "$CACHE"/*.xml "$T/root/cache/" 2>/dev/null
"$TAGVIRTD" --root "$T/root" > "$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 600); do [ -S "$T/root/tagvirtd-sock" ] && break; sleep 0.1; done
URI="qemu+unix:///system?socket=$T/root/tagvirtd-sock"
V=(virsh -q -c "$URI")

# --- virt-install --boot uefi: the domain capabilities offer it
out=$(timeout 120 virt-install --connect "$URI" --print-xml --name vi --arch aarch64 --machine virt \
    --memory 512 --vcpus 2 --osinfo debian11 --boot uefi --disk none --network none \
    --graphics none 2>&1)
if [[ $out == *"firmware=\"efi\""* ]]; then ok "virt-install --boot uefi --print-xml writes firmware='efi'"
else not_ok "virt-install --boot uefi --print-xml" "$out"; fi
printf '%s\n' "$out" > "$T/vi.xml"
out=$("${V[@]}" define "$T/vi.xml" 2>&1)
[ $? -eq 0 ] && ok "virsh define of virt-install's UEFI XML" || not_ok "define virt-install's XML" "$out"
out=$("${V[@]}" dumpxml vi 2>&1)
[[ $out == *"<loader readonly='yes' type='pflash'>/usr/share/AAVMF/"* &&
   $out == *"<nvram template='/usr/share/AAVMF/"*">$T/root/nvram/vi_VARS.fd</nvram>"* ]] &&
    ok "firmware chosen at define: AAVMF loader, template, the store's path" ||
    not_ok "firmware chosen at define" "$out"
[ ! -e "$T/root/nvram/vi_VARS.fd" ] && ok "no variable store before the first start" ||
    not_ok "no variable store before the first start" "$(ls -l "$T/root/nvram")"
out=$("${V[@]}" start vi 2>&1)
state=$("${V[@]}" domstate vi --reason 2>&1)
[[ $state == "running (booted)" && -s "$T/root/nvram/vi_VARS.fd" ]] &&
    ok "start: running, the variable store copied from its template" ||
    not_ok "start with UEFI" "$out / $state / $(ls -l "$T/root/nvram" 2>&1)"
"${V[@]}" destroy vi > /dev/null 2>&1
out=$("${V[@]}" undefine vi 2>&1)
[[ $? -ne 0 && $out == *"nvram"* && -e "$T/root/config/vi.xml" ]] &&
    ok "undefine without --nvram/--keep-nvram refused while the store exists" ||
    not_ok "undefine without nvram flags" "$out"
out=$("${V[@]}" undefine vi --keep-nvram 2>&1)
[[ $? -eq 0 && -e "$T/root/nvram/vi_VARS.fd" ]] && ok "undefine --keep-nvram keeps the store" ||
    not_ok "undefine --keep-nvram" "$out"
"${V[@]}" define "$T/vi.xml" > /dev/null 2>&1
out=$("${V[@]}" undefine vi --nvram 2>&1)
[[ $? -eq 0 && ! -e "$T/root/nvram/vi_VARS.fd" ]] && ok "undefine --nvram removes the store" ||
    not_ok "undefine --nvram" "$out"

# --- on_poweroff=restart: the guest powers off and comes back, same QEMU, many times
cat > "$T/restart.xml" <<XML
<domain type='qemu'>
  <name>restart</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>$DEMO</kernel></os>
  <cpu mode='maximum'/>
  <on_poweroff>restart</on_poweroff>
  <devices><serial type='pty'/></devices>
</domain>
XML
"${V[@]}" define "$T/restart.xml" > /dev/null 2>&1
"${V[@]}" start restart > /dev/null 2>&1
id1=$("${V[@]}" domid restart 2>&1)
qpid() { sed -n "s/.* pid='\([0-9]*\)'.*/\1/p" "$T/root/state/$1.xml" 2>/dev/null | head -n1; }
pid1=$(qpid restart)
restarts=0
for _ in $(seq 1200); do
    restarts=$(grep -c "guest restarted in the same QEMU" "$T/root/log/restart.log" 2>/dev/null)
    [ "${restarts:-0}" -ge 10 ] && break
    sleep 0.1
done
id2=$("${V[@]}" domid restart 2>&1)
pid2=$(qpid restart)
[[ ${restarts:-0} -ge 10 && $id1 == "$id2" && -n $pid1 && $pid1 == "$pid2" ]] &&
    ok "on_poweroff=restart: $restarts power-offs handled, same id and the same QEMU" ||
    not_ok "on_poweroff=restart" "restarts=${restarts:-0} (10 expected within 120 s) ids=$id1/$id2 pids=$pid1/$pid2
$(tail -5 "$T/root/log/restart.log" 2>&1)"
out=$("${V[@]}" destroy restart 2>&1)
state=$("${V[@]}" domstate restart --reason 2>&1)
[[ $state == "shut off (destroyed)" ]] && ok "destroy ends it" || not_ok "destroy after restarts" "$out $state"

# --- <currentMemory> through the balloon
cat > "$T/balloon.xml" <<XML
<domain type='qemu'>
  <name>balloon</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <os><type arch='aarch64' machine='virt'>hvm</type><kernel>$LOOP</kernel></os>
  <cpu mode='maximum'/>
  <devices><serial type='pty'/><memballoon model='virtio'/></devices>
</domain>
XML
sed '/memballoon/d' "$T/balloon.xml" | sed 's/<devices><serial type=.pty.\/>/<devices><serial type="pty"\/>/' > "$T/noballoon.xml"
sed -i 's/<name>balloon</<name>noballoon</' "$T/noballoon.xml"
out=$("${V[@]}" define "$T/noballoon.xml" 2>&1)
[[ $? -ne 0 && $out == *"memballoon"* ]] && ok "currentMemory below memory without a balloon refused" ||
    not_ok "currentMemory without a balloon" "$out"
"${V[@]}" define "$T/balloon.xml" > /dev/null 2>&1
out=$("${V[@]}" start balloon 2>&1)
info=$("${V[@]}" dominfo balloon 2>&1)
[[ $info =~ Max\ memory:\ +262144\ KiB && $info =~ Used\ memory:\ +131072\ KiB ]] &&
    ok "dominfo: max 262144 KiB, used 131072 KiB (the balloon target set at start)" ||
    not_ok "dominfo with a balloon" "$out $info"
"${V[@]}" destroy balloon > /dev/null 2>&1
echo "1..$N"
exit $FAIL
