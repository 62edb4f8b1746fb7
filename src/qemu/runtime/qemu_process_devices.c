/* Devices at start and stop (qemu_process_priv.h): the guest agent's and
 * other channels' sockets, what the live definition learns from QEMU (the
 * VNC port), balloon statistics. */
#include "qemu_process_priv.h"
#include "qemu_process_redirdev.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_netdev.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static bool listens(const TvDomainChr *ch)
{
    return ch->type == TV_CHR_TYPE_UNIX && ch->unix_mode != TV_CHR_UNIX_MODE_CONNECT;
}

int tv_qemu_process_prepare_channels(TvDomainDef *live, const char *state_dir, GArray *fds)
{
    for (size_t i = 0; i < live->devices.nchannels; i++) {
        TvDomainChr *ch = live->devices.channels[i];
        if (!listens(ch))
            continue;
        if (!ch->path) {
            g_autofree char *file = g_strdup_printf("%s.%s", live->name, ch->target_name);
            ch->path = g_build_filename(state_dir, file, NULL);
            ch->path_generated = true;
        }
        int fd = tv_qemu_process_listen(ch->path, "channel");
        if (fd < 0) {
            tv_error_prefix("channel '%s' of domain '%s'", ch->target_name, live->name);
            return -1;
        }
        g_array_append_val(fds, fd);
    }
    return tv_qemu_process_prepare_redirdevs(live, fds); /* after the channels' */
}

/* <interface type='network'>: the bridge of its network, now, into the live
 * definition (and the network's MTU when the interface names none). */
int tv_qemu_process_net_bridge(TvDomainNet *n, const TvQemuProcessConfig *cfg)
{
    if (n->type != TV_NET_TYPE_NETWORK)
        return 0;
    if (!cfg->network_bridge) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "<interface type='network'> with MAC %s: this daemon has no network "
                        "driver to ask for network '%s'",
                        n->mac, n->network);
        return -1;
    }
    unsigned mtu = 0;
    char *bridge = cfg->network_bridge(n->network, &mtu, cfg->network_opaque);
    if (!bridge) {
        tv_error_prefix("<interface type='network'> with MAC %s", n->mac);
        return -1;
    }
    g_free(n->bridge);
    n->bridge = bridge;
    if (!n->mtu && mtu)
        n->mtu = mtu;
    return 0;
}

int tv_qemu_process_net_tap(TvDomainNet *n)
{
    g_autofree char *what = g_strdup_printf("<interface type='%s'> with MAC %s",
                                            tv_net_type_to_string(n->type), n->mac);
    TvNetdevTapSpec spec = { .what = what,
                             .name = n->ifname,
                             .bridge = n->bridge,
                             .guest_mac = n->mac,
                             .mtu = n->mtu,
                             .existing = n->unmanaged,
                             /* as libvirt: an ethernet NIC may name a tap made beforehand */
                             .allow_existing = n->type == TV_NET_TYPE_ETHERNET };
    g_autofree char *name = NULL;
    int fd = tv_netdev_guest_tap(&spec, &name);
    if (fd < 0)
        return -1;
    if (!n->ifname) {
        n->ifname = g_steal_pointer(&name);
        n->ifname_generated = true;
    }
    return fd;
}

bool tv_qemu_process_net_has_tap(const TvDomainNet *n)
{
    return n->type == TV_NET_TYPE_BRIDGE || n->type == TV_NET_TYPE_ETHERNET ||
           n->type == TV_NET_TYPE_NETWORK;
}

int tv_qemu_process_prepare_nets(TvDomainDef *live, const TvQemuProcessConfig *cfg, GArray *fds,
                                 int **net_fds)
{
    *net_fds = g_new0(int, live->devices.nnets + 1);
    for (size_t i = 0; i < live->devices.nnets; i++) {
        TvDomainNet *n = live->devices.nets[i];
        if (!tv_qemu_process_net_has_tap(n))
            continue;
        if (tv_qemu_process_net_bridge(n, cfg) < 0)
            return -1;
        int fd = tv_qemu_process_net_tap(n);
        if (fd < 0)
            return -1;
        g_array_append_val(fds, fd);
        (*net_fds)[i] = TV_QEMU_PASSED_FD_FIRST + (int)fds->len - 1;
    }
    return 0;
}

void tv_qemu_process_remove_channels(const TvDomainDef *def)
{
    for (size_t i = 0; def && i < def->devices.nchannels; i++) {
        const TvDomainChr *ch = def->devices.channels[i];
        if (listens(ch) && ch->path && tv_file_remove(ch->path) < 0)
            tv_error_reset(); /* best effort: a stale socket is replaced at the next start */
    }
    tv_qemu_process_remove_smartcard(def);
    tv_qemu_process_remove_redirdev_sockets(def);
}

/* libvirt's <stats period='N'/>: the balloon asks the guest every N seconds. */
static int set_balloon_period(TvQemuProcess *proc)
{
    const TvDomainDevices *d = &proc->def->devices;
    if (d->memballoon != TV_BALLOON_MODEL_VIRTIO || !d->memballoon_stats)
        return 0;
    TvQmpValue period = { .type = TV_QMP_VALUE_INT, .i = d->memballoon_period };
    if (tv_qemu_monitor_qom_set(proc->mon, "/machine/peripheral/balloon0",
                                "guest-stats-polling-interval", &period) < 0) {
        tv_error_prefix("cannot set the balloon's statistics period");
        return -1;
    }
    return 0;
}

static int read_vnc_port(TvQemuProcess *proc, TvDomainGraphics *g)
{
    g_auto(TvQmpVnc) vnc = { 0 };
    if (tv_qemu_monitor_query_vnc(proc->mon, &vnc) < 0)
        return -1;
    char *end = NULL;
    long port = vnc.service ? strtol(vnc.service, &end, 10) : 0;
    if (!vnc.service || *end || port < TV_VNC_PORT_MIN || port > TV_VNC_PORT_MAX) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's query-vnc reply has no usable port (service '%s')",
                        vnc.service ? vnc.service : "");
        return -1;
    }
    g->live_port = (int)port;
    return 0;
}

int tv_qemu_process_devices_started(TvQemuProcess *proc)
{
    TvDomainDevices *d = &proc->def->devices;
    for (size_t i = 0; i < d->ngraphics; i++) {
        if (read_vnc_port(proc, d->graphics[i]) < 0)
            return -1;
    }
    /* <link state='down'/>: QEMU has no device property for it */
    for (size_t i = 0; i < d->nnets; i++) {
        if (d->nets[i]->link == TV_NET_LINK_DOWN &&
            tv_qemu_monitor_set_link(proc->mon, d->nets[i]->alias, false) < 0) {
            tv_error_prefix("cannot set the link of interface %s down", d->nets[i]->mac);
            return -1;
        }
    }
    return set_balloon_period(proc);
}

int tv_qemu_process_open_graphics(TvQemuProcess *proc, unsigned idx, bool skipauth)
{
    size_t n = proc->def->devices.ngraphics;
    if (idx >= n) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "domain '%s' has no graphics device %u (it has %zu: <graphics type='vnc'> "
                        "makes one)",
                        proc->name, idx, n);
        return -1;
    }
    /* names are QEMU-wide: one per call, so two opens at once cannot swap */
    static gint serial;
    g_autofree char *fdname = g_strdup_printf("tvgraphics%d", g_atomic_int_add(&serial, 1));
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot make a socket pair for the display");
        return -1;
    }
    int rc = tv_qemu_monitor_getfd(mon, fdname, sv[1]);
    close(sv[1]); /* QEMU has its own copy now */
    if (rc == 0 && tv_qemu_monitor_add_client(mon, "vnc", fdname, skipauth) < 0) {
        TvError *err = tv_error_steal();
        if (tv_qemu_monitor_closefd(mon, fdname) < 0)
            tv_error_reset();
        tv_error_restore(err);
        rc = -1;
    }
    if (rc < 0) {
        close(sv[0]);
        tv_error_prefix("domain '%s': cannot open its display", proc->name);
        return -1;
    }
    return sv[0];
}
