/* The remote program: libvirt's procedures translated to tagvirt's driver
 * API.  Owns per-connection state and the lifecycle-event fan-out. */
#pragma once

#include <glib.h>

#include "qemu_driver.h"
#include "rpc_server.h"

/* libvirt API level reported by CONNECT_GET_LIB_VERSION: clients (Nova among
 * them) gate features on it, and tagvirtd speaks the protocol of libvirt 9.0. */
#define TV_REMOTE_LIB_VERSION 9000000ULL

typedef struct TvRemote TvRemote;
typedef struct TvRemoteConn TvRemoteConn;

/* drv NULL: connection-level procedures only; the rest answer "unknown procedure". */
TvRemote *tv_remote_new(TvQemuDriver *drv);
void tv_remote_free(TvRemote *remote);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRemote, tv_remote_free)

/* The program to hand to tv_rpc_server_new(). */
void tv_remote_program(TvRemote *remote, TvRpcProgram *program);

/* State of one connection; client may be NULL (tests, fuzzing). */
TvRemoteConn *tv_remote_conn_new(TvRemote *remote, TvRpcConn *client, gboolean readonly);
/* The connection is gone: no more events for it. */
void tv_remote_conn_closed(TvRemoteConn *conn);
void tv_remote_conn_free(TvRemoteConn *conn);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRemoteConn, tv_remote_conn_free)

/* Decode one CALL of the remote program, run it, encode the reply or the
 * error (never NULL unless even the error cannot be encoded). */
GBytes *tv_remote_dispatch(TvRemoteConn *conn, const TvRpcMessage *call);

/* A STREAM packet from the client of conn (finish, abort or data of a
 * stream a call opened); on the thread that reads the client. */
void tv_remote_stream_packet(TvRemoteConn *conn, const TvRpcMessage *msg);

/* Send a domain event to every callback registered for it (any thread);
 * a TvDomainEventFunc, so the driver can call it directly. */
void tv_remote_emit_event(const TvDomainEvent *ev, void *remote);
