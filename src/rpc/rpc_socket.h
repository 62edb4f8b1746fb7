/* Stream sockets for the server: unix sockets (create and listen, or
 * recognise sockets handed over by systemd) and TCP listeners for TLS. */
#pragma once

#include <glib.h>
#include <sys/types.h>

/* Listen on a new socket at path with mode; a stale socket file (nobody
 * listening) is replaced, a live one or a non-socket is an error.  Returns the
 * non-blocking fd, or -1 with a tv_error. */
int tv_rpc_socket_listen(const char *path, mode_t mode);
/* The path a listening unix socket is bound to, or NULL. */
char *tv_rpc_socket_path(int fd);
/* The peer of a connected socket for log lines: "pid 345, uid 0" (unix),
 * "address 192.0.2.1:53412" (TCP). */
char *tv_rpc_socket_peer_describe(int fd);

/* Listen on TCP: addr (NULL or "": every address, IPv6 and IPv4) and service
 * (a port number or a service name), as libvirtd's listen_addr and tls_port.
 * Returns the non-blocking fds (one per address family bound), or NULL with a
 * tv_error naming the address and port. */
GArray *tv_rpc_socket_listen_tcp(const char *addr, const char *service);
/* The port a listening TCP socket is bound to, or 0. */
guint tv_rpc_socket_tcp_port(int fd);
