/* Spawning QEMU for a domain: its log file, its own session, confined as
 * its TvQemuSecurity says (qemu_security_launch.h), the monitor socket it
 * inherits, pidfd, reaping, and the child-subreaper flag. */
#include "qemu_child.h"
#include "qemu_command.h"
#include "qemu_process_priv.h"
#include "qemu_security_launch.h"
#include "qemu_zygote.h"
#include "tv_error.h"
#include "tv_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
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

int tv_qemu_process_spawn(GPtrArray *argv, const TvQemuSpawnArgs *args, pid_t *pid, bool *forked)
{
    *forked = false;
    const char *bin = g_ptr_array_index(argv, 0);
    if (access(bin, X_OK) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot execute QEMU binary '%s'", bin);
        return -1;
    }
    g_auto(GStrv) env = tv_qemu_child_environ(NULL, NULL);
    if (spawn_forked(args->zygote, argv, args->log_fd, env, pid) == 0) {
        *forked = true;
        return 0;
    }
    /* own session and group: terminal signals (Ctrl-C) and the manager's
     * hang-up go to the manager, not the guest; no parent-death signal:
     * guests outlive the manager */
    TvQemuLaunch launch = {
        .argv = (const char *const *)argv->pdata,
        .envp = (const char *const *)env,
        .stdin_fd = -1,
        .stdout_fd = args->log_fd,
        .stderr_fd = args->log_fd,
        .pass_fd = args->monitor_fd,
        .extra_fds = args->extra_fds,
        .nextra_fds = args->nextra_fds,
        .files = args->files ? (const TvQemuLaunchFile *)(void *)args->files->data : NULL,
        .nfiles = args->files ? args->files->len : 0,
        .apparmor_label = args->apparmor_label,
        .staging_dir = args->staging_dir,
    };
    return tv_qemu_security_launch(args->security, &launch, pid);
}

int tv_qemu_process_listen(const char *path, const char *what)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s socket path '%s' is longer than %zu bytes: use a shorter state "
                        "directory or domain name",
                        what, path, sizeof(addr.sun_path) - 1);
        return -1;
    }
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the %s socket '%s'", what, path);
        return -1;
    }
    (void)unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot listen on the %s socket '%s'", what,
                              path);
        close(fd);
        return -1;
    }
    return fd;
}

int tv_qemu_process_monitor_listen(const char *path)
{
    return tv_qemu_process_listen(path, "monitor");
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

char *tv_qemu_process_dac_path(const char *state_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.dac", name);
    return g_build_filename(state_dir, file, NULL);
}

char *tv_qemu_process_log_path(const char *log_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.log", name);
    return g_build_filename(log_dir, file, NULL);
}
