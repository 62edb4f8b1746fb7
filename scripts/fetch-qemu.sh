#!/bin/bash
# fetch-qemu.sh SUITE DEST: a newer Debian QEMU (qemu-system-arm) on this
# machine without touching the system: apt runs on a private configuration
# (this machine's own sources with the suite changed, an empty dpkg status),
# downloads the package's dependency closure, and every .deb is unpacked with
# dpkg -x into DEST/root.  DEST/bin/qemu-system-aarch64 then runs QEMU through
# that folder's own dynamic loader (exec, so the pid is QEMU's).
#
#   scripts/fetch-qemu.sh trixie /tmp/qemu-trixie
#   /tmp/qemu-trixie/bin/qemu-system-aarch64 --version
#
# The .deb files are kept in $TAGVIRT_QEMU_DEBS (default
# ~/.cache/tagvirt/qemu-debs)/SUITE: sid moves fast and old versions leave the
# archive, so a cached closure is reused when apt cannot reach the archive.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 SUITE DEST   (e.g. trixie /tmp/qemu-trixie)" >&2
    exit 2
fi
SUITE=$1
DEST=$(realpath -m "$2")
CACHE=${TAGVIRT_QEMU_DEBS:-$HOME/.cache/tagvirt/qemu-debs}/$SUITE
HOST_SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "x86_64-linux-gnu")

APTDIR=$CACHE/apt
mkdir -p "$APTDIR/etc/sources.list.d" "$APTDIR/state/lists/partial" "$APTDIR/cache" \
         "$CACHE/debs/partial"
: > "$APTDIR/state/status"

# The machine's sources with the suite replaced; suites that do not exist for
# sid (-updates, -security) are dropped.
rewrite_suites() {
    local from=$1 to=$2
    awk -v from="$from" -v to="$to" '
        function map(s) {
            if (s == from) return to
            if (index(s, from "-") == 1) return (to == "sid" || to == "unstable") ? "" : to substr(s, length(from) + 1)
            return s
        }
        # one-line format: deb URI SUITE COMPONENTS...
        /^[[:space:]]*deb[[:space:]]/ {
            n = split($0, w, /[[:space:]]+/); i = 2
            if (w[i] ~ /^\[/) { while (w[i] !~ /\]$/) i++; i++ }
            i++; s = map(w[i]); if (s == "") next
            w[i] = s; line = w[1]; for (j = 2; j <= n; j++) line = line " " w[j]; print line; next
        }
        # deb822 format: Suites: a b c (a stanza left without suites is dropped)
        /^Suites:/ {
            out = ""; n = split(substr($0, 8), w, /[[:space:]]+/)
            for (j = 1; j <= n; j++) if (w[j] != "") { s = map(w[j]); if (s != "") out = out " " s }
            if (out == "") { print "Enabled: no" } else print "Suites:" out
            next
        }
        { print }
    '
}
rm -f "$APTDIR/etc/sources.list" "$APTDIR"/etc/sources.list.d/*
touch "$APTDIR/etc/sources.list"
if [ -f /etc/apt/sources.list ]; then
    rewrite_suites "$HOST_SUITE" "$SUITE" < /etc/apt/sources.list > "$APTDIR/etc/sources.list"
fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    rewrite_suites "$HOST_SUITE" "$SUITE" < "$f" > "$APTDIR/etc/sources.list.d/$(basename "$f")"
done

APT=(apt-get -q -o "Dir::State=$APTDIR/state" -o "Dir::State::status=$APTDIR/state/status"
     -o "Dir::Etc::SourceList=$APTDIR/etc/sources.list"
     -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
     -o "Dir::Cache=$APTDIR/cache" -o "Dir::Cache::archives=$CACHE/debs"
     -o "APT::Architecture=$ARCH" -o "APT::Architectures=$ARCH"
     -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1"
     -o "APT::Install-Recommends=false")

CLOSURE=$CACHE/closure.txt
# the NICs' boot ROMs (efi-virtio.rom: QEMU refuses a virtio-net-pci without
# it): a Recommends of qemu-system-data in trixie, inside it in later suites
PKGS=(qemu-system-arm)
APT_CACHE=(apt-cache "${APT[@]:1}")
if "${APT[@]}" update > "$CACHE/update.log" 2>&1 &&
   { ! "${APT_CACHE[@]}" show ipxe-qemu > /dev/null 2>&1 || PKGS+=(ipxe-qemu); } &&
   "${APT[@]}" -s -y install "${PKGS[@]}" > "$CACHE/simulate.txt" 2>> "$CACHE/update.log"; then
    # the closure from the simulation ("Inst NAME (VERSION SUITE [ARCH])"), not from
    # --print-uris, which lists nothing for packages already in the cache
    awk '$1 == "Inst" { v = $3; sub(/^\(/, "", v); sub(/:/, "%3a", v);
                        match($0, /\[[a-z0-9]+\]\)/); a = substr($0, RSTART + 1, RLENGTH - 3);
                        print $2 "_" v "_" a ".deb" }' \
        "$CACHE/simulate.txt" > "$CLOSURE.new"
    "${APT[@]}" -y --download-only install "${PKGS[@]}" >> "$CACHE/update.log" 2>&1
    missing=$(while read -r deb; do [ -f "$CACHE/debs/$deb" ] || echo "$deb"; done < "$CLOSURE.new")
    if [ -n "$missing" ] || [ ! -s "$CLOSURE.new" ]; then
        echo "fetch-qemu: the download lacks:" $missing "(see $CACHE/update.log)" >&2
        exit 1
    fi
    mv "$CLOSURE.new" "$CLOSURE"
elif [ -s "$CLOSURE" ]; then
    echo "fetch-qemu: apt failed (see $CACHE/update.log); using the cached closure" >&2
else
    echo "fetch-qemu: apt failed and nothing is cached; see $CACHE/update.log" >&2
    exit 1
fi

ROOT=$DEST/root
rm -rf "$ROOT"
mkdir -p "$ROOT" "$DEST/bin"
while read -r deb; do
    # apt stores an epoch's ':' as %3a
    dpkg -x "$CACHE/debs/$deb" "$ROOT"
done < "$CLOSURE"

LIBDIR=$ROOT/usr/lib/$MULTIARCH
# usr-merged packages (trixie, sid) put the loader under usr/lib, bookworm's
# libc6 under lib
LOADER=""
for d in "$LIBDIR" "$ROOT/lib/$MULTIARCH"; do
    for f in "$d"/ld-linux-x86-64.so.2 "$d"/ld-linux*.so.*; do
        [ -e "$f" ] && { LOADER=$f; break 2; }
    done
done
[ -n "$LOADER" ] || { echo "fetch-qemu: no dynamic loader in $ROOT" >&2; exit 1; }
# QEMU finds modules and firmware relative to /proc/self/exe (the loader):
# DIR-OF-LOADER/qemu-bundle must be ROOT
LOADER_DIR=$(dirname "$LOADER")
ln -sfn "$(realpath --relative-to="$LOADER_DIR" "$ROOT")" "$LOADER_DIR/qemu-bundle"

cat > "$DEST/bin/qemu-system-aarch64" <<WRAPPER
#!/bin/sh
# QEMU from Debian $SUITE unpacked in $ROOT (scripts/fetch-qemu.sh)
exec "$LOADER" --argv0 "\$0" --library-path "$LIBDIR:$ROOT/lib/$MULTIARCH" "$ROOT/usr/bin/qemu-system-aarch64" "\$@"
WRAPPER
chmod 755 "$DEST/bin/qemu-system-aarch64"
VERSION=$(dpkg-deb -f "$CACHE/debs/$(grep '^qemu-system-arm_' "$CLOSURE")" Version)
echo "$VERSION" > "$DEST/version"
"$DEST/bin/qemu-system-aarch64" --version | head -n1
echo "qemu-system-arm $VERSION from $SUITE in $DEST"
