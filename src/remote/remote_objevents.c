/* Object event callbacks and their fan-out (remote_objevents.h). */
#include "remote_objevents.h"

#include <string.h>

void tv_obj_events_init(TvObjEvents *ev, const char *what)
{
    ev->what = what;
    g_mutex_init(&ev->lock);
    ev->by_conn =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_array_unref);
    ev->next_id = 1;
}

void tv_obj_events_clear(TvObjEvents *ev)
{
    g_clear_pointer(&ev->by_conn, g_hash_table_unref);
    g_mutex_clear(&ev->lock);
}

int tv_obj_events_register(TvObjEvents *ev, TvRemoteConn *conn, int event_id,
                           const unsigned char *uuid)
{
    TvObjCallback cb = { 0 };
    cb.event_id = event_id;
    if (uuid) {
        cb.has_uuid = TRUE;
        memcpy(cb.uuid, uuid, sizeof(cb.uuid));
    }
    g_mutex_lock(&ev->lock);
    cb.id = ev->next_id++;
    GArray *list = g_hash_table_lookup(ev->by_conn, conn);
    if (!list) {
        list = g_array_new(FALSE, FALSE, sizeof(TvObjCallback));
        g_hash_table_insert(ev->by_conn, conn, list);
    }
    g_array_append_val(list, cb);
    g_mutex_unlock(&ev->lock);
    return cb.id;
}

int tv_obj_events_deregister(TvObjEvents *ev, TvRemoteConn *conn, int id)
{
    gboolean found = FALSE;
    g_mutex_lock(&ev->lock);
    GArray *list = g_hash_table_lookup(ev->by_conn, conn);
    for (guint i = 0; list && i < list->len && !found; i++) {
        if (g_array_index(list, TvObjCallback, i).id == id) {
            g_array_remove_index(list, i);
            found = TRUE;
        }
    }
    if (list && list->len == 0)
        g_hash_table_remove(ev->by_conn, conn);
    g_mutex_unlock(&ev->lock);
    if (found)
        return 0;
    tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                    "%s event callback %d is not registered on this connection", ev->what, id);
    return -1;
}

void tv_obj_events_drop_conn(TvObjEvents *ev, TvRemoteConn *conn)
{
    g_mutex_lock(&ev->lock);
    g_hash_table_remove(ev->by_conn, conn);
    g_mutex_unlock(&ev->lock);
}

void tv_obj_events_emit(TvObjEvents *ev, int event_id, const unsigned char *uuid,
                        TvObjEventSend send, void *opaque)
{
    g_mutex_lock(&ev->lock);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, ev->by_conn);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        GArray *list = value;
        for (guint i = 0; i < list->len; i++) {
            const TvObjCallback *cb = &g_array_index(list, TvObjCallback, i);
            if (cb->event_id == event_id &&
                (!cb->has_uuid || memcmp(cb->uuid, uuid, sizeof(cb->uuid)) == 0))
                send(key, cb->id, opaque);
        }
    }
    g_mutex_unlock(&ev->lock);
}

void tv_remote_send_message(TvRemoteConn *conn, int proc, xdrproc_t filter, const void *msg)
{
    tvr_header hdr = {
        TVR_REMOTE_PROGRAM, TVR_REMOTE_VERSION, proc, TVR_MESSAGE, 0, TVR_STATUS_OK
    };
    GBytes *frame = tv_rpc_message_encode(&hdr, filter, msg);
    if (frame && conn->client)
        tv_rpc_conn_send(conn->client, frame);
    else if (frame)
        g_bytes_unref(frame);
    else
        tv_error_reset();
}
