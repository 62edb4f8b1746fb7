/* Spawning QEMU for a domain: its log file, its own process group, pidfd,
 * reaping, and the child-subreaper flag. */
#include "qemu_child.h"
#include "qemu_command.h"
#include "qemu_process_priv.h"
#include "qemu_zygote.h"
#include "tv_error.h"
#include "tv_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char *timestamp(void)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    return g_date_time_format(now, "%Y-%m-%d %H:%M:%S.%f+0000");
}

static int write_all(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

int tv_qemu_process_log_open(const char *path, GPtrArray *argv, off_t *offset)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open QEMU log '%s'", path);
        return -1;
    }
    g_autofree char *ts = timestamp();
    g_autofree char *cmd = tv_qemu_command_format(argv);
    g_autofree char *head = g_strdup_printf("%s: starting up\n%s", ts, cmd);
    if (write_all(fd, head, strlen(head)) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot write QEMU log '%s'", path);
        close(fd);
        return -1;
    }
    /* the tail shown on failure starts after our header */
    *offset = lseek(fd, 0, SEEK_END);
    return fd;
}

void tv_qemu_process_log_line(const char *path, const char *fmt, ...)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *ts = timestamp();
    g_autofree char *line = g_strdup_printf("%s: %s\n", ts, msg);
    (void)write_all(fd, line, strlen(line));
    close(fd);
}

char *tv_qemu_process_read_log_tail(const char *path, off_t from, size_t max_bytes)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= from) {
        close(fd);
        return NULL;
    }
    off_t start = MAX(from, st.st_size - (off_t)max_bytes);
    size_t len = (size_t)(st.st_size - start);
    char *buf = g_malloc(len + 1);
    ssize_t n = pread(fd, buf, len, start);
    close(fd);
    if (n <= 0) {
        g_free(buf);
        return NULL;
    }
    buf[n] = '\0';
    /* begin at a line boundary when cut */
    char *text = buf;
    if (start > from) {
        char *nl = strchr(buf, '\n');
        if (nl)
            text = nl + 1;
    }
    char *out = g_strdup(g_strchomp(text));
    g_free(buf);
    if (!*out)
        g_clear_pointer(&out, g_free);
    return out;
}

/* Through the fork server: 0, or 1 when it cannot (then spawn plainly).
 * Its child is ours only because we are a subreaper (the server forks twice). */
static int spawn_forked(TvQemuZygote *zygote, GPtrArray *argv, int log_fd, char **env, pid_t *pid)
{
    int subreaper = 0;
    if (!zygote || prctl(PR_GET_CHILD_SUBREAPER, &subreaper, 0, 0, 0) < 0 || !subreaper)
        return 1;
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0)
        return 1;
    int fds[3] = { null_fd, log_fd, log_fd };
    int rc = tv_qemu_zygote_spawn_guest(zygote, (const char *const *)argv->pdata,
                                        (const char *const *)env, fds, pid);
    close(null_fd);
    return rc;
}

int tv_qemu_process_spawn(GPtrArray *argv, int log_fd, TvQemuZygote *zygote, pid_t *pid,
                          bool *forked)
{
    *forked = false;
    const char *bin = g_ptr_array_index(argv, 0);
    if (access(bin, X_OK) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot execute QEMU binary '%s'", bin);
        return -1;
    }
    g_auto(GStrv) env = tv_qemu_child_environ(NULL, NULL);
    if (spawn_forked(zygote, argv, log_fd, env, pid) == 0) {
        *forked = true;
        return 0;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);

    /* own group: terminal signals (Ctrl-C) go to the manager, not the guest;
     * no parent-death signal: guests outlive the manager */
    sigset_t none, defaults;
    sigemptyset(&none);
    sigfillset(&defaults);
    sigdelset(&defaults, SIGKILL);
    sigdelset(&defaults, SIGSTOP);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);

    int rc = posix_spawn(pid, bin, &fa, &attr, (char *const *)argv->pdata, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        tv_error_report_errno(TV_FROM_QEMU, rc, "cannot execute QEMU binary '%s'", bin);
        return -1;
    }
    return 0;
}

int tv_qemu_process_pidfd_open(pid_t pid)
{
    int fd = tv_pidfd_open(pid);
    if (fd < 0)
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot watch QEMU process %d", (int)pid);
    return fd;
}

void tv_qemu_process_reap_group(pid_t pgid)
{
    while (waitpid(-pgid, NULL, WNOHANG) > 0)
        ;
}

int tv_qemu_process_become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot become a child subreaper");
        return -1;
    }
    return 0;
}

char *tv_qemu_process_status_path(const char *state_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(state_dir, file, NULL);
}

char *tv_qemu_process_monitor_path(const char *state_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.monitor", name);
    char *path = g_build_filename(state_dir, file, NULL);
    if (strlen(path) < sizeof(((struct sockaddr_un *)NULL)->sun_path))
        return path;
    /* a unix socket address holds 107 bytes, a domain name 200: a long name
     * gets a fixed-length name of its hash (".qmp": never NAME.monitor) */
    g_free(path);
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, name, -1);
    g_autofree char *short_file = g_strdup_printf("%.32s.qmp", hash);
    return g_build_filename(state_dir, short_file, NULL);
}

char *tv_qemu_process_log_path(const char *log_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.log", name);
    return g_build_filename(log_dir, file, NULL);
}
