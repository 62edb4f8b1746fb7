/* tagvirtd with the QEMU driver: open it and route the remote procedures and
 * lifecycle events to it.  Linked only when the driver is built. */
#pragma once

#include "qemu_driver.h"
#include "remote.h"
#include "tagvirtd_config.h"

/* root NULL: system paths.  NULL with a tv_error on failure. */
TvQemuDriver *tv_daemon_driver_open(const TvDaemonConfig *cfg, const char *root);
void tv_daemon_driver_attach(TvQemuDriver *drv, TvRemote *remote);
/* Detach the events and close; running guests keep running. */
void tv_daemon_driver_close(TvQemuDriver *drv);
