/* Virtual networks in libvirt's <network> XML (docs/networks.rst): parse,
 * check, format.  IPv4 only; every element or value tagvirt does not
 * implement is refused with an error that names it. */
#pragma once

#include "domain_conf.h"
#include "tv_enum.h"
#include "tv_inet.h"

#include <glib.h>
#include <stdbool.h>

typedef enum {
    TV_NET_FORWARD_NONE = 0, /* isolated: no <forward> */
    TV_NET_FORWARD_NAT,
    TV_NET_FORWARD_ROUTE,
    TV_NET_FORWARD_OPEN,
    TV_NET_FORWARD_BRIDGE, /* a host bridge that exists: tagvirt only attaches taps */
    TV_NET_FORWARD_LAST
} TvNetForwardMode;
TV_ENUM_DECL(tv_net_forward_mode) /* "", "nat", "route", "open", "bridge" */

typedef struct {
    char *mac;  /* normalised lower case, or NULL */
    char *name; /* or NULL */
    TvIPv4 ip;
} TvNetDhcpHost;

typedef struct {
    TvIPv4 ip;
    char **hostnames; /* NULL-terminated */
} TvNetDnsHost;

/* <portgroup name='x' default='yes'/>: a name a guest's <source portgroup>
 * may give.  It carries no settings here (libvirt's <vlan>, <bandwidth>,
 * <virtualport> are refused), so every port of the network is alike. */
typedef struct {
    char *name;
    bool is_default;
} TvNetPortgroup;

typedef struct {
    char *name;
    unsigned char uuid[TV_UUID_LEN];
    TvNetForwardMode forward;
    char *forward_dev;                     /* <forward dev=...>: the uplink NAT/route goes out of */
    unsigned nat_port_start, nat_port_end; /* <nat><port>; 0: none */
    char *bridge;   /* the bridge's name (made by the driver unless 'bridge' mode) */
    bool stp;       /* default on */
    unsigned delay; /* forward delay, seconds */
    char *mac;      /* the bridge's MAC (generated at define) */
    unsigned mtu;   /* 0: the kernel's default */
    char *domain;   /* <domain name=...>: the DNS domain dnsmasq serves */
    bool has_ip;
    TvIPv4 ip; /* the bridge's address */
    unsigned prefix;
    bool dhcp;
    TvIPv4 range_start, range_end;
    TvNetDhcpHost *hosts;
    size_t nhosts;
    bool dns_disabled; /* <dns enable='no'> */
    TvNetDnsHost *dns_hosts;
    size_t ndns_hosts;
    TvIPv4 *forwarders;
    size_t nforwarders;
    TvNetPortgroup *portgroups;
    size_t nportgroups;
} TvNetworkDef;

TvNetworkDef *tv_network_def_parse(const char *xml, size_t len);
char *tv_network_def_format(const TvNetworkDef *def);
void tv_network_def_free(TvNetworkDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvNetworkDef, tv_network_def_free)

/* Network names: as storage pool names (storage_conf.h). */
int tv_network_name_check(const char *name);
