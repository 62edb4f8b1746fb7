/* The capability probe's fork server, preloaded into QEMU (LD_PRELOAD).
 * With TAGVIRT_ZYGOTE_FD set, and only in a process that is QEMU (it exports
 * qemu_init), it takes over after the dynamic linker and every constructor
 * have run: instead of main() it serves requests on that socket, forking one
 * child per request that then runs QEMU's own main() with the request's argv.
 * This pays QEMU's ~46 ms of loading once per probe instead of once per boot.
 * Protocol: src/qemu/qemu_zygote.h.  Depends on libc only. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
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
        char cbuf[CMSG_SPACE(3 * sizeof(int))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) - 1 };
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
        };
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1; /* the probe is gone */
        int fds[3], nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < k; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    if (nfds < 3)
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
