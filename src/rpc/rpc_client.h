/* A client of libvirt's protocol, for one daemon talking to another (the
 * source of a peer-to-peer migration calls the destination): a unix socket,
 * or TCP with TLS as qemu+tls:// does.  Calls are made one at a time and
 * wait for their reply, answering the server's keepalive pings meanwhile;
 * events the server sends are dropped.  Knows no program: the caller gives
 * program, procedure and XDR filters (src/remote/remote_client.c for the
 * remote program). */
#pragma once

#include "rpc_message.h"
#include "rpc_tls.h"

#include <glib.h>

typedef struct TvRpcClient TvRpcClient;

TvRpcClient *tv_rpc_client_connect_unix(const char *path, guint timeout_ms);
/* tls NULL: plain TCP (libvirt's qemu+tcp://, which tagvirtd does not
 * serve).  hostname is also the name the server's certificate must carry. */
TvRpcClient *tv_rpc_client_connect_tcp(const char *hostname, guint port, TvTlsContext *tls,
                                       guint timeout_ms);
void tv_rpc_client_free(TvRpcClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRpcClient, tv_rpc_client_free)

/* Call proc of program prog/vers with args (args_filter) and decode the
 * reply into ret (ret_filter; zeroed by the caller, freed with xdr_free).
 * An error reply becomes a tv_error with the server's code, domain and
 * message.  -1 also on a timeout (OPERATION_TIMEOUT) or a broken
 * connection (RPC), after which the client is unusable. */
/* A call failed for want of a connection (sent or not, no answer came):
 * the client is unusable from now on. */
bool tv_rpc_client_is_broken(TvRpcClient *c);
int tv_rpc_client_call(TvRpcClient *c, guint32 prog, guint32 vers, int proc, xdrproc_t args_filter,
                       const void *args, xdrproc_t ret_filter, void *ret, guint timeout_ms);
