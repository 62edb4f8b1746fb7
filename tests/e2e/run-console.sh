#!/bin/bash
# TAP: `tagvirt run` shows every byte the guest wrote on its serial console,
# also the last ones written just before QEMU exits.  The demo guest
# (firmware/demo) is run RUNS times (default 100) through `tagvirt run`;
# each run's stdout must equal what the same guest prints with QEMU's own
# -serial stdio, byte for byte except the random tags (0-f), which the
# comparison masks.
# Usage: run-console.sh TAGVIRT DEMO.elf CAPS_CACHE_DIR [RUNS]
set -uo pipefail
tagvirt=$1
demo=$(realpath "$2")
cache=$3
runs=${4:-${TAGVIRT_RUN_CONSOLE_RUNS:-100}}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../qemus.sh"
work=$(mktemp -d /tmp/tvrunconsole-XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "1..2"
if ! qemu_runs "$QEMU_100"; then
    echo "Bail out! $QEMU_100 does not run: run scripts/test-qemus.sh"
    exit 1
fi
mask() { sed -E 's/(tag|wrong tag) 0x[0-9a-f]/\1 0xT/; s/0x0[0-9a-f]0000004/0x0T0000004/g'; }

# what the guest writes, as QEMU itself shows it
timeout 60 "$QEMU_100" -M virt,mte=on -cpu max -display none -nodefaults -no-user-config \
    -serial stdio -kernel "$demo" </dev/null 2>/dev/null | mask >"$work/expected"
bytes=$(wc -c <"$work/expected")
if [ "$(tail -n1 "$work/expected")" = "tagvirt-demo: done level=3 result=PASS" ]; then
    echo "ok 1 - the demo guest under QEMU 10.0 -serial stdio: $(wc -l <"$work/expected") lines, $bytes bytes"
else
    echo "not ok 1 - the demo guest under QEMU 10.0 -serial stdio"
    sed 's/^/# /' "$work/expected"
    exit 1
fi

cat >"$work/demo.xml" <<XML
<domain type='qemu'>
  <name>run-console</name>
  <memory unit='MiB'>128</memory>
  <os>
    <type arch='aarch64' machine='virt'>hvm</type>
    <kernel>$demo</kernel>
  </os>
  <features><mte version='3'/></features>
  <cpu mode='maximum'/>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$QEMU_100</emulator>
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
XML
complete=0
short=""
for ((i = 1; i <= runs; i++)); do
    timeout 60 "$tagvirt" run --state-dir "$work/run" --log-dir "$work/log" --cache-dir "$cache" \
        "$work/demo.xml" >"$work/out" 2>"$work/err" </dev/null
    rc=$?
    if [ $rc -eq 0 ] && mask <"$work/out" | cmp -s - "$work/expected"; then
        complete=$((complete + 1))
    else
        short="$short $i:$(wc -c <"$work/out")B,rc=$rc"
        cp "$work/out" "$work/bad.out"
        cp "$work/err" "$work/bad.err"
    fi
done
if [ $complete -eq "$runs" ]; then
    echo "ok 2 - tagvirt run showed all $bytes bytes in $complete of $runs runs"
else
    echo "not ok 2 - tagvirt run showed all $bytes bytes in only $complete of $runs runs (run:bytes seen:$short)"
    { echo "-- last short run's stdout:"; cat "$work/bad.out"; echo "-- its stderr:"; cat "$work/bad.err"; } | sed 's/^/# /' | tail -40
fi
