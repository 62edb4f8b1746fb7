/* One domain's QEMU: start, reconnect, and the object's life; see
 * qemu_process.h.  Operations on a running QEMU are in qemu_process_ops.c. */
#include "qemu_command.h"
#include "qemu_domain.h"
#include "qemu_process_priv.h"
#include "qemu_security_apparmor.h"
#include "qemu_security_dac.h"
#include "qemu_zygote.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_MONITOR_TIMEOUT_MS 10000
#define LOG_TAIL_BYTES             2048

static void event_unref(gpointer ev)
{
    json_object_put(ev);
}

static TvQemuProcess *process_new(const char *name, const TvQemuProcessConfig *cfg)
{
    TvQemuProcess *proc = g_new0(TvQemuProcess, 1);
    g_mutex_init(&proc->lock);
    g_cond_init(&proc->cond);
    g_mutex_init(&proc->mon_lock);
    g_rec_mutex_init(&proc->cb_lock);
    proc->name = g_strdup(name);
    proc->status_path = tv_qemu_process_status_path(cfg->state_dir, name);
    proc->monitor_path = tv_qemu_process_monitor_path(cfg->state_dir, name);
    proc->log_path = tv_qemu_process_log_path(cfg->log_dir, name);
    proc->dac_path = tv_qemu_process_dac_path(cfg->state_dir, name);
    g_autofree char *aa = g_strdup_printf("%s.apparmor", name);
    proc->apparmor_path = g_build_filename(cfg->state_dir, aa, NULL);
    proc->pidfd = proc->wake_fd = proc->console_fd = proc->console_tty_fd = -1;
    proc->pending = g_array_new(FALSE, FALSE, sizeof(int));
    proc->cb = cfg->state_cb;
    proc->cb_opaque = cfg->state_opaque;
    proc->event_cb = cfg->event_cb;
    proc->event_opaque = cfg->event_opaque;
    proc->pending_events = g_ptr_array_new_with_free_func(event_unref);
    proc->state = TV_DOMAIN_STATE_SHUTOFF;
    return proc;
}

static void fingerprint_copy(TvQemuCapsFingerprint *dst, const TvQemuCapsFingerprint *src)
{
    *dst = *src;
    dst->binary_path = g_strdup(src->binary_path);
    dst->tagvirt_version = g_strdup(src->tagvirt_version);
    dst->kernel_release = g_strdup(src->kernel_release);
}

void tv_qemu_process_free(TvQemuProcess *proc)
{
    if (!proc)
        return;
    tv_qemu_process_watch_stop(proc);
    g_clear_pointer(&proc->mon, tv_qemu_monitor_free);
    if (proc->pidfd >= 0)
        close(proc->pidfd);
    if (proc->wake_fd >= 0)
        close(proc->wake_fd);
    if (proc->console_fd >= 0)
        close(proc->console_fd);
    if (proc->console_tty_fd >= 0)
        close(proc->console_tty_fd);
    g_free(proc->name);
    g_free(proc->status_path);
    g_free(proc->monitor_path);
    g_free(proc->log_path);
    g_free(proc->dac_path);
    g_free(proc->apparmor_path);
    g_free(proc->fingerprint.binary_path);
    g_free(proc->fingerprint.tagvirt_version);
    g_free(proc->fingerprint.kernel_release);
    tv_domain_def_free(proc->def);
    g_free(proc->console_path);
    g_free(proc->shutdown_cause);
    g_array_free(proc->pending, TRUE);
    g_ptr_array_free(proc->pending_events, TRUE);
    g_rec_mutex_clear(&proc->cb_lock);
    g_mutex_clear(&proc->mon_lock);
    g_cond_clear(&proc->cond);
    g_mutex_clear(&proc->lock);
    g_free(proc);
}

/* A status file left from an earlier start: refuse while that QEMU lives,
 * else remove it and its socket. */
static int check_previous(TvQemuProcess *proc)
{
    if (!g_file_test(proc->status_path, G_FILE_TEST_EXISTS)) {
        /* a start that died before its status file: its QEMU never ran */
        tv_qemu_process_release_security(proc);
        tv_file_remove(proc->monitor_path);
        return 0;
    }
    g_autoptr(TvQemuStatus) old = tv_qemu_status_read(proc->status_path);
    if (old && tv_qemu_status_check_pid(old, NULL) == TV_QEMU_STATUS_PID_ALIVE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "domain '%s' is already running (QEMU pid %d, status file '%s')",
                        proc->name, (int)old->pid, proc->status_path);
        return -1;
    }
    tv_error_reset();
    tv_file_remove(proc->status_path);
    tv_file_remove(proc->monitor_path);
    tv_qemu_process_release_security(proc);
    return 0;
}

static void close_fds(GArray *fds)
{
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    g_array_set_size(fds, 0);
}

/* A <serial type='file'> is made here, so that it can be given to QEMU's
 * user like the other files (QEMU may not create files in its folder). */
static int prepare_chardev_files(const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        const TvDomainChr *c = def->devices.serials[i];
        if (c->type != TV_CHR_TYPE_FILE || !c->path)
            continue;
        int fd = open(c->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
            tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the serial log file '%s'",
                                  c->path);
            return -1;
        }
        close(fd);
    }
    return 0;
}

/* Where the host has AppArmor: this domain's profile, loaded. */
static int load_apparmor(TvQemuProcess *proc, const TvQemuSecurity *sec, const TvDomainDef *def,
                         GPtrArray *argv, GArray *files, char **label)
{
    if (!tv_qemu_security_apparmor(sec))
        return 0;
    *label = tv_qemu_apparmor_label(def);
    g_autofree char *text = tv_qemu_apparmor_profile(
        *label, g_ptr_array_index(argv, 0), (TvQemuLaunchFile *)(void *)files->data, files->len);
    return tv_qemu_apparmor_load(proc->apparmor_path, text);
}

void tv_qemu_process_release_security(TvQemuProcess *proc)
{
    tv_qemu_security_dac_restore(proc->dac_path);
    tv_qemu_apparmor_unload(proc->apparmor_path);
}

/* Connect to the QMP socket while QEMU creates it; give up when QEMU exits. */
static TvQemuMonitor *connect_monitor(TvQemuProcess *proc, gint64 deadline)
{
    for (;;) {
        struct pollfd p = { .fd = proc->pidfd, .events = POLLIN };
        if (poll(&p, 1, 0) > 0) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED, "QEMU exited during start-up");
            return NULL;
        }
        TvQemuMonitor *mon = tv_qemu_monitor_open_unix(proc->monitor_path, 0);
        if (mon)
            return mon;
        if (g_get_monotonic_time() >= deadline) {
            tv_error_prefix("QEMU did not open its monitor in time");
            return NULL;
        }
        /* sleep 1 ms, or less if QEMU exits */
        (void)poll(&p, 1, 1);
    }
}

static int remaining_ms(gint64 deadline)
{
    gint64 left = deadline - g_get_monotonic_time();
    return left <= 0 ? 1 : (int)MIN((left + 999) / 1000, G_MAXINT);
}

/* Serial 0's pty from query-chardev ("pty:/dev/pts/3"), or NULL. */
static char *find_console_pty(TvQemuMonitor *mon, unsigned timeout_ms)
{
    json_object *list = tv_qemu_monitor_execute(mon, "query-chardev", NULL, timeout_ms);
    if (!list)
        return NULL;
    char *path = NULL;
    for (size_t i = 0;
         json_object_is_type(list, json_type_array) && i < json_object_array_length(list) && !path;
         i++) {
        json_object *item = json_object_array_get_idx(list, i), *label = NULL, *file = NULL;
        if (json_object_object_get_ex(item, "label", &label) &&
            json_object_object_get_ex(item, "filename", &file) &&
            g_strcmp0(json_object_get_string(label), "charserial0") == 0 &&
            g_str_has_prefix(json_object_get_string(file), "pty:"))
            path = g_strdup(json_object_get_string(file) + 4);
    }
    json_object_put(list);
    return path;
}

static int open_console(const char *path)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open the serial console '%s'", path);
        return -1;
    }
    /* raw: no echo back into the guest, no newline translation */
    struct termios t;
    if (tcgetattr(fd, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(fd, TCSANOW, &t);
    }
    return fd;
}

int tv_qemu_process_open_console(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    g_autofree char *path = g_strdup(proc->console_path);
    bool active = proc->state != TV_DOMAIN_STATE_SHUTOFF;
    g_mutex_unlock(&proc->lock);
    if (!active) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        proc->name);
        return -1;
    }
    if (!path) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "domain '%s' has no console to open: only a <serial type='pty'> (or "
                        "<console type='pty'>) is one",
                        proc->name);
        return -1;
    }
    return open_console(path);
}

/* Serial 0's pty in the live definition, as <source path> (and its console's). */
static void set_pty_paths(TvDomainDef *def, const char *path)
{
    if (!path)
        return;
    TvDomainDevices *devs = &def->devices;
    if (devs->nserials > 0 && devs->serials[0]->type == TV_CHR_TYPE_PTY) {
        g_free(devs->serials[0]->path);
        devs->serials[0]->path = g_strdup(path);
    }
    for (size_t i = 0; i < devs->nconsoles; i++) {
        if (devs->consoles[i]->type == TV_CHR_TYPE_PTY && devs->consoles[i]->port == 0) {
            g_free(devs->consoles[i]->path);
            devs->consoles[i]->path = g_strdup(path);
        }
    }
}

/* START_CONSOLE: serial 0 goes to a pty of ours instead of one QEMU makes.
 * QEMU writes to the tty side; we read the master side.  When QEMU exits its
 * end closes, but what it wrote stays readable on the master: with QEMU's own
 * pty the master closed with QEMU and the guest's last output was lost.  We
 * also keep the tty side open, so the pty never hangs up under us. */
static int console_pty_open(TvQemuProcess *proc, const TvQemuSecurity *sec)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    char name[128];
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
        ptsname_r(master, name, sizeof(name)) != 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot make a pty for the serial console");
        if (master >= 0)
            close(master);
        return -1;
    }
    int tty = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (tty < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot open the console pty '%s'", name);
        close(master);
        return -1;
    }
    /* raw: no echo, no newline translation (QEMU sets the same) */
    struct termios t;
    if (tcgetattr(tty, &t) == 0) {
        cfmakeraw(&t);
        tcsetattr(tty, TCSANOW, &t);
    }
    /* a QEMU that runs as its own user opens it too (the pty goes away with us) */
    if (tv_qemu_security_changes_user(sec) &&
        fchown(tty, tv_qemu_security_uid(sec), tv_qemu_security_gid(sec)) < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno,
                              "cannot hand the console pty '%s' to QEMU's "
                              "user",
                              name);
        close(tty);
        close(master);
        return -1;
    }
    proc->console_fd = master;
    proc->console_tty_fd = tty;
    proc->console_path = g_strdup(name);
    return 0;
}

static bool serial0_is_pty(const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        if (def->devices.serials[i]->port == 0)
            return def->devices.serials[i]->type == TV_CHR_TYPE_PTY;
    }
    for (size_t i = 0; i < def->devices.nconsoles; i++) {
        if (def->devices.consoles[i]->port == 0)
            return def->devices.consoles[i]->type == TV_CHR_TYPE_PTY;
    }
    return false;
}

/* After spawn: monitor, console, status file, cont. */
static int start_monitor_phase(TvQemuProcess *proc, const TvQemuProcessConfig *cfg, unsigned flags)
{
    unsigned timeout =
        cfg->monitor_timeout_ms ? cfg->monitor_timeout_ms : DEFAULT_MONITOR_TIMEOUT_MS;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout * 1000;
    proc->mon = connect_monitor(proc, deadline);
    if (!proc->mon)
        return -1;
    if (tv_qemu_monitor_handshake(proc->mon, (unsigned)remaining_ms(deadline)) < 0)
        return -1;
    proc->qmp_ready_at = g_get_monotonic_time();
    if (tv_qemu_process_devices_started(proc, (unsigned)remaining_ms(deadline)) < 0)
        return -1;
    bool has_pty =
        proc->def->devices.nserials > 0 && proc->def->devices.serials[0]->type == TV_CHR_TYPE_PTY;
    for (size_t i = 0; !has_pty && i < proc->def->devices.nconsoles; i++)
        has_pty = proc->def->devices.consoles[i]->type == TV_CHR_TYPE_PTY;
    if (has_pty && proc->console_tty_fd < 0) {
        proc->console_path = find_console_pty(proc->mon, (unsigned)remaining_ms(deadline));
        if (!proc->console_path && tv_error_last())
            return -1;
        if ((flags & TV_QEMU_PROCESS_START_CONSOLE) && proc->console_path) {
            proc->console_fd = open_console(proc->console_path);
            if (proc->console_fd < 0)
                return -1;
        }
    }
    if (has_pty)
        set_pty_paths(proc->def, proc->console_path);
    unsigned long long start = 0;
    if (tv_qemu_proc_stat(proc->pid, &start, NULL, NULL) < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "QEMU exited during start-up (no /proc/%d/stat)", (int)proc->pid);
        return -1;
    }
    proc->start_time = start;
    if (tv_qemu_process_apply_balloon(proc, (unsigned)remaining_ms(deadline)) < 0)
        return -1;
    bool paused = (flags & TV_QEMU_PROCESS_START_PAUSED) != 0;
    if (paused) {
        proc->state = TV_DOMAIN_STATE_PAUSED;
        proc->reason = TV_DOMAIN_PAUSED_USER;
    } else {
        proc->state = TV_DOMAIN_STATE_RUNNING;
        proc->reason = TV_DOMAIN_RUNNING_BOOTED;
    }
    /* written before the guest runs: a manager that dies now can reconnect */
    if (tv_qemu_process_write_status(proc) < 0)
        return -1;
    if (!paused) {
        json_object *r =
            tv_qemu_monitor_execute(proc->mon, "cont", NULL, (unsigned)remaining_ms(deadline));
        if (!r)
            return -1;
        json_object_put(r);
    }
    return 0;
}

/* Start failed after spawn: nothing may be left running or on disk. */
static void start_cleanup(TvQemuProcess *proc)
{
    TvError *err = tv_error_steal();
    g_clear_pointer(&proc->mon, tv_qemu_monitor_free);
    if (proc->console_fd >= 0) {
        close(proc->console_fd);
        proc->console_fd = -1;
    }
    /* a monitor EOF usually means QEMU is exiting by itself: let it say why */
    bool timeout = err && err->code == TV_ERR_OPERATION_TIMEOUT;
    struct pollfd p = { .fd = proc->pidfd, .events = POLLIN };
    bool died = proc->pidfd >= 0 && poll(&p, 1, timeout ? 0 : 200) > 0;
    int status = 0;
    kill(-proc->pid, SIGKILL);
    while (waitpid(proc->pid, &status, 0) < 0 && errno == EINTR)
        ;
    tv_qemu_process_reap_group(proc->pid);
    proc->exited = true;
    proc->exit_status = status;
    proc->exit_status_known = true;
    tv_file_remove(proc->status_path);
    tv_file_remove(proc->monitor_path);
    tv_qemu_process_remove_channels(proc->def);
    tv_qemu_process_release_security(proc);
    g_autofree char *how = tv_qemu_process_exit_description_locked(proc);
    g_autofree char *tail =
        tv_qemu_process_read_log_tail(proc->log_path, proc->log_offset, LOG_TAIL_BYTES);
    const char *why = err ? err->message : "unknown error";
    tv_qemu_process_log_line(proc->log_path, "start-up failed: %s", why);
    g_autofree char *what = died ? g_strdup_printf("QEMU %s during start-up", how)
                                 : g_strdup_printf("%s (QEMU was killed)", why);
    g_autofree char *log_part =
        tail ? g_strdup_printf("; the end of its log %s:\n%s", proc->log_path, tail)
             : g_strdup_printf("; its log %s is empty", proc->log_path);
    tv_error_report(TV_FROM_QEMU, err && !died ? err->code : TV_ERR_OPERATION_FAILED,
                    "cannot start domain '%s': %s%s", proc->name, what, log_part);
    tv_error_free(err);
}

static int prepare_dirs(const TvQemuProcessConfig *cfg)
{
    if (!cfg->state_dir || !cfg->log_dir || !cfg->caps) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "the runtime needs a state directory, a log directory and capabilities");
        return -1;
    }
    if (tv_dir_ensure(cfg->state_dir, 0700) < 0 || tv_dir_ensure(cfg->log_dir, 0700) < 0)
        return -1;
    return 0;
}

static int check_monitor_path(const char *path)
{
    if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "monitor socket path '%s' is longer than %zu bytes: use a shorter state "
                        "directory",
                        path, sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
        return -1;
    }
    return 0;
}

TvQemuProcess *tv_qemu_process_start(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                     unsigned flags)
{
    if (tv_domain_name_check(def->name) < 0 || prepare_dirs(cfg) < 0)
        return NULL;
    /* resolution first: a refused configuration never spawns anything */
    g_autoptr(TvDomainDef) live = tv_domain_def_copy(def);
    if (!live)
        return NULL;
    TvQemuMtePlan plan;
    if (tv_qemu_domain_resolve(live, cfg->caps, cfg->host, &plan) < 0)
        return NULL;
    live->id = cfg->id > 0 ? cfg->id : 1;

    g_autoptr(TvQemuProcess) proc = process_new(def->name, cfg);
    if (check_monitor_path(proc->monitor_path) < 0 || check_previous(proc) < 0 ||
        tv_qemu_process_prepare_nvram(live) < 0)
        return NULL;
    const TvQemuSecurity *sec = cfg->security;
    /* the fork server forks QEMU as itself (root, the host's mounts): only
     * for a QEMU that would not be confined further */
    TvQemuZygote *zygote =
        tv_qemu_security_changes_user(sec) || tv_qemu_security_mount_namespace(sec) ? NULL
                                                                                    : cfg->zygote;
    /* channels' sockets are passed as descriptors, which the fork server cannot do */
    g_autoptr(GArray) channel_fds = g_array_new(FALSE, FALSE, sizeof(int));
    if (tv_qemu_process_prepare_channels(live, cfg->state_dir, channel_fds) < 0) {
        close_fds(channel_fds);
        tv_qemu_process_remove_channels(live);
        return NULL;
    }
    if (channel_fds->len)
        zygote = NULL;
    int monitor_fd = -1;
    if (!zygote) {
        monitor_fd = tv_qemu_process_monitor_listen(proc->monitor_path);
        if (monitor_fd < 0) {
            close_fds(channel_fds);
            tv_qemu_process_remove_channels(live);
            return NULL;
        }
    }
    TvQemuCommandOptions opts = { .monitor_path = proc->monitor_path,
                                  .monitor_fd = monitor_fd >= 0 ? 3 : 0,
                                  .channel_fd_first = channel_fds->len ? 4 : 0,
                                  .paused = true,
                                  .sandbox = tv_qemu_security_sandbox(sec) };
    if ((flags & TV_QEMU_PROCESS_START_CONSOLE) && serial0_is_pty(live)) {
        if (console_pty_open(proc, sec) < 0) {
            if (monitor_fd >= 0)
                close(monitor_fd);
            tv_file_remove(proc->monitor_path);
            return NULL;
        }
        opts.serial0_tty = proc->console_path;
    }
    g_autoptr(GPtrArray) argv = tv_qemu_build_command(live, cfg->caps, &plan, &opts);
    g_autoptr(GArray) files = tv_qemu_security_domain_files(live);
    int log_fd = -1;
    g_autofree char *aa_label = NULL;
    if (!argv || prepare_chardev_files(live) < 0 ||
        (log_fd = tv_qemu_process_log_open(proc->log_path, argv, &proc->log_offset)) < 0 ||
        tv_qemu_security_dac_label(sec, proc->dac_path, (TvQemuLaunchFile *)(void *)files->data,
                                   files->len) < 0 ||
        load_apparmor(proc, sec, live, argv, files, &aa_label) < 0) {
        tv_qemu_process_release_security(proc);
        if (log_fd >= 0)
            close(log_fd);
        if (monitor_fd >= 0)
            close(monitor_fd);
        close_fds(channel_fds);
        tv_qemu_process_remove_channels(live);
        tv_file_remove(proc->monitor_path);
        return NULL;
    }
    gint64 t_spawn = g_get_monotonic_time();
    bool forked = false;
    TvQemuSpawnArgs spawn = { .log_fd = log_fd,
                              .zygote = zygote,
                              .security = sec,
                              .monitor_fd = monitor_fd,
                              .extra_fds = (const int *)(void *)channel_fds->data,
                              .nextra_fds = channel_fds->len,
                              .files = files,
                              .apparmor_label = aa_label,
                              .staging_dir = cfg->state_dir };
    int rc = tv_qemu_process_spawn(argv, &spawn, &proc->pid, &forked);
    gint64 t_spawned = g_get_monotonic_time();
    close(log_fd);
    if (monitor_fd >= 0)
        close(monitor_fd);
    close_fds(channel_fds);
    if (rc < 0) {
        TvError *err = tv_error_steal();
        tv_qemu_process_log_line(proc->log_path, "start-up failed: %s", err->message);
        tv_qemu_process_remove_channels(live);
        tv_qemu_process_release_security(proc);
        tv_file_remove(proc->monitor_path);
        tv_error_restore(err);
        return NULL;
    }
    proc->is_child = true;
    proc->def = g_steal_pointer(&live);
    fingerprint_copy(&proc->fingerprint, &cfg->caps->fingerprint);
    proc->pidfd = tv_qemu_process_pidfd_open(proc->pid);
    if (proc->pidfd < 0 || start_monitor_phase(proc, cfg, flags) < 0 ||
        tv_qemu_process_watch_start(proc) < 0) {
        start_cleanup(proc);
        proc->pid = 0;
        return NULL;
    }
    gint64 t_done = g_get_monotonic_time();
    tv_qemu_process_log_line(
        proc->log_path,
        "QEMU pid %d is %s (%s in %.1f ms, ready for QMP %.1f ms later, %s %.1f ms later)",
        (int)proc->pid, tv_domain_state_to_string(proc->state),
        forked ? "forked from the fork server" : "executed", (t_spawned - t_spawn) / 1000.0,
        (proc->qmp_ready_at - t_spawned) / 1000.0,
        (flags & TV_QEMU_PROCESS_START_PAUSED) ? "left paused" : "resumed",
        (t_done - proc->qmp_ready_at) / 1000.0);
    int pair[2] = { proc->state, proc->reason };
    g_mutex_lock(&proc->lock);
    g_array_append_vals(proc->pending, pair, 2);
    g_mutex_unlock(&proc->lock);
    tv_qemu_process_flush_callbacks(proc);
    return g_steal_pointer(&proc);
}

/* QEMU's real state after a reconnect (it may have been paused meanwhile).
 * A start interrupted between the status file and 'cont' ("prelaunch" while
 * the file says running) is completed. */
static int query_running(TvQemuMonitor *mon, const TvQemuStatus *st, unsigned timeout_ms,
                         bool *running)
{
    json_object *qs = tv_qemu_monitor_execute(mon, "query-status", NULL, timeout_ms);
    if (!qs)
        return -1;
    json_object *r = NULL, *status = NULL;
    *running = json_object_object_get_ex(qs, "running", &r) && json_object_get_boolean(r);
    bool prelaunch = json_object_object_get_ex(qs, "status", &status) &&
                     g_strcmp0(json_object_get_string(status), "prelaunch") == 0;
    json_object_put(qs);
    if (!*running && prelaunch && st->state == TV_DOMAIN_STATE_RUNNING) {
        json_object *c = tv_qemu_monitor_execute(mon, "cont", NULL, timeout_ms);
        if (!c)
            return -1;
        json_object_put(c);
        *running = true;
    }
    return 0;
}

static int reconnect_attach(TvQemuProcess *proc, TvQemuStatus *st, unsigned timeout)
{
    proc->pid = st->pid;
    proc->start_time = st->start_time;
    proc->pidfd = tv_qemu_process_pidfd_open(st->pid);
    if (proc->pidfd < 0)
        return -1;
    /* checked again with the pidfd held: the pid cannot be reused from now on */
    g_autofree char *why = NULL;
    if (tv_qemu_status_check_pid(st, &why) != TV_QEMU_STATUS_PID_ALIVE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN, "domain '%s' is not running: %s",
                        proc->name, why);
        return -1;
    }
    pid_t ppid = 0;
    proc->is_child = tv_qemu_proc_stat(st->pid, NULL, NULL, &ppid) == 0 && ppid == getpid();
    proc->mon = tv_qemu_monitor_open_unix(st->monitor_path, timeout);
    bool running = false;
    if (!proc->mon || tv_qemu_monitor_handshake(proc->mon, timeout) < 0 ||
        query_running(proc->mon, st, timeout, &running) < 0) {
        tv_error_prefix("cannot reconnect to QEMU pid %d of domain '%s'", (int)st->pid, proc->name);
        return -1;
    }
    proc->def = g_steal_pointer(&st->def);
    proc->fingerprint = st->fingerprint;
    memset(&st->fingerprint, 0, sizeof(st->fingerprint));
    proc->console_path = g_steal_pointer(&st->console_path);
    if (running) {
        proc->state = TV_DOMAIN_STATE_RUNNING;
        proc->reason =
            st->state == TV_DOMAIN_STATE_RUNNING ? st->reason : TV_DOMAIN_RUNNING_UNPAUSED;
    } else {
        proc->state = TV_DOMAIN_STATE_PAUSED;
        proc->reason = st->state == TV_DOMAIN_STATE_PAUSED ? st->reason : TV_DOMAIN_PAUSED_UNKNOWN;
    }
    if (tv_qemu_process_write_status(proc) < 0)
        return -1;
    return tv_qemu_process_watch_start(proc);
}

TvQemuProcess *tv_qemu_process_reconnect(const char *name, const TvQemuProcessConfig *cfg,
                                         bool *stale)
{
    if (stale)
        *stale = false;
    if (tv_domain_name_check(name) < 0 || prepare_dirs(cfg) < 0)
        return NULL;
    g_autoptr(TvQemuProcess) proc = process_new(name, cfg);
    if (!g_file_test(proc->status_path, G_FILE_TEST_EXISTS)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain '%s' is not running (no status file '%s')", name,
                        proc->status_path);
        return NULL;
    }
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(proc->status_path);
    g_autofree char *why = NULL;
    if (st && g_strcmp0(st->def->name, name) != 0)
        why = g_strdup_printf("it names domain '%s'", st->def->name);
    else if (st && tv_qemu_status_check_pid(st, &why) == TV_QEMU_STATUS_PID_ALIVE)
        g_clear_pointer(&why, g_free);
    else if (!st)
        why = g_strdup(tv_error_message());
    if (why) {
        /* stale: the QEMU it describes is gone; nothing to take over */
        tv_file_remove(proc->status_path);
        tv_qemu_process_release_security(proc);
        if (st && g_strcmp0(st->monitor_path, proc->monitor_path) == 0)
            tv_file_remove(st->monitor_path);
        if (stale)
            *stale = true;
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain '%s' is not running: stale status file '%s' removed (%s)", name,
                        proc->status_path, why);
        return NULL;
    }
    unsigned timeout =
        cfg->monitor_timeout_ms ? cfg->monitor_timeout_ms : DEFAULT_MONITOR_TIMEOUT_MS;
    if (reconnect_attach(proc, st, timeout) < 0)
        return NULL;
    tv_qemu_process_log_line(proc->log_path, "reconnected to QEMU pid %d (%s)", (int)proc->pid,
                             tv_domain_state_to_string(proc->state));
    return g_steal_pointer(&proc);
}
