/* The probe's side of the QEMU fork server; see qemu_zygote.h and
 * zygote/tv_zygote_proto.h. */
#include "qemu_zygote.h"
#include "qemu_child.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_paths.h"
#include "tv_process.h"
#include "tv_zygote_config.h"
#include "tv_zygote_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* the server is one QEMU start (~50-100 ms); far more means it is not coming */
#define ZYGOTE_READY_TIMEOUT_MS 3000
#define ZYGOTE_REPLY_TIMEOUT_MS 5000

struct _TvQemuZygote {
    GMutex lock;
    char *binary;
    pid_t pid;                         /* the server process, also its group */
    int sock;                          /* our end; -1 once unusable */
    int state;                         /* 0: handshake pending, 1: ready, -1: unusable */
    bool served;                       /* it was ready once */
    bool exit_known, exited_by_itself; /* reaped after a failed handshake */
};

bool tv_qemu_zygote_enabled(void)
{
    const char *env = g_getenv("TAGVIRT_PROBE_ZYGOTE");
    return !(env && g_str_equal(env, "0"));
}

static char *library_path(void)
{
    const char *env = g_getenv("TAGVIRT_ZYGOTE_LIB");
    /* the build tree's copy only for a program that runs from it (tv_paths.h) */
    const char *built = tv_paths_running_uninstalled() ? TV_ZYGOTE_LIB_BUILT : NULL;
    const char *candidates[] = { env, built, TV_ZYGOTE_LIB_INSTALLED };
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (candidates[i] && *candidates[i] && g_file_test(candidates[i], G_FILE_TEST_IS_REGULAR))
            return g_strdup(candidates[i]);
    }
    return NULL;
}

static char **server_environ(const char *lib, const char *binary)
{
    const char *preload = g_getenv("LD_PRELOAD");
    const char *drop[] = { "LD_PRELOAD=", "TAGVIRT_ZYGOTE_", NULL };
    g_autofree char *ld_preload =
        g_strdup_printf("LD_PRELOAD=%s%s%s", lib, preload ? " " : "", preload ? preload : "");
    g_autofree char *saved_preload =
        g_strdup_printf(TV_ZYGOTE_ENV_PRELOAD "=%s", preload ? preload : "");
    g_autofree char *exe = g_strdup_printf(TV_ZYGOTE_ENV_EXE "=%s", binary);
    const char *extra[] = { ld_preload, saved_preload, TV_ZYGOTE_ENV_FD "=3", exe, NULL };
    return tv_qemu_child_environ(drop, extra);
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

TvQemuZygote *tv_qemu_zygote_start(const char *binary)
{
    g_autofree char *lib = library_path();
    if (!lib || access(binary, X_OK) < 0)
        return NULL;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return NULL;
    if (sv[1] == 3) { /* dup2 onto itself would keep close-on-exec */
        int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
        close(sv[1]);
        sv[1] = moved;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    for (int fd = 0; fd < 3; fd++)
        posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
    tv_qemu_child_spawnattr_setup(&attr);
    /* without the preload this is a harmless '-version' that exits at once */
    const char *argv[] = { binary, "-version", NULL };
    g_auto(GStrv) env = server_environ(lib, binary);
    pid_t pid = 0;
    int rc = sv[1] >= 0 ? posix_spawn(&pid, binary, &fa, &attr, (char *const *)argv, env) : EBADF;
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&sv[1]);
    if (rc != 0) {
        close(sv[0]);
        return NULL;
    }
    TvQemuZygote *z = g_new0(TvQemuZygote, 1);
    g_mutex_init(&z->lock);
    z->binary = g_strdup(binary);
    z->pid = pid;
    z->sock = sv[0];
    return z;
}

/* One reply within timeout_ms, or -1 (and the server is marked unusable). */
static int recv_reply(TvQemuZygote *z, int timeout_ms, int32_t *value)
{
    struct pollfd pfd = { .fd = z->sock, .events = POLLIN };
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        gint64 left = (deadline - g_get_monotonic_time() + 999) / 1000;
        int n = poll(&pfd, 1, (int)MAX(left, 0));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        TvZygoteMsg m;
        ssize_t got = recv(z->sock, &m, sizeof(m), 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != (ssize_t)sizeof(m) || m.magic != TV_ZYGOTE_MAGIC || m.op != TV_ZYGOTE_REPLY)
            break;
        *value = m.value;
        return 0;
    }
    z->state = -1;
    close_fd(&z->sock);
    return -1;
}

static bool ready_locked(TvQemuZygote *z)
{
    if (z->state == 0) {
        int32_t v = 0;
        if (recv_reply(z, ZYGOTE_READY_TIMEOUT_MS, &v) == 0 && v == TV_ZYGOTE_READY)
            z->state = 1, z->served = true;
        else
            z->state = -1;
        g_debug("caps: fork server for '%s' %s", z->binary, z->state > 0 ? "ready" : "unusable");
    }
    return z->state > 0;
}

/* Like ready_locked() but never waits: a server still loading is skipped. */
static bool ready_now_locked(TvQemuZygote *z)
{
    if (z->state == 0) {
        struct pollfd pfd = { .fd = z->sock, .events = POLLIN };
        if (poll(&pfd, 1, 0) <= 0)
            return false;
    }
    return ready_locked(z);
}

bool tv_qemu_zygote_ready(TvQemuZygote *z)
{
    if (!z)
        return false;
    g_mutex_lock(&z->lock);
    bool ok = ready_locked(z);
    g_mutex_unlock(&z->lock);
    return ok;
}

static int request(TvQemuZygote *z, uint32_t op, int32_t value, const GString *args, const int *fds,
                   int nfds, int32_t *reply)
{
    TvZygoteMsg m = { .magic = TV_ZYGOTE_MAGIC, .op = op, .value = value };
    struct iovec iov[2] = { { .iov_base = &m, .iov_len = sizeof(m) },
                            { .iov_base = args ? args->str : NULL,
                              .iov_len = args ? args->len : 0 } };
    char cbuf[CMSG_SPACE(4 * sizeof(int))] = { 0 };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = args ? 2 : 1 };
    if (nfds > 0) {
        mh.msg_control = cbuf;
        mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    if (sendmsg(z->sock, &mh, MSG_NOSIGNAL) < 0) {
        z->state = -1;
        close_fd(&z->sock);
        return -1;
    }
    return recv_reply(z, ZYGOTE_REPLY_TIMEOUT_MS, reply);
}

/* The request itself; 1 when the server could not do it (use the plain way). */
static int spawn_locked(TvQemuZygote *z, TvQemuChild *child, const char *const *argv,
                        bool want_stdin)
{
    g_autoptr(GString) args = g_string_new(NULL);
    for (size_t i = 0; argv[i]; i++)
        g_string_append_len(args, argv[i], (gssize)strlen(argv[i]) + 1);
    if (args->len > TV_ZYGOTE_MAX_ARGS)
        return 1;
    int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 };
    if ((want_stdin ? pipe2(in_pipe, O_CLOEXEC)
                    : (in_pipe[0] = open("/dev/null", O_RDONLY | O_CLOEXEC))) < 0 ||
        pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        close_fd(&in_pipe[0]), close_fd(&in_pipe[1]);
        close_fd(&out_pipe[0]), close_fd(&out_pipe[1]);
        return 1;
    }
    int theirs[3] = { in_pipe[0], out_pipe[1], err_pipe[1] };
    int32_t pid = -1;
    int rc = request(z, TV_ZYGOTE_SPAWN, 0, args, theirs, 3, &pid);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    if (rc < 0 || pid <= 0) {
        close_fd(&in_pipe[1]);
        close_fd(&out_pipe[0]);
        close_fd(&err_pipe[0]);
        return 1;
    }
    child->pid = pid;
    child->zygote = z;
    child->in_fd = in_pipe[1];
    child->out_fd = out_pipe[0];
    child->err_fd = err_pipe[0];
    fcntl(child->out_fd, F_SETFL, O_NONBLOCK);
    fcntl(child->err_fd, F_SETFL, O_NONBLOCK);
    child->pidfd = tv_pidfd_open(pid); /* a zombie until we ask the server to reap */
    return 0;
}

int tv_qemu_zygote_spawn(TvQemuZygote *z, TvQemuChild *child, const char *const *argv,
                         bool want_stdin)
{
    if (!z || !g_str_equal(argv[0], z->binary))
        return tv_qemu_child_spawn(child, argv, want_stdin);
    memset(child, 0, sizeof(*child));
    child->pidfd = child->in_fd = child->out_fd = child->err_fd = -1;
    child->max_output = 256 * 1024;
    child->out = g_string_new(NULL);
    child->err = g_string_new(NULL);
    g_mutex_lock(&z->lock);
    int rc = ready_locked(z) ? spawn_locked(z, child, argv, want_stdin) : 1;
    g_mutex_unlock(&z->lock);
    if (rc > 0) {
        tv_qemu_child_clear(child);
        return tv_qemu_child_spawn(child, argv, want_stdin);
    }
    if (child->pidfd < 0) {
        int err = errno;
        pid_t pid = child->pid;
        tv_qemu_child_kill(child);
        tv_error_report_errno(TV_FROM_CAPABILITIES, err, "cannot watch process %d", (int)pid);
        return -1;
    }
    return 0;
}

int tv_qemu_zygote_spawn_guest(TvQemuZygote *z, const char *const *argv, const char *const *envp,
                               const int fds[3], pid_t *pid)
{
    if (!z || !g_str_equal(argv[0], z->binary))
        return 1;
    g_autoptr(GString) payload = g_string_new(NULL);
    int argc = 0;
    for (; argv[argc]; argc++)
        g_string_append_len(payload, argv[argc], (gssize)strlen(argv[argc]) + 1);
    for (size_t i = 0; envp && envp[i]; i++)
        g_string_append_len(payload, envp[i], (gssize)strlen(envp[i]) + 1);
    if (payload->len > TV_ZYGOTE_MAX_ARGS)
        return 1;
    int go[2]; /* a socket, not a pipe: a send to a child gone meanwhile raises no SIGPIPE */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0)
        return 1;
    int theirs[4] = { fds[0], fds[1], fds[2], go[0] };
    int32_t reply = -1;
    g_mutex_lock(&z->lock);
    bool ready = ready_now_locked(z);
    int rc = ready ? request(z, TV_ZYGOTE_SPAWN_GUEST, argc, payload, theirs, 4, &reply) : -1;
    g_mutex_unlock(&z->lock);
    close(go[0]);
    if (rc == 0 && reply > 0 && send(go[1], "g", 1, MSG_NOSIGNAL) == 1) {
        close(go[1]);
        *pid = reply;
        return 0;
    }
    close(go[1]); /* a child forked after all ends without running QEMU */
    g_debug("qemu: fork server for '%s' did not start the guest (%s); spawning it", z->binary,
            !ready   ? "not ready"
            : rc < 0 ? "server gone"
                     : g_strerror(-reply));
    return 1;
}

bool tv_qemu_zygote_broken(TvQemuZygote *z, bool *never_ready)
{
    g_mutex_lock(&z->lock);
    bool broken = z->state < 0;
    if (broken && !z->served && !z->exit_known) {
        /* ended by itself (a plain '-version') or killed before its handshake? */
        int status = 0;
        /* its socket closes a moment before it can be reaped: wait up to 50 ms */
        for (int i = 0; i < 50 && !z->exit_known; i++) {
            if (waitpid(z->pid, &status, WNOHANG) == z->pid) {
                z->exit_known = true;
                z->exited_by_itself = WIFEXITED(status);
            } else {
                g_usleep(1000);
            }
        }
    }
    if (never_ready)
        *never_ready = broken && !z->served && z->exit_known && z->exited_by_itself;
    g_mutex_unlock(&z->lock);
    return broken;
}

int tv_qemu_zygote_reap(TvQemuZygote *z, pid_t pid)
{
    int32_t status = SIGKILL; /* what it got if the server is gone (its death signal) */
    g_mutex_lock(&z->lock);
    int32_t reply = 0;
    if (z->sock >= 0 && request(z, TV_ZYGOTE_REAP, pid, NULL, NULL, 0, &reply) == 0 && reply >= 0)
        status = reply;
    g_mutex_unlock(&z->lock);
    return status;
}

pid_t tv_qemu_zygote_pid(const TvQemuZygote *z)
{
    return z->pid;
}

void tv_qemu_zygote_free(TvQemuZygote *z)
{
    if (!z)
        return;
    close_fd(&z->sock);
    /* every child was reaped through it already; nothing of value is left */
    if (!z->exit_known) { /* once reaped, its pid may belong to someone else */
        kill(-z->pid, SIGKILL);
        while (waitpid(z->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    g_free(z->binary);
    g_mutex_clear(&z->lock);
    g_free(z);
}
