# Sourced by the shell tests: the QEMUs that scripts/test-qemus.sh fetches
# (Debian bookworm's 7.2, trixie's 10.0, sid's 11.1).  A test that needs one
# fails when it is missing; it never skips.
qemu_cache=${TAGVIRT_QEMU_CACHE:-$HOME/.cache/tagvirt}
QEMU_72=${TAGVIRT_QEMU_72:-$qemu_cache/qemu-bookworm/bin/qemu-system-aarch64}
QEMU_100=${TAGVIRT_QEMU_100:-$qemu_cache/qemu-trixie/bin/qemu-system-aarch64}
QEMU_111=${TAGVIRT_QEMU_111:-$qemu_cache/qemu-sid/bin/qemu-system-aarch64}

# qemu_runs PATH: the binary exists and starts
qemu_runs() {
    "$1" --version >/dev/null 2>&1
}
