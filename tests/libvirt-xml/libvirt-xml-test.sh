#!/bin/sh
# libvirt's own aarch64 XML through tagvirt (issue 8's users' check): every
# file of Debian's libvirt source package that libvirt writes for an aarch64
# guest (tests/qemuxml2xmloutdata/*aarch64*: libvirt's normalized output)
# and that needs no KVM (type='qemu'; hvf is macOS) goes through
# `tagvirt domxml-to-native` with this machine's QEMU.  What each gives is
# compared with tests/libvirt-xml/expected ("NAME accepted" or "NAME refused:
# MESSAGE"); docs/formatdomain.rst explains every refusal.  The package is
# fetched once into a cache (fetch.sh); when it cannot be fetched the test
# fails.  TAGVIRT_REGENERATE=1 rewrites the expected file.
#   libvirt-xml-test.sh TAGVIRT CAPS_CACHE_DIR
set -u
TAGVIRT=$1
CACHE=$2
HERE=$(cd "$(dirname "$0")" && pwd)
EXPECTED=$HERE/expected
tests=$("$HERE/fetch.sh") || { echo "1..1"; echo "not ok 1 - fetch Debian's libvirt source package (see above)"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for f in "$tests"/qemuxml2xmloutdata/*aarch64*; do
    name=$(basename "$f" .xml)
    case "$name" in hvf-*) continue ;; esac
    real=$(readlink -f "$f")
    [ -f "$real" ] || continue
    grep -q "<domain type='qemu'" "$real" || continue
    err=$("$TAGVIRT" domxml-to-native --cache-dir "$CACHE" "$real" 2>&1 >/dev/null | head -1)
    if [ -z "$err" ]; then
        echo "$name accepted" >> "$out"
    else
        echo "$name refused: ${err#tagvirt: error: }" >> "$out"
    fi
done
if [ "${TAGVIRT_REGENERATE:-}" = 1 ]; then
    cp "$out" "$EXPECTED"
fi
n=$(wc -l < "$out")
if [ "$n" -eq 0 ]; then
    echo "1..1"; echo "not ok 1 - no aarch64 file found in $tests"; exit 1
fi
echo "1..$((n + 1))"
i=0
fail=0
while IFS= read -r line; do
    i=$((i + 1))
    name=${line%% *}
    want=$(grep "^$name " "$EXPECTED" 2>/dev/null || true)
    if [ "$line" = "$want" ]; then
        echo "ok $i - $line"
    else
        echo "not ok $i - $name: got '${line#* }', expected '${want#* }'"
        fail=1
    fi
done < "$out"
i=$((i + 1))
stale=$(cut -d' ' -f1 "$EXPECTED" | while read -r n; do grep -q "^$n " "$out" || echo "$n"; done)
if [ -z "$stale" ]; then
    echo "ok $i - every entry of expected was seen"
else
    echo "not ok $i - entries of expected that no file gave: $stale"
    fail=1
fi
accepted=$(grep -c " accepted$" "$out")
echo "# $accepted of $n libvirt-written aarch64 TCG files accepted"
exit $fail
