/* The device procedures (remote_device_protocol.x) translated to the QEMU
 * driver: devices attached and detached (qemu_driver_hotplug.c), the guest
 * addresses of a domain's interfaces (domifaddr, from the
 * network driver's DHCP leases or the host's ARP table). */
#include "remote_domain.h"

#include <stdio.h>
#include <string.h>

#include "remote_device_protocol.h"
#include "remote_network.h"
#include "remote_priv.h"

#define DRV(conn) ((conn)->remote->drv)

/* libvirt's virDomainInterfaceAddressesSource */
enum {
    ADDR_SRC_LEASE = 0,
    ADDR_SRC_AGENT = 1,
    ADDR_SRC_ARP = 2,
};

static const unsigned char *uuid_of(const tvr_nonnull_domain *dom)
{
    return (const unsigned char *)dom->uuid;
}

static void free_ifaces(TvDomainIface *ifaces, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tv_domain_iface_clear(&ifaces[i]);
    g_free(ifaces);
}

static void add_addr(tvr_domain_interface *out, int type, const char *addr, unsigned prefix)
{
    u_int k = out->addrs.addrs_len++;
    out->addrs.addrs_val = g_renew(tvr_domain_ip_addr, out->addrs.addrs_val, k + 1);
    out->addrs.addrs_val[k] =
        (tvr_domain_ip_addr){ .type = type, .addr = g_strdup(addr), .prefix = prefix };
}

static tvr_domain_interface *add_iface(tvr_domain_interface_addresses_ret *ret,
                                       const TvDomainIface *iface)
{
    u_int k = ret->ifaces.ifaces_len++;
    ret->ifaces.ifaces_val = g_renew(tvr_domain_interface, ret->ifaces.ifaces_val, k + 1);
    tvr_domain_interface *out = &ret->ifaces.ifaces_val[k];
    memset(out, 0, sizeof(*out));
    out->name = g_strdup(iface->ifname ? iface->ifname : "");
    out->hwaddr = g_new0(char *, 1);
    *out->hwaddr = g_strdup(iface->mac);
    return out;
}

/* As libvirt: every interface on a virtual network that has a lease, with
 * the addresses of its leases. */
static int from_leases(TvRemoteConn *conn, const TvDomainIface *ifaces, size_t n,
                       tvr_domain_interface_addresses_ret *ret)
{
    TvNetworkDriver *net = tv_remote_network_driver(conn->remote);
    for (size_t i = 0; i < n; i++) {
        if (ifaces[i].type != TV_NET_TYPE_NETWORK)
            continue;
        if (!net) {
            tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_UNSUPPORTED,
                            "interface with MAC %s is on network '%s', but this daemon has no "
                            "network driver to ask for its leases",
                            ifaces[i].mac, ifaces[i].network);
            return -1;
        }
        TvNetRef ref = { 0 };
        if (tv_network_lookup_by_name(net, ifaces[i].network, &ref) < 0)
            return -1;
        TvNetLease *leases = NULL;
        size_t nleases = 0;
        int rc = tv_network_get_dhcp_leases(net, ref.uuid, ifaces[i].mac, 0, &leases, &nleases);
        tv_net_ref_clear(&ref);
        if (rc < 0)
            return -1;
        tvr_domain_interface *out = nleases ? add_iface(ret, &ifaces[i]) : NULL;
        for (size_t k = 0; k < nleases; k++) {
            add_addr(out, strchr(leases[k].ip, ':') ? 1 : 0, leases[k].ip, leases[k].prefix);
            tv_net_lease_clear(&leases[k]);
        }
        g_free(leases);
    }
    return 0;
}

/* As libvirt: every interface whose MAC the host's ARP table (of the
 * daemon's network namespace) has, IPv4, prefix 0. */
static int from_arp(const TvDomainIface *ifaces, size_t n, tvr_domain_interface_addresses_ret *ret)
{
    g_autofree char *table = NULL;
    if (!g_file_get_contents("/proc/net/arp", &table, NULL, NULL)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_FAILED, "cannot read /proc/net/arp");
        return -1;
    }
    g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
    for (size_t i = 0; i < n; i++) {
        if (!ifaces[i].ifname)
            continue;
        tvr_domain_interface *out = NULL;
        for (size_t l = 1; lines[l]; l++) {
            char ip[64], hw[64];
            unsigned type = 0, flags = 0;
            /* IP address, HW type, Flags, HW address, Mask, Device */
            if (sscanf(lines[l], "%63s 0x%x 0x%x %63s", ip, &type, &flags, hw) != 4 ||
                !(flags & 0x2) /* ATF_COM: complete */ || g_ascii_strcasecmp(hw, ifaces[i].mac))
                continue;
            if (!out)
                out = add_iface(ret, &ifaces[i]);
            add_addr(out, 0, ip, 0);
        }
    }
    return 0;
}

static int h_interface_addresses(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_interface_addresses_args *args = a;
    if (args->flags) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "interface addresses flags 0x%x are not supported; accepted: 0",
                        args->flags);
        return -1;
    }
    if (args->source > ADDR_SRC_ARP) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "unknown IP address data source %u; accepted: 0 (lease), 2 (arp)",
                        args->source);
        return -1;
    }
    TvDomainIface *ifaces = NULL;
    size_t n = 0;
    if (tv_qemu_driver_interfaces(DRV(conn), uuid_of(&args->dom), &ifaces, &n) < 0)
        return -1;
    int rc;
    if (args->source == ADDR_SRC_AGENT) {
        tv_error_report(TV_FROM_RPC, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "the guest agent is not supported by tagvirt: ask with source 'lease' "
                        "(interfaces on virtual networks) or 'arp'");
        rc = -1;
    } else if (args->source == ADDR_SRC_LEASE) {
        rc = from_leases(conn, ifaces, n, r);
    } else {
        rc = from_arp(ifaces, n, r);
    }
    free_ifaces(ifaces, n);
    return rc;
}

/* attachDevice and detachDevice are libvirt's live-only forms. */
static int h_attach(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_device_xml_args *args = a;
    return tv_qemu_driver_attach_device(DRV(conn), uuid_of(&args->dom), args->xml, 1);
}

static int h_detach(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_device_xml_args *args = a;
    return tv_qemu_driver_detach_device(DRV(conn), uuid_of(&args->dom), args->xml, 1);
}

static int h_attach_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_device_xml_flags_args *args = a;
    return tv_qemu_driver_attach_device(DRV(conn), uuid_of(&args->dom), args->xml, args->flags);
}

static int h_detach_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_device_xml_flags_args *args = a;
    return tv_qemu_driver_detach_device(DRV(conn), uuid_of(&args->dom), args->xml, args->flags);
}

static int h_update_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_device_xml_flags_args *args = a;
    return tv_qemu_driver_update_device(DRV(conn), uuid_of(&args->dom), args->xml, args->flags);
}

static int h_detach_alias(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_detach_device_alias_args *args = a;
    return tv_qemu_driver_detach_device_alias(DRV(conn), uuid_of(&args->dom), args->alias,
                                              args->flags);
}

static const TvRemoteHandlerEntry device_handlers[] = {
    { TVR_PROC_DOMAIN_ATTACH_DEVICE, h_attach },
    { TVR_PROC_DOMAIN_DETACH_DEVICE, h_detach },
    { TVR_PROC_DOMAIN_ATTACH_DEVICE_FLAGS, h_attach_flags },
    { TVR_PROC_DOMAIN_DETACH_DEVICE_FLAGS, h_detach_flags },
    { TVR_PROC_DOMAIN_UPDATE_DEVICE_FLAGS, h_update_flags },
    { TVR_PROC_DOMAIN_INTERFACE_ADDRESSES, h_interface_addresses },
    { TVR_PROC_DOMAIN_DETACH_DEVICE_ALIAS, h_detach_alias },
};

void tv_remote_register_device_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, device_handlers, G_N_ELEMENTS(device_handlers));
}
