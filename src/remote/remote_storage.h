/* Procedures served by the storage driver (storage_driver.h). */
#pragma once

#include "remote.h"
#include "storage_driver.h"

/* Route the storage procedures and pool events of remote to drv (which
 * must outlive the registration); without it they answer "unknown
 * procedure". */
void tv_remote_register_storage(TvRemote *remote, TvStorageDriver *drv);
/* Forget the registration (tv_remote_free does it); the driver's event
 * callback is its owner's to clear before the driver is closed. */
void tv_remote_unregister_storage(TvRemote *remote);
