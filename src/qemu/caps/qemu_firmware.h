/* QEMU's firmware descriptors (the JSON files QEMU's firmware.json schema
 * describes, shipped by firmware packages such as Debian's qemu-efi-aarch64
 * in /usr/share/qemu/firmware): which UEFI images exist for which machine
 * types and what they offer.  Read under the host root (qemu_host.h), so
 * tests use fixture hosts.
 *
 * Order and overrides as QEMU documents them: the files of
 * /usr/share/qemu/firmware and /etc/qemu/firmware sorted by file name, a file
 * in /etc replacing the one of the same name in /usr/share; an empty file in
 * /etc hides it.  Only flash-mapped UEFI images in split mode (a read-only
 * executable and a variable store template) are used: that is what the
 * aarch64 'virt' machine boots. */
#pragma once

#include "qemu_host.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    char *path; /* the descriptor file, for messages */
    char *description;
    char *executable;     /* mapping.executable.filename */
    char *nvram_template; /* mapping.nvram-template.filename */
    bool secure_boot;     /* features: "secure-boot" */
    bool enrolled_keys;   /* features: "enrolled-keys" */
    char **machines;      /* aarch64 target machine globs ("virt-*") */
    bool usable;          /* flash, split, aarch64, raw, executable present */
    char *why_not;        /* when !usable: the reason, for messages */
} TvQemuFirmware;

typedef struct {
    TvQemuFirmware *items;
    size_t n;
} TvQemuFirmwareList;

/* Every descriptor under host->root (none is not an error). */
TvQemuFirmwareList *tv_qemu_firmware_list(const TvHostFacts *host);
void tv_qemu_firmware_list_free(TvQemuFirmwareList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvQemuFirmwareList, tv_qemu_firmware_list_free)

/* Does fw serve machine type machine ("virt-7.2")? */
bool tv_qemu_firmware_matches_machine(const TvQemuFirmware *fw, const char *machine);

/* A path as seen on this host (under host->root for fixture hosts). */
char *tv_qemu_host_path(const TvHostFacts *host, const char *path);
