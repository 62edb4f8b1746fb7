/* The network driver: libvirt's virtual networks (docs/networks.rst).  A
 * NAT, routed, open or isolated network is a bridge tagvirt makes (libnl3),
 * a dnsmasq for DHCP and DNS, and nftables rules in a table of its own; a
 * 'bridge' network names a host bridge that guests' taps join.  Running
 * networks outlive the daemon and are found again when it restarts.  Every
 * function is thread-safe; on failure it reports a tv_error (domain NETWORK)
 * and leaves no bridge, rule or process behind. */
#pragma once

#include "domain_conf.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct TvNetworkDriver TvNetworkDriver;

typedef struct {
    const char *config_dir; /* network definitions (CONFIG/network) */
    const char *state_dir;  /* active networks, dnsmasq files (STATE/network) */
    const char *dnsmasq;    /* NULL: dnsmasq from PATH */
    const char *nft;        /* NULL: nft from PATH */
    bool autostart;         /* start the networks marked autostart when opened */
    /* make the 'default' NAT network at the first start (as libvirt's
     * packaging does), on a free /24 */
    bool make_default;
} TvNetworkDriverConfig;

typedef struct {
    char *name;
    unsigned char uuid[TV_UUID_LEN];
} TvNetRef;

void tv_net_ref_clear(TvNetRef *ref);

/* libvirt's virNetworkEventLifecycleType */
enum {
    TV_NET_EVENT_DEFINED = 0,
    TV_NET_EVENT_UNDEFINED = 1,
    TV_NET_EVENT_STARTED = 2,
    TV_NET_EVENT_STOPPED = 3,
};
typedef void (*TvNetEventFunc)(const TvNetRef *net, int event, int detail, void *opaque);

/* One DHCP lease (libvirt's virNetworkDHCPLease). */
typedef struct {
    char *iface;
    long long expiry; /* seconds since the epoch */
    char *mac;
    char *ip;
    unsigned prefix;
    char *hostname; /* or NULL */
    char *clientid; /* or NULL */
} TvNetLease;
void tv_net_lease_clear(TvNetLease *lease);

TvNetworkDriver *tv_network_driver_open(const TvNetworkDriverConfig *cfg);
/* Running networks keep running. */
void tv_network_driver_close(TvNetworkDriver *drv);
void tv_network_driver_set_event_callback(TvNetworkDriver *drv, TvNetEventFunc cb, void *opaque);

int tv_network_define(TvNetworkDriver *drv, const char *xml, unsigned flags, TvNetRef *out);
int tv_network_create_xml(TvNetworkDriver *drv, const char *xml, unsigned flags, TvNetRef *out);
int tv_network_create(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_destroy(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_undefine(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_lookup_by_name(TvNetworkDriver *drv, const char *name, TvNetRef *out);
int tv_network_lookup_by_uuid(TvNetworkDriver *drv, const unsigned char *uuid, TvNetRef *out);
char *tv_network_get_xml(TvNetworkDriver *drv, const unsigned char *uuid, unsigned flags);
char *tv_network_get_bridge_name(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_get_autostart(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_set_autostart(TvNetworkDriver *drv, const unsigned char *uuid, bool on);
int tv_network_is_active(TvNetworkDriver *drv, const unsigned char *uuid);
int tv_network_is_persistent(TvNetworkDriver *drv, const unsigned char *uuid);
/* flags: libvirt's CONNECT_LIST_NETWORKS_*; *out: *n refs (clear each, g_free) */
int tv_network_list_all(TvNetworkDriver *drv, unsigned flags, TvNetRef **out, size_t *n);
/* mac NULL: every lease; *out: *n leases (clear each, g_free) */
int tv_network_get_dhcp_leases(TvNetworkDriver *drv, const unsigned char *uuid, const char *mac,
                               unsigned flags, TvNetLease **out, size_t *n);

/* For a guest NIC <interface type='network'><source network='NAME'/>: the
 * bridge its tap joins (newly allocated; the network must be active), its
 * MTU (0: the default). */
char *tv_network_port_bridge(TvNetworkDriver *drv, const char *name, unsigned *mtu);
