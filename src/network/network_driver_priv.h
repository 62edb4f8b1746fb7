/* Internals of the network driver (network_*.c).
 *
 * One lock, drv->lock, guards the list and every network's fields; it is
 * held while a network starts or stops (bridge, dnsmasq and nft calls take
 * milliseconds), so no two changes of networks run at once.  Events are
 * queued under the lock and delivered after it is dropped. */
#pragma once

#include "network_conf.h"
#include "network_driver.h"
#include "tv_objfiles.h"

#include <glib.h>
#include <stdbool.h>

typedef struct {
    TvNetworkDef *def;
    bool active;
    bool persistent;
    bool autostart;
} TvNetwork;

typedef struct {
    TvNetRef ref;
    int event;
} TvNetEvent;

struct TvNetworkDriver {
    TvObjFiles files; /* CONFIG/network, STATE/network */
    char *dnsmasq;
    char *nft;
    GMutex lock;
    GPtrArray *nets; /* TvNetwork * */
    GMutex event_lock;
    TvNetEventFunc event_cb;
    void *event_opaque;
};

/* network_driver.c: under drv->lock */
TvNetwork *tv_net_find_uuid_locked(TvNetworkDriver *drv, const unsigned char *uuid);
TvNetwork *tv_net_find_name_locked(TvNetworkDriver *drv, const char *name);
/* By uuid, or NULL with NO_NETWORK. */
TvNetwork *tv_net_get_locked(TvNetworkDriver *drv, const unsigned char *uuid);
void tv_net_free(TvNetwork *net);
void tv_net_ref_fill(const TvNetwork *net, TvNetRef *out);
void tv_net_event_queue(GPtrArray *queue, const TvNetwork *net, int event);
void tv_net_events_flush(TvNetworkDriver *drv, GPtrArray *queue);
/* Fill what define leaves to the driver: a free bridge name, a MAC. */
void tv_net_fill_defaults_locked(TvNetworkDriver *drv, TvNetworkDef *def);

/* network_start.c: bring the host side up or down.  Under drv->lock. */
/* Refuse a subnet that overlaps another active network or the host's. */
int tv_net_overlap_check_locked(TvNetworkDriver *drv, const TvNetworkDef *def);
int tv_net_start_locked(TvNetworkDriver *drv, TvNetwork *net);
/* Tears everything down; errors are logged (the network stops anyway). */
void tv_net_stop_locked(TvNetworkDriver *drv, TvNetwork *net);
/* After a restart: is what the state file says still there?  Restarts a
 * dead dnsmasq; false when the bridge is gone (then tears down the rest). */
bool tv_net_reattach_locked(TvNetworkDriver *drv, TvNetwork *net);

/* network_dnsmasq.c */
int tv_net_dnsmasq_start(TvNetworkDriver *drv, const TvNetworkDef *def);
void tv_net_dnsmasq_stop(TvNetworkDriver *drv, const char *name);
bool tv_net_dnsmasq_running(TvNetworkDriver *drv, const char *name);
char *tv_net_dnsmasq_leases_path(TvNetworkDriver *drv, const char *name);

/* network_nft.c: the table 'tagvirt_NAME' (family ip) of a network */
int tv_net_nft_add(TvNetworkDriver *drv, const TvNetworkDef *def);
void tv_net_nft_remove(TvNetworkDriver *drv, const TvNetworkDef *def);
bool tv_net_nft_present(TvNetworkDriver *drv, const TvNetworkDef *def);
