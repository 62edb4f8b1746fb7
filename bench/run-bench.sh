#!/bin/bash
# Runtime benchmarks:
#  1. time to the bundled guest's first console line: `tagvirt run
#     build/examples/mte3.xml` against the same argv by hand (from
#     `tagvirt domxml-to-native`, serial on stdio instead of a pty), and by
#     hand with the environment the runtime gives QEMU (GLIBC_TUNABLES);
#     interleaved runs, medians (bench/first-line.py);
#  2. the whole run (boot, tag tests, power off) with hyperfine;
#  3. destroy latency of a running guest (the e2e test's figures).
# Usage: bench/run-bench.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RUNS=${2:-20}
T=$BUILD/tools/tagvirt
XML=$BUILD/examples/mte3.xml
work=$(mktemp -d /tmp/tvbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "run-bench: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }

"$T" domxml-to-native "$XML" | sed 's/ \\$//; s/-chardev pty,id=charserial0/-chardev stdio,id=charserial0/' |
    tr '\n' ' ' > "$work/by-hand.sh"
RUN="$T run --state-dir $work/run --log-dir $work/log $XML"
echo "== machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(qemu-system-aarch64 --version | head -1)"
echo "== by hand: $(cat "$work/by-hand.sh")"
echo
echo "== time to the first console line ($RUNS interleaved runs each)"
python3 bench/first-line.py "$RUNS" "by-hand=sh $work/by-hand.sh" \
    "by-hand+env=GLIBC_TUNABLES=glibc.malloc.hugetlb=1 sh $work/by-hand.sh" "tagvirt-run=$RUN"
echo
echo "== whole run: boot, tag tests, power off (hyperfine)"
hyperfine -N -w 2 -r "$RUNS" --export-markdown "$work/whole.md" \
    -n by-hand "sh $work/by-hand.sh" -n tagvirt-run "$RUN" > /dev/null
cat "$work/whole.md"
echo
echo "== destroy latency, 7 guests each: no writable disk (SIGKILL at once), then a raw disk (SIGTERM first)"
"$BUILD/tests/runtimetest" -p /runtime/destroy-latency -p /runtime/destroy-latency-disk 2>&1 | grep -E "destroy ms|^(not )?ok"
