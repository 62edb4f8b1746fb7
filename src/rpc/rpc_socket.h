/* Unix stream sockets for the server: create and listen, or recognise
 * sockets handed over by systemd. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Listen on a new socket at path with mode; a stale socket file (nobody
 * listening) is replaced, a live one or a non-socket is an error.  Returns the
 * non-blocking fd, or -1 with a tv_error. */
int tv_rpc_socket_listen(const char *path, mode_t mode);
/* The path a listening unix socket is bound to, or NULL. */
char *tv_rpc_socket_path(int fd);
/* The peer of a connected unix socket for log lines: "pid 345, uid 0". */
char *tv_rpc_socket_peer_describe(int fd);
