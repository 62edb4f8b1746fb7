#!/bin/bash
# Make a raw disk image that a UEFI firmware (AAVMF) boots into the test guest:
# a GPT with one EFI system partition (FAT) holding
#   /EFI/BOOT/BOOTAA64.EFI  GRUB for arm64-efi (grub-mkimage, the modules of
#                           Debian's grub-efi-arm64-bin from fetch.sh), with an
#                           embedded configuration: find the kernel on this
#                           partition, boot it with the initramfs and command line
#   /tagvirt/vmlinuz        the guest kit's kernel (fetch.sh)
#   /tagvirt/initrd.gz      the guest kit's initramfs (build-initramfs.sh)
# BOOTAA64.EFI is the removable-media path, so the firmware boots it with no
# boot entry in its variable store.  No root and no loop mounts: the FAT is
# made with mkfs.vfat on a file and filled with mtools, the GPT with sfdisk.
#
# Usage: tests/guest/build-efi-disk.sh OUTPUT.img [--cmdline 'KERNEL ARGS']
#   --cmdline  the kernel's command line (default: console=ttyAMA0 panic=-1 quiet)
# Needs grub-mkimage (grub-common), mkfs.vfat (dosfstools), mtools and sfdisk
# (fdisk): scripts/install-deps.sh installs them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
log() { echo "build-efi-disk.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

out=""
cmdline="console=ttyAMA0 panic=-1 quiet"
while [ $# -gt 0 ]; do
    case "$1" in
    --cmdline)
        [ $# -ge 2 ] || die "--cmdline needs a value"
        cmdline=$2
        shift
        ;;
    -h | --help)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*) die "unknown argument '$1' (accepted: OUTPUT.img, --cmdline ARGS)" ;;
    *)
        [ -z "$out" ] || die "one OUTPUT.img only ('$out', then '$1')"
        out=$1
        ;;
    esac
    shift
done
[ -n "$out" ] || die "usage: build-efi-disk.sh OUTPUT.img [--cmdline ARGS]"

missing=""
for tool in grub-mkimage:grub-common mkfs.vfat:dosfstools mcopy:mtools mmd:mtools sfdisk:fdisk; do
    command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] ||
        missing="$missing ${tool#*:}(${tool%%:*})"
done
[ -z "$missing" ] || die "missing host tools:$missing (scripts/install-deps.sh installs them)"
PATH=$PATH:/usr/sbin

paths=$("$here/fetch.sh" --print-paths)
kernel=$(sed -n 's/^KERNEL=//p' <<<"$paths")
grub=$(sed -n 's/^GRUB=//p' <<<"$paths")
initrd=$("$here/build-initramfs.sh" --print-path | sed -n 's/^INITRAMFS=//p')
[ -f "$kernel" ] && [ -f "$initrd" ] && [ -f "$grub/linux.mod" ] ||
    die "the guest kit is incomplete: kernel '$kernel', initramfs '$initrd', GRUB '$grub'"

work=$(mktemp -d "${TMPDIR:-/tmp}/tagvirt-efi-disk.XXXXXX")
trap 'rm -rf "$work"' EXIT

# GRUB runs this before anything else; 'boot' never returns when it works.
cat >"$work/embedded.cfg" <<EOF
echo "TAGVIRT-EFI grub started"
search --no-floppy --file --set=root /tagvirt/vmlinuz
echo "TAGVIRT-EFI kernel found on (\$root)"
linux /tagvirt/vmlinuz $cmdline
initrd /tagvirt/initrd.gz
boot
echo "TAGVIRT-EFI boot failed"
EOF
grub-mkimage -O arm64-efi -d "$grub" -p /EFI/BOOT -c "$work/embedded.cfg" \
    -o "$work/BOOTAA64.EFI" part_gpt fat search search_fs_file linux echo ||
    die "grub-mkimage failed"

# The partition: its size is what it holds plus 16 MiB, in whole MiB (at least 40
# MiB, so mkfs.vfat's FAT16/FAT32 choice never meets a too-small volume).
bytes=$(($(stat -Lc %s "$kernel") + $(stat -Lc %s "$initrd") + $(stat -c %s "$work/BOOTAA64.EFI")))
mib=$((bytes / 1048576 + 16))
[ "$mib" -ge 40 ] || mib=40
mkfs.vfat -C -n TAGVIRT-ESP "$work/esp.img" $((mib * 1024)) >/dev/null
mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/tagvirt
mcopy -i "$work/esp.img" "$work/BOOTAA64.EFI" ::/EFI/BOOT/BOOTAA64.EFI
mcopy -i "$work/esp.img" "$kernel" ::/tagvirt/vmlinuz
mcopy -i "$work/esp.img" "$initrd" ::/tagvirt/initrd.gz

# The disk: 1 MiB for the GPT, the partition, 1 MiB for the backup GPT.
truncate -s $(((mib + 2) * 1048576)) "$work/disk.img"
printf 'label: gpt\nstart=2048, size=%d, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"\n' \
    $((mib * 2048)) | sfdisk -q "$work/disk.img" || die "sfdisk failed"
dd if="$work/esp.img" of="$work/disk.img" bs=1M seek=1 conv=notrunc status=none
mv "$work/disk.img" "$out"
log "made $out: GPT, EFI system partition of $mib MiB (GRUB, kernel, initramfs)"
echo "DISK=$out"
