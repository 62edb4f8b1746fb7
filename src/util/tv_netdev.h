/* Host network devices through netlink (libnl3) and the tun driver:
 * bridges for virtual networks, taps for guests' NICs.  Every function
 * reports a tv_error (domain NETWORK) naming the device on failure. */
#pragma once

#include <glib.h>
#include <stdbool.h>

#define TV_NETDEV_NAME_MAX 15 /* IFNAMSIZ - 1 */

bool tv_netdev_exists(const char *name);
/* Is name a bridge (it has /sys/class/net/NAME/bridge)? */
bool tv_netdev_is_bridge(const char *name);

/* A new bridge (refused when the name is taken), down, with mac ("52:54:00:..",
 * or NULL), mtu (0: the default), STP and forward delay (seconds). */
int tv_netdev_bridge_add(const char *name, const char *mac, unsigned mtu, bool stp, unsigned delay);
int tv_netdev_delete(const char *name);
int tv_netdev_set_up(const char *name, bool up);
/* Add address/prefix (IPv4, host byte order) to name. */
int tv_netdev_add_ipv4(const char *name, guint32 addr, unsigned prefix);
/* Enslave name to bridge (NULL: release it). */
int tv_netdev_set_master(const char *name, const char *bridge);
int tv_netdev_set_mac(const char *name, const char *mac);
int tv_netdev_set_mtu(const char *name, unsigned mtu);

/* A tap device: name (NULL or a template with "%d": the kernel picks, e.g.
 * "vnet%d"), IFF_TAP | IFF_NO_PI (| IFF_VNET_HDR).  Returns the open fd to
 * hand to QEMU; the tap goes away when the last fd on it is closed.  *ifname
 * gets its name. */
int tv_netdev_tap_open(const char *name, bool vnet_hdr, char **ifname);

/* Does an IPv4 address or route of the host (of this network namespace)
 * fall in net/prefix?  Used to refuse or avoid an overlapping subnet.
 * *what (optional) gets a description of the first one found. */
bool tv_netdev_ipv4_in_use(guint32 net, unsigned prefix, char **what);

/* A guest NIC's tap, as the QEMU driver (and later the network driver)
 * needs it (tv_netdev_tap.c). */
typedef struct {
    const char *what;      /* for errors: "<interface> with MAC 52:54:00:..." */
    const char *name;      /* the tap's name; NULL: the kernel picks vnetN */
    const char *bridge;    /* join this existing bridge; NULL: none */
    const char *guest_mac; /* the host side gets it with fe: as first byte */
    unsigned mtu;          /* 0: the bridge's, or left as it is */
    bool existing;         /* managed='no': the tap exists and is used as it is */
    bool allow_existing;   /* an existing tap of that name is opened and set up (ethernet) */
} TvNetdevTapSpec;

/* Make the tap, or with allow_existing open the existing tap of that name
 * (refused when the name is taken, by a device that is not a tap with
 * allow_existing, or the bridge is missing),
 * set its MAC and MTU, join the bridge, bring it up; or open the existing
 * tap of an unmanaged NIC.  Returns the open descriptor for QEMU (a tap
 * made here goes away when QEMU, its last holder, exits); *ifname gets the
 * name. */
int tv_netdev_guest_tap(const TvNetdevTapSpec *spec, char **ifname);
