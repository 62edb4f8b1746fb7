#include "rpc_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <sys/un.h>
#include <unistd.h>

#include "tv_error.h"

static int fill_addr(const char *path, struct sockaddr_un *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_CONFIG_UNSUPPORTED,
                        "socket path '%s' is %zu bytes long; unix sockets accept at most %zu", path,
                        strlen(path), sizeof(addr->sun_path) - 1);
        return -1;
    }
    strcpy(addr->sun_path, path);
    return 0;
}

/* A socket file nobody listens on is left over from a daemon that died. */
static int remove_stale(const char *path, const struct sockaddr_un *addr)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot stat '%s'", path);
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_FAILED,
                        "'%s' exists and is not a socket; remove it or choose another path", path);
        return -1;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot create a socket");
        return -1;
    }
    int rc = connect(probe, (const struct sockaddr *)addr, sizeof(*addr));
    int err = errno;
    close(probe);
    if (rc == 0) {
        tv_error_report(TV_FROM_RPC, TV_ERR_OPERATION_INVALID,
                        "another daemon is already listening on '%s'", path);
        return -1;
    }
    if (err != ECONNREFUSED && err != ENOENT) {
        tv_error_report_errno(TV_FROM_RPC, err, "cannot probe the socket '%s'", path);
        return -1;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot remove the stale socket '%s'", path);
        return -1;
    }
    return 0;
}

int tv_rpc_socket_listen(const char *path, mode_t mode)
{
    struct sockaddr_un addr;
    if (fill_addr(path, &addr) < 0 || remove_stale(path, &addr) < 0)
        return -1;

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot create a socket for '%s'", path);
        return -1;
    }
    /* Linux creates the socket file from the socket inode's mode: no window with wider access */
    if (fchmod(fd, mode) < 0 || bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot bind to '%s'", path);
        close(fd);
        return -1;
    }
    if (chmod(path, mode) < 0 || listen(fd, SOMAXCONN) < 0) {
        tv_error_report_errno(TV_FROM_RPC, errno, "cannot listen on '%s'", path);
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

char *tv_rpc_socket_path(int fd)
{
    struct sockaddr_un addr;
    socklen_t len = sizeof(addr);
    memset(&addr, 0, sizeof(addr));
    if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 || addr.sun_family != AF_UNIX ||
        len <= offsetof(struct sockaddr_un, sun_path) || addr.sun_path[0] == '\0')
        return NULL;
    return g_strndup(addr.sun_path, len - offsetof(struct sockaddr_un, sun_path));
}

/* "192.0.2.1:53412", "[2001:db8::1]:53412" */
static char *inet_describe(const struct sockaddr *sa, socklen_t len)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return NULL;
    return sa->sa_family == AF_INET6 ? g_strdup_printf("[%s]:%s", host, serv)
                                     : g_strdup_printf("%s:%s", host, serv);
}

char *tv_rpc_socket_peer_describe(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
        g_autofree char *where = inet_describe((struct sockaddr *)&ss, sslen);
        return g_strdup_printf("address %s", where ? where : "unknown");
    }
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        return g_strdup_printf("pid %d, uid %u", (int)cred.pid, (unsigned)cred.uid);
    return g_strdup("an unknown peer");
}

static int listen_one(const struct addrinfo *ai, const char *addr, const char *service)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    /* both families are bound separately, as libvirtd does */
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
        int err = errno;
        g_autofree char *where = inet_describe(ai->ai_addr, ai->ai_addrlen);
        tv_error_report_errno(TV_FROM_RPC, err, "cannot listen on %s (listen_addr '%s', port '%s')",
                              where ? where : "?", addr ? addr : "", service);
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

GArray *tv_rpc_socket_listen_tcp(const char *addr, const char *service)
{
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_ADDRCONFIG,
                              .ai_family = AF_UNSPEC,
                              .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    const char *node = addr && *addr ? addr : NULL;
    int err = getaddrinfo(node, service, &hints, &res);
    if (err == EAI_ADDRFAMILY || (err == EAI_NONAME && !node)) {
        hints.ai_flags &= ~AI_ADDRCONFIG; /* a host with loopback only */
        err = getaddrinfo(node, service, &hints, &res);
    }
    if (err) {
        tv_error_report(TV_FROM_RPC, TV_ERR_CONFIG_UNSUPPORTED,
                        "cannot listen on address '%s' port '%s': %s", node ? node : "(any)",
                        service, gai_strerror(err));
        return NULL;
    }
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
    bool failed = false;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = listen_one(ai, node, service);
        if (fd >= 0) {
            g_array_append_val(fds, fd);
            continue;
        }
        /* a wildcard address of a family the host lacks is no error */
        if (!node && (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
            tv_error_reset();
            continue;
        }
        failed = true;
        break;
    }
    freeaddrinfo(res);
    if (failed || fds->len == 0) {
        if (!failed)
            tv_error_report(TV_FROM_RPC, TV_ERR_CONFIG_UNSUPPORTED,
                            "cannot listen on address '%s' port '%s': no usable address",
                            node ? node : "(any)", service);
        for (guint i = 0; i < fds->len; i++)
            close(g_array_index(fds, int, i));
        g_array_unref(fds);
        return NULL;
    }
    return fds;
}

guint tv_rpc_socket_tcp_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}
