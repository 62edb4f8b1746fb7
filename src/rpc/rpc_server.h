/* tagvirtd's RPC server: unix-socket listeners, one reader per client on the
 * GLib main loop, quick calls answered there, the rest handed to bounded
 * worker pools, keepalive. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "rpc_conn.h"
#include "rpc_message.h"

typedef struct TvRpcServer TvRpcServer;

typedef struct {
    guint max_clients;         /* connections beyond this are accepted and closed at once */
    guint max_workers;         /* threads for calls that may block (start, migrate, ...) */
    guint prio_workers;        /* threads for quick calls, so queries answer while jobs run */
    guint max_client_requests; /* calls in flight per client before its reading pauses */
    guint keepalive_interval;  /* seconds of silence before the server pings; 0: never */
    guint keepalive_count;     /* unanswered pings before the server hangs up */
    guint handshake_timeout;   /* seconds a new client has for its first message; 0: no limit */
} TvRpcServerConfig;

/* libvirtd-like defaults */
void tv_rpc_server_config_init(TvRpcServerConfig *cfg);

/* The program the server dispatches CALLs to (the remote program). */
typedef struct {
    guint32 prog;
    guint32 vers;
    /* On a worker thread: the whole reply frame, or NULL for none. */
    GBytes *(*dispatch)(TvRpcConn *client, const TvRpcMessage *call, void *opaque);
    /* TRUE: run on the priority pool (calls that never wait for a domain job). */
    gboolean (*is_priority)(int proc, void *opaque);
    /* TRUE: the call never blocks, so it runs on the reading thread and replies at once. */
    gboolean (*is_inline)(int proc, void *opaque);
    /* On the reading thread: a STREAM frame of this program (NULL: a protocol
     * error).  The frame's bytes live only for the call. */
    void (*stream)(TvRpcConn *client, const TvRpcMessage *msg, void *opaque);
    /* Per-client state: made at accept, told of the hang-up, freed with the client. */
    gpointer (*client_open)(TvRpcConn *client, void *opaque);
    void (*client_close)(gpointer priv, void *opaque);
    GDestroyNotify client_free;
    void *opaque;
} TvRpcProgram;

/* ctx NULL: the default main context. */
TvRpcServer *tv_rpc_server_new(const TvRpcServerConfig *cfg, const TvRpcProgram *program,
                               GMainContext *ctx);
/* Listen on a new unix socket at path (stale socket files are replaced). */
int tv_rpc_server_add_unix(TvRpcServer *srv, const char *path, mode_t mode, gboolean readonly);
/* Serve an already listening socket (socket activation); the server owns fd. */
int tv_rpc_server_add_fd(TvRpcServer *srv, int fd, gboolean readonly);
guint tv_rpc_server_client_count(TvRpcServer *srv);
/* Stop accepting, hang up on every client, wait for running calls. */
void tv_rpc_server_stop(TvRpcServer *srv);
/* Stops first when needed; removes the socket files it created. */
void tv_rpc_server_free(TvRpcServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRpcServer, tv_rpc_server_free)
