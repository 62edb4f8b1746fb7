/* Event callbacks of the other drivers' objects (storage pools, networks):
 * who registered for which event of which object, and the fan-out of an
 * event to them as server MESSAGEs. */
#pragma once

#include "remote_priv.h"

typedef struct {
    int id;
    int event_id;
    gboolean has_uuid;
    unsigned char uuid[TVR_UUID_LEN];
} TvObjCallback;

typedef struct {
    const char *what; /* "storage pool", "network": for messages */
    GMutex lock;
    GHashTable *by_conn; /* TvRemoteConn * -> GArray of TvObjCallback */
    int next_id;
} TvObjEvents;

void tv_obj_events_init(TvObjEvents *ev, const char *what);
void tv_obj_events_clear(TvObjEvents *ev);
/* The new callback's id; uuid NULL: every object. */
int tv_obj_events_register(TvObjEvents *ev, TvRemoteConn *conn, int event_id,
                           const unsigned char *uuid);
/* -1 with INVALID_ARG when conn has no callback id. */
int tv_obj_events_deregister(TvObjEvents *ev, TvRemoteConn *conn, int id);
void tv_obj_events_drop_conn(TvObjEvents *ev, TvRemoteConn *conn);

typedef void (*TvObjEventSend)(TvRemoteConn *conn, int callback_id, void *opaque);
/* send() for every callback of event_id that matches uuid; under ev->lock. */
void tv_obj_events_emit(TvObjEvents *ev, int event_id, const unsigned char *uuid,
                        TvObjEventSend send, void *opaque);

/* A server MESSAGE of procedure proc to conn's client (dropped when the
 * connection has none or it cannot be encoded). */
void tv_remote_send_message(TvRemoteConn *conn, int proc, xdrproc_t filter, const void *msg);
