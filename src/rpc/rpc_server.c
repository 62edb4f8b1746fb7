#include "rpc_server.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_conn_priv.h"
#include "rpc_socket.h"

/* Connections taken per wakeup of a listener. */
#define ACCEPTS_PER_WAKEUP 64
/* Pause of a listener after the process ran out of descriptors. */
#define ACCEPT_BACKOFF_MS 250

typedef struct {
    TvRpcServer *srv;
    int fd;
    gboolean readonly;
    char *path; /* set when this server created the socket file */
    GSource *source;
    GSource *backoff;
} Listener;

struct TvRpcServer {
    TvRpcServerConfig cfg;
    TvRpcProgram program;
    GMainContext *ctx;
    GPtrArray *listeners;
    GQueue clients;
    guint64 next_id;
    GThreadPool *pool;
    GThreadPool *prio_pool;
    GSource *timer;
    gint64 last_refusal_log;
    gboolean stopped;
    guint8 *read_buf; /* TV_RPC_READ_BUFFER bytes, made on first use */
};

typedef struct {
    TvRpcConn *client;
    GBytes *frame;
    TvRpcMessage msg; /* points into frame */
} Call;

void tv_rpc_server_config_init(TvRpcServerConfig *cfg)
{
    cfg->max_clients = 5000;
    cfg->max_workers = 20;
    cfg->prio_workers = 5;
    cfg->max_client_requests = 5;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
    cfg->handshake_timeout = 60;
}

static void run_call(gpointer data, gpointer user_data)
{
    Call *call = data;
    TvRpcServer *srv = user_data;
    if (!tv_rpc_conn_is_closed(call->client)) {
        GBytes *reply = srv->program.dispatch(call->client, &call->msg, srv->program.opaque);
        if (reply)
            tv_rpc_conn_send(call->client, reply);
    }
    tv_rpc_conn_call_done(call->client);
    tv_rpc_conn_unref(call->client);
    g_bytes_unref(call->frame);
    g_free(call);
}

static void log_header(TvRpcConn *client, const char *what, const tvr_header *hdr)
{
    g_info("%s: protocol error: %s (prog 0x%08x vers %u proc %d type %d status %d)",
           tv_rpc_conn_describe(client), what, hdr->prog, hdr->vers, hdr->proc, hdr->type,
           hdr->status);
}

gboolean tv_rpc_server_handle_frame(TvRpcServer *srv, TvRpcConn *client, GBytes *frame)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    TvRpcMessage msg;
    TvRpcFrameKind kind = tv_rpc_message_decode(data, len, &msg);

    switch (kind) {
    case TV_RPC_FRAME_CALL:
        if (msg.header.prog != srv->program.prog || msg.header.vers != srv->program.vers) {
            g_autofree char *text = g_strdup_printf("unknown program 0x%08x version %u",
                                                    msg.header.prog, msg.header.vers);
            GBytes *reply = tv_rpc_message_encode_error(&msg.header, TV_FROM_RPC, TV_ERR_RPC, text);
            g_bytes_unref(frame);
            if (reply)
                tv_rpc_conn_send(client, reply);
            return TRUE;
        } else {
            /* a call that cannot block skips two thread hand-offs: answer it here */
            if (srv->program.is_inline &&
                srv->program.is_inline(msg.header.proc, srv->program.opaque)) {
                if (!tv_rpc_conn_is_closed(client)) {
                    GBytes *reply = srv->program.dispatch(client, &msg, srv->program.opaque);
                    if (reply)
                        tv_rpc_conn_send(client, reply);
                }
                g_bytes_unref(frame);
                return TRUE;
            }
            Call *call = g_new0(Call, 1);
            call->client = tv_rpc_conn_ref(client);
            call->frame = frame;
            call->msg = msg;
            tv_rpc_conn_call_started(client);
            gboolean prio = srv->program.is_priority &&
                            srv->program.is_priority(msg.header.proc, srv->program.opaque);
            g_thread_pool_push(prio ? srv->prio_pool : srv->pool, call, NULL);
            return TRUE;
        }
    case TV_RPC_FRAME_PING: {
        GBytes *pong = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PONG);
        g_bytes_unref(frame);
        if (pong)
            tv_rpc_conn_send(client, pong);
        return TRUE;
    }
    case TV_RPC_FRAME_PONG:
        g_bytes_unref(frame);
        return TRUE;
    case TV_RPC_FRAME_STREAM:
        if (srv->program.stream && msg.header.prog == srv->program.prog &&
            msg.header.vers == srv->program.vers) {
            if (!tv_rpc_conn_is_closed(client))
                srv->program.stream(client, &msg, srv->program.opaque);
            g_bytes_unref(frame);
            return TRUE;
        }
        log_header(client, "stream packet of no stream program", &msg.header);
        g_bytes_unref(frame);
        tv_rpc_conn_hangup(client, "protocol error");
        return FALSE;
    case TV_RPC_FRAME_INCOMPLETE:
    case TV_RPC_FRAME_BAD_LENGTH:
    case TV_RPC_FRAME_TRAILING:
    case TV_RPC_FRAME_BAD_HEADER:
        log_header(client, tv_rpc_frame_kind_describe(kind), &msg.header);
        g_bytes_unref(frame);
        tv_rpc_conn_hangup(client, "protocol error");
        return FALSE;
    }
    g_bytes_unref(frame);
    return FALSE;
}

guint8 *tv_rpc_server_read_buffer(TvRpcServer *srv)
{
    if (!srv->read_buf)
        srv->read_buf = g_malloc(TV_RPC_READ_BUFFER);
    return srv->read_buf;
}

void tv_rpc_server_conn_gone(TvRpcServer *srv, TvRpcConn *client)
{
    if (client->link) {
        g_queue_delete_link(&srv->clients, client->link);
        client->link = NULL;
    }
    if (srv->program.client_close && client->priv)
        srv->program.client_close(client->priv, srv->program.opaque);
    tv_rpc_conn_unref(client);
}

guint tv_rpc_server_client_count(TvRpcServer *srv)
{
    return g_queue_get_length(&srv->clients);
}

static void accept_one(Listener *l, int fd)
{
    TvRpcServer *srv = l->srv;
    if (g_queue_get_length(&srv->clients) >= srv->cfg.max_clients) {
        gint64 now = g_get_monotonic_time();
        if (now - srv->last_refusal_log > G_USEC_PER_SEC) {
            g_warning("refusing connections: %u clients connected (max_clients)",
                      srv->cfg.max_clients);
            srv->last_refusal_log = now;
        }
        close(fd);
        return;
    }
    TvRpcConn *client = tv_rpc_conn_new(srv, srv->ctx, fd, l->readonly, ++srv->next_id,
                                        srv->cfg.max_client_requests);
    g_queue_push_tail(&srv->clients, client);
    client->link = g_queue_peek_tail_link(&srv->clients);
    if (srv->program.client_open)
        tv_rpc_conn_set_private(client, srv->program.client_open(client, srv->program.opaque),
                                srv->program.client_free);
    g_debug("%s connected to the %s socket", tv_rpc_conn_describe(client),
            l->readonly ? "read-only" : "read-write");
    tv_rpc_conn_attach(client);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data);

static void watch_listener(Listener *l)
{
    l->source = g_unix_fd_source_new(l->fd, G_IO_IN);
    g_source_set_can_recurse(l->source, TRUE); /* see tv_rpc_conn_attach */
    g_source_set_callback(l->source, (GSourceFunc)(void (*)(void))on_accept, l, NULL);
    g_source_attach(l->source, l->srv->ctx);
}

static gboolean resume_listener(gpointer data)
{
    Listener *l = data;
    g_source_unref(l->backoff);
    l->backoff = NULL;
    watch_listener(l);
    return G_SOURCE_REMOVE;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    Listener *l = data;
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd >= 0) {
            accept_one(l, cfd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        /* out of descriptors or memory: the socket stays readable, so stop polling it for a while
         */
        g_warning("accept on %s socket: %s; pausing %d ms",
                  l->readonly ? "read-only" : "read-write", g_strerror(errno), ACCEPT_BACKOFF_MS);
        g_source_unref(l->source);
        l->source = NULL;
        l->backoff = g_timeout_source_new(ACCEPT_BACKOFF_MS);
        g_source_set_callback(l->backoff, resume_listener, l, NULL);
        g_source_attach(l->backoff, l->srv->ctx);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void listener_free(gpointer data)
{
    Listener *l = data;
    if (l->source) {
        g_source_destroy(l->source);
        g_source_unref(l->source);
    }
    if (l->backoff) {
        g_source_destroy(l->backoff);
        g_source_unref(l->backoff);
    }
    if (l->fd >= 0)
        close(l->fd);
    if (l->path)
        unlink(l->path);
    g_free(l->path);
    g_free(l);
}

static Listener *add_listener(TvRpcServer *srv, int fd, gboolean readonly)
{
    Listener *l = g_new0(Listener, 1);
    l->srv = srv;
    l->fd = fd;
    l->readonly = readonly;
    g_ptr_array_add(srv->listeners, l);
    watch_listener(l);
    return l;
}

int tv_rpc_server_add_unix(TvRpcServer *srv, const char *path, mode_t mode, gboolean readonly)
{
    int fd = tv_rpc_socket_listen(path, mode);
    if (fd < 0)
        return -1;
    add_listener(srv, fd, readonly)->path = g_strdup(path);
    return 0;
}

int tv_rpc_server_add_fd(TvRpcServer *srv, int fd, gboolean readonly)
{
    if (!g_unix_set_fd_nonblocking(fd, TRUE, NULL)) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot make socket %d non-blocking", fd);
        return -1;
    }
    add_listener(srv, fd, readonly);
    return 0;
}

/* Once a second: ping silent keepalive clients, drop dead and mute ones. */
static gboolean on_tick(gpointer data)
{
    TvRpcServer *srv = data;
    gint64 now = g_get_monotonic_time();
    g_autoptr(GPtrArray) dead = g_ptr_array_new();
    g_autoptr(GPtrArray) reasons = g_ptr_array_new();

    for (GList *it = srv->clients.head; it; it = it->next) {
        TvRpcConn *c = it->data;
        if (!c->got_message && srv->cfg.handshake_timeout &&
            now - c->connected_at > (gint64)srv->cfg.handshake_timeout * G_USEC_PER_SEC) {
            g_ptr_array_add(dead, c);
            g_ptr_array_add(reasons, "sent no message within handshake_timeout");
            continue;
        }
        if (!g_atomic_int_get(&c->keepalive) || !srv->cfg.keepalive_interval)
            continue;
        /* while we do not read a client (calls in flight at its limit) we cannot hear its pongs */
        if (tv_rpc_conn_reading_paused(c)) {
            c->last_rx = now;
            c->pings_unanswered = 0;
            continue;
        }
        gint64 silence = now - c->last_rx;
        gint64 due = (gint64)srv->cfg.keepalive_interval * (c->pings_unanswered + 1);
        if (silence < due * G_USEC_PER_SEC)
            continue;
        if (c->pings_unanswered >= srv->cfg.keepalive_count) {
            g_ptr_array_add(dead, c);
            g_ptr_array_add(reasons, "no answer to keepalive");
            continue;
        }
        GBytes *ping = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PING);
        if (ping)
            tv_rpc_conn_send(c, ping);
        c->pings_unanswered++;
    }
    for (guint i = 0; i < dead->len; i++)
        tv_rpc_conn_hangup(dead->pdata[i], reasons->pdata[i]);
    return G_SOURCE_CONTINUE;
}

TvRpcServer *tv_rpc_server_new(const TvRpcServerConfig *cfg, const TvRpcProgram *program,
                               GMainContext *ctx)
{
    TvRpcServer *srv = g_new0(TvRpcServer, 1);
    srv->cfg = *cfg;
    srv->cfg.max_workers = MAX(srv->cfg.max_workers, 1);
    srv->cfg.prio_workers = MAX(srv->cfg.prio_workers, 1);
    srv->program = *program;
    srv->ctx = g_main_context_ref(ctx ? ctx : g_main_context_default());
    srv->listeners = g_ptr_array_new_with_free_func(listener_free);
    g_queue_init(&srv->clients);
    srv->pool = g_thread_pool_new(run_call, srv, (gint)srv->cfg.max_workers, FALSE, NULL);
    srv->prio_pool = g_thread_pool_new(run_call, srv, (gint)srv->cfg.prio_workers, FALSE, NULL);
    srv->timer = g_timeout_source_new_seconds(1);
    g_source_set_callback(srv->timer, on_tick, srv, NULL);
    g_source_attach(srv->timer, srv->ctx);
    return srv;
}

void tv_rpc_server_stop(TvRpcServer *srv)
{
    if (srv->stopped)
        return;
    srv->stopped = TRUE;
    g_ptr_array_set_size(srv->listeners, 0);
    g_source_destroy(srv->timer);
    g_source_unref(srv->timer);
    srv->timer = NULL;
    while (!g_queue_is_empty(&srv->clients))
        tv_rpc_conn_hangup(g_queue_peek_head(&srv->clients), "server shutting down");
    /* calls still queued find their client closed and return at once */
    g_thread_pool_free(srv->pool, FALSE, TRUE);
    g_thread_pool_free(srv->prio_pool, FALSE, TRUE);
    srv->pool = srv->prio_pool = NULL;
    /* run the idle callbacks the workers queued, so their client references drop */
    if (g_main_context_acquire(srv->ctx)) {
        for (int i = 0; i < 1000 && g_main_context_iteration(srv->ctx, FALSE); i++)
            ;
        g_main_context_release(srv->ctx);
    }
}

void tv_rpc_server_free(TvRpcServer *srv)
{
    if (!srv)
        return;
    tv_rpc_server_stop(srv);
    g_ptr_array_unref(srv->listeners);
    g_main_context_unref(srv->ctx);
    g_free(srv->read_buf);
    g_free(srv);
}
