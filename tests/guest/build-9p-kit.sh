#!/bin/bash
# The guest kit's variant for <filesystem> (9p) and <watchdog> tests:
# Debian's generic arm64 kernel (the cloud kernel of fetch.sh is built
# without 9p and i6300esb: CONFIG_NET_9P and CONFIG_I6300ESB_WDT are not
# set) of the same version, and an initramfs with the kit's busybox and
# /init plus the kernel's virtio-pci, 9p, USB (xhci) and i6300esb modules.
# /init's "tagvirt.guest=9p tagvirt.9p=TAG" mode mounts TAG and prints what
# it finds, and the USB devices it sees; "tagvirt.guest=watchdog" starts
# the watchdog and lets it expire.
#
# Usage: tests/guest/build-9p-kit.sh [--print-paths]
#   --print-paths  print KERNEL=<path> and INITRAMFS=<path> on stdout
#
# Everything lands in ${TAGVIRT_GUEST_CACHE} (default ~/.cache/tagvirt/guest),
# fetched with apt and fetch.sh's private apt state; once there, a run does
# not touch the network.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${TAGVIRT_GUEST_CACHE:-${HOME:-/root}/.cache/tagvirt/guest}
print_paths=0
for arg in "$@"; do
    case "$arg" in
    --print-paths) print_paths=1 ;;
    *)
        echo "build-9p-kit.sh: unknown argument '$arg' (accepted: --print-paths)" >&2
        exit 2
        ;;
    esac
done
log() { echo "build-9p-kit.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

paths=$("$here/fetch.sh" --print-paths)
busybox=$(sed -n 's/^BUSYBOX=//p' <<<"$paths")
cloud=$(readlink -f "$(sed -n 's/^KERNEL=//p' <<<"$paths")")
kver=${cloud##*/vmlinuz-}
kver=${kver%-cloud-arm64}-arm64 # 6.1.0-57-cloud-arm64 -> 6.1.0-57-arm64
[ -x "$busybox" ] || die "fetch.sh gave no busybox"
command -v cpio >/dev/null || die "cpio is needed (build-initramfs.sh installs it)"

exec 9>"$cache/.9p-kit.lock"
flock 9
kdir="$cache/kernel-generic"
if [ ! -f "$kdir/boot/vmlinuz-$kver" ]; then
    priv="$cache/apt" # fetch.sh's private apt state (its lists are current)
    [ -d "$priv/state/lists" ] || die "no private apt state in $priv (fetch.sh --refresh)"
    apt_opts=(
        -oAPT::Architecture=arm64 -oAPT::Architectures=arm64
        -oDir::State="$priv/state" -oDir::State::status="$priv/status"
        -oDir::Cache="$priv/cache"
        -oDir::Etc::SourceList="$priv/etc/sources.list"
        -oDir::Etc::SourceParts="$priv/etc/sources.list.d"
        -oAcquire::Languages=none
    )
    [ "$(id -u)" = 0 ] && apt_opts+=(-oAPT::Sandbox::User=root)
    work=$(mktemp -d "$cache/kernel-generic.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    log "downloading linux-image-$kver"
    (cd "$work" && apt-get -q "${apt_opts[@]}" download "linux-image-$kver") >"$work/dl.log" 2>&1 || {
        cat "$work/dl.log" >&2
        die "apt-get download linux-image-$kver failed"
    }
    dpkg -x "$work"/linux-image-"$kver"_*_arm64.deb "$work/k"
    rm -rf "$kdir"
    mv "$work/k" "$kdir"
fi
vmlinuz="$kdir/boot/vmlinuz-$kver"
moddir="$kdir/lib/modules/$kver/kernel"
# in load order: virtio-pci (virtio itself is built in), then 9p over virtio,
# then USB (qemu-xhci) so that the guest lists its USB devices (GUESTUSB);
# then i6300esb, for /init's "tagvirt.guest=watchdog" (the watchdog core is
# built in; that mode loads it itself, with its heartbeat)
modules=(drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
    drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache net/9p/9pnet
    net/9p/9pnet_virtio fs/9p/9p drivers/usb/common/usb-common drivers/usb/core/usbcore
    drivers/usb/host/xhci-hcd drivers/usb/host/xhci-pci)
extra_modules=(drivers/watchdog/i6300esb)
for m in "${modules[@]}" "${extra_modules[@]}"; do
    [ -f "$moddir/$m.ko" ] || die "module $m.ko of kernel $kver is not in $moddir"
done

hash=$({
    sha256sum "$here/init" "$0" "$busybox" | cut -d' ' -f1
    echo "$kver"
} | sha256sum | cut -c1-16)
out="$cache/initramfs-9p-$hash.cpio.gz"
if [ ! -f "$out" ]; then
    work=$(mktemp -d "$cache/initramfs-9p.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    root="$work/root"
    mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/mnt" "$root/lib/modules"
    cp "$busybox" "$root/bin/busybox"
    cp "$here/init" "$root/init"
    for m in "${modules[@]}"; do
        cp "$moddir/$m.ko" "$root/lib/modules/"
        echo "${m##*/}" >>"$root/lib/modules/order"
    done
    for m in "${extra_modules[@]}"; do
        cp "$moddir/$m.ko" "$root/lib/modules/"
    done
    chmod 0755 "$root/init" "$root/bin/busybox"
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 >"$work/initramfs.cpio.gz"
    mv "$work/initramfs.cpio.gz" "$out"
    log "built $out"
fi
touch "$out"
find "$cache" -maxdepth 1 -name 'initramfs-9p-*.cpio.gz' -mtime +7 -delete
if [ "$print_paths" = 1 ]; then
    echo "KERNEL=$vmlinuz"
    echo "INITRAMFS=$out"
fi
