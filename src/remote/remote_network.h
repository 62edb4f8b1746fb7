/* Procedures served by the network driver (network_driver.h). */
#pragma once

#include "network_driver.h"
#include "remote.h"

/* Route the network procedures and events of remote to drv (which must
 * outlive the registration); without it they answer "unknown procedure". */
void tv_remote_register_network(TvRemote *remote, TvNetworkDriver *drv);
/* Forget the registration (tv_remote_free does it); the driver's event
 * callback is its owner's to clear before the driver is closed. */
void tv_remote_unregister_network(TvRemote *remote);
