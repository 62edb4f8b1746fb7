/* Bringing a network's host side up and down: its bridge and address
 * (libnl3), IPv4 forwarding, its nftables table, its dnsmasq.  A start that
 * fails undoes what it did. */
#include "network_driver_priv.h"
#include "tv_error.h"
#include "tv_netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int tv_net_overlap_check_locked(TvNetworkDriver *drv, const TvNetworkDef *def)
{
    if (!def->has_ip)
        return 0;
    g_autofree char *mine = tv_ipv4_format(def->ip & tv_ipv4_prefix_mask(def->prefix));
    for (guint i = 0; i < drv->nets->len; i++) {
        TvNetwork *other = g_ptr_array_index(drv->nets, i);
        if (!other->active || other->def == def || !other->def->has_ip ||
            !tv_ipv4_subnets_overlap(def->ip, def->prefix, other->def->ip, other->def->prefix))
            continue;
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "network '%s' (%s/%u) overlaps active network '%s'", def->name, mine,
                        def->prefix, other->def->name);
        return -1;
    }
    g_autofree char *what = NULL;
    if (tv_netdev_ipv4_in_use(def->ip & tv_ipv4_prefix_mask(def->prefix), def->prefix, &what)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "network '%s' (%s/%u) overlaps %s of this host", def->name, mine,
                        def->prefix, what);
        return -1;
    }
    return 0;
}

static int enable_forwarding(void)
{
    int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, "1\n", 2);
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (n != 2) {
        tv_error_report_errno(TV_FROM_NETWORK, err, "cannot enable IPv4 forwarding");
        return -1;
    }
    return 0;
}

static int start_host_bridge(TvNetworkDriver *drv, TvNetwork *net)
{
    if (!tv_netdev_is_bridge(net->def->bridge)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "network '%s' uses host bridge '%s', which %s", net->def->name,
                        net->def->bridge,
                        tv_netdev_exists(net->def->bridge) ? "is not a bridge" : "does not exist");
        return -1;
    }
    g_autofree char *xml = tv_network_def_format(net->def);
    if (tv_objfiles_state_save(&drv->files, net->def->name, xml) < 0)
        return -1;
    net->active = true;
    return 0;
}

int tv_net_start_locked(TvNetworkDriver *drv, TvNetwork *net)
{
    TvNetworkDef *def = net->def;
    if (def->forward == TV_NET_FORWARD_BRIDGE)
        return start_host_bridge(drv, net);
    if (tv_net_overlap_check_locked(drv, def) < 0)
        return -1;
    if (tv_netdev_exists(def->bridge)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_INVALID,
                        "cannot start network '%s': a network device named '%s' exists and is "
                        "not this network's bridge",
                        def->name, def->bridge);
        return -1;
    }
    if (tv_netdev_bridge_add(def->bridge, def->mac, def->mtu, def->stp, def->delay) < 0)
        return -1;
    bool rules = false;
    g_autofree char *xml = NULL;
    if ((def->has_ip && tv_netdev_add_ipv4(def->bridge, def->ip, def->prefix) < 0) ||
        tv_netdev_set_up(def->bridge, true) < 0)
        goto fail;
    if ((def->forward == TV_NET_FORWARD_NAT || def->forward == TV_NET_FORWARD_ROUTE) &&
        enable_forwarding() < 0)
        goto fail;
    if (def->has_ip) {
        if (tv_net_nft_add(drv, def) < 0)
            goto fail;
        rules = true;
    }
    if (def->has_ip && (def->dhcp || !def->dns_disabled) && tv_net_dnsmasq_start(drv, def) < 0)
        goto fail;
    xml = tv_network_def_format(def);
    if (tv_objfiles_state_save(&drv->files, def->name, xml) < 0)
        goto fail;
    net->active = true;
    return 0;
fail:;
    g_autoptr(TvError) err = tv_error_steal();
    tv_net_dnsmasq_stop(drv, def->name);
    if (rules)
        tv_net_nft_remove(drv, def);
    tv_netdev_delete(def->bridge);
    tv_error_reset();
    tv_error_restore(g_steal_pointer(&err));
    return -1;
}

void tv_net_stop_locked(TvNetworkDriver *drv, TvNetwork *net)
{
    TvNetworkDef *def = net->def;
    if (def->forward != TV_NET_FORWARD_BRIDGE) {
        tv_net_dnsmasq_stop(drv, def->name);
        if (def->has_ip)
            tv_net_nft_remove(drv, def);
        if (tv_netdev_delete(def->bridge) < 0) {
            g_warning("network '%s': %s", def->name, tv_error_message());
            tv_error_reset();
        }
    }
    tv_objfiles_state_remove(&drv->files, def->name);
    net->active = false;
}

bool tv_net_reattach_locked(TvNetworkDriver *drv, TvNetwork *net)
{
    TvNetworkDef *def = net->def;
    if (def->forward == TV_NET_FORWARD_BRIDGE)
        return tv_netdev_is_bridge(def->bridge);
    if (!tv_netdev_is_bridge(def->bridge)) {
        g_warning("network '%s': its bridge '%s' is gone; the network is stopped", def->name,
                  def->bridge);
        tv_net_stop_locked(drv, net);
        return false;
    }
    if (def->has_ip && !tv_net_nft_present(drv, def)) {
        g_warning("network '%s': its nftables table was gone; added again", def->name);
        if (tv_net_nft_add(drv, def) < 0) {
            g_warning("network '%s': %s", def->name, tv_error_message());
            tv_error_reset();
        }
    }
    if (def->has_ip && (def->dhcp || !def->dns_disabled) &&
        !tv_net_dnsmasq_running(drv, def->name)) {
        g_warning("network '%s': its dnsmasq was not running; started again", def->name);
        if (tv_net_dnsmasq_start(drv, def) < 0) {
            g_warning("network '%s': %s", def->name, tv_error_message());
            tv_error_reset();
        }
    }
    g_message("network '%s' is running (bridge %s)", def->name, def->bridge);
    return true;
}
