/* The guest agent procedures (remote_agent_protocol.x) translated to the
 * QEMU driver (qemu_driver_agent.c). */
#include "remote_domain.h"

#include "remote_agent_protocol.h"
#include "remote_priv.h"

#define DRV(conn) ((conn)->remote->drv)

static int h_get_time(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_get_time_args *args = a;
    (void)r;
    return tv_qemu_driver_get_time(DRV(conn), (const unsigned char *)args->dom.uuid, args->flags);
}

static int h_set_time(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_set_time_args *args = a;
    (void)r;
    return tv_qemu_driver_set_time(DRV(conn), (const unsigned char *)args->dom.uuid, args->seconds,
                                   args->nseconds, args->flags);
}

static const TvRemoteHandlerEntry agent_handlers[] = {
    { TVR_PROC_DOMAIN_GET_TIME, h_get_time },
    { TVR_PROC_DOMAIN_SET_TIME, h_set_time },
};

void tv_remote_register_agent_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, agent_handlers, G_N_ELEMENTS(agent_handlers));
}
