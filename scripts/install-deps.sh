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
  libnl-3-dev libnl-route-3-dev dnsmasq-base nftables busybox
  libgnutls28-dev gnutls-bin
  clang-format clang libclang-rt-14-dev
  qemu-system-arm qemu-efi-aarch64 qemu-utils
  swtpm swtpm-tools libnss3-tools apparmor
  gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
  cpio gzip xz-utils ca-certificates
  grub-common mtools dosfstools fdisk
  libvirt-clients python3-libvirt python3 python3-docutils virtinst
  python3-nova
  hyperfine jq procps iproute2 strace systemd
"
# swtpm, swtpm-tools: the TPM emulator tagvirtd starts for a <tpm> (swtpm_setup
# makes its state), run by tests/daemon/tpm-test.py.
# apparmor: apparmor_parser compiles the profiles tagvirtd writes for QEMU and
# swtpm in tests/apparmorprofiletest.c (without a kernel that enforces them).
# libnss3-tools: certutil, which makes the NSS database of the host-certificates
# smartcard in tests/daemon/smartcard-test.py.
# python3-nova: OpenStack Nova's libvirt driver, run by tests/daemon/nova-test.py
# and bench/nova-resource-bench.py.
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
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing" >&2
    $SUDO apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
fi

# QEMU for the main job (scripts/demo, tagvirtd's default emulator): on
# Debian bookworm, qemu-system-arm from bookworm-backports (10.0), Debian's
# own supported route to a newer QEMU.  bookworm's 7.2 has broken MTE tag
# storage (QEMU gitlab issue 1416, fixed in 8.0), so tagvirt does not offer
# MTE there by default; the tests run 7.2 from a fetched copy
# (scripts/test-qemus.sh).
. /etc/os-release
qemu_version=$(dpkg-query -W -f='${Version}' qemu-system-arm 2>/dev/null || true)
if [ "${VERSION_CODENAME:-}" = bookworm ] && ! dpkg --compare-versions "${qemu_version:-0}" ge 1:8.0; then
    list=/etc/apt/sources.list.d/tagvirt-bookworm-backports.sources
    if ! apt-cache policy 2>/dev/null | grep -q 'bookworm-backports/main'; then
        # the machine's own Debian mirror, else Debian's redirector
        mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)\/*$/\1/p' \
            /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
        [ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*debian\)\/*[[:space:]]\{1,\}bookworm[[:space:]].*/\1/p' \
            /etc/apt/sources.list 2>/dev/null | head -n1)
        [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
        echo "install-deps: enabling bookworm-backports ($mirror) in $list" >&2
        printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
            "$mirror" | $SUDO tee "$list" >/dev/null
    fi
    echo "install-deps: installing qemu-system-arm from bookworm-backports (installed: ${qemu_version:-none})" >&2
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-arm >/dev/null
    dpkg-query -W -f='install-deps: qemu-system-arm ${Version}\n' qemu-system-arm >&2
fi
create_qemu_user
