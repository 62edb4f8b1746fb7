/* Internals shared by the remote program's files. */
#pragma once

#include "remote.h"
#include "remote_procedures.h"
#include "remote_protocol.h"

/* Runs one procedure: args decoded, ret zeroed (strings in it are freed with
 * free(), so g_strdup is fine); 0, or -1 with a tv_error. */
typedef int (*TvRemoteHandler)(TvRemoteConn *conn, const void *args, void *ret);

typedef struct {
    int proc;
    TvRemoteHandler handler;
} TvRemoteHandlerEntry;

typedef struct {
    int id;
    int event_id;
    gboolean has_dom;
    unsigned char uuid[TVR_UUID_LEN];
} TvRemoteEventCallback;

struct TvRemote {
    TvQemuDriver *drv;
    TvRemoteHandler *handlers; /* indexed like the procedure table */
    GMutex events_lock;        /* guards event_conns and every conn's callbacks */
    GList *event_conns;        /* connections with at least one callback */
    int next_callback_id;
};

struct TvRemoteConn {
    TvRemote *remote;
    TvRpcClient *client; /* not referenced: the client owns this state */
    GMutex lock;
    gboolean open;
    gboolean readonly;
    gboolean close_callback;
    GArray *callbacks; /* TvRemoteEventCallback, under remote->events_lock */
    gboolean closed;
};

/* Later entries replace earlier ones for the same procedure. */
void tv_remote_add_handlers(TvRemote *remote, const TvRemoteHandlerEntry *entries, gsize n);

gboolean tv_remote_conn_is_readonly(TvRemoteConn *conn);

/* remote_connect.c */
extern const TvRemoteHandlerEntry tv_remote_connect_handlers[];
extern const gsize tv_remote_connect_handlers_count;

/* remote_events.c */
extern const TvRemoteHandlerEntry tv_remote_event_handlers[];
extern const gsize tv_remote_event_handlers_count;
void tv_remote_events_drop_conn(TvRemoteConn *conn);
