#include "rpc_client_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Frames read per wakeup, so one busy client cannot starve the others. */
#define READS_PER_WAKEUP 16
/* First allocation for a frame; larger frames grow as their bytes arrive. */
#define IN_CHUNK (64 * 1024)
/* Smallest allocation for bytes kept between wakeups. */
#define PEND_MIN 4096
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
    g_free(client->pend);
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

/* Write what is left of frame from out_off; TRUE once all of it is written
 * (out_off back to 0), FALSE when the socket is full or broken. */
static gboolean write_frame_locked(TvRpcClient *client, GBytes *frame)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    while (!client->broken) {
        ssize_t n = send(client->fd, data + client->out_off, len - client->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                client->broken = TRUE;
            return FALSE;
        }
        client->out_off += (gsize)n;
        if (client->out_off == len) {
            client->out_off = 0;
            return TRUE;
        }
    }
    return FALSE;
}

/* Write as much of the queue as the socket takes without blocking. */
static void flush_locked(TvRpcClient *client)
{
    while (!g_queue_is_empty(&client->out) &&
           write_frame_locked(client, g_queue_peek_head(&client->out)))
        g_bytes_unref(g_queue_pop_head(&client->out));
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
    /* the usual case, nothing queued: one send, no queueing */
    if (g_queue_is_empty(&client->out) && write_frame_locked(client, frame)) {
        g_bytes_unref(frame);
        frame = NULL;
    }
    if (frame)
        g_queue_push_tail(&client->out, frame);
    if (g_queue_get_length(&client->out) > OUT_QUEUE_MAX)
        client->broken = TRUE;
    if (client->broken || !g_queue_is_empty(&client->out))
        request_update_locked(client);
    g_mutex_unlock(&client->lock);
    return TRUE;
}

GMainContext *tv_rpc_client_context(TvRpcClient *client)
{
    return client->ctx;
}

guint tv_rpc_client_queued_frames(TvRpcClient *client)
{
    g_mutex_lock(&client->lock);
    guint n = g_queue_get_length(&client->out);
    g_mutex_unlock(&client->lock);
    return n;
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

static void drop_pending(TvRpcClient *client)
{
    g_free(client->pend);
    client->pend = NULL;
    client->pend_len = client->pend_cap = 0;
}

/* Room for at least one more byte of the frame at the start of pend: grown as
 * its bytes arrive, so an announced length is never allocated up front. */
static void pend_reserve(TvRpcClient *client)
{
    if (client->pend_len < client->pend_cap)
        return;
    gsize want = PEND_MIN;
    if (client->pend_len >= TVR_LENGTH_SIZE)
        want = MIN((gsize)tv_rpc_frame_length(client->pend), MAX(client->pend_cap * 2, IN_CHUNK));
    client->pend_cap = MAX(want, client->pend_len + 1);
    client->pend = g_realloc(client->pend, client->pend_cap);
}

static void pend_append(TvRpcClient *client, const guint8 *data, gsize len)
{
    if (client->pend_len + len > client->pend_cap) {
        client->pend_cap = MAX(client->pend_len + len, PEND_MIN);
        client->pend = g_realloc(client->pend, client->pend_cap);
    }
    memcpy(client->pend + client->pend_len, data, len);
    client->pend_len += len;
}

/* A whole frame (or a length word to refuse) waits in pend. */
static gboolean pend_has_frame(TvRpcClient *client)
{
    if (client->pend_len < TVR_LENGTH_SIZE)
        return FALSE;
    guint32 len = tv_rpc_frame_length(client->pend);
    return len == 0 || client->pend_len >= len;
}

typedef enum {
    RECV_DATA,
    RECV_EMPTY,
    RECV_EOF,
    RECV_ERROR
} RecvResult;

/* One recv(); *got is set for RECV_DATA. */
static RecvResult recv_once(TvRpcClient *client, guint8 *dst, gsize want, gsize *got)
{
    for (;;) {
        ssize_t n = recv(client->fd, dst, want, 0);
        if (n > 0) {
            client->last_rx = g_get_monotonic_time();
            client->pings_unanswered = 0;
            *got = (gsize)n;
            return RECV_DATA;
        }
        if (n == 0)
            return RECV_EOF;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return RECV_EMPTY;
        return RECV_ERROR;
    }
}

static void refuse_length(TvRpcClient *client, const guint8 *w)
{
    guint32 raw = ((guint32)w[0] << 24) | ((guint32)w[1] << 16) | ((guint32)w[2] << 8) | w[3];
    g_autofree char *why = g_strdup_printf("protocol error: frame length %u outside %d..%d", raw,
                                           TV_RPC_FRAME_MIN, TVR_MESSAGE_MAX);
    tv_rpc_client_hangup(client, why);
}

/* Main thread: take the frames that are there; FALSE once the client was hung up.
 *
 * Bytes are read with as few recv() calls as possible: into the server's
 * shared buffer, as much as the socket holds, and frames are cut from it; a
 * recv() that returns less than it was offered emptied the socket, so the
 * wakeup ends there instead of asking again for EAGAIN (the poll is level
 * triggered: anything that arrives later wakes it again).  Bytes not taken as
 * frames (a partial frame, or frames left while reading is paused or past
 * READS_PER_WAKEUP) move to the client's pend, and a large frame is read
 * straight into pend. */
static gboolean read_some(TvRpcClient *client)
{
    guint8 *shared = tv_rpc_server_read_buffer(client->server);
    gsize spos = 0, send_ = 0; /* this wakeup's unparsed bytes in shared (pend empty) */
    gboolean drained = FALSE;
    const char *gone = NULL;

    for (guint frames = 0;;) {
        if (frames >= READS_PER_WAKEUP || tv_rpc_client_reading_paused(client))
            break;
        gboolean in_pend = client->pend_len > 0;
        const guint8 *src = in_pend ? client->pend : shared + spos;
        gsize avail = in_pend ? client->pend_len : send_ - spos;
        guint32 len = 0;
        if (avail >= TVR_LENGTH_SIZE) {
            len = tv_rpc_frame_length(src);
            if (len == 0) {
                refuse_length(client, src);
                return FALSE;
            }
            if (avail >= len) {
                GBytes *frame;
                if (!in_pend) {
                    frame = g_bytes_new(src, len);
                    spos += len;
                } else if (client->pend_len == len) {
                    frame = g_bytes_new_take(client->pend, len);
                    client->pend = NULL;
                    client->pend_len = client->pend_cap = 0;
                } else {
                    frame = g_bytes_new(src, len);
                    memmove(client->pend, client->pend + len, client->pend_len - len);
                    client->pend_len -= len;
                }
                client->got_message = TRUE;
                frames++;
                if (!tv_rpc_server_handle_frame(client->server, client, frame))
                    return FALSE;
                if (client->hung_up)
                    return FALSE;
                continue;
            }
        }

        /* an incomplete frame: read more, unless the socket was found empty */
        if (drained)
            break;
        guint8 *dst;
        gsize room;
        gboolean into_pend = in_pend || (len != 0 && len > TV_RPC_READ_BUFFER);
        if (!into_pend) {
            memmove(shared, shared + spos, avail);
            spos = 0;
            send_ = avail;
            dst = shared + send_;
            room = TV_RPC_READ_BUFFER - send_;
        } else {
            if (!in_pend) {
                pend_append(client, src, avail);
                spos = send_ = 0;
            }
            pend_reserve(client);
            dst = client->pend + client->pend_len;
            room = client->pend_cap - client->pend_len;
        }
        gsize got = 0;
        RecvResult rr = recv_once(client, dst, room, &got);
        if (rr == RECV_EMPTY)
            break;
        if (rr != RECV_DATA) {
            gboolean partial = client->pend_len > 0 || send_ > spos;
            gone = rr == RECV_ERROR ? g_strerror(errno)
                   : partial        ? "disconnected in the middle of a message"
                                    : TV_RPC_HANGUP_DISCONNECTED;
            break;
        }
        if (got < room)
            drained = TRUE;
        if (into_pend)
            client->pend_len += got;
        else
            send_ += got;
    }
    if (gone) {
        tv_rpc_client_hangup(client, gone);
        return FALSE;
    }
    if (send_ > spos)
        pend_append(client, shared + spos, send_ - spos);
    if (client->pend_len == 0 && client->pend)
        drop_pending(client);
    return TRUE;
}

/* Whole frames wait in pend and may be taken now (no poll will report them). */
static gboolean frames_waiting(TvRpcClient *client)
{
    return !client->hung_up && pend_has_frame(client) && !tv_rpc_client_reading_paused(client);
}

static gboolean client_source_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    return frames_waiting(((ClientSource *)source)->client);
}

static gboolean client_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    TvRpcClient *client = ((ClientSource *)source)->client;
    GIOCondition rev = g_source_query_unix_fd(source, client->fd_tag);

    tv_rpc_client_ref(client);
    gboolean alive = TRUE;
    if ((rev & G_IO_IN) || frames_waiting(client))
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
    .prepare = client_source_prepare,
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
    /* nothing iterates this context inside a dispatch; without this GLib takes
     * the fd out of the poll set and puts it back around every dispatch, and
     * wakes its own poll each time (an eventfd write, a poll, a read) */
    g_source_set_can_recurse(client->source, TRUE);
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
    drop_pending(client);
    tv_rpc_server_client_gone(client->server, client);
}
