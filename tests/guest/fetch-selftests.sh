#!/bin/bash
# Fetch what the guest kit's MTE selftests need, from Debian sid:
#   - linux-source-X.Y: the kernel's own arm64 MTE selftests
#     (tools/testing/selftests/arm64/mte) and the uapi headers they build with;
#   - the arm64 cloud kernel of the same version (linux-binary-*-cloud-arm64),
#     new enough (6.16/6.17 and later) that a guest sees FEAT_MTE4's parts in
#     AT_HWCAP3 (MTEFAR, MTESTOREONLY), so level 4 is really exercised.
#
# Usage: tests/guest/fetch-selftests.sh [--print-paths] [--refresh]
#   --print-paths  print SRC=<dir> (the unpacked subset of the source),
#                  KERNEL=<vmlinuz> and VERSIONS=<file>
#   --refresh      fetch again (sid moves: the exact versions are in VERSIONS)
#
# Private apt state (arm64, sid), like fetch.sh; everything lands in
# ${TAGVIRT_GUEST_CACHE:-~/.cache/tagvirt/guest}/selftests and, once there,
# is reused without the network.
set -euo pipefail

cache=${TAGVIRT_GUEST_CACHE:-${HOME:-/root}/.cache/tagvirt/guest}/selftests
print_paths=0
refresh=0
for arg in "$@"; do
    case "$arg" in
    --print-paths) print_paths=1 ;;
    --refresh) refresh=1 ;;
    *)
        echo "fetch-selftests.sh: unknown argument '$arg' (accepted: --print-paths, --refresh)" >&2
        exit 2
        ;;
    esac
done
log() { echo "fetch-selftests.sh: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

mkdir -p "$cache"
exec 9>"$cache/.fetch.lock"
flock 9
stamp=$cache/versions.txt

print_result() {
    if [ "$print_paths" = 1 ]; then
        echo "SRC=$cache/src"
        echo "KERNEL=$cache/vmlinuz"
        echo "VERSIONS=$stamp"
    fi
}
if [ "$refresh" = 0 ] && [ -s "$stamp" ] && [ -f "$cache/vmlinuz" ] &&
    [ -d "$cache/src/tools/testing/selftests/arm64/mte" ]; then
    log "cached: $(tr '\n' ' ' <"$stamp")"
    print_result
    exit 0
fi

priv=$cache/apt
rm -rf "$priv"
mkdir -p "$priv/etc/sources.list.d" "$priv/state/lists/partial" "$priv/cache/archives/partial"
# the machine's Debian mirror, suite sid
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*debian\)\/*$/\1/p' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\{1,\}\(http[^[:space:]]*debian\)\/*[[:space:]].*/\1/p' \
    /etc/apt/sources.list 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" >"$priv/etc/sources.list.d/sid.sources"
: >"$priv/etc/sources.list"
: >"$priv/status"
apt_opts=(
    -oAPT::Architecture=arm64 -oAPT::Architectures=arm64,all
    -oDir::State="$priv/state" -oDir::State::status="$priv/status"
    -oDir::Cache="$priv/cache"
    -oDir::Etc::SourceList="$priv/etc/sources.list"
    -oDir::Etc::SourceParts="$priv/etc/sources.list.d"
    -oAcquire::Languages=none
)
[ "$(id -u)" = 0 ] && apt_opts+=(-oAPT::Sandbox::User=root)

log "apt-get update (sid, arm64, private state in $priv)"
apt-get -q "${apt_opts[@]}" update >"$priv/update.log" 2>&1 || {
    cat "$priv/update.log" >&2
    die "apt-get update failed"
}
src_pkg=$(apt-cache "${apt_opts[@]}" depends linux-source |
    sed -n 's/^ *Depends: \(linux-source-[0-9.]*\)$/\1/p' | head -n1)
image_pkg=$(apt-cache "${apt_opts[@]}" depends --important linux-image-cloud-arm64 |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-arm64\)$/\1/p' | head -n1)
binary_pkg=${image_pkg/linux-image-/linux-binary-}
[ -n "$src_pkg" ] && [ -n "$image_pkg" ] || die "cannot resolve linux-source / linux-image-cloud-arm64 in sid"
log "packages: $src_pkg $binary_pkg"

debs=$cache/debs
rm -rf "$debs.new"
mkdir -p "$debs.new"
(cd "$debs.new" && apt-get -q "${apt_opts[@]}" download "$src_pkg" "$binary_pkg") \
    >"$priv/download.log" 2>&1 || {
    cat "$priv/download.log" >&2
    die "apt-get download failed"
}
rm -rf "$debs"
mv "$debs.new" "$debs"

work=$(mktemp -d "$cache/unpack.XXXXXX")
trap 'rm -rf "$work"' EXIT
dpkg-deb --fsys-tarfile "$debs"/"${binary_pkg}"_*_arm64.deb |
    tar -x -C "$work" --wildcards --transform 's,^\./,kernel/,' './boot/vmlinuz-*' './usr/lib/modules/*/vmlinuz' 2>/dev/null ||
    true
# /boot/vmlinuz-* in older packages, /usr/lib/modules/*/vmlinuz in newer ones
vmlinuz=$(ls "$work"/kernel/boot/vmlinuz-* "$work"/kernel/usr/lib/modules/*/vmlinuz 2>/dev/null | head -n1 || true)
[ -n "$vmlinuz" ] && [ -f "$vmlinuz" ] || die "no vmlinuz in $binary_pkg"
dpkg -x "$debs"/"${src_pkg}"_*_all.deb "$work/source"
tarball=$(ls "$work"/source/usr/src/linux-source-*.tar.* | head -n1 || true)
top=$(basename "$tarball" | sed 's/\.tar\..*//')
# only what the selftests build needs: the mte tests, kselftest's headers
# and the uapi headers (HWCAP3_MTE_FAR, PR_MTE_STORE_ONLY are newer than the
# cross toolchain's)
tar -xf "$tarball" -C "$work" --wildcards \
    "$top/tools/testing/selftests/arm64/mte/*" "$top/tools/testing/selftests/kselftest*" \
    "$top/include/uapi/*" "$top/arch/arm64/include/uapi/*" "$top/COPYING"
rm -rf "$cache/src" "$cache/vmlinuz"
mv "$work/$top" "$cache/src"
cp "$vmlinuz" "$cache/vmlinuz"
{
    dpkg-deb -f "$debs"/"${src_pkg}"_*_all.deb Package Version | paste -sd' '
    dpkg-deb -f "$debs"/"${binary_pkg}"_*_arm64.deb Package Version | paste -sd' '
    echo "kernel ${vmlinuz#"$work"/kernel}"
} >"$stamp"
log "fetched: $(tr '\n' ' ' <"$stamp")"
print_result
