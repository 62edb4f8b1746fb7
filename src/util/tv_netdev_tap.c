/* A guest NIC's tap (tv_netdev.h): made, or found for an unmanaged one,
 * given the host-side MAC and MTU, joined to a bridge and up. */
#include "tv_error.h"
#include "tv_netdev.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned bridge_mtu(const char *bridge)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/mtu", bridge);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    return (unsigned)strtoul(text, NULL, 10);
}

/* A tap or tun device (the tun driver gives it tun_flags)? */
static bool is_tap(const char *name)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/tun_flags", name);
    return g_file_test(path, G_FILE_TEST_EXISTS);
}

int tv_netdev_guest_tap(const TvNetdevTapSpec *spec, char **ifname)
{
    *ifname = NULL;
    if (spec->bridge && !tv_netdev_is_bridge(spec->bridge)) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED, "%s: bridge '%s' %s", spec->what,
                        spec->bridge,
                        tv_netdev_exists(spec->bridge) ? "is a network device but not a bridge"
                                                       : "does not exist on this host");
        return -1;
    }
    if (spec->existing) {
        if (!spec->name || !tv_netdev_exists(spec->name)) {
            tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                            "%s: tap '%s' does not exist (managed='no': it must be made "
                            "beforehand, as os-vif does)",
                            spec->what, spec->name ? spec->name : "");
            return -1;
        }
    } else if (spec->name && tv_netdev_exists(spec->name) &&
               !(spec->allow_existing && is_tap(spec->name))) {
        /* with allow_existing an existing tap of that name is opened and
         * set up as one made here, as libvirt does for ethernet interfaces
         * (Nova's 'tap' VIFs make it beforehand) */
        tv_error_report(TV_FROM_NETWORK, TV_ERR_OPERATION_FAILED,
                        "%s: the tap name '%s' is taken by an existing network device%s (leave "
                        "<target dev> out to get a free vnetN, or use managed='no' to use that "
                        "tap as it is)",
                        spec->what, spec->name, spec->allow_existing ? " that is not a tap" : "");
        return -1;
    }
    int fd = tv_netdev_tap_open(spec->name ? spec->name : "vnet%d", true, ifname);
    if (fd < 0) {
        tv_error_prefix("%s", spec->what);
        return -1;
    }
    if (spec->existing)
        return fd; /* someone else's device: left as it is */
    /* the host end never answers for the guest's address: fe:xx:xx:... */
    char mac[18] = "";
    if (spec->guest_mac && strlen(spec->guest_mac) == 17) {
        memcpy(mac, spec->guest_mac, sizeof(mac));
        mac[0] = 'f';
        mac[1] = 'e';
    }
    unsigned mtu = spec->mtu ? spec->mtu : spec->bridge ? bridge_mtu(spec->bridge) : 0;
    if ((mac[0] && tv_netdev_set_mac(*ifname, mac) < 0) ||
        (mtu && tv_netdev_set_mtu(*ifname, mtu) < 0) ||
        (spec->bridge && tv_netdev_set_master(*ifname, spec->bridge) < 0) ||
        tv_netdev_set_up(*ifname, true) < 0) {
        tv_error_prefix("%s", spec->what);
        close(fd); /* not persistent: the tap goes with its last descriptor */
        g_clear_pointer(ifname, g_free);
        return -1;
    }
    return fd;
}
