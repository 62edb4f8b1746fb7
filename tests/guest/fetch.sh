#!/bin/bash
# Fetch Debian's arm64 cloud kernel, static busybox and GRUB's arm64-efi modules
# (grub-efi-arm64-bin, for the UEFI boot of build-efi-disk.sh) for the Linux guest test.
#
# Usage: tests/guest/fetch.sh [--print-paths] [--refresh]
#   --print-paths  print KERNEL=<path>, BUSYBOX=<path> and GRUB=<arm64-efi module
#                  folder> on stdout (the value is the rest of the line)
#   --refresh      ignore the cache and fetch again
#
# The packages come through apt with the machine's own sources, but with a private
# state/lists/cache directory and arm64 as the only architecture, so the machine's apt
# state is never touched.  Everything lands in ${TAGVIRT_GUEST_CACHE} (default
# ~/.cache/tagvirt/guest); once it is there a run does not touch the network.
set -euo pipefail

cache=${TAGVIRT_GUEST_CACHE:-${HOME:-/root}/.cache/tagvirt/guest}
print_paths=0
refresh=0
for arg in "$@"; do
    case "$arg" in
    --print-paths) print_paths=1 ;;
    --refresh) refresh=1 ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "fetch.sh: unknown argument '$arg' (accepted: --print-paths, --refresh)" >&2
        exit 2
        ;;
    esac
done

log() { echo "fetch.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

mkdir -p "$cache"
# One fetch at a time per cache: a test and a developer may run this together.
exec 9>"$cache/.fetch.lock"
flock 9

stamp="$cache/fetch.stamp"

print_result() {
    if [ "$print_paths" = 1 ]; then
        echo "KERNEL=$cache/vmlinuz"
        echo "BUSYBOX=$cache/busybox"
        echo "GRUB=$cache/grub-arm64-efi"
    fi
}

cache_complete() {
    [ -f "$stamp" ] && [ -f "$cache/vmlinuz" ] && [ -x "$cache/busybox" ] &&
        [ -f "$cache/grub-arm64-efi/linux.mod" ]
}

if [ "$refresh" = 0 ] && cache_complete; then
    log "cached: $(tr '\n' ' ' <"$stamp")"
    print_result
    exit 0
fi

command -v apt-get >/dev/null || die "apt-get is needed to fetch the arm64 packages"
command -v dpkg >/dev/null || die "dpkg is needed to unpack the arm64 packages"

# Private apt configuration: the machine's sources, our own lists, cache and dpkg status.
priv="$cache/apt"
rm -rf "$priv"
mkdir -p "$priv/etc/sources.list.d" "$priv/state/lists/partial" "$priv/cache/archives/partial"
if [ -f /etc/apt/sources.list ]; then
    cp /etc/apt/sources.list "$priv/etc/sources.list"
else
    : >"$priv/etc/sources.list"
fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && cp "$f" "$priv/etc/sources.list.d/"
done
: >"$priv/status"

apt_opts=(
    -oAPT::Architecture=arm64 -oAPT::Architectures=arm64
    -oDir::State="$priv/state" -oDir::State::status="$priv/status"
    -oDir::Cache="$priv/cache"
    -oDir::Etc::SourceList="$priv/etc/sources.list"
    -oDir::Etc::SourceParts="$priv/etc/sources.list.d"
    -oAcquire::Languages=none
)
# As root apt drops to '_apt' for downloads, which cannot enter a private home directory.
if [ "$(id -u)" = 0 ]; then
    apt_opts+=(-oAPT::Sandbox::User=root)
fi

t0=$(date +%s%N)
log "apt-get update (arm64, private state in $priv)"
apt-get -q "${apt_opts[@]}" update >"$priv/update.log" 2>&1 || {
    cat "$priv/update.log" >&2
    die "apt-get update failed"
}

# linux-image-cloud-arm64 is a metapackage: the kernel itself is in the versioned
# package it depends on.
kernel_pkg=$(apt-cache "${apt_opts[@]}" depends --important linux-image-cloud-arm64 |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-arm64\)$/\1/p' | head -n1)
[ -n "$kernel_pkg" ] || die "cannot resolve the kernel package behind linux-image-cloud-arm64"
log "kernel package: $kernel_pkg"

debs="$cache/debs"
rm -rf "$debs.new"
mkdir -p "$debs.new"
(cd "$debs.new" && apt-get -q "${apt_opts[@]}" download "$kernel_pkg" busybox-static grub-efi-arm64-bin) \
    >"$priv/download.log" 2>&1 || {
    cat "$priv/download.log" >&2
    die "apt-get download failed"
}
rm -rf "$debs"
mv "$debs.new" "$debs"

kernel_deb=$(ls "$debs"/"${kernel_pkg}"_*_arm64.deb)
busybox_deb=$(ls "$debs"/busybox-static_*_arm64.deb)
grub_deb=$(ls "$debs"/grub-efi-arm64-bin_*_arm64.deb)

rm -rf "$cache/kernel" "$cache/busybox-root" "$cache/grub-root"
dpkg -x "$kernel_deb" "$cache/kernel"
dpkg -x "$busybox_deb" "$cache/busybox-root"
dpkg -x "$grub_deb" "$cache/grub-root"

vmlinuz=$(ls "$cache"/kernel/boot/vmlinuz-* | head -n1)
[ -f "$vmlinuz" ] || die "no /boot/vmlinuz-* in $kernel_deb"
[ -x "$cache/busybox-root/bin/busybox" ] || die "no /bin/busybox in $busybox_deb"
[ -f "$cache/grub-root/usr/lib/grub/arm64-efi/linux.mod" ] ||
    die "no /usr/lib/grub/arm64-efi/linux.mod in $grub_deb"
ln -sfn grub-root/usr/lib/grub/arm64-efi "$cache/grub-arm64-efi"
ln -sfn "${vmlinuz#"$cache"/}" "$cache/vmlinuz"
ln -sfn busybox-root/bin/busybox "$cache/busybox"

{
    echo "kernel=$(basename "$kernel_deb")"
    echo "busybox=$(basename "$busybox_deb")"
    echo "grub=$(basename "$grub_deb")"
} >"$stamp.tmp"
mv "$stamp.tmp" "$stamp"
log "fetched $(basename "$kernel_deb") $(basename "$busybox_deb") $(basename "$grub_deb") in $((($(date +%s%N) - t0) / 1000000)) ms"
print_result
