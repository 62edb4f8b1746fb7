/* Procedures served by the network driver (network_driver.h). */
#pragma once

#include "network_driver.h"
#include "remote.h"

/* Route the network procedures and events of remote to drv (which must
 * outlive the registration); without it they answer "unknown procedure". */
void tv_remote_register_network(TvRemote *remote, TvNetworkDriver *drv);
/* The network driver registered (NULL: none): domain calls that need it,
 * e.g. the leases of domifaddr. */
TvNetworkDriver *tv_remote_network_driver(TvRemote *remote);
/* Forget the registration (tv_remote_free does it); the driver's event
 * callback is its owner's to clear before the driver is closed. */
void tv_remote_unregister_network(TvRemote *remote);
