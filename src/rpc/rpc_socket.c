#include "rpc_socket.h"

#include <errno.h>
#include <fcntl.h>
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

char *tv_rpc_socket_peer_describe(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        return g_strdup_printf("pid %d, uid %u", (int)cred.pid, (unsigned)cred.uid);
    return g_strdup("an unknown peer");
}
