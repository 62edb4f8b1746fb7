#!/bin/sh
# Make sure a QEMU >= 8.2 (Debian trixie's) is in $TAGVIRT_QEMU_NEWER_DIR
# (default ~/.cache/tagvirt/qemu-trixie), so the MTE level 2 cases
# (cortex-a710) run; without it those cases are reported as skipped.
# Never fails: a missing newer QEMU only costs those cases.
cd "$(dirname "$0")/.."
NEWER=${TAGVIRT_QEMU_NEWER_DIR:-$HOME/.cache/tagvirt/qemu-trixie}
if ! "$NEWER/bin/qemu-system-aarch64" --version >/dev/null 2>&1; then
    ./scripts/fetch-qemu.sh trixie "$NEWER" >/dev/null ||
        echo "newer-qemu: no newer QEMU (scripts/fetch-qemu.sh failed); MTE level 2 cases will be skipped" >&2
fi
exit 0
