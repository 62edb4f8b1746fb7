/* A client connection as the server sees it: reader state (main thread only) and the
 * output queue (under the lock, written from any thread). */
#pragma once

#include <sys/types.h>

#include "rpc_conn.h"
#include "rpc_server.h"
#include "rpc_tls.h"

typedef enum {
    TV_RPC_TLS_NONE = 0,  /* a plain (unix) socket */
    TV_RPC_TLS_HANDSHAKE, /* nothing but the handshake until it is done and checked */
    TV_RPC_TLS_READY,     /* frames go through the session */
} TvRpcTlsPhase;

struct TvRpcConn {
    gint refs;
    TvRpcServer *server;
    GMainContext *ctx;
    gboolean readonly;
    char *name;
    gpointer priv;
    GDestroyNotify priv_free;
    gint keepalive; /* atomic: the client asked for keepalive */
    /* TLS: the session (reads on the main thread, writes under lock: GnuTLS
     * allows one reader and one writer at a time) and the DN patterns of the
     * server's tls_allowed_dn_list (borrowed) */
    TvTlsSession *tls;
    TvRpcTlsPhase tls_phase; /* main thread; READY before any frame is read */
    char *const *tls_allowed_dns;
    char *tls_dn; /* the client certificate's DN, once checked */

    /* main thread only */
    GSource *source;
    gpointer fd_tag;
    GIOCondition polled; /* what fd_tag polls for now */
    GList *link;         /* in the server's client queue */
    gboolean hung_up;
    /* bytes received but not yet taken as frames, from a frame boundary on:
     * a partial frame (grown as its bytes arrive), or whole frames left while
     * reading is paused; NULL while there are none */
    guint8 *pend;
    gsize pend_len, pend_cap;
    gint64 connected_at;
    gint64 last_rx;       /* when the last whole message arrived (keepalive's clock) */
    gint64 partial_since; /* when the message not yet whole began; 0: none */
    gboolean got_message;
    guint pings_unanswered;

    GMutex lock; /* guards everything below */
    int fd;
    gboolean closed;
    gboolean broken;      /* a write failed, output overflowed or close was asked: hang up */
    char *broken_why;     /* why, for the log */
    gboolean broken_warn; /* worth a warning, not an info line */
    gboolean update_pending;
    GQueue out; /* GBytes frames; the head may be partly written */
    /* the frames of out that stand for a descriptor to pass (one byte sent with
     * SCM_RIGHTS; the GBytes closes the descriptor when freed) -> the fd */
    GHashTable *out_fds;
    gsize out_off;
    gsize out_cost;     /* what the queued frames cost (TV_RPC_FRAME_COST each) */
    gsize out_msg_cost; /* of that, MESSAGE frames: events, keepalive */
    guint in_flight;
    guint max_in_flight;
    gsize max_output;
};

/* What a queued frame of len bytes is charged: its bytes and the bookkeeping
 * around them (the GBytes, the queue link, the allocator's headers). */
#define TV_RPC_FRAME_COST(len) ((gsize)(len) + 128)

TvRpcConn *tv_rpc_conn_new(TvRpcServer *srv, GMainContext *ctx, int fd, gboolean readonly,
                           guint64 id, guint max_in_flight, gsize max_output);
void tv_rpc_conn_set_private(TvRpcConn *conn, gpointer priv, GDestroyNotify free_func);
/* Before attach: the client speaks TLS (ctx and allowed_dns borrowed from the
 * server).  -1 with a tv_error. */
int tv_rpc_conn_start_tls(TvRpcConn *conn, TvTlsContext *ctx, char *const *allowed_dns);
/* Start reading on the main loop. */
void tv_rpc_conn_attach(TvRpcConn *conn);
#define TV_RPC_HANGUP_DISCONNECTED "disconnected"

/* Main thread: close the socket, drop queued frames, tell the server. */
void tv_rpc_conn_hangup(TvRpcConn *conn, const char *why);
/* Reading stopped: calls in flight at the limit, or output not taken. */
gboolean tv_rpc_conn_reading_paused(TvRpcConn *conn);
void tv_rpc_conn_call_started(TvRpcConn *conn);
/* Any thread: a call's reply is queued (or dropped); reading may resume. */
void tv_rpc_conn_call_done(TvRpcConn *conn);

/* rpc_server.c, main thread: the buffer every client of the server is read
 * into first (TV_RPC_READ_BUFFER bytes); what a wakeup leaves there moves to
 * the client's pend. */
#define TV_RPC_READ_BUFFER (64 * 1024)
guint8 *tv_rpc_server_read_buffer(TvRpcServer *srv);
/* rpc_server.c, main thread: one complete frame (taken); FALSE: hang up. */
gboolean tv_rpc_server_handle_frame(TvRpcServer *srv, TvRpcConn *conn, GBytes *frame);
/* rpc_server.c, main thread: the client hung up; the server drops its reference. */
void tv_rpc_server_conn_gone(TvRpcServer *srv, TvRpcConn *conn);
