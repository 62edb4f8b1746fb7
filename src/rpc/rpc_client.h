/* One connected client as the layers above see it: a reference-counted
 * handle whose frames may be queued from any thread. */
#pragma once

#include <glib.h>

typedef struct TvRpcClient TvRpcClient;

TvRpcClient *tv_rpc_client_ref(TvRpcClient *client);
void tv_rpc_client_unref(TvRpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRpcClient, tv_rpc_client_unref)

/* Connected through the read-only socket. */
gboolean tv_rpc_client_is_readonly(TvRpcClient *client);
/* The state the program attached when the client connected. */
gpointer tv_rpc_client_get_private(TvRpcClient *client);
/* A short name for logs: "client 12 (pid 345, uid 0)". */
const char *tv_rpc_client_describe(TvRpcClient *client);

/* Queue one whole frame (any thread); written in queue order, never
 * interleaved.  Takes frame; FALSE when the client is gone and it was dropped. */
gboolean tv_rpc_client_send(TvRpcClient *client, GBytes *frame);
/* The main context that reads this client (streams attach their fds there). */
GMainContext *tv_rpc_client_context(TvRpcClient *client);
/* Frames queued for the client and not yet written: a stream producer
 * pauses while it is high, so a slow reader is not hung up on. */
guint tv_rpc_client_queued_frames(TvRpcClient *client);
/* The client speaks keepalive: from now on the server pings it when silent. */
void tv_rpc_client_start_keepalive(TvRpcClient *client);
/* Ask the main loop to hang up on this client (any thread). */
void tv_rpc_client_close(TvRpcClient *client);
gboolean tv_rpc_client_is_closed(TvRpcClient *client);
