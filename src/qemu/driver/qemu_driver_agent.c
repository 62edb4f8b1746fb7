/* Calls that libvirt serves through the QEMU guest agent: setting and
 * reading the guest's clock.  tagvirtd does not talk to a guest agent, so
 * these answer as libvirt does for a guest without one (an argument it
 * cannot take), or, for a guest that has the agent's channel, plainly that
 * tagvirtd does not use it.  Nova calls setTime after every resume and
 * migration and treats both answers as "not possible here" (a debug line),
 * where an unknown procedure would be logged as a failure. */
#include "qemu_driver_priv.h"

#include "tv_error.h"

#define AGENT_CHANNEL "org.qemu.guest_agent.0"
#define TIME_SYNC     1u /* VIR_DOMAIN_TIME_SYNC */

static void find_agent_channel(const TvDomainDef *def, void *opaque)
{
    bool *found = opaque;
    for (size_t i = 0; i < def->devices.nchannels; i++) {
        if (g_strcmp0(def->devices.channels[i]->target_name, AGENT_CHANNEL) == 0)
            *found = true;
    }
}

/* Always -1: the error that says why the agent cannot do what. */
static int refuse(TvQemuDriver *drv, const unsigned char *uuid, const char *what)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    bool has_channel = false;
    if (tv_driver_read_def(dom, true, find_agent_channel, &has_channel) < 0)
        return -1; /* "domain ... is not running" */
    if (!has_channel)
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "QEMU guest agent is not configured: domain '%s' has no <channel> with "
                        "<target type='virtio' name='" AGENT_CHANNEL "'/>, which %s needs",
                        dom->name, what);
    else
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "%s needs the QEMU guest agent, which tagvirtd does not use (domain "
                        "'%s' has its channel, but nothing talks to it)",
                        what, dom->name);
    return -1;
}

int tv_qemu_driver_set_time(TvQemuDriver *drv, const unsigned char *uuid, long long seconds,
                            unsigned nseconds, unsigned flags)
{
    if (flags & ~TIME_SYNC) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "setTime flags 0x%x are not supported; accepted: 0x1 (sync)", flags);
        return -1;
    }
    if (!(flags & TIME_SYNC) && nseconds > 999999999u) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "invalid nseconds %u: accepted 0 to 999999999", nseconds);
        return -1;
    }
    (void)seconds;
    return refuse(drv, uuid, "setting the guest's time");
}

int tv_qemu_driver_get_time(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (flags) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "getTime flags 0x%x are not supported; accepted: none", flags);
        return -1;
    }
    return refuse(drv, uuid, "reading the guest's time");
}
