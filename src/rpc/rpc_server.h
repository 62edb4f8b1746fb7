/* tagvirtd's RPC server: unix-socket and TLS listeners, one reader per client on the
 * GLib main loop, quick calls answered there, the rest handed to bounded
 * worker pools, keepalive. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "rpc_conn.h"
#include "rpc_message.h"
#include "rpc_tls.h"

typedef struct TvRpcServer TvRpcServer;

/* max_ro_clients when the configuration does not set it: four fifths of max_clients */
#define TV_RPC_SERVER_DERIVED G_MAXUINT

typedef struct {
    guint max_clients;    /* all sockets together; past it new connections are closed at once */
    guint max_ro_clients; /* of those, at most this many on read-only sockets, so the rest are
                           * kept for the read-write socket; TV_RPC_SERVER_DERIVED */
    guint max_workers;    /* threads for calls that may block (start, migrate, ...) */
    guint prio_workers;   /* threads for quick calls, so queries answer while jobs run */
    guint max_client_requests; /* calls in flight per client before its reading pauses */
    /* bytes waiting for a client that does not read: past it reading its calls pauses, and
     * events or keepalive messages queued beyond it drop the client */
    guint max_client_output;
    /* libvirt's keepalive: a client that asked for it is pinged after keepalive_interval
     * seconds without a message (<= 0: never) and dropped after keepalive_count unanswered
     * pings (0: dropped after keepalive_interval seconds without a message) */
    gint keepalive_interval;
    guint keepalive_count;
    guint handshake_timeout; /* seconds a new client has for its first message; 0: no limit */
    guint
        message_timeout; /* seconds a message may take to arrive whole once it began; 0: no limit */
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
    /* TRUE: the call is quick and never blocks (by its procedure and, where the cost
     * depends on them, its arguments), so it runs on the reading thread and replies at
     * once; FALSE: a worker pool runs it.  Called on the reading thread. */
    gboolean (*is_inline)(TvRpcConn *conn, const TvRpcMessage *call, void *opaque);
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
/* Listen on TCP for TLS clients (libvirtd's listen_tls): addr NULL for every
 * address, service the port (tls_port).  tls is the server's context (taken,
 * also on failure; every TLS listener of a server shares the first one given).
 * allowed_dns: libvirtd's tls_allowed_dn_list, glob patterns one of which the
 * client certificate's distinguished name must match; NULL: any certificate
 * the CA signed.  A client is served once its handshake is done and its
 * certificate checked; then it gets libvirt's one-byte confirmation.
 * Returns the port bound (useful with service "0"), or -1 with a tv_error. */
int tv_rpc_server_add_tls(TvRpcServer *srv, const char *addr, const char *service,
                          TvTlsContext *tls, const char *const *allowed_dns);
guint tv_rpc_server_client_count(TvRpcServer *srv);
/* Stop accepting, hang up on every client, wait for running calls. */
void tv_rpc_server_stop(TvRpcServer *srv);
/* Stops first when needed; removes the socket files it created. */
void tv_rpc_server_free(TvRpcServer *srv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRpcServer, tv_rpc_server_free)
