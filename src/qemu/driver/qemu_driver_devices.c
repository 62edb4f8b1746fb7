/* What a running domain's devices are, as queries need them: its network
 * interfaces (domifaddr). */
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

void tv_domain_iface_clear(TvDomainIface *iface)
{
    g_free(iface->network);
    g_free(iface->mac);
    g_free(iface->ifname);
    memset(iface, 0, sizeof(*iface));
}

/* The running QEMU of dom, referenced; NULL with OPERATION_INVALID when it
 * is shut off. */
TvDriverRun *tv_driver_running(TvDriverDomain *dom)
{
    TvDriverRun *run = NULL;
    g_mutex_lock(&dom->lock);
    if (dom->run && dom->run->proc && !dom->run->exited) {
        run = dom->run;
        g_atomic_int_inc(&run->refs);
    }
    g_mutex_unlock(&dom->lock);
    if (!run)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
    return run;
}

int tv_qemu_driver_interfaces(TvQemuDriver *drv, const unsigned char *uuid, TvDomainIface **out,
                              size_t *n)
{
    *out = NULL;
    *n = 0;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    TvDriverRun *run = tv_driver_running(dom);
    if (!run)
        return -1;
    g_autoptr(TvDomainDef) live = tv_qemu_process_copy_def(run->proc);
    tv_driver_run_unref(run);
    if (!live)
        return -1;
    *out = g_new0(TvDomainIface, live->devices.nnets + 1);
    for (size_t i = 0; i < live->devices.nnets; i++) {
        const TvDomainNet *net = live->devices.nets[i];
        TvDomainIface *iface = &(*out)[i];
        iface->type = net->type;
        iface->network = g_strdup(net->network);
        iface->mac = g_strdup(net->mac);
        iface->ifname = g_strdup(net->ifname);
    }
    *n = live->devices.nnets;
    return 0;
}
