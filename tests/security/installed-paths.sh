#!/bin/bash
# An installed program never reads the build or source tree it was compiled
# in (tv_paths.h): a copy of tools/tagvirt outside the build tree probes and
# validates under strace, and no file it touches lies in either tree.  The
# same binary run from the build tree does use the tree (so the check can see
# it).  TAP.
#
# Usage: installed-paths.sh BUILD_DIR SOURCE_DIR EXAMPLE_XML
set -u
# meson points the loader at the build tree for the fork server module it built
unset LD_LIBRARY_PATH
BUILD=$(realpath "$1") SRC=$(realpath "$2") XML=$(realpath "$3")
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
for tool in strace qemu-system-aarch64; do
    command -v $tool >/dev/null || { echo "1..1"; echo "not ok 1 - $tool is not installed (scripts/install-deps.sh installs it)"; exit 1; }
done
tmp=$(mktemp -d /tmp/tvpaths-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
cp "$BUILD/tools/tagvirt" "$tmp/tagvirt"
# the files an installation would have, where the environment says (the
# schema is left to its installed path: the trees must not stand in for it)
mkdir "$tmp/fw"
cp "$BUILD/firmware/probe.elf" "$tmp/fw/"
zygote=$(find "$BUILD/src" -name tagvirt-zygote.so | head -1)
cp "$zygote" "$tmp/tagvirt-zygote.so"
export TAGVIRT_FIRMWARE_DIR="$tmp/fw" TAGVIRT_ZYGOTE_LIB="$tmp/tagvirt-zygote.so"
# the domain and its kernel outside the trees too
kernel=$(sed -n 's|.*<kernel>\(.*\)</kernel>.*|\1|p' "$XML")
cp "$kernel" "$tmp/kernel.elf"
sed "s|<kernel>.*</kernel>|<kernel>$tmp/kernel.elf</kernel>|" "$XML" >"$tmp/domain.xml"

# files under the trees that a run opened or stat'ed (the trees' own folders
# are looked at to tell whether the program runs from the build tree)
touched() { grep -oE '"(/[^"]*)"' "$1" | tr -d '"' | grep -E "^($BUILD|$SRC)/" | grep -vxF "$BUILD" | sort -u; }

for cmd in probe validate; do
    args=(--cache-dir "$tmp/cache-$cmd" --no-cache)
    [ "$cmd" = validate ] && args=(--cache-dir "$tmp/cache-$cmd" "$tmp/domain.xml")
    (cd "$tmp" && strace -f -qq -e trace=%file -o "$tmp/$cmd.trace" ./tagvirt "$cmd" "${args[@]}" \
        >"$tmp/$cmd.out" 2>&1)
    hits=$(touched "$tmp/$cmd.trace")
    if [ -z "$hits" ]; then
        ok "installed 'tagvirt $cmd' touches nothing in the build or source tree"
    else
        nok "installed 'tagvirt $cmd' touches nothing in the build or source tree" $hits
    fi
done

# control: from the build tree the same command does use the tree's files
(cd "$tmp" && strace -f -qq -e trace=%file -o "$tmp/built.trace" "$BUILD/tools/tagvirt" validate \
    --cache-dir "$tmp/cache-built" "$XML" >"$tmp/built.out" 2>&1)
if touched "$tmp/built.trace" | grep -q "domain.rng"; then
    ok "the build tree's tagvirt reads the source tree's schema"
else
    nok "the build tree's tagvirt reads the source tree's schema" "$(cat "$tmp/built.out")"
fi
if grep -q "^tagvirt: " "$tmp/built.out" && ! grep -qi valid "$tmp/built.out"; then
    nok "the build tree's tagvirt validates $XML" "$(cat "$tmp/built.out")"
else
    ok "the build tree's tagvirt validates $(basename "$XML")"
fi
echo "1..$n"
[ $failed -eq 0 ]
