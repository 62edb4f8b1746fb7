/* The capability probe's fork server, preloaded into QEMU (LD_PRELOAD).
 * With TAGVIRT_ZYGOTE_FD set, and only in a process that is QEMU (it exports
 * qemu_init), it takes over after the dynamic linker and every constructor
 * have run: instead of main() it serves requests on that socket, forking one
 * child per request that then runs QEMU's own main() with the request's argv.
 * This pays QEMU's ~46 ms of loading once per probe instead of once per boot.
 * Protocol: src/qemu/spawn/qemu_zygote.h.  Depends on libc only. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tv_zygote_proto.h"

typedef int (*MainFn)(int, char **, char **);
typedef int (*StartMainFn)(MainFn, int, char **, void (*)(void), void (*)(void), void (*)(void),
                           void *);

int __libc_start_main(MainFn main_fn, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end);

static MainFn real_main;

static int send_reply(int sock, int32_t value)
{
    TvZygoteMsg m = { .magic = TV_ZYGOTE_MAGIC, .op = TV_ZYGOTE_REPLY, .value = value };
    return send(sock, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -1;
}

/* The forked child: QEMU as if just started with this argv and stdio. */
static int run_child(pid_t server, int sock, int *fds, char *args, size_t len, char **envp)
{
    close(sock);
    setpgid(0, 0);
    /* the probe reaps through us: if we die (even before this), so does the boot */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server)
        raise(SIGKILL);
    for (int i = 0; i < 3; i++) {
        if (fds[i] != i && dup2(fds[i], i) < 0)
            _exit(127);
    }
    for (int i = 0; i < 3; i++) {
        if (fds[i] > 2)
            close(fds[i]);
    }
    int argc = 0;
    for (size_t i = 0; i < len; i++)
        argc += args[i] == '\0';
    char **argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!argv)
        _exit(127);
    char *p = args;
    for (int i = 0; i < argc; i++, p += strlen(p) + 1)
        argv[i] = p;
    return real_main(argc, argv, envp);
}

/* Fields 26-28 and 45-51 of /proc/self/stat: the bounds PR_SET_MM_MAP
 * wants all of, of which we change only the argument and environment. */
static int read_mm_map(struct prctl_mm_map *map)
{
    char buf[2048];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the command name, which may hold anything */
    if (!p)
        return -1;
    unsigned long long v[52] = { 0 };
    int field = 2;
    for (p++; *p && field < 51;) {
        while (*p == ' ')
            p++;
        field++;
        v[field] = strtoull(p, NULL, 10); /* 0 for the state letter (field 3) */
        while (*p && *p != ' ')
            p++;
    }
    if (field < 51)
        return -1;
    *map = (struct prctl_mm_map){
        .start_code = v[26],
        .end_code = v[27],
        .start_stack = v[28],
        .start_data = v[45],
        .end_data = v[46],
        .start_brk = v[47],
        .brk = (unsigned long)sbrk(0),
        .arg_start = v[48],
        .arg_end = v[49],
        .env_start = v[50],
        .env_end = v[51],
        .exe_fd = (uint32_t)-1,
    };
    return 0;
}

/* Make /proc/self/cmdline and /proc/self/environ show the request's, not
 * the server's.  PR_SET_MM_MAP needs no privilege; the single-field form
 * (kernels without checkpoint/restore) needs CAP_SYS_RESOURCE and wants
 * start <= end after each step. */
static int set_mm_field_pair(int op_start, int op_end, unsigned long s, unsigned long e)
{
    if (prctl(PR_SET_MM, op_start, s, 0, 0) == 0)
        return prctl(PR_SET_MM, op_end, e, 0, 0);
    if (prctl(PR_SET_MM, op_end, e, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_MM, op_start, s, 0, 0);
}

static int set_args_env(char *args, char *args_end, char *env, char *env_end)
{
    struct prctl_mm_map map;
    if (read_mm_map(&map) == 0) {
        map.arg_start = (unsigned long)args;
        map.arg_end = (unsigned long)args_end;
        map.env_start = (unsigned long)env;
        map.env_end = (unsigned long)env_end;
        if (prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof(map), 0) == 0)
            return 0;
    }
    if (set_mm_field_pair(PR_SET_MM_ARG_START, PR_SET_MM_ARG_END, (unsigned long)args,
                          (unsigned long)args_end) < 0)
        return -1;
    return set_mm_field_pair(PR_SET_MM_ENV_START, PR_SET_MM_ENV_END, (unsigned long)env,
                             (unsigned long)env_end);
}

static char **split_strings(char *p, int n)
{
    char **v = calloc((size_t)n + 1, sizeof(char *));
    for (int i = 0; v && i < n; i++, p += strlen(p) + 1)
        v[i] = p;
    return v;
}

static int count_strings(const char *p, size_t len)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        n += p[i] == '\0';
    return n;
}

typedef struct {
    int32_t pid;
    int32_t err;
} GuestResult;

static void write_result(int fd, int32_t pid, int32_t err)
{
    GuestResult r = { pid, err };
    ssize_t n;
    while ((n = write(fd, &r, sizeof(r))) < 0 && errno == EINTR)
        ;
}

/* The domain's QEMU (B), a grandchild of the server: set up like
 * posix_spawn would have, tell A, and become QEMU.  On failure it exits. */
static int run_guest(int status_fd, int *fds, char *args, size_t arglen, int argc, char *envs,
                     size_t envlen)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int err = 0;
    /* its own session (and so group): the manager's hang-up does not reach it */
    if (setsid() < 0)
        err = errno;
    for (int i = 0; i < 3 && !err; i++) {
        if (dup2(fds[i], i) < 0)
            err = errno;
    }
    /* the kernel shows cmdline and environ only from anonymous memory, and
     * the request sits partly in the file-backed page of our .bss */
    size_t total = arglen + envlen;
    char *copy =
        err ? MAP_FAILED
            : mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!err && copy == MAP_FAILED)
        err = errno;
    if (!err) {
        memcpy(copy, args, total);
        args = copy;
        envs = copy + arglen;
    }
    char **argv = err ? NULL : split_strings(args, argc);
    char **envp = err ? NULL : split_strings(envs, count_strings(envs, envlen));
    if (!err && (!argv || !envp))
        err = ENOMEM;
    if (!err && set_args_env(args, args + arglen, envs, envs + envlen) < 0)
        err = errno;
    write_result(status_fd, getpid(), err);
    if (err)
        _exit(127);
    /* run only once the manager has our pid: if the server dies before it
     * answers, the manager closes the pipe unwritten and we end here */
    char go = 0;
    ssize_t n;
    while ((n = read(fds[3], &go, 1)) < 0 && errno == EINTR)
        ;
    if (n != 1)
        _exit(127);
    environ = envp;
    /* only stdin, stdout and stderr, as after posix_spawn with closefrom(3) */
    if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    }
    return real_main(argc, argv, envp);
}

/* A, a vfork() child of the server (their memory is shared until A exits):
 * forks B, waits for B to be set up, leaves the result in *out and exits,
 * which hands B to the nearest subreaper.  Returns only in B. */
static int guest_intermediate(volatile GuestResult *out, int *fds, char *args, size_t arglen,
                              int argc, char *envs, size_t envlen)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        out->err = errno;
        _exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        close(p[0]);
        return run_guest(p[1], fds, args, arglen, argc, envs, envlen);
    }
    int err = b < 0 ? errno : 0;
    close(p[1]);
    GuestResult r = { -1, err ? err : ECHILD };
    if (b > 0) {
        ssize_t n;
        while ((n = read(p[0], &r, sizeof(r))) < 0 && errno == EINTR)
            ;
        if (n != (ssize_t)sizeof(r) || r.pid != b)
            r = (GuestResult){ -1, ECHILD };
        if (r.err) { /* B is still ours: reap it */
            while (waitpid(b, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
    out->pid = r.pid;
    out->err = r.err;
    _exit(0);
}

/* vfork() A; returns 1 only in B.  Kept apart from the argument checks: what
 * the parent reads after vfork() lives in static storage. */
static int fork_guest(int *fds, char *args, size_t arglen, int argc, char *envs, size_t envlen,
                      int32_t *reply, int *child_rc)
{
    static volatile GuestResult shared;
    static struct {
        int *fds;
        char *args, *envs;
        size_t arglen, envlen;
        int argc;
        int32_t *reply;
        int *child_rc;
    } req;
    req.fds = fds, req.args = args, req.envs = envs, req.arglen = arglen, req.envlen = envlen;
    req.argc = argc, req.reply = reply, req.child_rc = child_rc;
    shared.pid = -1;
    shared.err = ECHILD;
    pid_t a = vfork();
    if (a == 0) {
        *req.child_rc = guest_intermediate(&shared, req.fds, req.args, req.arglen, req.argc,
                                           req.envs, req.envlen);
        return 1;
    }
    if (a < 0) {
        *req.reply = -errno;
        return 0;
    }
    while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
        ;
    *req.reply = shared.err ? -shared.err : shared.pid;
    return 0;
}

/* The server's side of TV_ZYGOTE_SPAWN_GUEST; returns 1 only in B. */
static int spawn_guest(int *fds, char *payload, size_t len, int argc, int32_t *reply, int *child_rc)
{
    size_t arglen = 0;
    for (int i = 0; i < argc; i++) {
        const char *nul = memchr(payload + arglen, '\0', len - arglen);
        if (!nul) {
            *reply = -EINVAL;
            return 0;
        }
        arglen = (size_t)(nul - payload) + 1;
    }
    if (argc <= 0 || arglen == 0) {
        *reply = -EINVAL;
        return 0;
    }
    return fork_guest(fds, payload, arglen, argc, payload + arglen, len - arglen, reply, child_rc);
}

static void close_fds(int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

/* Serve until the probe closes its end; returns only in a forked child. */
static int serve(int sock, char **envp, int *child_rc)
{
    static char buf[TV_ZYGOTE_MAX_ARGS + sizeof(TvZygoteMsg)];
    for (;;) {
        char cbuf[CMSG_SPACE(4 * sizeof(int))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
        };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* the probe is gone */
        int fds[4], nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    if (nfds < 4)
                        fds[nfds++] = fd;
                    else
                        close(fd);
                }
            }
        }
        TvZygoteMsg m;
        if ((size_t)n < sizeof(m)) {
            close_fds(fds, nfds);
            return -1;
        }
        memcpy(&m, buf, sizeof(m));
        if (m.magic != TV_ZYGOTE_MAGIC) {
            close_fds(fds, nfds);
            return -1;
        }
        if (m.op == TV_ZYGOTE_REAP) {
            close_fds(fds, nfds);
            int status = 0;
            pid_t r;
            while ((r = waitpid(m.value, &status, 0)) < 0 && errno == EINTR)
                ;
            if (send_reply(sock, r < 0 ? -errno : status) < 0)
                return -1;
            continue;
        }
        size_t len = (size_t)n - sizeof(m);
        char *args = buf + sizeof(m);
        if (m.op == TV_ZYGOTE_SPAWN_GUEST && nfds == 4 && len > 0 && args[len - 1] == '\0') {
            int32_t reply = -EINVAL;
            if (spawn_guest(fds, args, len, m.value, &reply, child_rc))
                return 0; /* B, about to be QEMU */
            close_fds(fds, 4);
            if (send_reply(sock, reply) < 0)
                return -1;
            continue;
        }
        if (m.op != TV_ZYGOTE_SPAWN || nfds != 3 || len == 0 || args[len - 1] != '\0') {
            close_fds(fds, nfds);
            if (send_reply(sock, -EINVAL) < 0)
                return -1;
            continue;
        }
        pid_t self = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            *child_rc = run_child(self, sock, fds, args, len, envp);
            return 0;
        }
        int err = errno;
        close_fds(fds, 3);
        if (pid > 0)
            setpgid(pid, pid); /* also here: the probe may signal the group at once */
        if (send_reply(sock, pid > 0 ? pid : -err) < 0)
            return -1;
    }
}

/* Serve only in the very binary the probe named, and only if it is QEMU: a
 * wrapper script (its shell, or what it execs) runs as if never preloaded. */
static int is_target(void)
{
    const char *exe = getenv(TV_ZYGOTE_ENV_EXE);
    struct stat want, self;
    return exe && stat(exe, &want) == 0 && stat("/proc/self/exe", &self) == 0 &&
           want.st_dev == self.st_dev && want.st_ino == self.st_ino &&
           dlsym(RTLD_DEFAULT, "qemu_init") != NULL;
}

static int zygote_main(int argc, char **argv, char **envp)
{
    const char *fdstr = getenv(TV_ZYGOTE_ENV_FD);
    if (!fdstr || !is_target())
        return real_main(argc, argv, envp);
    int sock = atoi(fdstr);
    const char *preload = getenv(TV_ZYGOTE_ENV_PRELOAD);
    if (preload && *preload)
        setenv("LD_PRELOAD", preload, 1);
    else
        unsetenv("LD_PRELOAD");
    unsetenv(TV_ZYGOTE_ENV_PRELOAD);
    unsetenv(TV_ZYGOTE_ENV_FD);
    unsetenv(TV_ZYGOTE_ENV_EXE);
    if (send_reply(sock, TV_ZYGOTE_READY) < 0)
        _exit(1);
    int rc = 0;
    if (serve(sock, environ, &rc) == 0)
        return rc; /* a child, after QEMU's main() returned */
    _exit(0);
}

int __libc_start_main(MainFn main_fn, int argc, char **argv, void (*init)(void), void (*fini)(void),
                      void (*rtld_fini)(void), void *stack_end)
{
    StartMainFn next = (StartMainFn)dlsym(RTLD_NEXT, "__libc_start_main");
    real_main = main_fn;
    return next(zygote_main, argc, argv, init, fini, rtld_fini, stack_end);
}
