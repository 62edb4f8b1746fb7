#include "rpc_server.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_conn_priv.h"
#include "rpc_socket.h"
#include "tv_error.h"

/* Connections taken per wakeup of a listener. */
#define ACCEPTS_PER_WAKEUP 64
/* Pause of a listener after the process ran out of descriptors. */
#define ACCEPT_BACKOFF_MS 250

typedef struct {
    TvRpcServer *srv;
    int fd;
    gboolean readonly;
    gboolean tls; /* clients speak TLS first (the server's context) */
    char *path;   /* set when this server created the socket file */
    GSource *source;
    GSource *backoff;
} Listener;

struct TvRpcServer {
    TvRpcServerConfig cfg;
    TvRpcProgram program;
    GMainContext *ctx;
    GPtrArray *listeners;
    GQueue clients;
    guint ro_clients; /* of those, connected through a read-only socket */
    guint64 next_id;
    GThreadPool *pool;
    GThreadPool *prio_pool;
    GSource *timer;
    gint64 last_refusal_log[2]; /* read-write, read-only */
    gboolean stopped;
    guint8 *read_buf;  /* TV_RPC_READ_BUFFER bytes, made on first use */
    TvTlsContext *tls; /* of the TLS listeners */
    char **tls_allowed_dns;
};

typedef struct {
    TvRpcConn *client;
    GBytes *frame;
    TvRpcMessage msg; /* points into frame */
} Call;

void tv_rpc_server_config_init(TvRpcServerConfig *cfg)
{
    cfg->max_clients = 5000;
    cfg->max_ro_clients = TV_RPC_SERVER_DERIVED;
    cfg->max_workers = 20;
    cfg->prio_workers = 5;
    cfg->max_client_requests = 5;
    cfg->max_client_output = 256 * 1024;
    cfg->keepalive_interval = 5;
    cfg->keepalive_count = 5;
    cfg->handshake_timeout = 60;
    cfg->message_timeout = 30;
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
                srv->program.is_inline(client, &msg, srv->program.opaque)) {
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
        if (client->readonly)
            srv->ro_clients--;
    }
    if (srv->program.client_close && client->priv)
        srv->program.client_close(client->priv, srv->program.opaque);
    tv_rpc_conn_unref(client);
}

guint tv_rpc_server_client_count(TvRpcServer *srv)
{
    return g_queue_get_length(&srv->clients);
}

/* NULL: there is a slot for a new client of l; else which limit is reached. */
static const char *limit_reached(TvRpcServer *srv, Listener *l)
{
    if (g_queue_get_length(&srv->clients) >= srv->cfg.max_clients)
        return "max_clients";
    if (l->readonly && srv->ro_clients >= srv->cfg.max_ro_clients)
        return "max_ro_clients";
    return NULL;
}

static void refuse(TvRpcServer *srv, Listener *l, int fd, const char *limit)
{
    gint64 now = g_get_monotonic_time();
    gint64 *last = &srv->last_refusal_log[l->readonly ? 1 : 0];
    if (now - *last > G_USEC_PER_SEC) {
        g_autofree char *who = tv_rpc_socket_peer_describe(fd);
        g_warning("refusing a connection to the %s socket from %s: %u clients connected, %u of "
                  "them read-only (%s reached; further refusals on this socket are not logged "
                  "for a second)",
                  l->readonly ? "read-only" : "read-write", who, g_queue_get_length(&srv->clients),
                  srv->ro_clients, limit);
        *last = now;
    }
    close(fd);
}

static void accept_one(Listener *l, int fd)
{
    TvRpcServer *srv = l->srv;
    const char *limit = limit_reached(srv, l);
    if (limit) {
        refuse(srv, l, fd, limit);
        return;
    }
    TvRpcConn *client = tv_rpc_conn_new(srv, srv->ctx, fd, l->readonly, ++srv->next_id,
                                        srv->cfg.max_client_requests, srv->cfg.max_client_output);
    g_queue_push_tail(&srv->clients, client);
    if (l->readonly)
        srv->ro_clients++;
    client->link = g_queue_peek_tail_link(&srv->clients);
    if (l->tls && tv_rpc_conn_start_tls(client, srv->tls, srv->tls_allowed_dns) < 0) {
        g_warning("%s: %s", tv_rpc_conn_describe(client), tv_error_message());
        tv_error_reset();
        client->link = NULL;
        g_queue_pop_tail(&srv->clients);
        tv_rpc_conn_unref(client);
        return;
    }
    if (srv->program.client_open)
        tv_rpc_conn_set_private(client, srv->program.client_open(client, srv->program.opaque),
                                srv->program.client_free);
    g_debug("%s connected to the %s socket", tv_rpc_conn_describe(client),
            l->tls        ? "TLS"
            : l->readonly ? "read-only"
                          : "read-write");
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

int tv_rpc_server_add_tls(TvRpcServer *srv, const char *addr, const char *service,
                          TvTlsContext *tls, const char *const *allowed_dns)
{
    if (!srv->tls) {
        srv->tls = tls;
        srv->tls_allowed_dns = allowed_dns ? g_strdupv((char **)allowed_dns) : NULL;
    } else if (tls != srv->tls) {
        tv_tls_context_free(tls);
    }
    g_autoptr(GArray) fds = tv_rpc_socket_listen_tcp(addr, service);
    if (!fds)
        return -1;
    guint port = 0;
    for (guint i = 0; i < fds->len; i++) {
        int fd = g_array_index(fds, int, i);
        port = tv_rpc_socket_tcp_port(fd);
        add_listener(srv, fd, FALSE)->tls = TRUE;
    }
    return (int)port;
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

/* Why c is to be dropped now (NULL: it is not); may ping it.  The limits:
 * handshake_timeout for the first message; message_timeout for the rest of a
 * message once its first byte is in (not counted while we do not read); and,
 * for a client that asked for keepalive, libvirt's rule: a ping after
 * keepalive_interval seconds without a message, another each interval, and
 * the hang-up when keepalive_count of them went unanswered.  A client that
 * never asked for keepalive and sits between messages is kept, as libvirtd
 * keeps it. */
static const char *check_client(TvRpcServer *srv, TvRpcConn *c, gint64 now)
{
    const TvRpcServerConfig *cfg = &srv->cfg;
    if (!c->got_message && cfg->handshake_timeout &&
        now - c->connected_at > (gint64)cfg->handshake_timeout * G_USEC_PER_SEC)
        return "sent no whole message within handshake_timeout";
    /* while we do not read a client (calls in flight at its limit, output not taken) we
     * cannot hear it: its clocks start again when reading resumes */
    if (tv_rpc_conn_reading_paused(c)) {
        c->last_rx = now;
        c->pings_unanswered = 0;
        if (c->partial_since)
            c->partial_since = now;
        return NULL;
    }
    if (c->got_message && c->partial_since && cfg->message_timeout &&
        now - c->partial_since > (gint64)cfg->message_timeout * G_USEC_PER_SEC)
        return "sent part of a message and not the rest within message_timeout";
    if (!g_atomic_int_get(&c->keepalive) || cfg->keepalive_interval <= 0)
        return NULL;
    gint64 silence = now - c->last_rx;
    gint64 due = (gint64)cfg->keepalive_interval * (c->pings_unanswered + 1);
    if (silence < due * G_USEC_PER_SEC)
        return NULL;
    if (c->pings_unanswered >= cfg->keepalive_count)
        return cfg->keepalive_count ? "no answer to keepalive"
                                    : "no message within keepalive_interval (keepalive_count 0)";
    GBytes *ping = tv_rpc_message_encode_keepalive(TVR_KEEPALIVE_PING);
    if (ping)
        tv_rpc_conn_send(c, ping);
    c->pings_unanswered++;
    return NULL;
}

/* Once a second: ping silent keepalive clients, drop dead and mute ones. */
static gboolean on_tick(gpointer data)
{
    TvRpcServer *srv = data;
    gint64 now = g_get_monotonic_time();
    g_autoptr(GPtrArray) dead = g_ptr_array_new();
    g_autoptr(GPtrArray) reasons = g_ptr_array_new();

    for (GList *it = srv->clients.head; it; it = it->next) {
        const char *why = check_client(srv, it->data, now);
        if (why) {
            g_ptr_array_add(dead, it->data);
            g_ptr_array_add(reasons, (gpointer)why);
        }
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
    if (srv->cfg.max_ro_clients == TV_RPC_SERVER_DERIVED)
        srv->cfg.max_ro_clients = (guint)((guint64)srv->cfg.max_clients * 4 / 5);
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
    tv_tls_context_free(srv->tls);
    g_strfreev(srv->tls_allowed_dns);
    g_free(srv);
}
