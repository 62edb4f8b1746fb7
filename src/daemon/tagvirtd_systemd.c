#include "tagvirtd_systemd.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc_socket.h"

#define LISTEN_FDS_START 3

static void collect(GArray *out)
{
    const char *pid_env = g_getenv("LISTEN_PID");
    const char *fds_env = g_getenv("LISTEN_FDS");
    const char *names_env = g_getenv("LISTEN_FDNAMES");
    guint64 pid, n;
    if (!pid_env || !fds_env || !g_ascii_string_to_unsigned(pid_env, 10, 1, G_MAXINT, &pid, NULL) ||
        pid != (guint64)getpid() || !g_ascii_string_to_unsigned(fds_env, 10, 1, 64, &n, NULL))
        return;

    g_auto(GStrv) names = g_strsplit(names_env ? names_env : "", ":", -1);
    guint n_names = g_strv_length(names);
    for (guint i = 0; i < n; i++) {
        TvActivatedSocket s = { .fd = LISTEN_FDS_START + (int)i };
        fcntl(s.fd, F_SETFD, FD_CLOEXEC);
        const char *name = i < n_names ? names[i] : NULL;
        g_autofree char *path = tv_rpc_socket_path(s.fd);
        s.readonly = g_strcmp0(name, "tagvirtd-ro") == 0 || (path && g_str_has_suffix(path, "-ro"));
        g_array_append_val(out, s);
    }
}

GArray *tv_daemon_activated_sockets(void)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(TvActivatedSocket));
    collect(out);
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    return out;
}

void tv_daemon_notify(const char *state)
{
    const char *path = g_getenv("NOTIFY_SOCKET");
    if (!path || (path[0] != '/' && path[0] != '@'))
        return;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path))
        return;
    memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@')
        addr.sun_path[0] = '\0'; /* abstract namespace */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr,
               (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
        g_info("cannot notify the service manager: %s", g_strerror(errno));
    close(fd);
}
