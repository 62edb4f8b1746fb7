/* Event callbacks: registration per connection for domains, node devices
 * and secrets (storage pools: remote_storage.c; networks: remote_network.c
 * through remote_objevents.c), and the fan-out of
 * driver domain events as server MESSAGEs.  Kinds whose driver does not
 * exist yet accept registrations (as libvirt does) and send nothing until
 * something emits through them. */
#include "remote_priv.h"

#include <string.h>

#include "rpc_message.h"

/* libvirt 9.0's event id counts per kind (a registration at or past one is refused). */
enum {
    NODE_DEVICE_EVENT_ID_LAST = 2, /* lifecycle, update */
    SECRET_EVENT_ID_LAST = 2,      /* lifecycle, value changed */
};

typedef struct {
    const char *noun; /* in messages: "network event" */
    int id_last;
} KindInfo;

static const KindInfo kinds[TV_REMOTE_EVENT_KIND_LAST] = {
    [TV_REMOTE_EVENT_DOMAIN] = { "domain event", TV_DOMAIN_EVENT_ID_LAST },
    [TV_REMOTE_EVENT_NODE_DEVICE] = { "node device event", NODE_DEVICE_EVENT_ID_LAST },
    [TV_REMOTE_EVENT_SECRET] = { "secret event", SECRET_EVENT_ID_LAST },
};

/* Add a callback; the answer is its id, or -1 with an error (libvirt's
 * INTERNAL_ERROR for an unknown event id, which clients report as is). */
static int add_callback(TvRemoteConn *conn, TvRemoteEventKind kind, int event_id,
                        const unsigned char *uuid, const char *name, int *callback_id)
{
    if (event_id < 0 || event_id >= kinds[kind].id_last) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                        "unsupported %s ID %d; accepted: 0 to %d (libvirt 9.0's event ids)",
                        kinds[kind].noun, event_id, kinds[kind].id_last - 1);
        return -1;
    }
    TvRemoteEventCallback cb = { 0 };
    cb.kind = kind;
    cb.event_id = event_id;
    if (uuid) {
        cb.has_filter = TRUE;
        memcpy(cb.uuid, uuid, sizeof(cb.uuid));
    } else if (name) {
        cb.has_filter = TRUE;
        cb.name = g_strdup(name);
    }

    TvRemote *remote = conn->remote;
    g_mutex_lock(&remote->events_lock);
    cb.id = remote->next_callback_id++;
    if (conn->callbacks->len == 0)
        remote->event_conns = g_list_prepend(remote->event_conns, conn);
    g_array_append_val(conn->callbacks, cb);
    g_mutex_unlock(&remote->events_lock);
    *callback_id = cb.id;
    return 0;
}

static void callback_clear(gpointer p)
{
    g_free(((TvRemoteEventCallback *)p)->name);
}

static int remove_callback(TvRemoteConn *conn, TvRemoteEventKind kind, int callback_id)
{
    TvRemote *remote = conn->remote;
    gboolean found = FALSE;

    g_mutex_lock(&remote->events_lock);
    for (guint i = 0; i < conn->callbacks->len; i++) {
        TvRemoteEventCallback *cb = &g_array_index(conn->callbacks, TvRemoteEventCallback, i);
        if (cb->id == callback_id && cb->kind == kind) {
            g_array_remove_index(conn->callbacks, i);
            found = TRUE;
            break;
        }
    }
    if (found && conn->callbacks->len == 0)
        remote->event_conns = g_list_remove(remote->event_conns, conn);
    g_mutex_unlock(&remote->events_lock);

    if (!found) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR, "%s callback %d not registered",
                        kinds[kind].noun, callback_id);
        return -1;
    }
    return 0;
}

static int register_domain(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_domain_event_callback_register_any_args *args = argsp;
    tvr_connect_domain_event_callback_register_any_ret *ret = retp;
    return add_callback(conn, TV_REMOTE_EVENT_DOMAIN, args->event_id,
                        args->dom ? (const unsigned char *)args->dom->uuid : NULL, NULL,
                        &ret->callback_id);
}

static int deregister_domain(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_domain_event_callback_deregister_any_args *args = argsp;
    return remove_callback(conn, TV_REMOTE_EVENT_DOMAIN, args->callback_id);
}

static int register_node_device(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_node_device_event_register_any_args *args = argsp;
    return add_callback(conn, TV_REMOTE_EVENT_NODE_DEVICE, args->event_id, NULL,
                        args->dev ? args->dev->name : NULL,
                        &((tvr_callback_id_ret *)retp)->callback_id);
}

static int register_secret(TvRemoteConn *conn, const void *argsp, void *retp)
{
    const tvr_connect_secret_event_register_any_args *args = argsp;
    return add_callback(conn, TV_REMOTE_EVENT_SECRET, args->event_id,
                        args->secret ? (const unsigned char *)args->secret->uuid : NULL, NULL,
                        &((tvr_callback_id_ret *)retp)->callback_id);
}

#define DEREGISTER(fn, kind)                                                                       \
    static int fn(TvRemoteConn *conn, const void *argsp, void *retp)                               \
    {                                                                                              \
        return remove_callback(conn, kind, ((const tvr_callback_id_args *)argsp)->callback_id);    \
    }
DEREGISTER(deregister_node_device, TV_REMOTE_EVENT_NODE_DEVICE)
DEREGISTER(deregister_secret, TV_REMOTE_EVENT_SECRET)

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

void tv_remote_events_conn_init(TvRemoteConn *conn)
{
    conn->callbacks = g_array_new(FALSE, FALSE, sizeof(TvRemoteEventCallback));
    g_array_set_clear_func(conn->callbacks, callback_clear);
}

/* One message per matching callback, its id written into the message first. */
void tv_remote_events_send(TvRemote *remote, TvRemoteEventKind kind, int event_id,
                           const unsigned char *uuid, const char *name, int proc, xdrproc_t filter,
                           void *msg, int *callback_id_field)
{
    tvr_header hdr = { 0 };
    hdr.prog = TVR_REMOTE_PROGRAM;
    hdr.vers = TVR_REMOTE_VERSION;
    hdr.proc = proc;
    hdr.type = TVR_MESSAGE;
    hdr.serial = 0;
    hdr.status = TVR_STATUS_OK;

    g_mutex_lock(&remote->events_lock);
    for (GList *it = remote->event_conns; it; it = it->next) {
        TvRemoteConn *conn = it->data;
        for (guint i = 0; i < conn->callbacks->len; i++) {
            const TvRemoteEventCallback *cb =
                &g_array_index(conn->callbacks, TvRemoteEventCallback, i);
            if (cb->kind != kind || cb->event_id != event_id)
                continue;
            if (cb->has_filter &&
                (cb->name ? g_strcmp0(cb->name, name) != 0
                          : !uuid || memcmp(cb->uuid, uuid, sizeof(cb->uuid)) != 0))
                continue;
            *callback_id_field = cb->id;
            GBytes *frame = tv_rpc_message_encode(&hdr, filter, msg);
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
    { TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, register_domain },
    { TVR_PROC_CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, deregister_domain },
    { TVR_PROC_CONNECT_NODE_DEVICE_EVENT_REGISTER_ANY, register_node_device },
    { TVR_PROC_CONNECT_NODE_DEVICE_EVENT_DEREGISTER_ANY, deregister_node_device },
    { TVR_PROC_CONNECT_SECRET_EVENT_REGISTER_ANY, register_secret },
    { TVR_PROC_CONNECT_SECRET_EVENT_DEREGISTER_ANY, deregister_secret },
};
const gsize tv_remote_event_handlers_count = G_N_ELEMENTS(tv_remote_event_handlers);
