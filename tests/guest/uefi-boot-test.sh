#!/bin/bash
# TAP (meson suite guest): a UEFI guest that really boots.  The Linux guest kit
# on a disk image with an EFI system partition (build-efi-disk.sh: GRUB for
# arm64-efi, the kernel, the initramfs with mtetest), defined through tagvirtd
# with <os firmware='efi'> (AAVMF chosen from QEMU's firmware descriptors),
# that disk on virtio and <mte version='3'/> on cpu max; the firmware boots
# GRUB from the disk, GRUB the kernel, and the guest's mtetest must report
# PASS at level 3.  Then the same disk with no firmware constraint: Debian's
# first descriptor is Secure Boot with Microsoft's keys, and the firmware
# must refuse the unsigned GRUB ("Access Denied").  Runs on the daemon's default QEMU (qemu-system-aarch64,
# 10.0 from bookworm-backports after scripts/install-deps.sh).  Anything
# missing is a failure, never a skip.
# Usage: uefi-boot-test.sh TAGVIRTD [CAPS_CACHE_DIR]
set -u
TAGVIRTD=$1
CACHE=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/tv-uefi-boot-XXXXXX)
chmod 755 "$T" # QEMU runs as its own user: it must reach the disk and the variable store
N=0
FAIL=0
DPID=""
cleanup() {
    if [ -n "$DPID" ]; then
        virsh -q -c "$URI" destroy uefi-mte >/dev/null 2>&1
        virsh -q -c "$URI" destroy uefi-sb >/dev/null 2>&1
        kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
ok() { N=$((N + 1)); echo "ok $N - $1"; }
not_ok() { N=$((N + 1)); FAIL=1; echo "not ok $N - $1"; printf '%s\n' "$2" | sed 's/^/# /'; }
bail() { echo "Bail out! $1"; printf '%s\n' "$2" | sed 's/^/# /'; exit 1; }

# --- the disk: GPT, EFI system partition with GRUB, kernel and initramfs
t0=$SECONDS
if out=$(nice "$here/build-efi-disk.sh" "$T/disk.img" 2>&1); then
    ok "build-efi-disk.sh: $(sed -n 's/^build-efi-disk.sh: made [^:]*: //p' <<<"$out") ($((SECONDS - t0)) s)"
else
    not_ok "build-efi-disk.sh" "$out"
    bail "no disk image"
fi
qemu=$(command -v qemu-system-aarch64) || bail "no qemu-system-aarch64: run scripts/install-deps.sh" ""
qver=$("$qemu" --version | sed -n '1s/^QEMU emulator version \([0-9.]*\).*/\1/p')

# --- tagvirtd under a private root
URI="qemu+unix:///system?socket=$T/root/tagvirtd-sock"
mkdir -p "$T/root/cache"
[ -n "$CACHE" ] && cp "$CACHE"/*.xml "$T/root/cache/" 2>/dev/null
"$TAGVIRTD" --root "$T/root" >"$T/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 600); do [ -S "$T/root/tagvirtd-sock" ] && break; sleep 0.1; done
[ -S "$T/root/tagvirtd-sock" ] || bail "tagvirtd did not start" "$(tail -20 "$T/daemon.log")"
V=(virsh -q -c "$URI")

# domain NAME FIRMWARE-CONSTRAINTS: the guest's XML, its console in NAME.console
domain() {
    cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='aarch64' machine='virt'>hvm</type>
    $2
    <boot dev='hd'/>
  </os>
  <features><mte version='3'/></features>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$T/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='file'><source path='$T/$1.console'/></serial>
  </devices>
</domain>
XML
}
# console NAME: what the guest wrote so far, without carriage returns
console() { tr -d '\r' <"$T/$1.console" 2>/dev/null; }

domain uefi-mte "<firmware><feature enabled='no' name='secure-boot'/></firmware>" >"$T/uefi-mte.xml"
out=$("${V[@]}" define "$T/uefi-mte.xml" 2>&1)
[ $? -eq 0 ] || bail "virsh define of the UEFI guest failed" "$out"
xml=$("${V[@]}" dumpxml uefi-mte 2>&1)
if [[ $xml == *"<loader readonly='yes' type='pflash'>"*AAVMF* && $xml == *"<nvram template="* &&
    $xml == *"<mte version='3'/>"* && $xml != *"<kernel>"* ]]; then
    ok "define: firmware='efi' chose $(sed -n "s|.*<loader[^>]*>\([^<]*\)</loader>.*|\1|p" <<<"$xml"), no <kernel>, mte version 3"
else
    not_ok "define: AAVMF loader, nvram template and mte version 3 expected" "$xml"
fi

# --- start: firmware -> GRUB on the disk -> Linux -> mtetest -> power off
t0=$SECONDS
out=$("${V[@]}" start uefi-mte 2>&1)
[ $? -eq 0 ] || bail "virsh start of the UEFI guest failed" "$out
$(tail -20 "$T/root/log/uefi-mte.log" 2>&1)"
# the command line as the domain's log shows it: one argument a line, ending in '\'
argv=$(awk '/qemu-system-aarch64/ { on = 1 } on { print; if ($0 !~ /\\$/) exit }' \
    "$T/root/log/uefi-mte.log" 2>/dev/null | tr -d '\\\n')
if [[ $argv == *"pflash0="* && $argv == *"pflash1="* && $argv == *"mte=on"* && $argv == *"-cpu max"* && $argv != *"-kernel "* ]]; then
    ok "QEMU $qver started with the firmware in pflash, mte=on, -cpu max and no -kernel"
else
    not_ok "QEMU command line: pflash, mte=on, -cpu max, no -kernel expected" "${argv:-no command line in the domain log}"
fi
grub_s="" result_s="" state=""
limit=${TAGVIRT_UEFI_BOOT_TIMEOUT:-420}
while [ $((SECONDS - t0)) -lt "$limit" ]; do
    log=$(console uefi-mte)
    [ -z "$grub_s" ] && [[ $log == *"TAGVIRT-EFI grub started"* ]] && grub_s=$((SECONDS - t0))
    [ -z "$result_s" ] && [[ $log == *"MTETEST result="* ]] && result_s=$((SECONDS - t0))
    state=$("${V[@]}" domstate uefi-mte --reason 2>&1)
    [[ $state == "shut off"* ]] && break
    sleep 1
done
total=$((SECONDS - t0))
log=$(console uefi-mte)
tail_of_log=$(tail -n 25 <<<"$log")
if [ -n "$grub_s" ] && [[ $log == *"TAGVIRT-EFI kernel found on (hd"* ]]; then
    ok "AAVMF booted GRUB from the disk's EFI system partition (${grub_s} s after start)"
else
    not_ok "AAVMF did not reach GRUB on the disk within ${total} s" "$tail_of_log"
fi
features=",$(sed -n 's/^MTETEST features=//p' <<<"$log" | head -n1),"
if grep -qx "MTETEST result=PASS level=3" <<<"$log" && grep -qx "MTETEST fault=SEGV_MTESERR" <<<"$log" &&
    [[ $features == *",mte,"* && $features == *",mte3,"* ]]; then
    ok "the guest's mtetest: PASS level=3, mte and mte3 in Features, SEGV_MTESERR on a tag mismatch (${result_s} s after start)"
else
    not_ok "the guest's mtetest did not report PASS level=3 within ${total} s" "$tail_of_log"
fi
if [[ $state == "shut off (shutdown)" ]]; then
    ok "the guest powered itself off: $state ($total s after start)"
else
    not_ok "the guest did not power off within $limit s: ${state:-no state}" \
        "$tail_of_log
$(tail -5 "$T/root/log/uefi-mte.log" 2>&1)"
fi
[ -s "$T/root/nvram/uefi-mte_VARS.fd" ] && ok "the guest's variable store was made from its template" ||
    not_ok "no variable store at nvram/uefi-mte_VARS.fd" "$(ls -l "$T/root/nvram" 2>&1)"

# --- Secure Boot on (Debian's first descriptor, Microsoft's keys enrolled):
# the firmware must refuse the unsigned GRUB, as docs/formatdomain.rst says
domain uefi-sb "" >"$T/uefi-sb.xml"
out=$("${V[@]}" define "$T/uefi-sb.xml" 2>&1)
xml=$("${V[@]}" dumpxml uefi-sb 2>&1)
if [[ $xml == *AAVMF_CODE.ms.fd* && $xml == *"<feature enabled='yes' name='secure-boot'/>"* ]]; then
    ok "define without constraints: the Secure Boot image with enrolled keys (AAVMF_CODE.ms.fd)"
else
    not_ok "define without constraints: AAVMF_CODE.ms.fd with secure-boot expected" "$out
$xml"
fi
t1=$SECONDS
out=$("${V[@]}" start uefi-sb 2>&1)
[ $? -eq 0 ] || not_ok "virsh start of the Secure Boot guest" "$out"
sb_log=""
while [ $((SECONDS - t1)) -lt "$limit" ]; do
    sb_log=$(console uefi-sb)
    [[ $sb_log == *"Access Denied"* || $sb_log == *"TAGVIRT-EFI"* ]] && break
    sleep 1
done
sb_s=$((SECONDS - t1))
"${V[@]}" destroy uefi-sb >/dev/null 2>&1
if [[ $sb_log == *"Access Denied"* && $sb_log != *"TAGVIRT-EFI"* ]]; then
    ok "Secure Boot on: the firmware refused the unsigned GRUB ('$(grep -m1 -o 'failed to load[^:]*: Access Denied' <<<"$sb_log")', $sb_s s)"
else
    not_ok "Secure Boot on: 'Access Denied' expected from the firmware within $limit s, and no GRUB" \
        "$(tail -n 15 <<<"$sb_log")"
fi
echo "# QEMU $qver: GRUB at ${grub_s:-?} s, MTETEST result at ${result_s:-?} s, shut off at $total s"
echo "1..$N"
exit $FAIL
