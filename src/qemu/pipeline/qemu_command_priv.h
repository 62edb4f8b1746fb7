/* Internal to the command line builder (qemu_command*.c). */
#pragma once

#include "qemu_command.h"
#include "qemu_domain.h"

void tv_qemu_argv_add(GPtrArray *argv, const char *arg);
void tv_qemu_argv_addf(GPtrArray *argv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* ",bus=pci.3,addr=0x0" and the like for a device's address (nothing for
 * TV_ADDRESS_NONE). */
void tv_qemu_append_address(GString *out, const TvDeviceAddress *addr);
/* "OPTION OBJECT" (qemu_command_object.c) */
void tv_qemu_argv_add_object(GPtrArray *argv, const char *option, const TvQemuObject *o);
/* "-device DEVICE" with the address appended. */
void tv_qemu_argv_add_device(GPtrArray *argv, const TvDeviceAddress *addr, const char *device);
/* The same with ",bootindex=N" when bootindex is not 0 (qemu_boot.h). */
void tv_qemu_argv_add_device_boot(GPtrArray *argv, const TvDeviceAddress *addr, const char *device,
                                  unsigned bootindex);

/* qemu_command_devices.c */
void tv_qemu_build_topology(GPtrArray *argv, const TvDomainDef *def);
void tv_qemu_build_display(GPtrArray *argv, const TvDomainDef *def);

/* qemu_command_chr.c: serial ports, consoles, channels and their chardevs */
void tv_qemu_build_chardevs(GPtrArray *argv, const TvDomainDef *def,
                            const TvQemuCommandOptions *opts);
/* qemu_command_devices.c: memballoon, panic, watchdog */
void tv_qemu_build_misc(GPtrArray *argv, const TvDomainDef *def);
/* qemu_command_sound.c, qemu_command_filesystem.c, qemu_command_vsock.c */
void tv_qemu_build_sounds(GPtrArray *argv, const TvDomainDef *def);
void tv_qemu_build_filesystems(GPtrArray *argv, const TvDomainDef *def);
void tv_qemu_build_vsock(GPtrArray *argv, const TvDomainDef *def, const TvQemuCommandOptions *opts);
/* qemu_command_tpm.c: -chardev/-tpmdev/-device of a <tpm>; -1 without opts->tpm_fd */
int tv_qemu_build_tpm(GPtrArray *argv, const TvDomainDef *def, const TvQemuCommandOptions *opts);
/* qemu_command_smartcard.c: the CCID readers (usb-ccid), the cards, and a
 * passthrough card's chardev */
void tv_qemu_build_smartcards(GPtrArray *argv, const TvDomainDef *def,
                              const TvQemuCommandOptions *opts);
/* qemu_command_disk.c: -blockdev nodes and the disk devices */
void tv_qemu_build_disks(GPtrArray *argv, const TvDomainDef *def);
