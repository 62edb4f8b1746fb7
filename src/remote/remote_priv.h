/* Internals shared by the remote program's files. */
#pragma once

#include "remote.h"
#include "remote_host_protocol.h"
#include "remote_procedures.h"
#include "remote_protocol.h"
#include "rpc_message.h"

/* Runs one procedure: args decoded, ret zeroed (strings in it are freed with
 * free(), so g_strdup is fine); 0, or -1 with a tv_error. */
typedef int (*TvRemoteHandler)(TvRemoteConn *conn, const void *args, void *ret);

/* For a procedure flagged TV_PROC_INLINE whose cost grows with what it
 * returns: TRUE when this call (args decoded) is cheap enough for the reading
 * thread.  Must itself be cheap and never block. */
typedef gboolean (*TvRemoteQuickCheck)(TvRemote *remote, const void *args);

typedef struct {
    int proc;
    TvRemoteHandler handler;
} TvRemoteHandlerEntry;

typedef enum {
    TV_REMOTE_EVENT_DOMAIN,
    TV_REMOTE_EVENT_NODE_DEVICE,
    TV_REMOTE_EVENT_SECRET,
    TV_REMOTE_EVENT_KIND_LAST
} TvRemoteEventKind;

typedef struct {
    int proc;
    TvRemoteQuickCheck quick;
} TvRemoteQuickEntry;

typedef struct {
    int id;
    TvRemoteEventKind kind;
    int event_id;
    gboolean has_filter; /* only events of one object: uuid, or name (node devices) */
    unsigned char uuid[TVR_UUID_LEN];
    char *name;
} TvRemoteEventCallback;

typedef struct TvRemoteStream TvRemoteStream;
typedef struct TvRemoteStorage TvRemoteStorage;
typedef struct TvRemoteNetwork TvRemoteNetwork;

struct TvRemote {
    TvQemuDriver *drv;
    GMutex streams_lock;       /* guards sessions and every conn's streams */
    GHashTable *sessions;      /* exclusive session key -> TvRemoteStream */
    TvRemoteHandler *handlers; /* indexed like the procedure table */
    TvRemoteQuickCheck *quick; /* likewise */
    GMutex events_lock;        /* guards event_conns and every conn's callbacks */
    GList *event_conns;        /* connections with at least one callback */
    int next_callback_id;
    TvRemoteStorage *storage; /* remote_storage.c; NULL without a storage driver */
    TvRemoteNetwork *network; /* remote_network.c; NULL without a network driver */
};

struct TvRemoteConn {
    TvRemote *remote;
    TvRpcConn *client; /* not referenced: the client owns this state */
    GMutex lock;
    gboolean open;
    gboolean readonly;
    gboolean close_callback;
    GArray *callbacks; /* TvRemoteEventCallback, under remote->events_lock */
    GList *streams;    /* TvRemoteStream, under remote->streams_lock */
    gboolean closed;
    char *local_addr; /* tv_remote_conn_local_address(), once asked */
    gboolean local_addr_known;
    guint64 serial; /* never reused: what the driver knows this connection by */
};

/* Later entries replace earlier ones for the same procedure. */
void tv_remote_add_handlers(TvRemote *remote, const TvRemoteHandlerEntry *entries, gsize n);
/* Likewise; an inline procedure without a check is always quick. */
void tv_remote_add_quick_checks(TvRemote *remote, const TvRemoteQuickEntry *entries, gsize n);

gboolean tv_remote_conn_is_readonly(TvRemoteConn *conn);
/* The local address a TCP client reached this daemon at, NULL over unix. */
const char *tv_remote_conn_local_address(TvRemoteConn *conn);

/* The header of the call being dispatched on this thread (NULL outside). */
const tvr_header *tv_remote_current_call(void);
/* From a handler: pass fd (taken) to the client with the reply (REPLY_WITH_FDS);
 * closed instead when the handler then fails. */
void tv_remote_reply_fd(int fd);

/* remote_stream.c: a stream for the call being dispatched, pumping fd (taken,
 * also on failure) both ways once the reply is out.  key: an exclusive
 * session; while another stream holds it the open fails, or with force the
 * holder is ended with an error.  0, or -1 with a tv_error. */
int tv_remote_stream_open_fd(TvRemoteConn *conn, int fd, const char *key, gboolean force);
/* Every stream of conn is ended and freed. */
void tv_remote_streams_drop_conn(TvRemoteConn *conn);

/* remote_connect.c */
extern const TvRemoteHandlerEntry tv_remote_connect_handlers[];
extern const gsize tv_remote_connect_handlers_count;

/* remote_secrets.c: a host with no secrets */
extern const TvRemoteHandlerEntry tv_remote_secret_handlers[];
extern const gsize tv_remote_secret_handlers_count;

/* remote_domain_events.c: typed parameters as the wire has them, at most
 * max of them (*n: how many); field and string borrowed, or duplicated with
 * copy (for a reply, which is freed after it is sent). */
tvr_typed_param *tv_remote_wire_params(const TvTypedParam *params, size_t nparams, u_int max,
                                       u_int *n, bool copy);

/* remote_events.c */
extern const TvRemoteHandlerEntry tv_remote_event_handlers[];
extern const gsize tv_remote_event_handlers_count;
void tv_remote_events_conn_init(TvRemoteConn *conn);
void tv_remote_events_drop_conn(TvRemoteConn *conn);
/* Send msg (XDR filter, procedure proc) to every callback of kind and
 * event_id whose filter matches the object (uuid, or name for node
 * devices), writing each callback's id into *callback_id_field (a member
 * of msg) before encoding.  Any thread. */
void tv_remote_events_send(TvRemote *remote, TvRemoteEventKind kind, int event_id,
                           const unsigned char *uuid, const char *name, int proc, xdrproc_t filter,
                           void *msg, int *callback_id_field);

/* remote_storage.c, remote_network.c: the connection is gone, so are its
 * pool and network event callbacks */
void tv_remote_storage_drop_conn(TvRemoteConn *conn);
void tv_remote_network_drop_conn(TvRemoteConn *conn);
