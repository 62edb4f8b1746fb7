/* <os> for QEMU: firmware chosen at define (firmware='efi' from QEMU's
 * firmware descriptors, qemu_firmware.h), the per-domain variable store's
 * path, the checks, and the command line for the firmware and the boot
 * order.
 *
 * Boot order for device code: each bootable device asks
 * tv_qemu_boot_index() for its bootindex and appends ",bootindex=N" when it
 * is not 0. */
#pragma once

#include "domain_conf.h"
#include "qemu_host.h"

#include <glib.h>

#define TV_QEMU_NVRAM_DIR_DEFAULT "/var/lib/tagvirt/qemu/nvram"

/* Post-parse: firmware='efi' -> the first descriptor that fits (loader,
 * template, the features it has); a pflash loader gets readonly='yes' and
 * its descriptor's template when none is written. */
int tv_qemu_firmware_post_parse(TvDomainDef *def, const TvHostFacts *host);
/* A read-only pflash loader without <nvram> path gets DIR/<name>_VARS.fd
 * (dir NULL: TV_QEMU_NVRAM_DIR_DEFAULT). */
void tv_qemu_firmware_fill_nvram(TvDomainDef *def, const char *dir);
/* The loader exists, the template is readable while the store does not
 * exist yet, ACPI has UEFI, secure='yes' is not asked of a given image. */
int tv_qemu_firmware_validate(const TvDomainDef *def, const TvHostFacts *host);

/* ",pflash0=...,pflash1=..." for -machine. */
void tv_qemu_firmware_machine_opts(GString *machine, const TvDomainDef *def);
/* -bios, or the pflash -blockdev nodes; -boot strict=on with a boot order. */
void tv_qemu_firmware_boot_command(GPtrArray *argv, const TvDomainDef *def);

/* QEMU's bootindex for a device of kind (TV_BOOT_DEV_HD for a disk,
 * _CDROM for a cdrom, _NETWORK for a NIC): its own <boot order='N'/> when
 * it has one, else its kind's place in <os><boot dev> when it is the first
 * device of that kind (libvirt's rule), else 0 (none). */
unsigned tv_qemu_boot_index(const TvDomainDef *def, TvBootDev kind, bool first_of_kind,
                            unsigned device_order);
