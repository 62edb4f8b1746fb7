/* <on_poweroff>, <on_reboot>, <on_crash> and <currentMemory> for QEMU: what
 * libvirt accepts, and the command line that lets the runtime carry the
 * actions out (qemu_process_lifecycle.c). */
#pragma once

#include "domain_conf.h"

#include <glib.h>

/* rename-restart and on_reboot='preserve' are refused, as libvirt's QEMU
 * driver refuses them; <currentMemory> below <memory> needs a virtio
 * balloon. */
int tv_qemu_lifecycle_validate(const TvDomainDef *def);

/* -no-shutdown when a guest power-off must leave QEMU running (restart,
 * preserve), -no-reboot for on_reboot='destroy', -action panic=pause when
 * a panic is handled by tagvirt (everything but destroy). */
void tv_qemu_lifecycle_command(GPtrArray *argv, const TvDomainDef *def);

/* Does a guest power-off leave QEMU running (-no-shutdown)? */
bool tv_qemu_lifecycle_no_shutdown(const TvDomainDef *def);
