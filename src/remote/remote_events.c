/* Domain event callbacks: registration per connection, and the fan-out of
 * driver lifecycle events as server MESSAGEs. */
#include "remote_priv.h"

#include <string.h>

#include "rpc_message.h"

/* libvirt's VIR_DOMAIN_EVENT_ID_LIFECYCLE: the one event tagvirt emits */
#define EVENT_ID_LIFECYCLE 0

static int register_any(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_domain_event_callback_register_any_args *args = argsp;
    tvr_connect_domain_event_callback_register_any_ret *ret = retp;
    if (args->event_id != EVENT_ID_LIFECYCLE) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "domain event %d is not supported; accepted: 0 (lifecycle)",
                        args->event_id);
        return -1;
    }
    TvRemoteEventCallback cb = { 0 };
    cb.event_id = args->event_id;
    if (args->dom) {
        cb.has_dom = TRUE;
        memcpy(cb.uuid, args->dom->uuid, sizeof(cb.uuid));
    }

    TvRemote *remote = conn->remote;
    g_mutex_lock(&remote->events_lock);
    cb.id = remote->next_callback_id++;
    if (conn->callbacks->len == 0)
        remote->event_conns = g_list_prepend(remote->event_conns, conn);
    g_array_append_val(conn->callbacks, cb);
    g_mutex_unlock(&remote->events_lock);
    ret->callback_id = cb.id;
    return 0;
}

static int deregister_any(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_domain_event_callback_deregister_any_args *args = argsp;
    TvRemote *remote = conn->remote;
    gboolean found = FALSE;

    g_mutex_lock(&remote->events_lock);
    for (guint i = 0; i < conn->callbacks->len; i++) {
        if (g_array_index(conn->callbacks, TvRemoteEventCallback, i).id == args->callback_id) {
            g_array_remove_index(conn->callbacks, i);
            found = TRUE;
            break;
        }
    }
    if (found && conn->callbacks->len == 0)
        remote->event_conns = g_list_remove(remote->event_conns, conn);
    g_mutex_unlock(&remote->events_lock);

    if (!found) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "domain event callback %d is not registered on this connection",
                        args->callback_id);
        return -1;
    }
    return 0;
}

void tv_remote_events_drop_conn(TvRemoteConn *conn)
{
    TvRemote *remote = conn->remote;
    g_mutex_lock(&remote->events_lock);
    if (conn->callbacks->len > 0) {
        g_array_set_size(conn->callbacks, 0);
        remote->event_conns = g_list_remove(remote->event_conns, conn);
    }
    g_mutex_unlock(&remote->events_lock);
}

void tv_remote_emit_lifecycle(const TvDomainRef *dom, int event, int detail, void *opaque)
{
    TvRemote *remote = opaque;
    tvr_header hdr = { 0 };
    hdr.prog = TVR_REMOTE_PROGRAM;
    hdr.vers = TVR_REMOTE_VERSION;
    hdr.proc = TVR_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE;
    hdr.type = TVR_MESSAGE;
    hdr.serial = 0;
    hdr.status = TVR_STATUS_OK;

    tvr_domain_event_callback_lifecycle_msg msg = { 0 };
    msg.dom.name = dom->name;
    memcpy(msg.dom.uuid, dom->uuid, sizeof(msg.dom.uuid));
    msg.dom.id = dom->id;
    msg.event = event;
    msg.detail = detail;

    g_mutex_lock(&remote->events_lock);
    for (GList *it = remote->event_conns; it; it = it->next) {
        TvRemoteConn *conn = it->data;
        for (guint i = 0; i < conn->callbacks->len; i++) {
            const TvRemoteEventCallback *cb =
                &g_array_index(conn->callbacks, TvRemoteEventCallback, i);
            if (cb->event_id != EVENT_ID_LIFECYCLE ||
                (cb->has_dom && memcmp(cb->uuid, dom->uuid, sizeof(cb->uuid)) != 0))
                continue;
            msg.callback_id = cb->id;
            GBytes *frame = tv_rpc_message_encode(
                &hdr, TV_XDR(xdr_tvr_domain_event_callback_lifecycle_msg), &msg);
            if (frame && conn->client)
                tv_rpc_conn_send(conn->client, frame);
            else if (frame)
                g_bytes_unref(frame);
            else
                tv_error_reset();
        }
    }
    g_mutex_unlock(&remote->events_lock);
}

const TvRemoteHandlerEntry tv_remote_event_handlers[] = {
    { TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, register_any },
    { TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, deregister_any },
};
const gsize tv_remote_event_handlers_count = G_N_ELEMENTS(tv_remote_event_handlers);
