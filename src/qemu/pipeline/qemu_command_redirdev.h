/* <redirdev> on QEMU (qemu_command_redirdev.c): usb-redir on the guest's
 * USB controller, reading the usbredir protocol from a chardev "char" +
 * alias (a TCP or unix socket).  Aliases follow libvirt's: redir0, redir1... */
#pragma once

#include "qemu_command.h"

/* Device i's id: its alias, else a start's "redirN". */
char *tv_qemu_redirdev_alias(const TvDomainRedirdev *r, size_t i);
/* Aliases for the redirdevs that have none (at start). */
void tv_qemu_assign_redirdev_aliases(TvDomainDef *def);
/* The usb-redir device of r, id alias, with def's <redirfilter> rules. */
TvQemuObject *tv_qemu_redirdev_device(const TvDomainDef *def, const TvDomainRedirdev *r,
                                      const char *alias);
/* -chardev and -device of every redirdev. */
void tv_qemu_build_redirdevs(GPtrArray *argv, const TvDomainDef *def);
/* The emulator has usb-redir. */
int tv_qemu_validate_redirdevs(const TvDomainDef *def, const TvQemuCaps *caps);
/* Whether some redirdev has a <boot order> (-boot strict=on). */
bool tv_qemu_redirdevs_boot(const TvDomainDef *def);
