#!/bin/sh
# Install every Debian package tagvirt's build, tests and benchmarks need.
# Runs apt-get update only when something is missing.  Needs root (or sudo).
#   install-deps.sh           build, tests, tagvirtd's own benchmarks
#   install-deps.sh --anchor  also Debian's libvirtd, for the side-by-side
#                             benchmarks (bench/daemon-bench.sh)
set -eu

PACKAGES="
  meson ninja-build gcc pkg-config git
  libglib2.0-dev libxml2-dev libxml2-utils libjson-c-dev libtirpc-dev rpcsvc-proto
  libnl-3-dev libnl-route-3-dev dnsmasq-base nftables
  clang-format
  qemu-system-arm
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
  cpio gzip ca-certificates
  libvirt-clients python3-libvirt python3
  python3-nova qemu-efi-aarch64
  hyperfine jq procps iproute2 strace
"
# python3-nova: OpenStack Nova's libvirt driver, run by tests/daemon/nova-test.py
# and bench/nova-resource-bench.py; qemu-efi-aarch64: the UEFI firmware and its
# descriptors (/usr/share/qemu/firmware) Nova's UEFI guests are given.
# libvirtd answers "virsh version" only when it finds an emulator for the
# host's own architecture, hence qemu-system-x86 beside qemu-system-arm.
if [ "${1:-}" = --anchor ]; then
    PACKAGES="$PACKAGES libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 tini linux-perf"
fi

# The unprivileged user a domain's QEMU runs as (src/daemon/tagvirt-sysusers.conf,
# installed by meson for systemd-sysusers; made here for a build tree).
create_qemu_user() {
    getent passwd tagvirt-qemu >/dev/null && return 0
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "install-deps: creating the system user tagvirt-qemu" >&2
    conf="$(dirname "$0")/../src/daemon/tagvirt-sysusers.conf"
    if command -v systemd-sysusers >/dev/null && $SUDO systemd-sysusers "$conf" 2>/dev/null &&
        getent passwd tagvirt-qemu >/dev/null; then
        return 0
    fi
    getent group kvm >/dev/null || $SUDO groupadd --system kvm
    getent group tagvirt-qemu >/dev/null || $SUDO groupadd --system tagvirt-qemu
    $SUDO useradd --system --gid tagvirt-qemu --groups kvm --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin --comment "tagvirt QEMU guests" tagvirt-qemu
}

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done
if [ -z "$missing" ]; then
    create_qemu_user
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
create_qemu_user
