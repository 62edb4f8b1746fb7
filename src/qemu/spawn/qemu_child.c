/* Spawning and reaping capability-probe QEMU children; see qemu_child.h. */
#include "qemu_child.h"
#include "qemu_zygote.h"
#include "tv_error.h"
#include "tv_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define CHILD_OUTPUT_MAX (256 * 1024)

static int check_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        tv_error_report_errno(TV_FROM_CAPABILITIES, errno, "cannot use QEMU binary '%s'", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "QEMU binary '%s' is not a regular file", path);
        return -1;
    }
    if (access(path, X_OK) < 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "QEMU binary '%s' is not executable", path);
        return -1;
    }
    return 0;
}

static bool has_any_prefix(const char *s, const char *const *prefixes)
{
    for (; prefixes && *prefixes; prefixes++) {
        if (g_str_has_prefix(s, *prefixes))
            return true;
    }
    return false;
}

char **tv_qemu_child_environ(const char *const *drop, const char *const *extra)
{
    GPtrArray *env = g_ptr_array_new();
    bool have_tunables = false;
    for (char **e = environ; e && *e; e++) {
        if (has_any_prefix(*e, drop))
            continue;
        have_tunables = have_tunables || g_str_has_prefix(*e, "GLIBC_TUNABLES=");
        g_ptr_array_add(env, g_strdup(*e));
    }
    if (!have_tunables)
        g_ptr_array_add(env, g_strdup("GLIBC_TUNABLES=glibc.malloc.hugetlb=1"));
    for (; extra && *extra; extra++)
        g_ptr_array_add(env, g_strdup(*extra));
    g_ptr_array_add(env, NULL);
    return (char **)g_ptr_array_free(env, FALSE);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

void tv_qemu_child_spawnattr_setup(posix_spawnattr_t *attr)
{
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int reset[] = { SIGPIPE, SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < G_N_ELEMENTS(reset); i++)
        sigaddset(&defaults, reset[i]);
    posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                       POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(attr, 0);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setsigdefault(attr, &defaults);
}

int tv_qemu_child_spawn(TvQemuChild *child, const char *const *argv, bool want_stdin)
{
    memset(child, 0, sizeof(*child));
    child->pidfd = child->in_fd = child->out_fd = child->err_fd = -1;
    child->max_output = CHILD_OUTPUT_MAX;
    child->out = g_string_new(NULL);
    child->err = g_string_new(NULL);

    if (check_executable(argv[0]) < 0)
        return -1;

    int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
    if ((want_stdin && pipe2(in_pipe, O_CLOEXEC) < 0) || pipe2(out_pipe, O_CLOEXEC) < 0 ||
        pipe2(err_pipe, O_CLOEXEC) < 0) {
        int err = errno;
        close_fd(&in_pipe[0]), close_fd(&in_pipe[1]);
        close_fd(&out_pipe[0]), close_fd(&out_pipe[1]);
        tv_error_report_errno(TV_FROM_CAPABILITIES, err, "cannot create pipes for '%s'", argv[0]);
        return -1;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    if (want_stdin)
        posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);

    /* own group: a timeout kills wrapper scripts' children as well */
    tv_qemu_child_spawnattr_setup(&attr);

    g_auto(GStrv) env = tv_qemu_child_environ(NULL, NULL);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    if (rc != 0) {
        close_fd(&in_pipe[1]);
        close_fd(&out_pipe[0]);
        close_fd(&err_pipe[0]);
        tv_error_report_errno(TV_FROM_CAPABILITIES, rc, "cannot execute '%s'", argv[0]);
        return -1;
    }
    child->pid = pid;
    child->in_fd = in_pipe[1];
    child->out_fd = out_pipe[0];
    child->err_fd = err_pipe[0];
    fcntl(child->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(child->err_fd, F_SETFL, O_NONBLOCK);
    child->pidfd = tv_pidfd_open(pid);
    if (child->pidfd < 0) {
        int err = errno;
        tv_qemu_child_kill(child);
        tv_error_report_errno(TV_FROM_CAPABILITIES, err, "cannot watch process %d", (int)pid);
        return -1;
    }
    return 0;
}

static void drain_fd(int *fd, GString *buf, size_t max)
{
    char chunk[8192];
    while (*fd >= 0) {
        ssize_t n = read(*fd, chunk, sizeof(chunk));
        if (n > 0) {
            size_t keep = buf->len < max ? MIN((size_t)n, max - buf->len) : 0;
            g_string_append_len(buf, chunk, (gssize)keep);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_fd(fd); /* EOF or error */
    }
}

void tv_qemu_child_drain(TvQemuChild *child)
{
    drain_fd(&child->out_fd, child->out, child->max_output);
    drain_fd(&child->err_fd, child->err, child->max_output);
}

void tv_qemu_child_reap(TvQemuChild *child)
{
    if (child->pid <= 0 || child->reaped)
        return;
    /* the leader is a zombie until reaped, so the group id cannot be reused */
    kill(-child->pid, SIGKILL);
    int status = 0;
    if (child->zygote)
        status = tv_qemu_zygote_reap(child->zygote, child->pid);
    else
        while (waitpid(child->pid, &status, 0) < 0 && errno == EINTR)
            ;
    child->status = status;
    child->reaped = true;
    close_fd(&child->pidfd);
    close_fd(&child->in_fd);
    tv_qemu_child_drain(child);
    /* a leftover writer (killed above) may still hold the pipe: stop reading */
    close_fd(&child->out_fd);
    close_fd(&child->err_fd);
}

int tv_qemu_child_wait(TvQemuChild *child, gint64 deadline)
{
    while (!child->reaped) {
        gint64 now = g_get_monotonic_time();
        if (now >= deadline)
            return -1;
        struct pollfd fds[3];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){ .fd = child->pidfd, .events = POLLIN };
        if (child->out_fd >= 0)
            fds[n++] = (struct pollfd){ .fd = child->out_fd, .events = POLLIN };
        if (child->err_fd >= 0)
            fds[n++] = (struct pollfd){ .fd = child->err_fd, .events = POLLIN };
        int timeout = (int)MIN((deadline - now + 999) / 1000, G_MAXINT);
        if (poll(fds, n, timeout) < 0 && errno != EINTR)
            return -1;
        tv_qemu_child_drain(child);
        if (fds[0].revents)
            tv_qemu_child_reap(child);
    }
    return 0;
}

void tv_qemu_child_kill(TvQemuChild *child)
{
    if (child->pid > 0 && !child->reaped)
        tv_qemu_child_reap(child); /* reap kills the group first */
}

void tv_qemu_child_clear(TvQemuChild *child)
{
    tv_qemu_child_kill(child);
    close_fd(&child->pidfd);
    close_fd(&child->in_fd);
    close_fd(&child->out_fd);
    close_fd(&child->err_fd);
    if (child->out)
        g_string_free(child->out, TRUE);
    if (child->err)
        g_string_free(child->err, TRUE);
    child->out = child->err = NULL;
    child->pid = 0;
}

char *tv_qemu_child_describe_status(int status)
{
    if (WIFEXITED(status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return g_strdup_printf("was killed by signal %d (%s)", WTERMSIG(status),
                               strsignal(WTERMSIG(status)));
    return g_strdup_printf("ended with wait status 0x%x", (unsigned)status);
}

char *tv_qemu_child_first_error(const TvQemuChild *child)
{
    if (!child->err || child->err->len == 0)
        return NULL;
    const char *s = child->err->str;
    const char *nl = strchr(s, '\n');
    g_autofree char *line = g_strstrip(g_strndup(s, nl ? (gsize)(nl - s) : strlen(s)));
    if (!*line)
        return NULL;
    /* QEMU's error_report() prefixes "<argv[0]>: "; the path is not the fact */
    const char *sep = strstr(line, ": ");
    if (sep && memchr(line, ' ', (size_t)(sep - line)) == NULL) {
        g_autofree char *prog = g_strndup(line, (gsize)(sep - line));
        g_autofree char *base = g_path_get_basename(prog);
        if (g_str_has_prefix(base, "qemu"))
            return g_strdup(sep + 2);
    }
    return g_steal_pointer(&line);
}
