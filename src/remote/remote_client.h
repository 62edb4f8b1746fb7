/* This daemon as a client of another one (the destination of a peer-to-peer
 * migration): the remote program over tv_rpc_client, opened from a libvirt
 * URI as virsh would open it. */
#pragma once

#include "rpc_client.h"

typedef struct TvRemoteClient TvRemoteClient;

/* qemu+unix:///system?socket=PATH, qemu+tls://HOST[:PORT]/system (port
 * 16514; ?pkipath=DIR for the client's certificates, ?no_verify=1 to skip
 * the server's), or qemu:///system (the local system socket).  Does
 * AUTH_LIST and CONNECT_OPEN; NULL with a tv_error. */
TvRemoteClient *tv_remote_client_open(const char *uri, guint timeout_ms);
/* CONNECT_CLOSE, then the connection goes. */
void tv_remote_client_close(TvRemoteClient *rc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvRemoteClient, tv_remote_client_close)

/* Its connection broke (tv_rpc_client_is_broken). */
bool tv_remote_client_is_broken(TvRemoteClient *rc);
/* One call of the remote program (see tv_rpc_client_call). */
int tv_remote_client_call(TvRemoteClient *rc, int proc, xdrproc_t args_filter, const void *args,
                          xdrproc_t ret_filter, void *ret, guint timeout_ms);
