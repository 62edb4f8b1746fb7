#!/bin/bash
# Build the test guest's initramfs: static busybox, our mtetest and the /init script.
#
# Usage: tests/guest/build-initramfs.sh [--print-path] [--selftests]
#   --print-path  print INITRAMFS=<path> on stdout (the value is the rest of the line)
#   --selftests   also the Linux kernel's arm64 MTE selftests (fetch-selftests.sh),
#                 built statically into /selftests; /init runs them after mtetest
#
# The result is ${TAGVIRT_GUEST_CACHE}/initramfs-<hash>.cpio.gz, where the hash covers
# every input (sources, busybox, compiler, this script): it is rebuilt only when one of
# them changes.  Needs aarch64-linux-gnu-gcc, libc6-dev-arm64-cross and cpio; as root
# the missing ones are installed with apt-get.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${TAGVIRT_GUEST_CACHE:-${HOME:-/root}/.cache/tagvirt/guest}
print_path=0
selftests=0
for arg in "$@"; do
    case "$arg" in
    --print-path) print_path=1 ;;
    --selftests) selftests=1 ;;
    -h | --help)
        sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "build-initramfs.sh: unknown argument '$arg' (accepted: --print-path, --selftests)" >&2
        exit 2
        ;;
    esac
done

log() { echo "build-initramfs.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

cc=aarch64-linux-gnu-gcc
missing=()
command -v "$cc" >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || missing+=(libc6-dev-arm64-cross)
command -v cpio >/dev/null || missing+=(cpio)
command -v gzip >/dev/null || missing+=(gzip)
if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing host packages: ${missing[*]} (install them as root)"
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2 ||
        die "apt-get install ${missing[*]} failed"
fi

paths=$("$here/fetch.sh" --print-paths)
busybox=$(sed -n 's/^BUSYBOX=//p' <<<"$paths")
[ -x "$busybox" ] || die "fetch.sh gave no busybox"
# The guest kernel's virtio, network, SCSI, entropy, console, input and TPM
# (tpm_tis: QEMU's tpm-tis-device, found through the device tree) modules, in
# load order, for the
# "tagvirt.guest=stay" mode of /init (networks, hot-plugged disks).
kernel=$(readlink -f "$(sed -n 's/^KERNEL=//p' <<<"$paths")")
kver=${kernel##*/vmlinuz-}
moddir=$cache/kernel/lib/modules/$kver/kernel
modules=(virtio/virtio_ring virtio/virtio virtio/virtio_pci_modern_dev virtio/virtio_pci_legacy_dev
    virtio/virtio_pci ../net/core/failover net/net_failover net/virtio_net block/virtio_blk
    scsi/scsi_common scsi/scsi_mod cdrom/cdrom scsi/sd_mod scsi/sr_mod scsi/virtio_scsi
    char/hw_random/virtio-rng char/virtio_console virtio/virtio_input
    char/tpm/tpm_tis_core char/tpm/tpm_tis)
for m in "${modules[@]}"; do
    [ -f "$moddir/drivers/$m.ko" ] || die "module $m.ko of kernel $kver is not in $moddir"
done

mkdir -p "$cache"
exec 9>"$cache/.initramfs.lock"
flock 9

cflags=(-static -O2 -s -Wall -Wextra -Werror -march=armv8.5-a+memtag)
st_src=""
st_versions=/dev/null
if [ "$selftests" = 1 ]; then
    paths=$("$here/fetch-selftests.sh" --print-paths) || die "fetch-selftests.sh failed"
    st_src=$(sed -n 's/^SRC=//p' <<<"$paths")
    st_versions=$(sed -n 's/^VERSIONS=//p' <<<"$paths")
fi
# the kernel's own build flags for these tests, plus its uapi headers
st_cflags=(-static -O2 -s -std=gnu99 -pthread -march=armv8.5-a+memtag -D__EXPORTED_HEADERS__
    -isystem "$st_src/arch/arm64/include/uapi" -isystem "$st_src/include/uapi")
hash=$({
    sha256sum "$here/mtetest.c" "$here/init" "$here/udhcpc.script" "$0" "$busybox" "$st_versions" |
        cut -d' ' -f1
    echo "$kver"
    "$cc" --version | head -n1
    echo "${cflags[*]} $selftests ${st_cflags[*]}"
} | sha256sum | cut -c1-16)
out="$cache/initramfs-$hash.cpio.gz"

if [ ! -f "$out" ]; then
    t0=$(date +%s%N)
    work=$(mktemp -d "$cache/initramfs-build.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    root="$work/root"
    mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
    "$cc" "${cflags[@]}" -o "$root/bin/mtetest" "$here/mtetest.c"
    if [ "$selftests" = 1 ]; then
        mkdir -p "$root/selftests"
        mte=$st_src/tools/testing/selftests/arm64/mte
        for c in "$mte"/check_*.c; do
            t=$(basename "$c" .c)
            src=$t.c
            if [ "$t" = check_gcr_el1_cswitch ]; then
                # 1024 rounds of 5 threads x 1000 prctl calls take far over 5
                # minutes under TCG: 16 rounds, the same switches otherwise
                sed 's/^#define NUM_ITERATIONS[[:space:]]*1024$/#define NUM_ITERATIONS 16/' "$c" >"$work/$t.c"
                grep -q '^#define NUM_ITERATIONS 16$' "$work/$t.c" || die "$t: NUM_ITERATIONS not found"
                src=$work/$t.c
            fi
            (cd "$mte" && "$cc" "${st_cflags[@]}" -I. -I../.. -o "$root/selftests/$t" "$src" \
                mte_common_util.c mte_helper.S) || die "cannot build selftest $t"
        done
        cp "$st_versions" "$root/selftests/VERSIONS"
    fi
    cp "$busybox" "$root/bin/busybox"
    cp "$here/init" "$root/init"
    cp "$here/udhcpc.script" "$root/bin/udhcpc.script"
    mkdir -p "$root/lib/modules"
    for m in "${modules[@]}"; do
        cp "$moddir/drivers/$m.ko" "$root/lib/modules/"
        echo "${m##*/}" >>"$root/lib/modules/order"
    done
    chmod 0755 "$root/init" "$root/bin/busybox" "$root/bin/mtetest" "$root/bin/udhcpc.script"
    [ "$selftests" = 1 ] && chmod 0755 "$root"/selftests/check_*
    # Fixed owner, order and times make the archive depend on its inputs only.
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -n -9 >"$work/initramfs.cpio.gz"
    mv "$work/initramfs.cpio.gz" "$out"
    log "built $out in $((($(date +%s%N) - t0) / 1000000)) ms"
else
    log "cached: $out"
fi
touch "$out"
# Old builds from other versions of the inputs go after a week unused.
find "$cache" -maxdepth 1 -name 'initramfs-*.cpio.gz' -mtime +7 -delete

if [ "$print_path" = 1 ]; then
    echo "INITRAMFS=$out"
fi
