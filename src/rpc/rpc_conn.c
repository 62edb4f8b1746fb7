#include "rpc_conn_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rpc_socket.h"
#include "tv_error.h"
#include "tv_file.h"

/* Frames read per wakeup, so one busy client cannot starve the others. */
#define READS_PER_WAKEUP 16
/* First allocation for a frame; larger frames grow as their bytes arrive. */
#define IN_CHUNK (64 * 1024)
/* Smallest allocation for bytes kept between wakeups. */
#define PEND_MIN 4096

typedef struct {
    GSource base;
    TvRpcConn *conn;
} ConnSource;

TvRpcConn *tv_rpc_conn_ref(TvRpcConn *conn)
{
    g_atomic_int_inc(&conn->refs);
    return conn;
}

void tv_rpc_conn_unref(TvRpcConn *conn)
{
    if (!conn || !g_atomic_int_dec_and_test(&conn->refs))
        return;
    if (conn->priv_free)
        conn->priv_free(conn->priv);
    g_queue_clear_full(&conn->out, (GDestroyNotify)g_bytes_unref);
    tv_tls_session_free(conn->tls);
    g_free(conn->tls_dn);
    g_hash_table_unref(conn->out_fds);
    if (conn->fd >= 0)
        close(conn->fd);
    g_free(conn->pend);
    g_free(conn->broken_why);
    g_free(conn->name);
    g_mutex_clear(&conn->lock);
    g_free(conn);
}

gboolean tv_rpc_conn_is_readonly(TvRpcConn *conn)
{
    return conn->readonly;
}

gboolean tv_rpc_conn_is_tls(TvRpcConn *conn)
{
    return conn->tls != NULL;
}

char *tv_rpc_conn_local_address(TvRpcConn *conn)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    if (conn->fd < 0 || getsockname(conn->fd, (struct sockaddr *)&sa, &len) < 0)
        return NULL;
    char host[INET6_ADDRSTRLEN] = "";
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof(host));
    else if (sa.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof(host));
    return host[0] ? g_strdup(host) : NULL;
}

gpointer tv_rpc_conn_get_private(TvRpcConn *conn)
{
    return conn->priv;
}

void tv_rpc_conn_set_private(TvRpcConn *conn, gpointer priv, GDestroyNotify free_func)
{
    conn->priv = priv;
    conn->priv_free = free_func;
}

const char *tv_rpc_conn_describe(TvRpcConn *conn)
{
    return conn->name;
}

gboolean tv_rpc_conn_is_closed(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    gboolean closed = conn->closed || conn->broken;
    g_mutex_unlock(&conn->lock);
    return closed;
}

void tv_rpc_conn_start_keepalive(TvRpcConn *conn)
{
    g_atomic_int_set(&conn->keepalive, 1);
}

/* Reading the client's calls pauses while its calls in flight are at the
 * limit, or while the replies and messages it has not taken are too many or
 * too big.  Stream data does not count: its producer pauses on its own, and a
 * client must be heard while a stream floods it, or its next call (an abort,
 * a destroy) would wait for as long as the stream's source has data. */
static gboolean paused_locked(TvRpcConn *conn)
{
    return conn->in_flight >= conn->max_in_flight ||
           g_queue_get_length(&conn->out) - conn->out_stream_frames > 2 * conn->max_in_flight ||
           conn->out_cost - conn->out_stream_cost > conn->max_output;
}

/* The first reason wins; why is taken. */
static void break_locked(TvRpcConn *conn, char *why, gboolean warn)
{
    if (conn->broken) {
        g_free(why);
        return;
    }
    conn->broken = TRUE;
    conn->broken_why = why;
    conn->broken_warn = warn;
}

/* The type of a frame's header (TVR_CALL ... TVR_STREAM), -1 for a frame too
 * short to have one. */
static gint64 frame_type(GBytes *frame)
{
    gsize len;
    const guint8 *d = g_bytes_get_data(frame, &len);
    if (len < TV_RPC_FRAME_MIN)
        return -1;
    const guint8 *t = d + TVR_LENGTH_SIZE + 12; /* prog, vers, proc, then type */
    return ((guint32)t[0] << 24) | ((guint32)t[1] << 16) | ((guint32)t[2] << 8) | t[3];
}

/* Counts frame in (add) or out of the queue's totals. */
static void queue_account_locked(TvRpcConn *conn, GBytes *frame, gboolean add)
{
    gint64 type = frame_type(frame);
    gsize cost = TV_RPC_FRAME_COST(g_bytes_get_size(frame));
    if (!add)
        cost = (gsize)0 - cost; /* unsigned: adding it subtracts */
    conn->out_cost += cost;
    /* events and keepalive messages: what the client did not ask for by a call */
    if (type == TVR_MESSAGE)
        conn->out_msg_cost += cost;
    if (type == TVR_STREAM) {
        conn->out_stream_cost += cost;
        if (add)
            conn->out_stream_frames++;
        else
            conn->out_stream_frames--;
    }
}

static void queue_push_locked(TvRpcConn *conn, GBytes *frame)
{
    g_queue_push_tail(&conn->out, frame);
    queue_account_locked(conn, frame, TRUE);
}

static void queue_pop_locked(TvRpcConn *conn)
{
    GBytes *frame = g_queue_pop_head(&conn->out);
    g_hash_table_remove(conn->out_fds, frame);
    queue_account_locked(conn, frame, FALSE);
    g_bytes_unref(frame);
}

gboolean tv_rpc_conn_reading_paused(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    gboolean paused = paused_locked(conn);
    g_mutex_unlock(&conn->lock);
    return paused;
}

static GIOCondition wanted_events_locked(TvRpcConn *conn)
{
    GIOCondition cond = 0;
    if (!paused_locked(conn))
        cond |= G_IO_IN;
    if (!g_queue_is_empty(&conn->out))
        cond |= G_IO_OUT;
    return cond;
}

/* Write what is left of frame from out_off; TRUE once all of it is written
 * (out_off back to 0), FALSE when the socket is full or broken. */
static gboolean write_frame_locked(TvRpcConn *conn, GBytes *frame)
{
    gsize len;
    const guint8 *data = g_bytes_get_data(frame, &len);
    gpointer pass = g_hash_table_lookup(conn->out_fds, frame);
    while (!conn->broken) {
        /* after EAGAIN, GnuTLS wants the same bytes again: the head of the queue
         * from out_off is exactly that.  Descriptors pass over unix sockets
         * only, never with TLS. */
        ssize_t n =
            conn->tls ? tv_tls_session_write(conn->tls, data + conn->out_off, len - conn->out_off)
            : pass    ? tv_socket_send_fd(conn->fd, data, GPOINTER_TO_INT(pass) - 1, MSG_DONTWAIT)
                      : send(conn->fd, data + conn->out_off, len - conn->out_off,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                break_locked(conn,
                             g_strdup_printf("write failed: %s",
                                             conn->tls ? tv_error_message() : g_strerror(errno)),
                             FALSE);
            return FALSE;
        }
        conn->out_off += (gsize)n;
        if (conn->out_off == len) {
            conn->out_off = 0;
            return TRUE;
        }
    }
    return FALSE;
}

/* Write as much of the queue as the socket takes without blocking. */
static void flush_locked(TvRpcConn *conn)
{
    while (!g_queue_is_empty(&conn->out) && write_frame_locked(conn, g_queue_peek_head(&conn->out)))
        queue_pop_locked(conn);
}

static void hangup_logged(TvRpcConn *conn, const char *why, GLogLevelFlags level);
static void set_polled(TvRpcConn *conn, GIOCondition cond);
static void tls_handshake_step(TvRpcConn *conn);

/* Main thread: poll for what the client needs now, or hang up a broken one. */
static void update_events(TvRpcConn *conn)
{
    if (conn->hung_up)
        return;
    g_mutex_lock(&conn->lock);
    gboolean broken = conn->broken;
    g_autofree char *why = broken ? g_strdup(conn->broken_why) : NULL;
    GLogLevelFlags level = conn->broken_warn ? G_LOG_LEVEL_WARNING : G_LOG_LEVEL_INFO;
    GIOCondition cond = wanted_events_locked(conn);
    g_mutex_unlock(&conn->lock);
    if (broken) {
        hangup_logged(conn, why, level);
        return;
    }
    if (conn->tls_phase == TV_RPC_TLS_HANDSHAKE)
        return; /* the handshake polls for what it needs */
    set_polled(conn, cond);
}

static gboolean update_idle_cb(gpointer data)
{
    TvRpcConn *conn = data;
    g_mutex_lock(&conn->lock);
    conn->update_pending = FALSE;
    g_mutex_unlock(&conn->lock);
    update_events(conn);
    tv_rpc_conn_unref(conn);
    return G_SOURCE_REMOVE;
}

/* Any thread: have the main loop recompute what to poll for. */
static void request_update_locked(TvRpcConn *conn)
{
    if (conn->update_pending || conn->closed)
        return;
    conn->update_pending = TRUE;
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, update_idle_cb, tv_rpc_conn_ref(conn), NULL);
    g_source_attach(idle, conn->ctx);
    g_source_unref(idle);
}

/* A frame that stands for fd: one zero byte, which closes fd when freed. */
typedef struct {
    guint8 byte;
    int fd;
} FdFrame;

static void fd_frame_free(gpointer data)
{
    FdFrame *f = data;
    close(f->fd);
    g_free(f);
}

static GBytes *fd_frame_new(int fd)
{
    FdFrame *f = g_new0(FdFrame, 1);
    f->fd = fd;
    return g_bytes_new_with_free_func(f, 1, fd_frame_free, f);
}

/* Queue frame (taken) behind what waits, or write it at once when nothing does. */
static void send_locked(TvRpcConn *conn, GBytes *frame)
{
    /* the usual case, nothing queued: one send, no queueing */
    if (g_queue_is_empty(&conn->out) && write_frame_locked(conn, frame)) {
        g_hash_table_remove(conn->out_fds, frame);
        g_bytes_unref(frame);
        return;
    }
    queue_push_locked(conn, frame);
    /* replies stay bounded by the pause of reading, stream data by its producer's
     * pause; what the client never asked for is bounded here */
    if (conn->out_msg_cost > conn->max_output)
        break_locked(conn,
                     g_strdup_printf("dropped: it does not read its events (%zu bytes of "
                                     "messages waiting, max_client_output is %zu)",
                                     conn->out_msg_cost, conn->max_output),
                     TRUE);
}

gboolean tv_rpc_conn_send_fds(TvRpcConn *conn, GBytes *frame, const int *fds, guint nfds)
{
    g_mutex_lock(&conn->lock);
    if (conn->closed || conn->broken) {
        g_mutex_unlock(&conn->lock);
        g_bytes_unref(frame);
        for (guint i = 0; i < nfds; i++)
            close(fds[i]);
        return FALSE;
    }
    send_locked(conn, frame);
    for (guint i = 0; i < nfds; i++) {
        GBytes *pass = fd_frame_new(fds[i]);
        /* fd + 1: a descriptor 0 must not read as "no descriptor" */
        g_hash_table_insert(conn->out_fds, pass, GINT_TO_POINTER(fds[i] + 1));
        send_locked(conn, pass);
    }
    if (conn->broken || !g_queue_is_empty(&conn->out))
        request_update_locked(conn);
    g_mutex_unlock(&conn->lock);
    return TRUE;
}

gboolean tv_rpc_conn_send(TvRpcConn *conn, GBytes *frame)
{
    return tv_rpc_conn_send_fds(conn, frame, NULL, 0);
}

gboolean tv_rpc_conn_can_pass_fds(TvRpcConn *conn)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    g_mutex_lock(&conn->lock);
    gboolean unix_socket = conn->fd >= 0 &&
                           getsockname(conn->fd, (struct sockaddr *)&sa, &len) == 0 &&
                           sa.ss_family == AF_UNIX;
    g_mutex_unlock(&conn->lock);
    return unix_socket;
}

GMainContext *tv_rpc_conn_context(TvRpcConn *conn)
{
    return conn->ctx;
}

gsize tv_rpc_conn_queued_bytes(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    gsize n = conn->out_cost;
    g_mutex_unlock(&conn->lock);
    return n;
}

void tv_rpc_conn_close(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    break_locked(conn, g_strdup("closed by the server"), FALSE);
    request_update_locked(conn);
    g_mutex_unlock(&conn->lock);
}

void tv_rpc_conn_call_started(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    conn->in_flight++;
    g_mutex_unlock(&conn->lock);
}

void tv_rpc_conn_call_done(TvRpcConn *conn)
{
    g_mutex_lock(&conn->lock);
    gboolean was_paused = paused_locked(conn);
    conn->in_flight--;
    if (was_paused && !paused_locked(conn))
        request_update_locked(conn);
    g_mutex_unlock(&conn->lock);
}

static void drop_pending(TvRpcConn *conn)
{
    g_free(conn->pend);
    conn->pend = NULL;
    conn->pend_len = conn->pend_cap = 0;
}

/* Room for at least one more byte of the frame at the start of pend: grown as
 * its bytes arrive, so an announced length is never allocated up front. */
static void pend_reserve(TvRpcConn *conn)
{
    if (conn->pend_len < conn->pend_cap)
        return;
    gsize want = PEND_MIN;
    if (conn->pend_len >= TVR_LENGTH_SIZE)
        want = MIN((gsize)tv_rpc_frame_length(conn->pend), MAX(conn->pend_cap * 2, IN_CHUNK));
    conn->pend_cap = MAX(want, conn->pend_len + 1);
    conn->pend = g_realloc(conn->pend, conn->pend_cap);
}

static void pend_append(TvRpcConn *conn, const guint8 *data, gsize len)
{
    if (conn->pend_len + len > conn->pend_cap) {
        conn->pend_cap = MAX(conn->pend_len + len, PEND_MIN);
        conn->pend = g_realloc(conn->pend, conn->pend_cap);
    }
    memcpy(conn->pend + conn->pend_len, data, len);
    conn->pend_len += len;
}

/* A whole frame (or a length word to refuse) waits in pend. */
static gboolean pend_has_frame(TvRpcConn *conn)
{
    if (conn->pend_len < TVR_LENGTH_SIZE)
        return FALSE;
    guint32 len = tv_rpc_frame_length(conn->pend);
    return len == 0 || conn->pend_len >= len;
}

typedef enum {
    RECV_DATA,
    RECV_EMPTY,
    RECV_EOF,
    RECV_ERROR
} RecvResult;

/* One recv(); *got is set for RECV_DATA. */
static RecvResult recv_once(TvRpcConn *conn, guint8 *dst, gsize want, gsize *got)
{
    for (;;) {
        ssize_t n =
            conn->tls ? tv_tls_session_read(conn->tls, dst, want) : recv(conn->fd, dst, want, 0);
        if (n > 0) {
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

static void refuse_length(TvRpcConn *conn, const guint8 *w)
{
    guint32 raw = ((guint32)w[0] << 24) | ((guint32)w[1] << 16) | ((guint32)w[2] << 8) | w[3];
    g_autofree char *why = g_strdup_printf("protocol error: frame length %u outside %d..%d", raw,
                                           TV_RPC_FRAME_MIN, TVR_MESSAGE_MAX);
    tv_rpc_conn_hangup(conn, why);
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
static gboolean read_some(TvRpcConn *conn)
{
    guint8 *shared = tv_rpc_server_read_buffer(conn->server);
    gsize spos = 0, send_ = 0; /* this wakeup's unparsed bytes in shared (pend empty) */
    gboolean drained = FALSE;
    const char *gone = NULL;

    for (guint frames = 0;;) {
        if (frames >= READS_PER_WAKEUP || tv_rpc_conn_reading_paused(conn))
            break;
        gboolean in_pend = conn->pend_len > 0;
        const guint8 *src = in_pend ? conn->pend : shared + spos;
        gsize avail = in_pend ? conn->pend_len : send_ - spos;
        guint32 len = 0;
        if (avail >= TVR_LENGTH_SIZE) {
            len = tv_rpc_frame_length(src);
            if (len == 0) {
                refuse_length(conn, src);
                return FALSE;
            }
            if (avail >= len) {
                GBytes *frame;
                if (!in_pend) {
                    frame = g_bytes_new(src, len);
                    spos += len;
                } else if (conn->pend_len == len) {
                    frame = g_bytes_new_take(conn->pend, len);
                    conn->pend = NULL;
                    conn->pend_len = conn->pend_cap = 0;
                } else {
                    frame = g_bytes_new(src, len);
                    memmove(conn->pend, conn->pend + len, conn->pend_len - len);
                    conn->pend_len -= len;
                }
                /* liveness counts whole messages, as libvirt's keepalive: bytes
                 * trickling in do not keep a client that never finishes one */
                conn->got_message = TRUE;
                conn->last_rx = g_get_monotonic_time();
                conn->pings_unanswered = 0;
                conn->partial_since = 0;
                frames++;
                if (!tv_rpc_server_handle_frame(conn->server, conn, frame))
                    return FALSE;
                if (conn->hung_up)
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
                pend_append(conn, src, avail);
                spos = send_ = 0;
            }
            pend_reserve(conn);
            dst = conn->pend + conn->pend_len;
            room = conn->pend_cap - conn->pend_len;
        }
        gsize got = 0;
        RecvResult rr = recv_once(conn, dst, room, &got);
        if (rr == RECV_EMPTY)
            break;
        if (rr != RECV_DATA) {
            gboolean partial = conn->pend_len > 0 || send_ > spos;
            gone = rr == RECV_ERROR ? g_strerror(errno)
                   : partial        ? "disconnected in the middle of a message"
                                    : TV_RPC_HANGUP_DISCONNECTED;
            break;
        }
        /* a TLS read returns one record at most: the socket is empty only when
         * GnuTLS holds nothing either (what it holds no poll reports) */
        if (got < room && !(conn->tls && tv_tls_session_pending(conn->tls) > 0))
            drained = TRUE;
        if (into_pend)
            conn->pend_len += got;
        else
            send_ += got;
    }
    if (gone) {
        tv_rpc_conn_hangup(conn, gone);
        return FALSE;
    }
    if (send_ > spos)
        pend_append(conn, shared + spos, send_ - spos);
    if (conn->pend_len == 0 && conn->pend)
        drop_pending(conn);
    /* the message timeout runs from the first byte of a message not yet whole */
    if (conn->pend_len > 0 && !pend_has_frame(conn)) {
        if (!conn->partial_since)
            conn->partial_since = g_get_monotonic_time();
    } else {
        conn->partial_since = 0;
    }
    return TRUE;
}

/* Whole frames wait in pend, or decrypted bytes in the TLS session, and may
 * be taken now (no poll will report them). */
static gboolean frames_waiting(TvRpcConn *conn)
{
    if (conn->hung_up || tv_rpc_conn_reading_paused(conn))
        return FALSE;
    if (conn->tls_phase == TV_RPC_TLS_READY && tv_tls_session_pending(conn->tls) > 0)
        return TRUE;
    return pend_has_frame(conn);
}

static gboolean conn_source_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    return frames_waiting(((ConnSource *)source)->conn);
}

static gboolean conn_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    TvRpcConn *conn = ((ConnSource *)source)->conn;
    GIOCondition rev = g_source_query_unix_fd(source, conn->fd_tag);

    tv_rpc_conn_ref(conn);
    gboolean alive = TRUE;
    if (conn->tls_phase == TV_RPC_TLS_HANDSHAKE) {
        if (rev & (G_IO_HUP | G_IO_ERR | G_IO_NVAL))
            tv_rpc_conn_hangup(conn, "disconnected during the TLS handshake");
        else
            tls_handshake_step(conn);
        tv_rpc_conn_unref(conn);
        return G_SOURCE_CONTINUE;
    }
    if ((rev & G_IO_IN) || frames_waiting(conn))
        alive = read_some(conn);
    if (alive && (rev & (G_IO_HUP | G_IO_ERR | G_IO_NVAL))) {
        tv_rpc_conn_hangup(conn, "connection reset");
        alive = FALSE;
    }
    if (alive && (rev & G_IO_OUT)) {
        g_mutex_lock(&conn->lock);
        flush_locked(conn);
        g_mutex_unlock(&conn->lock);
    }
    if (alive)
        update_events(conn);
    tv_rpc_conn_unref(conn);
    return G_SOURCE_CONTINUE;
}

static void set_polled(TvRpcConn *conn, GIOCondition cond)
{
    /* modifying the poll set wakes the context: skip it when nothing changed */
    if (cond == conn->polled)
        return;
    conn->polled = cond;
    g_source_modify_unix_fd(conn->source, conn->fd_tag, cond);
}

/* libvirt's rule for tls_allowed_dn_list: the DN must match one pattern. */
static gboolean dn_allowed(TvRpcConn *conn, const char *dn)
{
    if (!conn->tls_allowed_dns)
        return TRUE;
    for (char *const *p = conn->tls_allowed_dns; *p; p++)
        if (dn && g_pattern_match_simple(*p, dn))
            return TRUE;
    return FALSE;
}

/* Main thread: one step of the handshake; when it is done, the client's
 * certificate is checked and it gets the byte 1 (libvirt's confirmation),
 * or it is hung up on without it. */
static void tls_handshake_step(TvRpcConn *conn)
{
    int rc = tv_tls_session_handshake(conn->tls);
    if (rc == 0) {
        set_polled(conn, tv_tls_session_wants_write(conn->tls) ? G_IO_OUT : G_IO_IN);
        return;
    }
    if (rc < 0 || tv_tls_session_check_peer(conn->tls) < 0) {
        g_autofree char *why = g_strdup_printf("refused: %s", tv_error_message());
        tv_error_reset();
        hangup_logged(conn, why, G_LOG_LEVEL_WARNING);
        return;
    }
    g_autofree char *dn = tv_tls_session_peer_dn(conn->tls);
    if (!dn_allowed(conn, dn)) {
        g_autofree char *why = g_strdup_printf(
            "refused: the client certificate's distinguished name '%s' matches no entry of "
            "tls_allowed_dn_list",
            dn ? dn : "(no certificate)");
        hangup_logged(conn, why, G_LOG_LEVEL_WARNING);
        return;
    }
    g_info("%s: TLS client '%s' accepted", conn->name, dn ? dn : "(no certificate)");
    conn->tls_dn = g_steal_pointer(&dn);
    conn->tls_phase = TV_RPC_TLS_READY;
    conn->polled = 0; /* recomputed below */
    static const guint8 accepted = 1;
    tv_rpc_conn_send(conn, g_bytes_new_static(&accepted, 1));
    update_events(conn);
}

int tv_rpc_conn_start_tls(TvRpcConn *conn, TvTlsContext *ctx, char *const *allowed_dns)
{
    conn->tls = tv_tls_session_new(ctx, conn->fd, NULL);
    if (!conn->tls)
        return -1;
    conn->tls_phase = TV_RPC_TLS_HANDSHAKE;
    conn->tls_allowed_dns = allowed_dns;
    return 0;
}

static GSourceFuncs conn_source_funcs = {
    .prepare = conn_source_prepare,
    .dispatch = conn_source_dispatch,
};

static char *peer_name(int fd, guint64 id)
{
    g_autofree char *peer = tv_rpc_socket_peer_describe(fd);
    return g_strdup_printf("client %" G_GUINT64_FORMAT " (%s)", id, peer);
}

TvRpcConn *tv_rpc_conn_new(TvRpcServer *srv, GMainContext *ctx, int fd, gboolean readonly,
                           guint64 id, guint max_in_flight, gsize max_output)
{
    TvRpcConn *conn = g_new0(TvRpcConn, 1);
    conn->refs = 1;
    conn->server = srv;
    conn->ctx = ctx;
    conn->fd = fd;
    conn->readonly = readonly;
    conn->max_in_flight = MAX(max_in_flight, 1);
    conn->max_output = max_output;
    conn->name = peer_name(fd, id);
    conn->connected_at = conn->last_rx = g_get_monotonic_time();
    g_mutex_init(&conn->lock);
    g_queue_init(&conn->out);
    conn->out_fds = g_hash_table_new(g_direct_hash, g_direct_equal);
    return conn;
}

void tv_rpc_conn_attach(TvRpcConn *conn)
{
    conn->source = g_source_new(&conn_source_funcs, sizeof(ConnSource));
    ((ConnSource *)conn->source)->conn = conn;
    conn->polled = G_IO_IN;
    conn->fd_tag = g_source_add_unix_fd(conn->source, conn->fd, conn->polled);
    /* nothing iterates this context inside a dispatch; without this GLib takes
     * the fd out of the poll set and puts it back around every dispatch, and
     * wakes its own poll each time (an eventfd write, a poll, a read) */
    g_source_set_can_recurse(conn->source, TRUE);
    g_source_attach(conn->source, conn->ctx);
}

void tv_rpc_conn_hangup(TvRpcConn *conn, const char *why)
{
    /* a client leaving between messages is routine; anything else is worth a line */
    hangup_logged(conn, why,
                  g_str_equal(why, TV_RPC_HANGUP_DISCONNECTED) ? G_LOG_LEVEL_DEBUG
                                                               : G_LOG_LEVEL_INFO);
}

static void hangup_logged(TvRpcConn *conn, const char *why, GLogLevelFlags level)
{
    if (conn->hung_up)
        return;
    conn->hung_up = TRUE;
    g_log(G_LOG_DOMAIN, level, "%s: %s", conn->name, why);
    if (conn->source) {
        g_source_destroy(conn->source);
        g_source_unref(conn->source);
        conn->source = NULL;
    }
    g_mutex_lock(&conn->lock);
    conn->closed = TRUE;
    g_hash_table_remove_all(conn->out_fds);
    g_queue_clear_full(&conn->out, (GDestroyNotify)g_bytes_unref);
    g_queue_init(&conn->out);
    conn->out_cost = conn->out_msg_cost = conn->out_stream_cost = 0;
    conn->out_stream_frames = 0;
    if (conn->fd >= 0) {
        close(conn->fd);
        conn->fd = -1;
    }
    g_mutex_unlock(&conn->lock);
    drop_pending(conn);
    tv_rpc_server_conn_gone(conn->server, conn);
}
