#!/bin/bash
# tagvirtd against Debian's libvirtd, driven by the same virsh in the same
# sitting: runs the shared anchor benchmark (libvirt-anchor/bench.sh) against
# `tagvirtd --root TMP`, then (ANCHOR=1, the default) against a private
# libvirtd started with libvirt-anchor/daemon.sh, and prints both tables;
# then, with both daemons up, bench/daemon-interleave.py alternates the two
# run by run (the ratios to trust on a shared machine).
#
#   bench/daemon-bench.sh [BUILD_DIR [ANCHOR_SCRIPTS]]  # default: build
#                                            # and ../shared/bench/libvirt-anchor
#   ANCHOR=0 bench/daemon-bench.sh build     # tagvirtd only
#   RUNS=30 LOOP=50 NDOMS=100 ...            # passed on to bench.sh
#
# Results: $OUTROOT (default /tmp/tagvirt-daemon-bench/<timestamp>)/{tagvirtd,libvirtd}.
# Needs: virsh, hyperfine, jq, tini (for daemon.sh), libvirt-daemon-driver-qemu
# and qemu-system-x86 (only for the libvirtd side; installed here), the built
# firmware (demo-loop.elf, probe.elf).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${ANCHOR:-1}" = 1 ]; then ./scripts/install-deps.sh --anchor; else ./scripts/install-deps.sh; fi
BUILD=$(realpath "${1:-build}")
# the shared anchor benchmark, beside the project (../shared from its root),
# unless given as the second argument or in $ANCHOR_SCRIPTS
ANCHOR_SCRIPTS=${2:-${ANCHOR_SCRIPTS:-../shared/bench/libvirt-anchor}}
[ -d "$ANCHOR_SCRIPTS" ] || {
    echo "daemon-bench: no anchor benchmark at $ANCHOR_SCRIPTS (give its folder as the second argument)" >&2
    exit 2
}
ANCHOR_SCRIPTS=$(realpath "$ANCHOR_SCRIPTS")
OUTROOT=${OUTROOT:-/tmp/tagvirt-daemon-bench/$(date +%Y%m%d-%H%M%S)}
export KERNEL=${KERNEL:-$BUILD/firmware/demo-loop.elf}
export PROBE=${PROBE:-$BUILD/firmware/probe.elf}
for f in "$BUILD/src/daemon/tagvirtd" "$KERNEL" "$PROBE" "$ANCHOR_SCRIPTS/bench.sh"; do
    [ -e "$f" ] || { echo "daemon-bench: missing $f" >&2; exit 2; }
done
W=$(mktemp -d /tmp/tvbench-daemon-XXXXXX)
export SERIALDIR=$W/serial
DAEMON=
cleanup() {
    [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
    if [ -f "$W/anchor/libvirtd.pid" ]; then ANCHOR_DIR=$W/anchor "$ANCHOR_SCRIPTS/daemon.sh" stop >/dev/null || true; fi
    local p
    for p in $(pgrep -f "qemu-system-aarch64.*$W" || true); do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
mkdir -p "$OUTROOT"

# --- tagvirtd
"$BUILD/src/daemon/tagvirtd" --root "$W/tagvirtd" >"$W/tagvirtd.log" 2>&1 &
DAEMON=$!
URI="qemu+unix:///system?socket=$W/tagvirtd/tagvirtd-sock"
for i in $(seq 1 600); do
    [ -S "$W/tagvirtd/tagvirtd-sock" ] && virsh -q -c "$URI" version >/dev/null 2>&1 && break
    sleep 0.1
done
echo "== tagvirtd pid $DAEMON ($URI)"
DAEMON_PID=$DAEMON OUTDIR=$OUTROOT/tagvirtd "$ANCHOR_SCRIPTS/bench.sh" "$URI"

# --- libvirtd, same sitting
if [ "${ANCHOR:-1}" = 1 ]; then
    export ANCHOR_DIR=$W/anchor
    "$ANCHOR_SCRIPTS/daemon.sh" start default
    LURI="qemu+unix:///system?socket=$ANCHOR_DIR/sock/libvirt-sock"
    echo "== libvirtd ($LURI)"
    DAEMON_PID=$("$ANCHOR_SCRIPTS/daemon.sh" pid) OUTDIR=$OUTROOT/libvirtd "$ANCHOR_SCRIPTS/bench.sh" "$LURI"
    echo "== interleaved (both daemons up)"
    python3 bench/daemon-interleave.py --rounds "${ROUNDS:-15}" --loop "${LOOP:-50}" \
        --ndoms "${NDOMS:-100}" "$KERNEL" "tagvirtd=$URI" "libvirtd=$LURI" | tee "$OUTROOT/interleaved.md"
    "$ANCHOR_SCRIPTS/daemon.sh" stop
fi
kill "$DAEMON"; wait "$DAEMON" 2>/dev/null || true; DAEMON=

echo
echo "== medians (ms; l* rows: the loop's total / LOOP, as the issue states its targets)"
(cd "$OUTROOT" && python3 "$ANCHOR_SCRIPTS/aggregate.py" $(ls -d tagvirtd libvirtd 2>/dev/null))
# the per-op cost without virsh's own start-up: (loop of L) - (one call), over L-1
echo
echo "== per operation without the client's start-up: (median of l<x> * L - median of <x>) / (L - 1)"
for side in tagvirtd libvirtd; do
    [ -d "$OUTROOT/$side" ] || continue
    python3 - "$OUTROOT/$side" "${LOOP:-50}" <<'EOF'
import json, sys
d, L = sys.argv[1], int(sys.argv[2])
med = lambda k: json.load(open(f"{d}/{k}.json"))["results"][0]["median"] * 1000
pairs = [("version", "a", "la"), ("domcapabilities", "b", "lb"), ("capabilities", "c", "lc"),
         ("define+undefine", "d", "ld"), ("dumpxml", "e", "le"), ("list --all (1 dom)", "g0", "lg0"),
         ("list --all (101 doms)", "g", "lg")]
print(d.split("/")[-1] + ": " + ", ".join(f"{n} {(med(l) - med(s)) / (L - 1):.3f}" for n, s, l in pairs))
EOF
done
echo "results: $OUTROOT"
