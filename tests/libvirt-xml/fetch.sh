#!/bin/sh
# Fetch Debian's libvirt source package (the one of this Debian release) and
# unpack its XML test data into the cache: $TAGVIRT_LIBVIRT_CACHE, default
# ~/.cache/tagvirt/libvirt.  apt runs with its own sources list, lists and
# cache under the cache folder (a deb-src line for this release), so the
# machine's apt configuration is not touched.  libvirt's test files are
# LGPL-2.1-or-later: they are used at test time from the cache, never copied
# into this repository.  Prints the unpacked tests/ folder; exits non-zero
# (with the reason) when it cannot fetch.
set -eu
CACHE=${TAGVIRT_LIBVIRT_CACHE:-$HOME/.cache/tagvirt/libvirt}
. /etc/os-release
SUITE=${VERSION_CODENAME:-bookworm}
mkdir -p "$CACHE"
found=$(ls -d "$CACHE"/libvirt-*/tests 2>/dev/null | head -1 || true)
if [ -n "$found" ] && [ -d "$found/qemuxml2xmloutdata" ]; then
    echo "$found"
    exit 0
fi
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/parts" "$CACHE/src"
echo "deb-src http://deb.debian.org/debian $SUITE main" > "$APT/sources.list"
O="-o Dir::Etc::SourceList=$APT/sources.list -o Dir::Etc::SourceParts=$APT/parts"
O="$O -o Dir::State::Lists=$APT/lists -o Dir::Cache=$APT -o Debug::NoLocking=1"
# shellcheck disable=SC2086
apt-get $O -q update >&2 || { echo "fetch.sh: apt-get update (deb-src $SUITE) failed" >&2; exit 1; }
# shellcheck disable=SC2086
(cd "$CACHE/src" && apt-get $O -q source --download-only libvirt >&2) ||
    { echo "fetch.sh: apt-get source libvirt failed" >&2; exit 1; }
orig=$(ls "$CACHE"/src/libvirt_*.orig.tar.xz | head -1)
top=$(tar -tJf "$orig" | head -1 | cut -d/ -f1)
tar -xJf "$orig" -C "$CACHE" --wildcards "$top/tests/qemuxml2xmloutdata/*" \
    "$top/tests/qemuxml2argvdata/*.xml" "$top/COPYING.LESSER" >&2
echo "$CACHE/$top/tests"
