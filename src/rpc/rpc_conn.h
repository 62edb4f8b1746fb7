/* The server's side of one client connection, as the layers above see it: a
 * reference-counted handle whose frames may be queued from any thread.  (An
 * RPC client, the side that connects, is not this.) */
#pragma once

#include <glib.h>

typedef struct TvRpcConn TvRpcConn;

TvRpcConn *tv_rpc_conn_ref(TvRpcConn *conn);
void tv_rpc_conn_unref(TvRpcConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRpcConn, tv_rpc_conn_unref)

/* Connected through the read-only socket. */
gboolean tv_rpc_conn_is_readonly(TvRpcConn *conn);
/* Connected over TLS (the handshake is done and the certificate checked
 * before any call is read). */
gboolean tv_rpc_conn_is_tls(TvRpcConn *conn);
/* The state the program attached when the client connected. */
/* The local IP address of a TCP connection (newly allocated), NULL over a
 * unix socket. */
char *tv_rpc_conn_local_address(TvRpcConn *conn);
gpointer tv_rpc_conn_get_private(TvRpcConn *conn);
/* A short name for logs: "client 12 (pid 345, uid 0)". */
const char *tv_rpc_conn_describe(TvRpcConn *conn);

/* Queue one whole frame (any thread); written in queue order, never
 * interleaved.  Takes frame; FALSE when the client is gone and it was dropped. */
gboolean tv_rpc_conn_send(TvRpcConn *conn, GBytes *frame);
/* The client's socket can carry descriptors (a unix socket). */
gboolean tv_rpc_conn_can_pass_fds(TvRpcConn *conn);
/* Queue frame, then pass each of the nfds descriptors, as libvirt's peers
 * expect after a *_WITH_FDS message: one sendmsg per descriptor, one zero byte
 * carrying it with SCM_RIGHTS.  Takes frame and the descriptors (closed once
 * passed or dropped); FALSE when the client is gone and they were dropped. */
gboolean tv_rpc_conn_send_fds(TvRpcConn *conn, GBytes *frame, const int *fds, guint nfds);
/* The main context that reads this client (streams attach their fds there). */
GMainContext *tv_rpc_conn_context(TvRpcConn *conn);
/* What the frames queued for the client and not yet written cost in memory
 * (TV_RPC_FRAME_COST each): a stream producer pauses while it is high, so a
 * slow reader is not hung up on. */
gsize tv_rpc_conn_queued_bytes(TvRpcConn *conn);
/* The client speaks keepalive: from now on the server pings it when silent. */
void tv_rpc_conn_start_keepalive(TvRpcConn *conn);
/* Ask the main loop to hang up on this client (any thread). */
void tv_rpc_conn_close(TvRpcConn *conn);
gboolean tv_rpc_conn_is_closed(TvRpcConn *conn);
