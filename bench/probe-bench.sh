#!/bin/bash
# Capability probe timings (docs/performance.md, "Capabilities probe").
#
#   bench/probe-bench.sh [BUILDDIR] [BINARY] [RUNS]
#
# Cold probe: tests/qemucapsrecord probes BINARY from scratch (QMP process +
# every guest-ABI boot), once per worker count, under hyperfine.  Cached
# lookup: the same tool times a lookup from the disk cache and from memory.
set -euo pipefail
BUILD=${1:-build}
BINARY=${2:-/usr/bin/qemu-system-aarch64}
RUNS=${3:-20}
TOOL=$BUILD/tests/qemucapsrecord
[ -x "$TOOL" ] || { echo "build first: ninja -C $BUILD tests/qemucapsrecord" >&2; exit 1; }

echo "# $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $("$BINARY" --version | head -n1)"
if command -v hyperfine > /dev/null; then
    for p in 1 2 3 4; do
        hyperfine -N -w 2 -r "$RUNS" --export-json "/tmp/probe-bench-$p.json" \
            -n "cold probe, $p boots at once" "$TOOL --parallel $p $BINARY" 2>&1 |
            grep -E 'Time|Range|cold probe'
        python3 -c "import json,statistics as s; r=json.load(open('/tmp/probe-bench-$p.json'))['results'][0]['times']; print('  median %.0f ms, min %.0f ms, max %.0f ms' % (s.median(r)*1e3, min(r)*1e3, max(r)*1e3))"
    done
else
    for p in 1 2 3 4; do
        for i in $(seq "$RUNS"); do "$TOOL" --parallel "$p" "$BINARY" 2>&1; done |
            awk -v p="$p" '{ print $4 }' | sort -n |
            awk -v p="$p" '{ a[NR] = $1 } END { printf "parallel %d: median %.0f ms, min %.0f, max %.0f\n", p, a[int((NR + 1) / 2)], a[1], a[NR] }'
    done
fi

CACHE=$(mktemp -d /tmp/probe-bench-cache-XXXXXX)
"$TOOL" --cache "$CACHE" --repeat 10000 "$BINARY"
rm -rf "$CACHE"
