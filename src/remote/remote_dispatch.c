#include "remote_priv.h"
#include "remote_network.h"
#include "remote_storage.h"

#include "rpc_message.h"

#include <unistd.h>

TvRemote *tv_remote_new(TvQemuDriver *drv)
{
    TvRemote *remote = g_new0(TvRemote, 1);
    remote->drv = drv;
    remote->handlers = g_new0(TvRemoteHandler, tv_remote_procedure_count());
    remote->quick = g_new0(TvRemoteQuickCheck, tv_remote_procedure_count());
    remote->next_callback_id = 1;
    g_mutex_init(&remote->events_lock);
    g_mutex_init(&remote->streams_lock);
    remote->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    tv_remote_add_handlers(remote, tv_remote_connect_handlers, tv_remote_connect_handlers_count);
    tv_remote_add_handlers(remote, tv_remote_event_handlers, tv_remote_event_handlers_count);
    tv_remote_add_handlers(remote, tv_remote_secret_handlers, tv_remote_secret_handlers_count);
    return remote;
}

void tv_remote_free(TvRemote *remote)
{
    if (!remote)
        return;
    tv_remote_unregister_storage(remote);
    tv_remote_unregister_network(remote);
    g_list_free(remote->event_conns);
    g_mutex_clear(&remote->events_lock);
    g_hash_table_unref(remote->sessions);
    g_mutex_clear(&remote->streams_lock);
    g_free(remote->handlers);
    g_free(remote->quick);
    g_free(remote);
}

void tv_remote_add_handlers(TvRemote *remote, const TvRemoteHandlerEntry *entries, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        const TvRemoteProcedure *p = tv_remote_procedure_find(entries[i].proc);
        g_assert(p != NULL); /* a handler for a procedure missing from the table is a bug */
        remote->handlers[tv_remote_procedure_index(p)] = entries[i].handler;
    }
}

void tv_remote_add_quick_checks(TvRemote *remote, const TvRemoteQuickEntry *entries, gsize n)
{
    for (gsize i = 0; i < n; i++) {
        const TvRemoteProcedure *p = tv_remote_procedure_find(entries[i].proc);
        g_assert(p != NULL && (p->flags & TV_PROC_INLINE));
        remote->quick[tv_remote_procedure_index(p)] = entries[i].quick;
    }
}

TvRemoteConn *tv_remote_conn_new(TvRemote *remote, TvRpcConn *client, gboolean readonly)
{
    static guint64 serials;
    TvRemoteConn *conn = g_new0(TvRemoteConn, 1);
    conn->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    conn->remote = remote;
    conn->client = client;
    conn->readonly = readonly;
    tv_remote_events_conn_init(conn);
    g_mutex_init(&conn->lock);
    return conn;
}

void tv_remote_conn_closed(TvRemoteConn *conn)
{
    tv_remote_events_drop_conn(conn);
    tv_remote_storage_drop_conn(conn);
    tv_remote_network_drop_conn(conn);
    tv_remote_streams_drop_conn(conn);
    g_mutex_lock(&conn->lock);
    conn->closed = TRUE;
    g_mutex_unlock(&conn->lock);
    /* a migration it prepared or performs ends (docs/migration.rst) */
    if (conn->remote->drv)
        tv_qemu_driver_migrate_caller_gone(conn->remote->drv, conn->serial);
}

void tv_remote_conn_free(TvRemoteConn *conn)
{
    if (!conn)
        return;
    tv_remote_events_drop_conn(conn);
    tv_remote_storage_drop_conn(conn);
    tv_remote_network_drop_conn(conn);
    tv_remote_streams_drop_conn(conn);
    g_array_unref(conn->callbacks);
    g_free(conn->local_addr);
    g_mutex_clear(&conn->lock);
    g_free(conn);
}

const char *tv_remote_conn_local_address(TvRemoteConn *conn)
{
    g_mutex_lock(&conn->lock);
    if (!conn->local_addr_known) {
        conn->local_addr = conn->client ? tv_rpc_conn_local_address(conn->client) : NULL;
        conn->local_addr_known = TRUE;
    }
    const char *addr = conn->local_addr; /* fixed from now on: lives as long as conn */
    g_mutex_unlock(&conn->lock);
    return addr;
}

gboolean tv_remote_conn_is_readonly(TvRemoteConn *conn)
{
    g_mutex_lock(&conn->lock);
    gboolean ro = conn->readonly;
    g_mutex_unlock(&conn->lock);
    return ro;
}

static gboolean conn_is_open(TvRemoteConn *conn)
{
    g_mutex_lock(&conn->lock);
    gboolean open = conn->open;
    g_mutex_unlock(&conn->lock);
    return open;
}

static GBytes *error_reply(const tvr_header *hdr)
{
    const TvError *err = tv_error_last();
    GBytes *reply = tv_rpc_message_encode_error(hdr, err ? err->domain : TV_FROM_RPC,
                                                err ? err->code : TV_ERR_INTERNAL_ERROR,
                                                err ? err->message : "unknown error");
    tv_error_reset();
    return reply;
}

/* For log lines: the client as the rpc layer names it (unit tests have none). */
static const char *conn_name(TvRemoteConn *conn)
{
    return conn->client ? tv_rpc_conn_describe(conn->client) : "client";
}

/* Checks that do not depend on the arguments; 0 or -1 with a tv_error. */
static int admit(TvRemoteConn *conn, const TvRemoteProcedure *p)
{
    if (!(p->flags & TV_PROC_BEFORE_OPEN) && !conn_is_open(conn)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_INVALID,
                        "connection not open: call CONNECT_OPEN before %s", p->name);
        return -1;
    }
    if (!(p->flags & TV_PROC_READONLY_OK) && tv_remote_conn_is_readonly(conn)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_DENIED,
                        "operation forbidden: read only access prevents %s", p->name);
        return -1;
    }
    return 0;
}

static __thread const tvr_header *current_call;

const tvr_header *tv_remote_current_call(void)
{
    return current_call;
}

/* the descriptor the running handler gives with its reply; -1: none */
static __thread int reply_fd = -1;

void tv_remote_reply_fd(int fd)
{
    if (reply_fd >= 0)
        close(reply_fd);
    reply_fd = fd;
}

GBytes *tv_remote_dispatch(TvRemoteConn *conn, const TvRpcMessage *call)
{
    const tvr_header *hdr = &call->header;
    const TvRemoteProcedure *p = tv_remote_procedure_find(hdr->proc);
    TvRemoteHandler handler = p ? conn->remote->handlers[tv_remote_procedure_index(p)] : NULL;

    tv_error_reset();
    /* clients turn exactly this (RPC, FROM_RPC, "unknown procedure...") into NO_SUPPORT */
    if (!p || (p->flags & TV_PROC_SERVER_MESSAGE)) {
        /* what a client needs that is missing: visible with tagvirtd -v */
        g_debug("%s: unknown procedure %d (serial %u)", conn_name(conn), hdr->proc, hdr->serial);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "unknown procedure: %d", hdr->proc);
        return error_reply(hdr);
    }
    /* a read-only connection is refused what changes state, implemented or not */
    if (admit(conn, p) < 0)
        return error_reply(hdr);
    if (!handler) {
        g_debug("%s: unknown procedure %d (%s: no handler in this daemon)", conn_name(conn),
                hdr->proc, p->name);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "unknown procedure: %d (%s)", hdr->proc, p->name);
        return error_reply(hdr);
    }

    g_autofree void *args = g_malloc0(p->args_size);
    if (!tv_rpc_message_decode_payload(call, p->args_filter, args)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC,
                        "cannot decode the arguments of %s (procedure %d, %zu bytes)", p->name,
                        hdr->proc, call->payload_len);
        return error_reply(hdr);
    }

    g_autofree void *ret = g_malloc0(p->ret_size);
    current_call = hdr;
    int rc = handler(conn, args, ret);
    current_call = NULL;
    xdr_free(p->args_filter, args);

    int fd = reply_fd;
    reply_fd = -1;
    GBytes *reply = NULL;
    if (rc == 0 && fd >= 0)
        reply = tv_rpc_message_encode_reply_fds(hdr, 1, p->ret_filter, ret);
    else if (rc == 0)
        reply = tv_rpc_message_encode_reply(hdr, p->ret_filter, ret);
    xdr_free(p->ret_filter, ret);
    if (reply && fd >= 0 && conn->client) {
        /* the descriptor follows the frame: both go out here */
        tv_rpc_conn_send_fds(conn->client, reply, &fd, 1);
        return NULL;
    }
    if (fd >= 0)
        close(fd); /* failed, or no transport (unit tests): the reply alone */
    if (!reply)
        reply = error_reply(hdr);
    return reply;
}

static GBytes *program_dispatch(TvRpcConn *client, const TvRpcMessage *call, void *opaque)
{
    return tv_remote_dispatch(tv_rpc_conn_get_private(client), call);
}

static void program_stream(TvRpcConn *client, const TvRpcMessage *msg, void *opaque)
{
    tv_remote_stream_packet(tv_rpc_conn_get_private(client), msg);
}

static gboolean program_is_priority(int proc, void *opaque)
{
    const TvRemoteProcedure *p = tv_remote_procedure_find(proc);
    return !p || (p->flags & TV_PROC_READONLY_OK);
}

static gboolean program_is_inline(TvRpcConn *client, const TvRpcMessage *call, void *opaque)
{
    TvRemote *remote = opaque;
    const TvRemoteProcedure *p = tv_remote_procedure_find(call->header.proc);
    if (!p || (p->flags & TV_PROC_SERVER_MESSAGE))
        return TRUE; /* answered with an error at once */
    if (!(p->flags & TV_PROC_INLINE))
        return FALSE;
    TvRemoteQuickCheck quick = remote->quick[tv_remote_procedure_index(p)];
    if (!quick)
        return TRUE;
    /* arguments that do not decode get their error reply from a worker */
    g_autofree void *args = g_malloc0(p->args_size);
    if (!tv_rpc_message_decode_payload(call, p->args_filter, args))
        return FALSE;
    gboolean cheap = quick(remote, args);
    xdr_free(p->args_filter, args);
    return cheap;
}

static gpointer program_client_open(TvRpcConn *client, void *opaque)
{
    return tv_remote_conn_new(opaque, client, tv_rpc_conn_is_readonly(client));
}

static void program_client_close(gpointer priv, void *opaque)
{
    tv_remote_conn_closed(priv);
}

void tv_remote_program(TvRemote *remote, TvRpcProgram *program)
{
    *program = (TvRpcProgram){
        .prog = TVR_REMOTE_PROGRAM,
        .vers = TVR_REMOTE_VERSION,
        .dispatch = program_dispatch,
        .is_priority = program_is_priority,
        .is_inline = program_is_inline,
        .stream = program_stream,
        .client_open = program_client_open,
        .client_close = program_client_close,
        .client_free = (GDestroyNotify)tv_remote_conn_free,
        .opaque = remote,
    };
}
