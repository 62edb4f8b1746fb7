/* Fork, confine, exec; see qemu_security_launch.h.  Everything the child
 * needs is prepared before the fork: between fork and exec of a threaded
 * program only system calls are safe (no malloc, no stdio). */
#include "qemu_security_launch.h"
#include "qemu_security_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum {
    STEP_SIGNALS = 1,
    STEP_SESSION,
    STEP_FDS,
    STEP_UNSHARE,
    STEP_DEV,
    STEP_APPARMOR,
    STEP_GROUPS,
    STEP_GID,
    STEP_UID,
    STEP_ACCESS,
    STEP_EXEC,
} Step;

typedef struct {
    int step;
    int err;
    int index; /* the file (STEP_ACCESS) or device (STEP_DEV) */
} Failure;

/* One entry of the private /dev: a node made with mknod, a symbolic link, or
 * a bind mount of the host's path. */
typedef struct {
    char *path; /* under the staging folder */
    char *source;
    enum {
        DEV_NODE,
        DEV_LINK,
        DEV_BIND_DIR,
        DEV_BIND_FILE,
        DEV_DIR
    } kind;
    mode_t mode;
    dev_t rdev;
} DevEntry;

typedef struct {
    GArray *devs; /* DevEntry */
    char *staging;
} DevPlan;

static void dev_add(DevPlan *p, int kind, const char *rel, const char *source, mode_t mode,
                    dev_t rdev)
{
    DevEntry e = { .path = g_build_filename(p->staging, rel, NULL),
                   .source = g_strdup(source),
                   .kind = kind,
                   .mode = mode,
                   .rdev = rdev };
    g_array_append_val(p->devs, e);
}

/* a character device of the host, copied when it exists */
static void dev_add_host_node(DevPlan *p, const char *name)
{
    g_autofree char *host = g_build_filename("/dev", name, NULL);
    struct stat st;
    if (stat(host, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
        dev_add(p, DEV_NODE, name, NULL, st.st_mode & (S_IFMT | 07777), st.st_rdev);
}

static void dev_plan_clear(DevPlan *p)
{
    for (guint i = 0; p->devs && i < p->devs->len; i++) {
        DevEntry *e = &g_array_index(p->devs, DevEntry, i);
        g_free(e->path);
        g_free(e->source);
    }
    if (p->devs)
        g_array_free(p->devs, TRUE);
    g_free(p->staging);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DevPlan, dev_plan_clear)

/* The minimal /dev: null, zero, full, random, urandom, the host's ptys
 * (for <serial type='pty'>), kvm when the host has it, the descriptor links,
 * and the device nodes among the domain's files (a disk on /dev/sdb). */
static void dev_plan_build(DevPlan *p, const TvQemuLaunch *l)
{
    p->devs = g_array_new(FALSE, TRUE, sizeof(DevEntry));
    p->staging = g_strdup(l->staging_dir);
    const char *nodes[] = { "null", "zero", "full", "random", "urandom", "kvm" };
    for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++)
        dev_add_host_node(p, nodes[i]);
    dev_add(p, DEV_DIR, "pts", NULL, 0755, 0);
    dev_add(p, DEV_BIND_DIR, "pts", "/dev/pts", 0, 0);
    /* the host's ptmx node, not a link to pts/ptmx (mode 000 on most hosts):
     * it opens the devpts mounted beside it, the host's, so the manager
     * can open the guest's pty */
    dev_add_host_node(p, "ptmx");
    dev_add(p, DEV_LINK, "fd", "/proc/self/fd", 0, 0);
    dev_add(p, DEV_LINK, "stdin", "/proc/self/fd/0", 0, 0);
    dev_add(p, DEV_LINK, "stdout", "/proc/self/fd/1", 0, 0);
    dev_add(p, DEV_LINK, "stderr", "/proc/self/fd/2", 0, 0);
    for (size_t i = 0; i < l->nfiles; i++) {
        const char *path = l->files[i].path;
        if (!g_str_has_prefix(path, "/dev/") || strstr(path, "/../"))
            continue;
        const char *rel = path + 5;
        g_autofree char *dir = g_path_get_dirname(rel);
        if (strcmp(dir, ".") != 0)
            dev_add(p, DEV_DIR, dir, NULL, 0755, 0);
        dev_add(p, DEV_BIND_FILE, rel, path, 0, 0);
    }
}

/* mkdir -p of e->path's folders and itself, in the child (no allocation) */
static int mkdir_parents(char *path, mode_t mode)
{
    for (char *s = path + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        int rc = mkdir(path, 0755);
        *s = '/';
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, mode) < 0 && errno != EEXIST ? -1 : 0;
}

/* In the child, in its own mount namespace: a tmpfs on the staging folder,
 * filled, then moved over /dev.  Returns the failing entry's index + 1, or 0. */
static int build_dev(const DevPlan *p, int *err)
{
    /* mounts made here must not propagate back to the host */
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
        mount("tagvirt-dev", p->staging, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=64k") < 0) {
        *err = errno;
        return -1;
    }
    for (guint i = 0; i < p->devs->len; i++) {
        DevEntry *e = &g_array_index(p->devs, DevEntry, i);
        int rc = 0;
        switch (e->kind) {
        case DEV_NODE:
            rc = mknod(e->path, e->mode, e->rdev);
            if (rc == 0)
                rc = chmod(e->path, e->mode & 07777);
            break;
        case DEV_LINK:
            rc = symlink(e->source, e->path);
            break;
        case DEV_DIR:
            rc = mkdir_parents(e->path, e->mode);
            break;
        case DEV_BIND_DIR:
            rc = mount(e->source, e->path, NULL, MS_BIND, NULL);
            break;
        case DEV_BIND_FILE: {
            int fd = open(e->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
            rc = fd < 0 ? -1 : close(fd);
            if (rc == 0)
                rc = mount(e->source, e->path, NULL, MS_BIND, NULL);
            break;
        }
        }
        if (rc < 0) {
            *err = errno;
            return (int)i + 1;
        }
    }
    if (mount(p->staging, "/dev", NULL, MS_MOVE, NULL) < 0) {
        *err = errno;
        return -1;
    }
    return 0;
}

static void report(int fd, Step step, int err, int index)
{
    Failure f = { .step = step, .err = err, .index = index };
    ssize_t n;
    while ((n = write(fd, &f, sizeof(f))) < 0 && errno == EINTR)
        ;
    _exit(126);
}

/* cmd: "exec LABEL", made before the fork */
static int set_exec_label(const char *cmd)
{
    /* the newer per-LSM file first, then the shared one */
    const char *files[] = { "/proc/self/attr/apparmor/exec", "/proc/self/attr/exec" };
    const char *buf = cmd;
    ssize_t len = (ssize_t)strlen(cmd);
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        int fd = open(files[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t n = write(fd, buf, (size_t)len);
        int saved = errno;
        close(fd);
        if (n == len)
            return 0;
        errno = saved;
        return -1;
    }
    return -1;
}

/* From here on only system calls. */
static G_GNUC_NORETURN void child(const TvQemuSecurity *sec, const TvQemuLaunch *l,
                                  const DevPlan *dev, const char *aa_cmd, int null_fd,
                                  int report_fd)
{
    sigset_t none;
    sigemptyset(&none);
    struct sigaction dfl = { .sa_handler = SIG_DFL };
    for (int sig = 1; sig < NSIG; sig++)
        (void)sigaction(sig, &dfl, NULL); /* SIGKILL/SIGSTOP and invalid ones fail: fine */
    if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
        report(report_fd, STEP_SIGNALS, errno, 0);
    /* own session: no controlling terminal, no SIGHUP from the manager's */
    if (setsid() < 0)
        report(report_fd, STEP_SESSION, errno, 0);

    int want[4 + TV_QEMU_LAUNCH_EXTRA_FDS_MAX] = { l->stdin_fd >= 0 ? l->stdin_fd : null_fd,
                                                   l->stdout_fd >= 0 ? l->stdout_fd : null_fd,
                                                   l->stderr_fd >= 0 ? l->stderr_fd : null_fd,
                                                   l->pass_fd };
    int nwant = l->pass_fd >= 0 ? 4 : 3;
    for (size_t i = 0; l->pass_fd >= 0 && i < l->nextra_fds && i < TV_QEMU_LAUNCH_EXTRA_FDS_MAX;
         i++)
        want[nwant++] = l->extra_fds[i];
    /* move everything above the targets first, so no dup2 overwrites a source */
    for (int i = 0; i < nwant; i++) {
        if (want[i] < nwant) {
            int moved = fcntl(want[i], F_DUPFD, MAX(nwant, 10));
            if (moved < 0)
                report(report_fd, STEP_FDS, errno, i);
            want[i] = moved;
        }
    }
    for (int i = 0; i < nwant; i++) {
        if (dup2(want[i], i) < 0)
            report(report_fd, STEP_FDS, errno, i);
    }

    if (sec && sec->mount_namespace) {
        if (unshare(CLONE_NEWNS) < 0)
            report(report_fd, STEP_UNSHARE, errno, 0);
        int err = 0;
        int bad = build_dev(dev, &err);
        if (bad)
            report(report_fd, STEP_DEV, err, bad);
    }
    if (aa_cmd && set_exec_label(aa_cmd) < 0)
        report(report_fd, STEP_APPARMOR, errno, 0);
    if (sec && sec->change_user) {
        if (setgroups(sec->ngroups, sec->groups) < 0)
            report(report_fd, STEP_GROUPS, errno, 0);
        if (setgid(sec->gid) < 0)
            report(report_fd, STEP_GID, errno, 0);
        if (setuid(sec->uid) < 0)
            report(report_fd, STEP_UID, errno, 0);
    }
    /* what the new user may not open (a missing file is QEMU's to report) */
    for (size_t i = 0; sec && sec->change_user && i < l->nfiles; i++) {
        if (access(l->files[i].path, l->files[i].write ? R_OK | W_OK : R_OK) < 0 && errno != ENOENT)
            report(report_fd, STEP_ACCESS, errno, (int)i);
    }
    /* only fds 0-2 (and 3) reach QEMU; the report pipe closes at exec */
    if (syscall(SYS_close_range, (unsigned)nwant, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = nwant; fd < 4096; fd++) {
            if (fd != report_fd)
                (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    execve(l->argv[0], (char *const *)l->argv, (char *const *)l->envp);
    report(report_fd, STEP_EXEC, errno, 0);
    _exit(127);
}

static char *describe_failure(const TvQemuSecurity *sec, const TvQemuLaunch *l, const DevPlan *dev,
                              const Failure *f)
{
    const char *user = sec ? sec->user_name : "the calling user";
    const char *err = g_strerror(f->err);
    switch ((Step)f->step) {
    case STEP_SIGNALS:
        return g_strdup_printf("cannot reset QEMU's signal mask: %s", err);
    case STEP_SESSION:
        return g_strdup_printf("cannot give QEMU its own session (setsid): %s", err);
    case STEP_FDS:
        return g_strdup_printf("cannot set up QEMU's descriptor %d: %s", f->index, err);
    case STEP_UNSHARE:
        return g_strdup_printf("cannot give QEMU a private mount namespace: %s (set namespaces "
                               "= \"\" in tagvirtd.conf to do without)",
                               err);
    case STEP_DEV:
        if (f->index > 0 && (guint)f->index <= dev->devs->len)
            return g_strdup_printf("cannot make '%s' in QEMU's private /dev: %s",
                                   g_array_index(dev->devs, DevEntry, f->index - 1).path, err);
        return g_strdup_printf("cannot mount QEMU's private /dev on '%s': %s", dev->staging, err);
    case STEP_APPARMOR:
        return g_strdup_printf("cannot set QEMU's AppArmor profile '%s': %s", l->apparmor_label,
                               err);
    case STEP_GROUPS:
    case STEP_GID:
    case STEP_UID:
        return g_strdup_printf("cannot switch QEMU to user %s (uid %u, gid %u): %s", user,
                               (unsigned)sec->uid, (unsigned)sec->gid, err);
    case STEP_ACCESS:
        return g_strdup_printf(
            "QEMU runs as user %s (uid %u), which cannot %s '%s': %s; every folder above it must "
            "let that user through (x), or set user = \"root\" in tagvirtd.conf "
            "(docs/security.rst)",
            user, (unsigned)tv_qemu_security_uid(sec), l->files[f->index].write ? "write" : "read",
            l->files[f->index].path, err);
    case STEP_EXEC:
        return g_strdup_printf("cannot execute QEMU binary '%s' as user %s: %s", l->argv[0], user,
                               err);
    }
    return g_strdup_printf("QEMU's set-up failed at step %d: %s", f->step, err);
}

int tv_qemu_security_launch(const TvQemuSecurity *sec, const TvQemuLaunch *l, pid_t *pid)
{
    g_auto(DevPlan) dev = { 0 };
    if (sec && sec->mount_namespace) {
        if (!l->staging_dir) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "a private /dev needs a staging folder");
            return -1;
        }
        dev_plan_build(&dev, l);
    }
    g_autofree char *aa_cmd =
        l->apparmor_label ? g_strdup_printf("exec %s", l->apparmor_label) : NULL;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int pipefd[2];
    if (null_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        int err = errno;
        if (null_fd >= 0)
            close(null_fd);
        tv_error_report_errno(TV_FROM_QEMU, err, "cannot prepare QEMU's start");
        return -1;
    }
    pid_t child_pid = fork();
    if (child_pid == 0) {
        close(pipefd[0]);
        child(sec, l, &dev, aa_cmd, null_fd, pipefd[1]);
    }
    int fork_err = errno;
    close(pipefd[1]);
    close(null_fd);
    if (child_pid < 0) {
        close(pipefd[0]);
        tv_error_report_errno(TV_FROM_QEMU, fork_err, "cannot fork QEMU");
        return -1;
    }
    Failure f = { 0 };
    ssize_t n;
    while ((n = read(pipefd[0], &f, sizeof(f))) < 0 && errno == EINTR)
        ;
    close(pipefd[0]);
    if (n == 0) { /* closed by the exec */
        *pid = child_pid;
        return 0;
    }
    while (waitpid(child_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof(f)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "QEMU's set-up ended without a word before its exec");
        return -1;
    }
    g_autofree char *msg = describe_failure(sec, l, &dev, &f);
    tv_error_report(TV_FROM_QEMU,
                    f.step == STEP_ACCESS ? TV_ERR_SYSTEM_ERROR : TV_ERR_OPERATION_FAILED, "%s",
                    msg);
    return -1;
}
