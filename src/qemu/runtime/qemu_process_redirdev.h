/* <redirdev> in the runtime (qemu_process_redirdev.c): the sockets tagvirt
 * listens on for QEMU (type='unix' mode='bind'), at start and hot-plug, and
 * the hot-plug itself. */
#pragma once

#include "qemu_process.h"

/* Before the command line: each unix bind redirdev's listening socket,
 * appended to fds (passed to QEMU from fd 4 on); r->passed_fd is the
 * number QEMU sees. */
int tv_qemu_process_prepare_redirdevs(TvDomainDef *live, GArray *fds);
/* The socket files of unix bind redirdevs, removed (at stop, or a failed start). */
void tv_qemu_process_remove_redirdev_sockets(const TvDomainDef *def);
/* Hot-plug of r (its USB port given by tv_qemu_domain_post_parse_hotplug;
 * filter: the guest's <redirfilter>, or NULL): chardev-add of its socket,
 * then device_add usb-redir; both undone on failure.  The process owns r
 * afterwards; on failure the caller keeps it. */
int tv_qemu_process_attach_redirdev(TvQemuProcess *proc, const TvDomainDef *next,
                                    TvDomainRedirdev *r);
