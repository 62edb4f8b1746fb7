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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define LOG_TAIL_BYTES 2048

static void event_unref(gpointer ev)
{
    tv_qemu_event_free(ev);
}

TvQemuProcess *tv_qemu_process_new(const char *name, const TvQemuProcessConfig *cfg)
{
    TvQemuProcess *proc = g_new0(TvQemuProcess, 1);
    g_mutex_init(&proc->lock);
    g_cond_init(&proc->cond);
    g_rec_mutex_init(&proc->cb_lock);
    proc->name = g_strdup(name);
    proc->status_path = tv_qemu_process_status_path(cfg->state_dir, name);
    proc->monitor_path = tv_qemu_process_monitor_path(cfg->state_dir, name);
    proc->log_path = tv_qemu_process_log_path(cfg->log_dir, name);
    proc->dac_path = tv_qemu_process_dac_path(cfg->state_dir, name);
    g_autofree char *aa = g_strdup_printf("%s.apparmor", name);
    proc->apparmor_path = g_build_filename(cfg->state_dir, aa, NULL);
    g_autofree char *swtpm = g_strdup_printf("%s.swtpm", name);
    proc->swtpm_path = g_build_filename(cfg->state_dir, swtpm, NULL);
    proc->pidfd = proc->wake_fd = proc->console_fd = proc->console_master_fd = -1;
    proc->fdset_in = proc->fdset_out = -1;
    proc->pending = g_array_new(FALSE, FALSE, sizeof(int));
    proc->cb = cfg->state_cb;
    proc->cb_opaque = cfg->state_opaque;
    proc->event_cb = cfg->event_cb;
    proc->event_opaque = cfg->event_opaque;
    proc->pending_events = g_ptr_array_new_with_free_func(event_unref);
    proc->state = TV_DOMAIN_STATE_SHUTOFF;
    proc->qemu_version = cfg->caps ? cfg->caps->version : 0;
    return proc;
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
    if (proc->console_master_fd >= 0)
        close(proc->console_master_fd);
    g_free(proc->name);
    g_free(proc->status_path);
    g_free(proc->monitor_path);
    g_free(proc->log_path);
    g_free(proc->dac_path);
    g_free(proc->apparmor_path);
    g_free(proc->swtpm_path);
    tv_qemu_caps_fingerprint_clear(&proc->fingerprint);
    tv_domain_def_free(proc->def);
    g_free(proc->console_path);
    g_array_free(proc->pending, TRUE);
    g_ptr_array_free(proc->pending_events, TRUE);
    tv_qemu_process_hotplug_free(proc);
    g_rec_mutex_clear(&proc->cb_lock);
    g_cond_clear(&proc->cond);
    g_mutex_clear(&proc->lock);
    g_free(proc);
}

static void close_fds(GArray *fds)
{
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    g_array_set_size(fds, 0);
}

/* A <serial type='file'> is made here, so that it can be given to QEMU's
 * user like the other files (QEMU may not create files in its folder). */
static int create_chardev_file(const char *path, const char *what)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create the %s '%s'", what, path);
        return -1;
    }
    close(fd);
    return 0;
}

/* Files a chardev writes (a serial's type='file', any <log file>) are made
 * here, as this daemon's user, so that QEMU's own user (given them by the
 * DAC labelling) can open them in folders it cannot write, as Nova's
 * instance folder with its console.log. */
static int prepare_chardev_files(const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        const TvDomainChr *c = def->devices.serials[i];
        if ((c->type == TV_CHR_TYPE_FILE && c->path &&
             create_chardev_file(c->path, "serial log file") < 0) ||
            (c->log_file && create_chardev_file(c->log_file, "serial's <log> file") < 0))
            return -1;
    }
    for (size_t i = 0; i < def->devices.nchannels; i++) {
        const TvDomainChr *c = def->devices.channels[i];
        if (c->log_file && create_chardev_file(c->log_file, "channel's <log> file") < 0)
            return -1;
    }
    return 0;
}

/* Where the host has AppArmor: this domain's profile, loaded.  Besides the
 * files QEMU opens at start it may read the migration TLS folder (a
 * migration with --tls loads its x509 files long after the start). */
static int load_apparmor(TvQemuProcess *proc, const TvQemuProcessConfig *cfg,
                         const TvDomainDef *def, GPtrArray *argv, GArray *files, char **label)
{
    if (!tv_qemu_security_apparmor(cfg->security))
        return 0;
    *label = tv_qemu_apparmor_label(def);
    g_autoptr(GArray) allowed = g_array_copy(files);
    if (cfg->migrate_tls_dir && g_file_test(cfg->migrate_tls_dir, G_FILE_TEST_IS_DIR)) {
        TvQemuLaunchFile tls = { .path = cfg->migrate_tls_dir, .write = false };
        g_array_append_val(allowed, tls);
    }
    g_autofree char *text = tv_qemu_apparmor_profile(*label, g_ptr_array_index(argv, 0),
                                                     (TvQemuLaunchFile *)(void *)allowed->data,
                                                     allowed->len, tv_qemu_apparmor_net_needs(def));
    return tv_qemu_apparmor_load(proc->apparmor_path, text);
}

void tv_qemu_process_release_security(TvQemuProcess *proc)
{
    tv_qemu_security_dac_restore(proc->dac_path);
    tv_qemu_apparmor_unload(proc->apparmor_path);
    tv_qemu_process_swtpm_stop(proc);
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
        if (mon) {
            tv_error_reset(); /* the tries before QEMU made its socket were no error */
            return mon;
        }
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
static char *find_console_pty(TvQemuMonitor *mon)
{
    g_auto(TvQmpChardevList) list = { 0 };
    if (tv_qemu_monitor_query_chardev(mon, &list) < 0)
        return NULL;
    return g_strdup(tv_qmp_chardev_list_pty(&list, "charserial0"));
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

static void set_path(TvDomainChr *chr, const char *path)
{
    if (!path)
        return;
    g_free(chr->path);
    chr->path = g_strdup(path);
}

/* The ptys QEMU gave in the live definition, as <source path>: serial 0's
 * (path) and the console that is serial 0 (target type serial, as libvirt
 * shows it); every other pty serial, virtio console or channel has its own
 * (query-chardev, chardev "char" + its alias).  A virtio console showed
 * serial 0's pty before: a client opening it got the other device. */
static void set_pty_paths(TvQemuMonitor *mon, TvDomainDef *def, const char *path)
{
    TvDomainDevices *devs = &def->devices;
    g_auto(TvQmpChardevList) list = { 0 };
    if (mon && tv_qemu_monitor_query_chardev(mon, &list) < 0)
        tv_error_reset(); /* then serial 0's only */
    struct {
        TvDomainChr **chrs;
        size_t n;
    } kinds[] = { { devs->serials, devs->nserials },
                  { devs->consoles, devs->nconsoles },
                  { devs->channels, devs->nchannels } };
    for (size_t k = 0; k < G_N_ELEMENTS(kinds); k++) {
        for (size_t i = 0; i < kinds[k].n; i++) {
            TvDomainChr *chr = kinds[k].chrs[i];
            if (chr->type != TV_CHR_TYPE_PTY)
                continue;
            bool serial0 = (k == 0 && i == 0) || (k == 1 && chr->port == 0 &&
                                                  (chr->target_type == TV_CHR_TARGET_SERIAL ||
                                                   chr->target_type == TV_CHR_TARGET_DEFAULT));
            if (serial0) {
                set_path(chr, path);
            } else if (chr->alias) {
                g_autofree char *label = g_strconcat("char", chr->alias, NULL);
                set_path(chr, tv_qmp_chardev_list_pty(&list, label));
            }
        }
    }
}

/* START_CONSOLE: a second reference to QEMU's own pty master (pidfd_getfd),
 * which keeps the pty from hanging up when QEMU exits: QEMU's exit closed the
 * master, the pty hung up and what the guest wrote last was dropped before
 * the console reader got it.  QEMU keeps its pty (so it survives its
 * manager), and the reader drains the console after QEMU is gone.  -1 when
 * the kernel or the permissions do not allow it (the old behaviour). */
static int console_master_ref(TvQemuProcess *proc, const char *console_path)
{
    unsigned want = 0;
    if (proc->pidfd < 0 || sscanf(console_path, "/dev/pts/%u", &want) != 1)
        return -1;
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)proc->pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (!target || !strstr(target, "ptmx"))
            continue;
        int fd = (int)syscall(SYS_pidfd_getfd, proc->pidfd, atoi(name), 0);
        unsigned n = 0;
        if (fd >= 0 && ioctl(fd, TIOCGPTN, &n) == 0 && n == want) {
            (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
            return fd;
        }
        if (fd >= 0)
            close(fd);
    }
    g_debug("%s: no reference to the console's pty master: its last output may be lost",
            proc->name);
    return -1;
}

static bool has_pty(const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    bool pty = false;
    for (size_t i = 0; !pty && i < d->nserials; i++)
        pty = d->serials[i]->type == TV_CHR_TYPE_PTY;
    for (size_t i = 0; !pty && i < d->nconsoles; i++)
        pty = d->consoles[i]->type == TV_CHR_TYPE_PTY;
    for (size_t i = 0; !pty && i < d->nchannels; i++)
        pty = d->channels[i]->type == TV_CHR_TYPE_PTY;
    return pty;
}

/* After spawn: monitor, console, status file, cont. */
static int start_monitor_phase(TvQemuProcess *proc, const TvQemuProcessConfig *cfg, unsigned flags,
                               const TvQemuIncoming *in)
{
    unsigned timeout =
        cfg->monitor_timeout_ms ? cfg->monitor_timeout_ms : DEFAULT_MONITOR_TIMEOUT_MS;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout * 1000;
    proc->mon = connect_monitor(proc, deadline);
    if (!proc->mon)
        return -1;
    if (tv_qemu_monitor_handshake(proc->mon, (unsigned)remaining_ms(deadline)) < 0)
        return -1;
    /* the whole start-up shares one deadline */
    tv_qemu_monitor_set_timeout(proc->mon, (unsigned)remaining_ms(deadline));
    proc->qmp_ready_at = g_get_monotonic_time();
    if (tv_qemu_process_devices_started(proc) < 0)
        return -1;
    if (has_pty(proc->def)) {
        proc->console_path = find_console_pty(proc->mon);
        if (!proc->console_path && tv_error_last())
            return -1;
        if ((flags & TV_QEMU_PROCESS_START_CONSOLE) && proc->console_path) {
            proc->console_fd = open_console(proc->console_path);
            if (proc->console_fd < 0)
                return -1;
            proc->console_master_fd = console_master_ref(proc, proc->console_path);
        }
        set_pty_paths(proc->mon, proc->def, proc->console_path);
    }
    unsigned long long start = 0;
    if (tv_qemu_proc_stat(proc->pid, &start, NULL, NULL) < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "QEMU exited during start-up (no /proc/%d/stat)", (int)proc->pid);
        return -1;
    }
    proc->start_time = start;
    /* an incoming guest brings its balloon with it */
    if (!in && tv_qemu_process_apply_balloon(proc) < 0)
        return -1;
    bool paused = in || (flags & TV_QEMU_PROCESS_START_PAUSED) != 0;
    if (in) {
        proc->state = TV_DOMAIN_STATE_PAUSED;
        proc->reason = in->paused_reason ? in->paused_reason : TV_DOMAIN_PAUSED_MIGRATION;
    } else if (paused) {
        proc->state = TV_DOMAIN_STATE_PAUSED;
        proc->reason = TV_DOMAIN_PAUSED_USER;
    } else {
        proc->state = TV_DOMAIN_STATE_RUNNING;
        proc->reason = TV_DOMAIN_RUNNING_BOOTED;
    }
    /* written before the guest runs: a manager that dies now can reconnect */
    if (tv_qemu_process_write_status(proc) < 0)
        return -1;
    if (in) {
        tv_qemu_monitor_set_timeout(proc->mon, (unsigned)remaining_ms(deadline));
        if (tv_qemu_process_incoming_begin(proc, in) < 0)
            return -1;
    }
    if (!paused) {
        tv_qemu_monitor_set_timeout(proc->mon, (unsigned)remaining_ms(deadline));
        if (tv_qemu_monitor_cont(proc->mon) < 0)
            return -1;
    }
    tv_qemu_monitor_set_timeout(proc->mon, TV_QEMU_PROCESS_COMMAND_TIMEOUT_MS);
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
    proc->state = TV_DOMAIN_STATE_SHUTOFF;
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

int tv_qemu_process_prepare_dirs(const TvQemuProcessConfig *cfg)
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

/* The record of this start, before QEMU exists: a manager killed from now on
 * finds that QEMU by its monitor socket and name at the next reconnect (or
 * start) and ends it, instead of leaving it running unmanaged. */
static int write_start_record(TvQemuProcess *proc, const TvQemuProcessConfig *cfg,
                              const TvDomainDef *live)
{
    tv_qemu_caps_fingerprint_copy(&proc->fingerprint, &cfg->caps->fingerprint);
    TvQemuStatus st = {
        .state = TV_DOMAIN_STATE_PAUSED,
        .reason = TV_DOMAIN_PAUSED_STARTING_UP,
        .monitor_path = proc->monitor_path,
        .log_path = proc->log_path,
        .fingerprint = proc->fingerprint,
        .def = (TvDomainDef *)live,
    };
    return tv_qemu_status_write(proc->status_path, &st);
}

static void remove_start_record(TvQemuProcess *proc)
{
    TvError *err = tv_error_steal();
    tv_file_remove(proc->status_path);
    tv_error_restore(err);
}

TvQemuProcess *tv_qemu_process_start(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                     unsigned flags)
{
    return tv_qemu_process_start_with(def, cfg, flags, NULL);
}

static TvQemuProcess *start_with(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                 unsigned flags, const TvQemuIncoming *in, bool *tpm_state_new);

TvQemuProcess *tv_qemu_process_start_with(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                          unsigned flags, const TvQemuIncoming *in)
{
    bool tpm_state_new = false;
    TvQemuProcess *proc = start_with(def, cfg, flags, in, &tpm_state_new);
    /* a failed start leaves no TPM state that it made (its swtpm is gone) */
    if (!proc && tpm_state_new) {
        TvError *err = tv_error_steal();
        if (tv_qemu_process_swtpm_remove_state(cfg->swtpm_dir, def->uuid) < 0) {
            g_warning("%s: %s", def->name, tv_error_message());
            tv_error_reset();
        }
        tv_error_restore(err);
    }
    return proc;
}

static TvQemuProcess *start_with(const TvDomainDef *def, const TvQemuProcessConfig *cfg,
                                 unsigned flags, const TvQemuIncoming *in, bool *tpm_state_new)
{
    if (tv_domain_name_check(def->name) < 0 || tv_qemu_process_prepare_dirs(cfg) < 0)
        return NULL;
    /* resolution first: a refused configuration never spawns anything */
    g_autoptr(TvDomainDef) live = tv_domain_def_copy(def);
    if (!live)
        return NULL;
    TvQemuMtePlan plan;
    if (tv_qemu_domain_resolve(live, cfg->caps, cfg->host, &plan) < 0)
        return NULL;
    live->id = cfg->id > 0 ? cfg->id : 1;
    tv_qemu_assign_aliases(live); /* QEMU's device ids, kept for hot-plug */

    g_autoptr(TvQemuProcess) proc = tv_qemu_process_new(def->name, cfg);
    if (check_monitor_path(proc->monitor_path) < 0 || tv_qemu_process_check_previous(proc) < 0 ||
        tv_qemu_process_prepare_nvram(live) < 0)
        return NULL;
    const TvQemuSecurity *sec = cfg->security;
    /* the fork server forks QEMU as itself (root, the host's mounts): only
     * for a QEMU that would not be confined further */
    TvQemuZygote *zygote =
        tv_qemu_security_changes_user(sec) || tv_qemu_security_mount_namespace(sec) ? NULL
                                                                                    : cfg->zygote;
    /* channels' sockets and taps are passed as descriptors, which the fork server cannot do */
    g_autoptr(GArray) channel_fds = g_array_new(FALSE, FALSE, sizeof(int));
    g_autofree int *net_fds = NULL;
    int vsock_fd = 0, smartcard_fd = 0;
    if (tv_qemu_process_prepare_channels(live, cfg->state_dir, channel_fds) < 0 ||
        tv_qemu_process_prepare_nets(live, cfg, channel_fds, &net_fds) < 0 ||
        tv_qemu_process_prepare_vsock(live, channel_fds, &vsock_fd) < 0 ||
        tv_qemu_process_prepare_smartcard(live, channel_fds, &smartcard_fd) < 0) {
        close_fds(channel_fds);
        tv_qemu_process_remove_channels(live);
        return NULL;
    }
    int tpm_fd = 0;
    if (tv_qemu_process_swtpm_start(proc, live, cfg, channel_fds, &tpm_fd, tpm_state_new) < 0) {
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
            tv_qemu_process_swtpm_stop(proc);
            close_fds(channel_fds);
            tv_qemu_process_remove_channels(live);
            return NULL;
        }
    }
    TvQemuCommandOptions opts = { .monitor_path = proc->monitor_path,
                                  .monitor_fd = monitor_fd >= 0 ? 3 : 0,
                                  .channel_fd_first = TV_QEMU_PASSED_FD_FIRST,
                                  .net_fds = net_fds,
                                  .vsock_fd = vsock_fd,
                                  .tpm_fd = tpm_fd,
                                  .smartcard_fd = smartcard_fd,
                                  .paused = true,
                                  .incoming = in != NULL,
                                  .sandbox = tv_qemu_security_sandbox(sec) };
    g_autoptr(GPtrArray) argv = tv_qemu_build_command(live, cfg->caps, &plan, &opts);
    g_autoptr(GArray) files = tv_qemu_security_domain_files(live);
    int log_fd = -1;
    g_autofree char *aa_label = NULL;
    if (!argv || write_start_record(proc, cfg, live) < 0 || prepare_chardev_files(live) < 0 ||
        (log_fd = tv_qemu_process_log_open(proc->log_path, argv, &proc->log_offset)) < 0 ||
        tv_qemu_security_dac_label(sec, proc->dac_path, (TvQemuLaunchFile *)(void *)files->data,
                                   files->len) < 0 ||
        load_apparmor(proc, cfg, live, argv, files, &aa_label) < 0) {
        tv_qemu_process_release_security(proc);
        if (log_fd >= 0)
            close(log_fd);
        if (monitor_fd >= 0)
            close(monitor_fd);
        close_fds(channel_fds);
        tv_qemu_process_remove_channels(live);
        remove_start_record(proc);
        tv_file_remove(proc->monitor_path);
        return NULL;
    }
    if (plan.warning[0]) { /* an explicitly allowed defect: said at every start */
        g_warning("%s: %s", def->name, plan.warning);
        g_autofree char *line = g_strdup_printf("tagvirt: warning: %s\n", plan.warning);
        (void)!write(log_fd, line, strlen(line));
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
        remove_start_record(proc);
        tv_file_remove(proc->monitor_path);
        tv_error_restore(err);
        return NULL;
    }
    proc->is_child = true;
    proc->def = g_steal_pointer(&live);
    proc->pidfd = tv_qemu_process_pidfd_open(proc->pid);
    if (proc->pidfd < 0 || start_monitor_phase(proc, cfg, flags, in) < 0 ||
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
        in                                       ? "receiving"
        : (flags & TV_QEMU_PROCESS_START_PAUSED) ? "left paused"
                                                 : "resumed",
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
static int query_running(TvQemuMonitor *mon, const TvQemuStatus *st, bool *running)
{
    TvQmpStatus qs;
    if (tv_qemu_monitor_query_status(mon, &qs) < 0)
        return -1;
    *running = qs.running;
    if (!qs.running && qs.status == TV_QMP_RUN_STATE_PRELAUNCH &&
        st->state == TV_DOMAIN_STATE_RUNNING) {
        if (tv_qemu_monitor_cont(mon) < 0)
            return -1;
        *running = true;
    }
    return 0;
}

int tv_qemu_process_attach(TvQemuProcess *proc, TvQemuStatus *st, unsigned timeout)
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
    if (proc->mon)
        tv_qemu_monitor_set_timeout(proc->mon, timeout);
    if (!proc->mon || tv_qemu_monitor_handshake(proc->mon, timeout) < 0 ||
        query_running(proc->mon, st, &running) < 0) {
        tv_error_prefix("cannot reconnect to QEMU pid %d of domain '%s'", (int)st->pid, proc->name);
        return -1;
    }
    proc->def = g_steal_pointer(&st->def);
    proc->fingerprint = st->fingerprint;
    memset(&st->fingerprint, 0, sizeof(st->fingerprint));
    proc->console_path = g_steal_pointer(&st->console_path);
    if (!proc->console_path && has_pty(proc->def)) { /* not recorded (taken over unrecorded) */
        proc->console_path = find_console_pty(proc->mon);
        tv_error_reset();
        set_pty_paths(proc->mon, proc->def, proc->console_path);
    }
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
    tv_qemu_monitor_set_timeout(proc->mon, TV_QEMU_PROCESS_COMMAND_TIMEOUT_MS);
    return tv_qemu_process_watch_start(proc);
}

void tv_qemu_process_detach(TvQemuProcess *proc)
{
    g_assert(!proc->watcher);
    g_clear_pointer(&proc->mon, tv_qemu_monitor_free);
    if (proc->pidfd >= 0)
        close(proc->pidfd);
    proc->pidfd = -1;
    proc->pid = 0;
    proc->start_time = 0;
    proc->is_child = false;
    g_clear_pointer(&proc->def, tv_domain_def_free);
    g_clear_pointer(&proc->console_path, g_free);
    tv_qemu_caps_fingerprint_clear(&proc->fingerprint);
    proc->state = TV_DOMAIN_STATE_SHUTOFF;
}
