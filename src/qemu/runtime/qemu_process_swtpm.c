/* The swtpm behind a <tpm><backend type='emulator'/>: one per running
 * domain, started before QEMU and gone with it.
 *
 * - Its state (the TPM's NVRAM, keys, PCR banks) persists in
 *   SWTPM_DIR/<uuid>/tpm2 (cfg->swtpm_dir; the daemon's ROOT/swtpm or
 *   /var/lib/tagvirt/swtpm), owned by QEMU's user, 0700; created by
 *   swtpm_setup (TPM 2.0, with its endorsement keys) at the first start.
 * - It runs as QEMU's user, confined as QEMU's launch is (own session, the
 *   same user and group, the private mount namespace), never as root; where
 *   the host has AppArmor, under its own profile tagvirt-<uuid>-swtpm
 *   (STATE_DIR/NAME.swtpm-apparmor: the binary, the tpm2 folder, its log,
 *   the socket it was given), unloaded when it has ended.  swtpm_setup runs
 *   without a profile (it executes swtpm and reads its own configuration).
 * - QEMU and swtpm talk over a socketpair the daemon makes: swtpm gets one
 *   end (--ctrl clientfd), QEMU the other (-chardev socket,fd=N); no socket
 *   file exists.  swtpm ends by itself when QEMU's side closes
 *   (--terminate), so a QEMU that dies while no daemon watches does not
 *   leave it behind.
 * - STATE_DIR/NAME.swtpm records "PID STARTTIME" while it runs; whoever
 *   releases the domain (stop, failed start, a daemon after a restart)
 *   ends that process (SIGTERM, then SIGKILL), reaps it and removes the
 *   record.  Its output goes to LOG_DIR/NAME-swtpm.log.
 * - The state goes (libvirt's rules) with undefine unless --keep-tpm, when
 *   a transient domain ends (the driver calls _transient_ended; a running
 *   domain undefined with --keep-tpm left SWTPM_DIR/<uuid>/kept), and when
 *   a failed start had made it. */
#include "qemu_child.h"
#include "qemu_process_priv.h"
#include "qemu_security_apparmor.h"
#include "qemu_security_launch.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SWTPM_SETUP_TIMEOUT_MS 60000
#define SWTPM_STOP_GRACE_MS    2000

char *tv_qemu_process_swtpm_state_dir(const char *swtpm_dir, const unsigned char *uuid)
{
    char str[TV_UUID_STRLEN + 1];
    tv_uuid_format(uuid, str);
    return g_build_filename(swtpm_dir, str, NULL);
}

/* dir and everything in it (the state folders hold files and one folder) */
static int remove_tree(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
            if (remove_tree(path) < 0)
                return -1;
        } else if (unlink(path) < 0 && errno != ENOENT) {
            return -1;
        }
    }
    return rmdir(dir) < 0 && errno != ENOENT ? -1 : 0;
}

static char *find_program(const char *name)
{
    char *path = g_find_program_in_path(name);
    if (!path)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "cannot start the <tpm> of this domain: '%s' is not installed (Debian "
                        "packages swtpm and swtpm-tools)",
                        name);
    return path;
}

/* dir (mode), owned by QEMU's user when the daemon runs QEMU as another. */
static int make_owned_dir(const char *dir, mode_t mode, const TvQemuSecurity *sec)
{
    if (tv_dir_ensure(dir, mode) < 0)
        return -1;
    if (tv_qemu_security_changes_user(sec) &&
        chown(dir, tv_qemu_security_uid(sec), tv_qemu_security_gid(sec)) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno,
                              "cannot give the TPM state folder '%s' to "
                              "QEMU's user",
                              dir);
        return -1;
    }
    if (chmod(dir, mode) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot set the mode of '%s'", dir);
        return -1;
    }
    return 0;
}

/* LOG_DIR/NAME-swtpm.log */
static char *log_path(const char *log_dir, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s-swtpm.log", name);
    return g_build_filename(log_dir, file, NULL);
}

static int open_log(const char *log_dir, const char *name)
{
    g_autofree char *path = log_path(log_dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open the swtpm log '%s'", path);
    return fd;
}

static char *log_tail(const char *log_dir, const char *name, off_t from)
{
    g_autofree char *path = log_path(log_dir, name);
    return tv_qemu_process_read_log_tail(path, from, 2048);
}

/* Launch argv as QEMU's user with stdout/stderr on log_fd (and pass_fd as
 * fd 3, or -1), under the AppArmor profile label (or NULL). */
static int launch(const TvQemuProcessConfig *cfg, const char *const *argv, int log_fd, int pass_fd,
                  const char *label, pid_t *pid)
{
    g_auto(GStrv) env = tv_qemu_child_environ(NULL, NULL);
    TvQemuLaunch l = {
        .argv = argv,
        .envp = (const char *const *)env,
        .stdin_fd = -1,
        .stdout_fd = log_fd,
        .stderr_fd = log_fd,
        .pass_fd = pass_fd,
        .apparmor_label = label,
        .staging_dir = cfg->state_dir,
    };
    return tv_qemu_security_launch(cfg->security, &l, pid);
}

/* Wait for pid (our child) up to timeout_ms; its wait status, or -1 after
 * killing it at the timeout. */
static int wait_child(pid_t pid, unsigned timeout_ms, int *status)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (g_get_monotonic_time() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        g_usleep(10000);
    }
}

/* swtpm_setup at the first start: TPM 2.0 with its endorsement keys. */
static int setup_state(const TvQemuProcessConfig *cfg, const char *name, const char *tpm2_dir,
                       bool *created)
{
    g_autofree char *permall = g_build_filename(tpm2_dir, "tpm2-00.permall", NULL);
    if (g_file_test(permall, G_FILE_TEST_EXISTS))
        return 0;
    g_autofree char *bin = find_program("swtpm_setup");
    if (!bin)
        return -1;
    int log_fd = open_log(cfg->log_dir, name);
    if (log_fd < 0)
        return -1;
    off_t from = lseek(log_fd, 0, SEEK_END);
    const char *argv[] = { bin,          "--tpm2",       "--tpmstate",      tpm2_dir,
                           "--createek", "--lock-nvram", "--not-overwrite", NULL };
    pid_t pid = 0;
    int status = 0;
    int rc = launch(cfg, argv, log_fd, -1, NULL, &pid);
    close(log_fd);
    if (rc < 0)
        return -1;
    *created = true;
    bool timed_out = wait_child(pid, SWTPM_SETUP_TIMEOUT_MS, &status) < 0;
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        g_autofree char *tail = log_tail(cfg->log_dir, name, from);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "cannot create the TPM state of domain '%s' in '%s': swtpm_setup %s%s%s",
                        name, tpm2_dir, timed_out ? "did not finish in time" : "failed",
                        tail ? ": " : "", tail ? tail : "");
        return -1;
    }
    return 0;
}

/* STATE_DIR/NAME.swtpm-apparmor: the swtpm's profile while it is loaded */
static char *profile_path(const TvQemuProcess *proc)
{
    return g_strdup_printf("%s-apparmor", proc->swtpm_path);
}

/* Where the host has AppArmor: the swtpm's own profile, loaded; *label is
 * what it is executed under (NULL without AppArmor). */
static int load_profile(TvQemuProcess *proc, const TvDomainDef *live,
                        const TvQemuProcessConfig *cfg, const char *bin, const char *tpm2_dir,
                        char **label)
{
    *label = NULL;
    if (!tv_qemu_security_apparmor(cfg->security))
        return 0;
    g_autofree char *log = log_path(cfg->log_dir, live->name);
    g_autofree char *name = tv_qemu_apparmor_swtpm_label(live);
    g_autofree char *text = tv_qemu_apparmor_swtpm_profile(name, bin, tpm2_dir, log);
    g_autofree char *path = profile_path(proc);
    if (tv_qemu_apparmor_load(path, text) < 0)
        return -1;
    *label = g_steal_pointer(&name);
    return 0;
}

static void unload_profile(TvQemuProcess *proc)
{
    g_autofree char *path = profile_path(proc);
    tv_qemu_apparmor_unload(path);
}

static int write_record(const char *path, pid_t pid)
{
    unsigned long long start = 0;
    if (tv_qemu_proc_stat(pid, &start, NULL, NULL) < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "swtpm (pid %d) exited right after its start", (int)pid);
        return -1;
    }
    g_autofree char *text = g_strdup_printf("%d %llu\n", (int)pid, start);
    return tv_file_write_atomic(path, text, strlen(text), 0600);
}

int tv_qemu_process_swtpm_start(TvQemuProcess *proc, const TvDomainDef *live,
                                const TvQemuProcessConfig *cfg, GArray *fds, int *tpm_fd,
                                bool *state_new)
{
    *tpm_fd = 0;
    *state_new = false;
    if (!live->devices.tpm)
        return 0;
    if (!cfg->swtpm_dir) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "domain '%s' has a <tpm>, and this runtime has no folder for TPM state",
                        live->name);
        return -1;
    }
    g_autofree char *bin = find_program("swtpm");
    if (!bin)
        return -1;
    /* a swtpm whose QEMU died while no daemon watched (the earlier QEMU is
     * known gone here): it would hold the state's lock */
    tv_qemu_process_swtpm_stop(proc);
    g_autofree char *dom_dir = tv_qemu_process_swtpm_state_dir(cfg->swtpm_dir, live->uuid);
    g_autofree char *tpm2_dir = g_build_filename(dom_dir, "tpm2", NULL);
    bool existed = g_file_test(tpm2_dir, G_FILE_TEST_IS_DIR);
    bool created = false;
    /* the base and the domain's folder can be passed through, not listed */
    if (tv_dir_ensure(cfg->swtpm_dir, 0711) < 0 ||
        make_owned_dir(dom_dir, 0711, cfg->security) < 0 ||
        make_owned_dir(tpm2_dir, 0700, cfg->security) < 0 ||
        setup_state(cfg, live->name, tpm2_dir, &created) < 0) {
        /* a first start that could not make the state leaves none */
        if (!existed)
            remove_tree(dom_dir);
        return -1;
    }
    *state_new = !existed;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot make the swtpm socket");
        return -1;
    }
    g_autofree char *label = NULL;
    int log_fd = open_log(cfg->log_dir, live->name);
    if (log_fd < 0 || load_profile(proc, live, cfg, bin, tpm2_dir, &label) < 0) {
        if (log_fd >= 0)
            close(log_fd);
        close(pair[0]);
        close(pair[1]);
        return -1;
    }
    g_autofree char *state = g_strdup_printf("dir=%s,mode=0600", tpm2_dir);
    const char *argv[] = { bin,
                           "socket",
                           "--tpm2",
                           "--tpmstate",
                           state,
                           "--ctrl",
                           "type=unixio,clientfd=3",
                           "--log",
                           "fd=1,level=1",
                           "--terminate",
                           NULL };
    pid_t pid = 0;
    int rc = launch(cfg, argv, log_fd, pair[0], label, &pid);
    close(log_fd);
    close(pair[0]);
    if (rc < 0 || write_record(proc->swtpm_path, pid) < 0) {
        close(pair[1]);
        if (rc == 0) {
            kill(pid, SIGKILL);
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        TvError *err = tv_error_steal();
        unload_profile(proc);
        tv_error_restore(err);
        tv_error_prefix("cannot start the swtpm of domain '%s'", live->name);
        return -1;
    }
    *tpm_fd = TV_QEMU_PASSED_FD_FIRST + (int)fds->len;
    g_array_append_val(fds, pair[1]);
    return 0;
}

/* pid's exit, our child or not (a daemon restarted since), up to ms. */
static bool wait_gone(pid_t pid, int pidfd, unsigned ms)
{
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == pid)
        return true;
    struct pollfd p = { .fd = pidfd, .events = POLLIN };
    if (poll(&p, 1, (int)ms) <= 0)
        return false;
    while (waitpid(pid, &status, WNOHANG) < 0 && errno == EINTR)
        ;
    return true;
}

void tv_qemu_process_swtpm_stop(TvQemuProcess *proc)
{
    if (!proc->swtpm_path)
        return;
    g_autofree char *text = NULL;
    if (!g_file_get_contents(proc->swtpm_path, &text, NULL, NULL)) {
        unload_profile(proc); /* a start that failed before its record */
        return;
    }
    int pid = 0;
    unsigned long long want = 0, start = 0;
    if (sscanf(text, "%d %llu", &pid, &want) == 2 && pid > 0) {
        /* the same process as recorded (not a pid used again) */
        int pidfd = tv_pidfd_open(pid);
        if (pidfd >= 0 && tv_qemu_proc_stat(pid, &start, NULL, NULL) == 0 && start == want) {
            /* QEMU's side closed: it usually ended already (--terminate) */
            if (!wait_gone(pid, pidfd, 0)) {
                tv_pidfd_send_signal(pidfd, SIGTERM);
                if (!wait_gone(pid, pidfd, SWTPM_STOP_GRACE_MS)) {
                    tv_pidfd_send_signal(pidfd, SIGKILL);
                    wait_gone(pid, pidfd, SWTPM_STOP_GRACE_MS);
                }
            }
        } else {
            /* gone already: reap it if it was ours */
            while (waitpid(pid, NULL, WNOHANG) < 0 && errno == EINTR)
                ;
        }
        if (pidfd >= 0)
            close(pidfd);
    }
    TvError *err = tv_error_steal();
    tv_file_remove(proc->swtpm_path);
    unload_profile(proc); /* nothing runs under it any more */
    tv_error_restore(err);
}

int tv_qemu_process_swtpm_remove_state(const char *swtpm_dir, const unsigned char *uuid)
{
    g_autofree char *dom_dir = tv_qemu_process_swtpm_state_dir(swtpm_dir, uuid);
    if (!g_file_test(dom_dir, G_FILE_TEST_EXISTS))
        return 0;
    if (remove_tree(dom_dir) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot remove the TPM state '%s'", dom_dir);
        return -1;
    }
    return 0;
}

#define SWTPM_KEPT_MARK "kept"

int tv_qemu_process_swtpm_mark_kept(const char *swtpm_dir, const unsigned char *uuid, bool keep)
{
    g_autofree char *dom_dir = tv_qemu_process_swtpm_state_dir(swtpm_dir, uuid);
    g_autofree char *mark = g_build_filename(dom_dir, SWTPM_KEPT_MARK, NULL);
    if (!keep)
        return tv_file_remove(mark);
    if (!g_file_test(dom_dir, G_FILE_TEST_IS_DIR))
        return 0;
    static const char text[] = "undefined with --keep-tpm while running: the state stays when "
                               "that run ends\n";
    return tv_file_write_atomic(mark, text, sizeof(text) - 1, 0600);
}

int tv_qemu_process_swtpm_transient_ended(const char *swtpm_dir, const unsigned char *uuid)
{
    g_autofree char *dom_dir = tv_qemu_process_swtpm_state_dir(swtpm_dir, uuid);
    g_autofree char *mark = g_build_filename(dom_dir, SWTPM_KEPT_MARK, NULL);
    if (g_file_test(mark, G_FILE_TEST_EXISTS))
        return tv_file_remove(mark);
    return tv_qemu_process_swtpm_remove_state(swtpm_dir, uuid);
}
