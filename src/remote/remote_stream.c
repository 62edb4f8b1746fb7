/* Streams of the remote program: a call (DOMAIN_OPEN_CONSOLE) opens one,
 * then STREAM frames with the call's procedure and serial carry raw bytes
 * both ways (status CONTINUE; an empty one is the end of the data), and the
 * client ends it with a finish (OK) or abort (ERROR), each confirmed with an
 * empty OK.  Here a stream pumps one fd (the console's pty): what the fd
 * gives goes to the client, what the client sends goes to the fd.  Everything
 * runs on the thread that reads the client. */
#include "remote_priv.h"

#include <errno.h>
#include <glib-unix.h>
#include <unistd.h>

#include "rpc_message.h"

#define READ_CHUNK     4096
#define READS_PER_WAKE 16
#define PAUSE_QUEUED   (256 * 1024) /* bytes queued for the client: stop reading the fd */
#define PAUSE_MS       10           /* then look again this much later */
#define TO_FD_MAX      (1 << 20)    /* client bytes the fd has not taken yet */

struct TvRemoteStream {
    TvRemote *remote;
    TvRemoteConn *conn;
    TvRpcConn *client; /* referenced; NULL in unit tests and the fuzzer */
    tvr_header hdr;    /* the opening call's: prog, vers, proc, serial */
    int fd;            /* -1 once the data has ended (EOF, error, forced out) */
    char *key;         /* exclusive session ("console:<uuid>"), NULL for none */
    GSource *watch;
    gboolean watch_out; /* the watch waits for G_IO_OUT too */
    GSource *pause;
    GByteArray *to_fd;
};

static void stream_watch(TvRemoteStream *st);

static void send_frame(TvRemoteStream *st, GBytes *frame)
{
    if (frame && st->client)
        tv_rpc_conn_send(st->client, frame);
    else if (frame)
        g_bytes_unref(frame);
}

/* Stop pumping: fd closed, sources gone, the session key free for others.
 * The stream stays listed until the client finishes or aborts it. */
static void stream_end_data(TvRemoteStream *st)
{
    if (st->watch) {
        g_source_destroy(st->watch);
        g_clear_pointer(&st->watch, g_source_unref);
    }
    if (st->pause) {
        g_source_destroy(st->pause);
        g_clear_pointer(&st->pause, g_source_unref);
    }
    if (st->fd >= 0) {
        close(st->fd);
        st->fd = -1;
    }
    if (st->key) {
        g_mutex_lock(&st->remote->streams_lock);
        if (g_hash_table_lookup(st->remote->sessions, st->key) == st)
            g_hash_table_remove(st->remote->sessions, st->key);
        g_mutex_unlock(&st->remote->streams_lock);
        g_clear_pointer(&st->key, g_free);
    }
    g_byte_array_set_size(st->to_fd, 0);
}

static void stream_free(TvRemoteStream *st)
{
    stream_end_data(st);
    g_byte_array_unref(st->to_fd);
    if (st->client)
        tv_rpc_conn_unref(st->client);
    g_free(st);
}

/* The data ended on our side: tell the client (an empty data packet). */
static void stream_eof(TvRemoteStream *st)
{
    stream_end_data(st);
    send_frame(st, tv_rpc_message_encode_stream(&st->hdr, TVR_STATUS_CONTINUE, NULL, 0));
}

static void stream_fail(TvRemoteStream *st, TvErrorCode code, const char *message)
{
    stream_end_data(st);
    send_frame(st, tv_rpc_message_encode_stream_error(&st->hdr, TV_FROM_RPC, code, message));
}

/* Write what the client sent; FALSE when the fd failed (stream ended). */
static gboolean flush_to_fd(TvRemoteStream *st)
{
    while (st->fd >= 0 && st->to_fd->len > 0) {
        ssize_t n = write(st->fd, st->to_fd->data, st->to_fd->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return TRUE;
        if (n <= 0) {
            g_autofree char *msg =
                g_strdup_printf("cannot write to the console: %s", g_strerror(errno));
            stream_fail(st, TV_ERR_SYSTEM_ERROR, msg);
            return FALSE;
        }
        g_byte_array_remove_range(st->to_fd, 0, (guint)n);
    }
    return TRUE;
}

static gboolean on_pause_over(gpointer data)
{
    TvRemoteStream *st = data;
    g_clear_pointer(&st->pause, g_source_unref);
    stream_watch(st);
    return G_SOURCE_REMOVE;
}

/* Read what the fd has (a bounded amount per wakeup) and pass it on. */
static void pump_from_fd(TvRemoteStream *st)
{
    guint8 buf[READ_CHUNK];
    for (int i = 0; i < READS_PER_WAKE && st->fd >= 0; i++) {
        if (st->client && tv_rpc_conn_queued_bytes(st->client) > PAUSE_QUEUED) {
            /* a slow reader: wait for it instead of queueing without bound */
            if (st->watch) {
                g_source_destroy(st->watch);
                g_clear_pointer(&st->watch, g_source_unref);
            }
            st->pause = g_timeout_source_new(PAUSE_MS);
            g_source_set_callback(st->pause, on_pause_over, st, NULL);
            g_source_attach(st->pause, tv_rpc_conn_context(st->client));
            return;
        }
        ssize_t n = read(st->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* EIO on a pty: QEMU closed its side (the domain stopped) */
            stream_eof(st);
            return;
        }
        send_frame(st, tv_rpc_message_encode_stream(&st->hdr, TVR_STATUS_CONTINUE, buf, (gsize)n));
        if (st->client && tv_rpc_conn_is_closed(st->client))
            return;
    }
}

static gboolean on_fd(gint fd, GIOCondition cond, gpointer data)
{
    TvRemoteStream *st = data;
    if ((cond & G_IO_OUT) && !flush_to_fd(st))
        return G_SOURCE_REMOVE;
    if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
        pump_from_fd(st);
    if (st->fd < 0 || !st->watch)
        return G_SOURCE_REMOVE; /* ended, or paused: the source is destroyed already */
    /* wait for writability only while client bytes wait */
    if ((st->to_fd->len > 0) != st->watch_out) {
        stream_watch(st); /* destroys this source, makes the right one */
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* (Re)create the fd's watch for what the stream waits for now. */
static void stream_watch(TvRemoteStream *st)
{
    if (st->watch) {
        g_source_destroy(st->watch);
        g_clear_pointer(&st->watch, g_source_unref);
    }
    if (st->fd < 0 || st->pause)
        return;
    st->watch_out = st->to_fd->len > 0;
    st->watch = g_unix_fd_source_new(st->fd, G_IO_IN | G_IO_HUP | G_IO_ERR |
                                                 (st->watch_out ? G_IO_OUT : 0));
    g_source_set_callback(st->watch, G_SOURCE_FUNC(on_fd), st, NULL);
    g_source_attach(st->watch, st->client ? tv_rpc_conn_context(st->client) : NULL);
}

int tv_remote_stream_open_fd(TvRemoteConn *conn, int fd, const char *key, gboolean force)
{
    const tvr_header *call = tv_remote_current_call();
    g_return_val_if_fail(call != NULL, -1);
    TvRemote *remote = conn->remote;
    g_mutex_lock(&remote->streams_lock);
    TvRemoteStream *holder = key ? g_hash_table_lookup(remote->sessions, key) : NULL;
    g_mutex_unlock(&remote->streams_lock);
    if (holder && !force) {
        close(fd);
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_FAILED,
                        "an active console session exists for this domain (%s); "
                        "use --force to take it over",
                        holder->client ? tv_rpc_conn_describe(holder->client) : "another client");
        return -1;
    }
    if (holder)
        stream_fail(holder, TV_ERR_OPERATION_ABORTED,
                    "console session ended: another client took the console over (--force)");

    TvRemoteStream *st = g_new0(TvRemoteStream, 1);
    st->remote = remote;
    st->conn = conn;
    st->client = conn->client ? tv_rpc_conn_ref(conn->client) : NULL;
    st->hdr = *call;
    st->fd = fd;
    st->key = g_strdup(key);
    st->to_fd = g_byte_array_new();
    g_mutex_lock(&remote->streams_lock);
    if (st->key)
        g_hash_table_insert(remote->sessions, g_strdup(st->key), st);
    conn->streams = g_list_prepend(conn->streams, st);
    g_mutex_unlock(&remote->streams_lock);
    /* the watch runs on this (the reading) thread, so only after the reply */
    stream_watch(st);
    return 0;
}

static TvRemoteStream *find_stream(TvRemoteConn *conn, const tvr_header *hdr)
{
    TvRemoteStream *found = NULL;
    g_mutex_lock(&conn->remote->streams_lock);
    for (GList *l = conn->streams; l && !found; l = l->next) {
        TvRemoteStream *st = l->data;
        if (st->hdr.serial == hdr->serial && st->hdr.proc == hdr->proc)
            found = st;
    }
    g_mutex_unlock(&conn->remote->streams_lock);
    return found;
}

static void stream_remove(TvRemoteConn *conn, TvRemoteStream *st)
{
    g_mutex_lock(&conn->remote->streams_lock);
    conn->streams = g_list_remove(conn->streams, st);
    g_mutex_unlock(&conn->remote->streams_lock);
    stream_free(st);
}

void tv_remote_stream_packet(TvRemoteConn *conn, const TvRpcMessage *msg)
{
    const tvr_header *hdr = &msg->header;
    TvRemoteStream *st = find_stream(conn, hdr);
    if (!st) {
        /* data after the end is dropped; a finish or abort waits for an answer */
        if (hdr->status != TVR_STATUS_CONTINUE && conn->client) {
            g_autofree char *text = g_strdup_printf("no open stream for procedure %d, serial %u",
                                                    hdr->proc, hdr->serial);
            GBytes *f = tv_rpc_message_encode_stream_error(hdr, TV_FROM_RPC, TV_ERR_RPC, text);
            if (f)
                tv_rpc_conn_send(conn->client, f);
        }
        return;
    }
    switch (hdr->status) {
    case TVR_STATUS_CONTINUE:
        if (st->fd < 0 || msg->payload_len == 0)
            return; /* ended here already, or the client's end of data: nothing to do */
        if (st->to_fd->len + msg->payload_len > TO_FD_MAX) {
            g_message("%s: console input dropped: the guest has not read %u bytes",
                      st->client ? tv_rpc_conn_describe(st->client) : "client", st->to_fd->len);
            return;
        }
        g_byte_array_append(st->to_fd, msg->payload, (guint)msg->payload_len);
        if (flush_to_fd(st) && st->to_fd->len)
            stream_watch(st);
        return;
    case TVR_STATUS_OK:    /* finish: flush what we can, then confirm */
    case TVR_STATUS_ERROR: /* abort: confirm; nothing more is written */
        if (hdr->status == TVR_STATUS_OK)
            flush_to_fd(st);
        send_frame(st, tv_rpc_message_encode_stream(&st->hdr, TVR_STATUS_OK, NULL, 0));
        stream_remove(conn, st);
        return;
    default:
        return; /* the decoder lets no other status through */
    }
}

void tv_remote_streams_drop_conn(TvRemoteConn *conn)
{
    g_mutex_lock(&conn->remote->streams_lock);
    GList *streams = g_steal_pointer(&conn->streams);
    g_mutex_unlock(&conn->remote->streams_lock);
    g_list_free_full(streams, (GDestroyNotify)stream_free);
}
