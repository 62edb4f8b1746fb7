#include "rpc_client_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Frames read per wakeup, so one busy client cannot starve the others. */
#define READS_PER_WAKEUP 16
/* First allocation for a frame; larger frames grow as their bytes arrive. */
#define IN_CHUNK (64 * 1024)
/* A client that does not read its replies and events is dropped past this. */
#define OUT_QUEUE_MAX 4096

typedef struct {
    GSource base;
    TvRpcClient *client;
} ClientSource;

TvRpcClient *tv_rpc_client_ref(TvRpcClient *client)
{
    g_atomic_int_inc(&client->refs);
    return client;
}

void tv_rpc_client_unref(TvRpcClient *client)
{
    if (!client || !g_atomic_int_dec_and_test(&client->refs))
        return;
    if (client->priv_free)
        client->priv_free(client->priv);
    g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
    if (client->fd >= 0)
        close(client->fd);
    g_free(client->in_buf);
    g_free(client->name);
    g_mutex_clear(&client->lock);
    g_free(client);
}

gboolean tv_rpc_client_is_readonly(TvRpcClient *client)
{
    return client->readonly;
}

gpointer tv_rpc_client_get_private(TvRpcClient *client)
{
    return client->priv;
}

void tv_rpc_client_set_private(TvRpcClient *client, gpointer priv, GDestroyNotify free_func)
{
    client->priv = priv;
    client->priv_free = free_func;
}

const char *tv_rpc_client_describe(TvRpcClient *client)
{
    return client->name;
}

gboolean tv_rpc_client_is_closed(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    gboolean closed = client->closed || client->broken;
    g_mutex_unlock(&client->lock);
    return closed;
}

void tv_rpc_client_start_keepalive(TvRpcClient *client)
{
    g_atomic_int_set(&client->keepalive, 1);
}

static gboolean paused_locked(TvRpcClient *client)
{
    return client->in_flight >= client->max_in_flight ||
           g_queue_get_length(&client->out) > 2 * client->max_in_flight;
}

gboolean tv_rpc_client_reading_paused(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    gboolean paused = paused_locked(client);
    g_mutex_unlock(&client->lock);
    return paused;
}

static GIOCondition wanted_events_locked(TvRpcClient *client)
{
    GIOCondition cond = 0;
    if (!paused_locked(client))
        cond |= G_IO_IN;
    if (!g_queue_is_empty(&client->out))
        cond |= G_IO_OUT;
    return cond;
}

/* Write as much of the queue as the socket takes without blocking. */
static void flush_locked(TvRpcClient *client)
{
    while (!client->broken && !g_queue_is_empty(&client->out)) {
        GBytes *frame = g_queue_peek_head(&client->out);
        gsize len;
        const guint8 *data = g_bytes_get_data(frame, &len);
        ssize_t n = send(client->fd, data + client->out_off, len - client->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                client->broken = TRUE;
            return;
        }
        client->out_off += (gsize)n;
        if (client->out_off == len) {
            g_bytes_unref(g_queue_pop_head(&client->out));
            client->out_off = 0;
        }
    }
}

/* Main thread: poll for what the client needs now, or hang up a broken one. */
static void update_events(TvRpcClient *client)
{
    if (client->hung_up)
        return;
    g_mutex_lock(&client->lock);
    gboolean broken = client->broken;
    GIOCondition cond = wanted_events_locked(client);
    g_mutex_unlock(&client->lock);
    if (broken) {
        tv_rpc_client_hangup(client, "write failed or too many unread messages");
        return;
    }
    /* modifying the poll set wakes the context: skip it when nothing changed */
    if (cond == client->polled)
        return;
    client->polled = cond;
    g_source_modify_unix_fd(client->source, client->fd_tag, cond);
}

static gboolean update_idle_cb(gpointer data)
{
    TvRpcClient *client = data;
    g_mutex_lock(&client->lock);
    client->update_pending = FALSE;
    g_mutex_unlock(&client->lock);
    update_events(client);
    tv_rpc_client_unref(client);
    return G_SOURCE_REMOVE;
}

/* Any thread: have the main loop recompute what to poll for. */
static void request_update_locked(TvRpcClient *client)
{
    if (client->update_pending || client->closed)
        return;
    client->update_pending = TRUE;
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, update_idle_cb, tv_rpc_client_ref(client), NULL);
    g_source_attach(idle, client->ctx);
    g_source_unref(idle);
}

gboolean tv_rpc_client_send(TvRpcClient *client, GBytes *frame)
{
    g_mutex_lock(&client->lock);
    if (client->closed || client->broken) {
        g_mutex_unlock(&client->lock);
        g_bytes_unref(frame);
        return FALSE;
    }
    g_queue_push_tail(&client->out, frame);
    if (g_queue_get_length(&client->out) == 1)
        flush_locked(client);
    if (g_queue_get_length(&client->out) > OUT_QUEUE_MAX)
        client->broken = TRUE;
    if (client->broken || !g_queue_is_empty(&client->out))
        request_update_locked(client);
    g_mutex_unlock(&client->lock);
    return TRUE;
}

void tv_rpc_client_close(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    client->broken = TRUE;
    request_update_locked(client);
    g_mutex_unlock(&client->lock);
}

void tv_rpc_client_call_started(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    client->in_flight++;
    g_mutex_unlock(&client->lock);
}

void tv_rpc_client_call_done(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    gboolean was_paused = paused_locked(client);
    client->in_flight--;
    if (was_paused && !paused_locked(client))
        request_update_locked(client);
    g_mutex_unlock(&client->lock);
}

static void reset_frame(TvRpcClient *client)
{
    client->in_buf = NULL;
    client->in_len = client->in_fill = client->in_cap = 0;
    client->len_fill = 0;
}

/* recv() that reports end of stream as "gone" and would-block as 0. */
static ssize_t read_into(TvRpcClient *client, guint8 *dst, gsize want, const char **gone)
{
    for (;;) {
        ssize_t n = recv(client->fd, dst, want, 0);
        if (n > 0) {
            client->last_rx = g_get_monotonic_time();
            client->pings_unanswered = 0;
            return n;
        }
        if (n == 0) {
            *gone = client->len_fill > 0 ? "disconnected in the middle of a message"
                                         : TV_RPC_HANGUP_DISCONNECTED;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        *gone = g_strerror(errno);
        return -1;
    }
}

/* Main thread: read what is there; FALSE once the client was hung up. */
static gboolean read_some(TvRpcClient *client)
{
    const char *gone = NULL;
    for (guint frames = 0; frames < READS_PER_WAKEUP;) {
        g_mutex_lock(&client->lock);
        gboolean paused = paused_locked(client);
        g_mutex_unlock(&client->lock);
        if (paused)
            return TRUE;

        if (!client->in_buf) {
            ssize_t n = read_into(client, client->len_word + client->len_fill,
                                  sizeof(client->len_word) - client->len_fill, &gone);
            if (n < 0)
                break;
            if (n == 0)
                return TRUE;
            client->len_fill += (gsize)n;
            if (client->len_fill < sizeof(client->len_word))
                continue;
            guint32 len = tv_rpc_frame_length(client->len_word);
            if (len == 0) {
                const guint8 *w = client->len_word;
                guint32 raw =
                    ((guint32)w[0] << 24) | ((guint32)w[1] << 16) | ((guint32)w[2] << 8) | w[3];
                g_autofree char *why =
                    g_strdup_printf("protocol error: frame length %u outside %d..%d", raw,
                                    TV_RPC_FRAME_MIN, TVR_MESSAGE_MAX);
                tv_rpc_client_hangup(client, why);
                return FALSE;
            }
            client->in_len = len;
            client->in_cap = MIN(len, IN_CHUNK);
            client->in_buf = g_malloc(client->in_cap);
            memcpy(client->in_buf, client->len_word, sizeof(client->len_word));
            client->in_fill = sizeof(client->len_word);
        }

        if (client->in_fill == client->in_cap) {
            client->in_cap = MIN(client->in_len, client->in_cap * 2);
            client->in_buf = g_realloc(client->in_buf, client->in_cap);
        }
        ssize_t n = read_into(client, client->in_buf + client->in_fill,
                              client->in_cap - client->in_fill, &gone);
        if (n < 0)
            break;
        if (n == 0)
            return TRUE;
        client->in_fill += (gsize)n;
        if (client->in_fill < client->in_len)
            continue;

        GBytes *frame = g_bytes_new_take(client->in_buf, client->in_len);
        reset_frame(client);
        client->got_message = TRUE;
        frames++;
        if (!tv_rpc_server_handle_frame(client->server, client, frame))
            return FALSE;
        if (client->hung_up)
            return FALSE;
    }
    if (gone) {
        tv_rpc_client_hangup(client, gone);
        return FALSE;
    }
    return TRUE;
}

static gboolean client_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    TvRpcClient *client = ((ClientSource *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, client->fd_tag);

    tv_rpc_client_ref(client);
    gboolean alive = TRUE;
    if (rev & G_IO_IN)
        alive = read_some(client);
    if (alive && (rev & (G_IO_HUP | G_IO_ERR | G_IO_NVAL))) {
        tv_rpc_client_hangup(client, "connection reset");
        alive = FALSE;
    }
    if (alive && (rev & G_IO_OUT)) {
        g_mutex_lock(&client->lock);
        flush_locked(client);
        g_mutex_unlock(&client->lock);
    }
    if (alive)
        update_events(client);
    tv_rpc_client_unref(client);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs client_source_funcs = {
    .dispatch = client_source_dispatch,
};

static char *peer_name(int fd, guint64 id)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        return g_strdup_printf("client %" G_GUINT64_FORMAT " (pid %d, uid %u)", id, (int)cred.pid,
                               (unsigned)cred.uid);
    return g_strdup_printf("client %" G_GUINT64_FORMAT, id);
}

TvRpcClient *tv_rpc_client_new(TvRpcServer *srv, GMainContext *ctx, int fd, gboolean readonly,
                               guint64 id, guint max_in_flight)
{
    TvRpcClient *client = g_new0(TvRpcClient, 1);
    client->refs = 1;
    client->server = srv;
    client->ctx = ctx;
    client->fd = fd;
    client->readonly = readonly;
    client->max_in_flight = MAX(max_in_flight, 1);
    client->name = peer_name(fd, id);
    client->connected_at = client->last_rx = g_get_monotonic_time();
    g_mutex_init(&client->lock);
    g_queue_init(&client->out);
    return client;
}

void tv_rpc_client_attach(TvRpcClient *client)
{
    client->source = g_source_new(&client_source_funcs, sizeof(ClientSource));
    ((ClientSource *)client->source)->client = client;
    client->polled = G_IO_IN;
    client->fd_tag = g_source_add_unix_fd(client->source, client->fd, client->polled);
    g_source_attach(client->source, client->ctx);
}

void tv_rpc_client_hangup(TvRpcClient *client, const char *why)
{
    if (client->hung_up)
        return;
    client->hung_up = TRUE;
    /* a client leaving between messages is routine; anything else is worth a line */
    if (g_str_equal(why, TV_RPC_HANGUP_DISCONNECTED))
        g_debug("%s: %s", client->name, why);
    else
        g_info("%s: %s", client->name, why);
    if (client->source) {
        g_source_destroy(client->source);
        g_source_unref(client->source);
        client->source = NULL;
    }
    g_mutex_lock(&client->lock);
    client->closed = TRUE;
    g_queue_clear_full(&client->out, (GDestroyNotify)g_bytes_unref);
    g_queue_init(&client->out);
    if (client->fd >= 0) {
        close(client->fd);
        client->fd = -1;
    }
    g_mutex_unlock(&client->lock);
    g_free(client->in_buf);
    reset_frame(client);
    tv_rpc_server_client_gone(client->server, client);
}
