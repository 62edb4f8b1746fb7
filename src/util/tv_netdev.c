/* Bridges, taps and addresses through libnl3 and the tun driver. */
#include "tv_netdev.h"
#include "tv_error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static struct nl_sock *nl_open(void)
{
    struct nl_sock *sk = nl_socket_alloc();
    int err = sk ? nl_connect(sk, NETLINK_ROUTE) : -NLE_NOMEM;
    if (err < 0) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_SYSTEM_ERROR, "cannot open a netlink socket: %s",
                        nl_geterror(err));
        if (sk)
            nl_socket_free(sk);
        return NULL;
    }
    return sk;
}

static int nl_fail(const char *what, const char *name, int err)
{
    tv_error_report(TV_FROM_NETWORK, TV_ERR_SYSTEM_ERROR, "cannot %s '%s': %s", what, name,
                    nl_geterror(err));
    return -1;
}

bool tv_netdev_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}

bool tv_netdev_is_bridge(const char *name)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/bridge", name);
    return g_file_test(path, G_FILE_TEST_IS_DIR);
}

static int set_mac_on(struct rtnl_link *link, const char *mac, const char *name)
{
    struct nl_addr *addr = NULL;
    int err = nl_addr_parse(mac, AF_LLC, &addr);
    if (err < 0) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_INVALID_ARG, "invalid MAC address '%s' for '%s'",
                        mac, name);
        return -1;
    }
    rtnl_link_set_addr(link, addr);
    nl_addr_put(addr);
    return 0;
}

static int sysfs_write(const char *name, const char *attr, unsigned value)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/bridge/%s", name, attr);
    g_autofree char *text = g_strdup_printf("%u\n", value);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));
    int err = errno;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)strlen(text)) {
        tv_error_report_errno(TV_FROM_NETWORK, err, "cannot set %s of bridge '%s'", attr, name);
        return -1;
    }
    return 0;
}

int tv_netdev_bridge_add(const char *name, const char *mac, unsigned mtu, bool stp, unsigned delay)
{
    struct nl_sock *sk = nl_open();
    if (!sk)
        return -1;
    struct rtnl_link *link = rtnl_link_bridge_alloc();
    rtnl_link_set_name(link, name);
    int rc = 0;
    if (mac)
        rc = set_mac_on(link, mac, name);
    if (rc == 0 && mtu)
        rtnl_link_set_mtu(link, mtu);
    if (rc == 0) {
        int err = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
        if (err == -NLE_EXIST) {
            tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                            "cannot make bridge '%s': a network device of that name exists", name);
            rc = -1;
        } else if (err < 0) {
            rc = nl_fail("make bridge", name, err);
        }
    }
    rtnl_link_put(link);
    nl_socket_free(sk);
    /* the forward delay (centiseconds) and STP through sysfs, as iproute2 does;
     * the delay first: with STP on the kernel takes only 2 to 30 s */
    if (rc == 0 && (sysfs_write(name, "forward_delay", delay * 100) < 0 ||
                    sysfs_write(name, "stp_state", stp ? 1 : 0) < 0)) {
        tv_netdev_delete(name);
        rc = -1;
    }
    return rc;
}

/* Apply change to the kernel's link name. */
static int link_change(const char *name, const char *what,
                       void (*edit)(struct rtnl_link *, const void *), const void *arg)
{
    struct nl_sock *sk = nl_open();
    if (!sk)
        return -1;
    struct rtnl_link *link = NULL;
    int err = rtnl_link_get_kernel(sk, 0, name, &link);
    int rc = 0;
    if (err < 0) {
        rc = nl_fail(what, name, err);
    } else {
        struct rtnl_link *change = rtnl_link_alloc();
        edit(change, arg);
        err = rtnl_link_change(sk, link, change, 0);
        if (err < 0)
            rc = nl_fail(what, name, err);
        rtnl_link_put(change);
        rtnl_link_put(link);
    }
    nl_socket_free(sk);
    return rc;
}

int tv_netdev_delete(const char *name)
{
    struct nl_sock *sk = nl_open();
    if (!sk)
        return -1;
    struct rtnl_link *link = rtnl_link_alloc();
    rtnl_link_set_name(link, name);
    int err = rtnl_link_delete(sk, link);
    rtnl_link_put(link);
    nl_socket_free(sk);
    if (err < 0 && err != -NLE_NODEV && err != -NLE_OBJ_NOTFOUND)
        return nl_fail("delete", name, err);
    return 0;
}

static void edit_up(struct rtnl_link *change, const void *arg)
{
    if (*(const bool *)arg)
        rtnl_link_set_flags(change, IFF_UP);
    else
        rtnl_link_unset_flags(change, IFF_UP);
}

int tv_netdev_set_up(const char *name, bool up)
{
    return link_change(name, up ? "bring up" : "bring down", edit_up, &up);
}

static void edit_mtu(struct rtnl_link *change, const void *arg)
{
    rtnl_link_set_mtu(change, *(const unsigned *)arg);
}

int tv_netdev_set_mtu(const char *name, unsigned mtu)
{
    return link_change(name, "set the MTU of", edit_mtu, &mtu);
}

static void edit_master(struct rtnl_link *change, const void *arg)
{
    rtnl_link_set_master(change, *(const int *)arg);
}

int tv_netdev_set_master(const char *name, const char *bridge)
{
    int index = 0;
    if (bridge) {
        index = (int)if_nametoindex(bridge);
        if (!index) {
            tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                            "cannot attach '%s' to bridge '%s': there is no such bridge", name,
                            bridge);
            return -1;
        }
    }
    return link_change(name, bridge ? "attach to its bridge" : "detach from its bridge",
                       edit_master, &index);
}

static void edit_mac(struct rtnl_link *change, const void *arg)
{
    struct nl_addr *addr = (struct nl_addr *)arg;
    rtnl_link_set_addr(change, addr);
}

int tv_netdev_set_mac(const char *name, const char *mac)
{
    struct nl_addr *addr = NULL;
    if (nl_addr_parse(mac, AF_LLC, &addr) < 0) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_INVALID_ARG, "invalid MAC address '%s' for '%s'",
                        mac, name);
        return -1;
    }
    int rc = link_change(name, "set the MAC address of", edit_mac, addr);
    nl_addr_put(addr);
    return rc;
}

int tv_netdev_add_ipv4(const char *name, guint32 addr, unsigned prefix)
{
    int index = (int)if_nametoindex(name);
    if (!index) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "cannot add an address to '%s': no such device", name);
        return -1;
    }
    struct nl_sock *sk = nl_open();
    if (!sk)
        return -1;
    guint32 be = htonl(addr);
    guint32 bcast = htonl(addr | (prefix >= 32 ? 0 : 0xffffffffu >> prefix));
    struct nl_addr *local = nl_addr_build(AF_INET, &be, 4);
    struct nl_addr *brd = nl_addr_build(AF_INET, &bcast, 4);
    nl_addr_set_prefixlen(local, (int)prefix);
    struct rtnl_addr *a = rtnl_addr_alloc();
    rtnl_addr_set_ifindex(a, index);
    rtnl_addr_set_local(a, local);
    rtnl_addr_set_broadcast(a, brd);
    int err = rtnl_addr_add(sk, a, 0);
    rtnl_addr_put(a);
    nl_addr_put(local);
    nl_addr_put(brd);
    nl_socket_free(sk);
    return err < 0 ? nl_fail("add an IPv4 address to", name, err) : 0;
}

int tv_netdev_tap_open(const char *name, bool vnet_hdr, char **ifname)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_NETWORK, errno, "cannot open /dev/net/tun");
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    if (name)
        g_strlcpy(ifr.ifr_name, name, sizeof(ifr.ifr_name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        close(fd);
        if (err == EBUSY || err == EEXIST)
            tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                            "cannot make tap '%s': a network device of that name exists", name);
        else
            tv_error_report_errno(TV_FROM_NETWORK, err, "cannot make tap '%s'",
                                  name ? name : "(any)");
        return -1;
    }
    if (ifname)
        *ifname = g_strdup(ifr.ifr_name);
    return fd;
}

/* /proc/net/route: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
 * (addresses in hex, the kernel's byte order) */
static bool route_in(guint32 net, unsigned prefix, char **what)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/net/route", &text, NULL, NULL))
        return false;
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines + 1; *l && **l; l++) {
        char iface[IFNAMSIZ + 1];
        unsigned dest = 0, gw = 0, flags = 0, refcnt = 0, use = 0, metric = 0, mask = 0;
        if (sscanf(*l, "%16s %x %x %x %u %u %u %x", iface, &dest, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8)
            continue;
        guint32 d = ntohl(dest), m = ntohl(mask);
        if (m == 0)
            continue; /* the default route overlaps everything */
        unsigned p = 0;
        while (p < 32 && (m & (0x80000000u >> p)))
            p++;
        unsigned common = MIN(p, prefix);
        guint32 cm = common ? ~(0xffffffffu >> common) : 0;
        if ((d & cm) == (net & cm)) {
            if (what)
                *what = g_strdup_printf("the route to %u.%u.%u.%u/%u on %s", d >> 24,
                                        (d >> 16) & 0xff, (d >> 8) & 0xff, d & 0xff, p, iface);
            return true;
        }
    }
    return false;
}

bool tv_netdev_ipv4_in_use(guint32 net, unsigned prefix, char **what)
{
    guint32 mask = prefix ? ~(0xffffffffu >> prefix) : 0;
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) == 0) {
        for (struct ifaddrs *i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                continue;
            guint32 a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
            if ((a & mask) == (net & mask)) {
                if (what)
                    *what =
                        g_strdup_printf("the address %u.%u.%u.%u of %s", a >> 24, (a >> 16) & 0xff,
                                        (a >> 8) & 0xff, a & 0xff, i->ifa_name);
                freeifaddrs(list);
                return true;
            }
        }
        freeifaddrs(list);
    }
    return route_in(net, prefix, what);
}
