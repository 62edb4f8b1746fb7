/* What happens when the guest powers off, reboots or panics, as
 * <on_poweroff>, <on_reboot> and <on_crash> say, and the balloon target of
 * <currentMemory>.  The command line (qemu_lifecycle.h) keeps QEMU running
 * where tagvirt must act: -no-shutdown for restart/preserve on power-off,
 * -action panic=pause for a handled panic.
 *
 * Restart is libvirt's "fake reboot": the same QEMU is reset and continued,
 * so the domain stays running (booted) with the same id, as with libvirtd.
 *
 * The event handlers run in the monitor's event callback (proc->lock held)
 * and only choose what to do; the watcher thread does it right after, with
 * no lock held while a QMP command runs (qemu_process_priv.h). */
#include "qemu_lifecycle.h"
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COREDUMP_TIMEOUT_MS 600000

/* What the watcher does next (proc->lifecycle_action). */
enum {
    ACTION_NONE = 0,
    ACTION_RESTART_POWEROFF, /* on_poweroff restart */
    ACTION_RESTART_CRASH,    /* on_crash restart */
    ACTION_DUMP_RESTART,     /* on_crash coredump-restart */
    ACTION_DUMP_DESTROY,     /* on_crash coredump-destroy */
    ACTION_QUIT_REBOOT,      /* on_reboot destroy (a reboot became a shutdown) */
    ACTION_QUIT_CRASH,       /* on_crash destroy */
};

/* A command of a lifecycle action: failures go to the domain's log. */
static int run(TvQemuProcess *proc, TvQemuMonitor *mon, const char *what, int rc)
{
    if (rc < 0)
        tv_qemu_process_log_line(proc->log_path, "lifecycle action: %s failed: %s", what,
                                 tv_error_message());
    tv_error_reset();
    return rc;
}

/* Reset and continue the same QEMU.  The restart's own STOP and RESUME
 * are not state changes of their own: its RESUME is where the guest runs
 * again (qemu_process_state.c), so the state follows QEMU's events in the
 * order QEMU sent them, also when the guest powers off again before the
 * reply to 'cont' is read. */
static void fake_reboot(TvQemuProcess *proc, TvQemuMonitor *mon, const char *why)
{
    g_mutex_lock(&proc->lock);
    proc->fake_reboot = true;
    g_mutex_unlock(&proc->lock);
    int rc = run(proc, mon, "system_reset", tv_qemu_monitor_system_reset(mon));
    /* 'cont' right after the reset request may still find the old run state
     * ("Resetting the Virtual Machine is required"): QEMU resets from its
     * main loop */
    if (rc == 0) {
        for (int tries = 1;; tries++) {
            rc = tv_qemu_monitor_cont(mon);
            if (rc == 0 || tries == 50)
                break;
            tv_error_reset();
            g_usleep(20000);
        }
        run(proc, mon, "cont", rc);
    }
    g_mutex_lock(&proc->lock);
    if (rc < 0)
        proc->fake_reboot = false;
    else
        tv_qemu_process_log_line(proc->log_path, "%s: guest restarted in the same QEMU", why);
    g_mutex_unlock(&proc->lock);
}

/* QEMU stays after the event but the domain must shut off: quit it, with
 * the reason the shut-off will carry. */
static void quit(TvQemuProcess *proc, TvQemuMonitor *mon, int reason, const char *why)
{
    g_mutex_lock(&proc->lock);
    proc->lifecycle_reason = reason;
    g_mutex_unlock(&proc->lock);
    tv_qemu_process_log_line(proc->log_path, "%s: stopping QEMU", why);
    run(proc, mon, "quit", tv_qemu_monitor_quit(mon));
}

void tv_qemu_process_lifecycle_shutdown(TvQemuProcess *proc, TvQmpShutdownCause cause)
{
    const TvDomainDef *def = proc->def;
    if (!tv_qemu_lifecycle_no_shutdown(def))
        return; /* QEMU exits by itself: on_poweroff destroy */
    if (cause == TV_QMP_SHUTDOWN_CAUSE_GUEST_RESET) {
        /* -no-reboot made a reboot a shutdown: on_reboot='destroy' */
        proc->lifecycle_action = ACTION_QUIT_REBOOT;
        return;
    }
    switch (def->on_poweroff) {
    case TV_LIFECYCLE_RESTART:
        proc->lifecycle_action = ACTION_RESTART_POWEROFF;
        break;
    case TV_LIFECYCLE_PRESERVE:
        tv_qemu_process_log_line(proc->log_path,
                                 "guest powered off, on_poweroff preserve: QEMU kept");
        break;
    case TV_LIFECYCLE_DEFAULT:
    case TV_LIFECYCLE_DESTROY:
    case TV_LIFECYCLE_RENAME_RESTART:
    case TV_LIFECYCLE_COREDUMP_DESTROY:
    case TV_LIFECYCLE_COREDUMP_RESTART:
    case TV_LIFECYCLE_LAST:
        break;
    }
}

/* LOG_DIR/NAME-YYYYmmdd-HHMMSS.core (libvirt writes to its auto dump path).
 * The daemon makes the file (root's, 0600: it holds the guest's memory) and
 * hands QEMU the descriptor: QEMU's own user may not create files in the
 * log folder, and its sandbox opens nothing new. */
static void coredump(TvQemuProcess *proc, TvQemuMonitor *mon)
{
    g_autofree char *dir = g_path_get_dirname(proc->log_path);
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%d-%H%M%S");
    g_autofree char *path = g_strdup_printf("%s/%s-%s.core", dir, proc->name, stamp);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        tv_qemu_process_log_line(proc->log_path, "lifecycle action: cannot create %s: %s", path,
                                 g_strerror(errno));
        return;
    }
    int rc = run(proc, mon, "getfd", tv_qemu_monitor_getfd(mon, "tv-coredump", fd));
    if (rc == 0) {
        /* QEMU takes the named descriptor over when the dump starts */
        rc = run(proc, mon, "dump-guest-memory",
                 tv_qemu_monitor_dump_guest_memory(mon, "fd:tv-coredump", COREDUMP_TIMEOUT_MS));
        if (rc < 0) {
            tv_qemu_monitor_closefd(mon, "tv-coredump");
            tv_error_reset();
        }
    }
    if (rc == 0 && fsync(fd) < 0)
        rc = -1;
    close(fd);
    if (rc == 0)
        tv_qemu_process_log_line(proc->log_path, "guest panicked: memory dumped to %s", path);
    else
        unlink(path);
}

void tv_qemu_process_lifecycle_panic(TvQemuProcess *proc, const char *action)
{
    /* As libvirt: whatever on_crash says, the domain is crashed (panicked)
     * first, with its CRASHED event; the action follows. */
    if (proc->state != TV_DOMAIN_STATE_CRASHED)
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_CRASHED, TV_DOMAIN_CRASHED_PANICKED);
    /* "pause": QEMU waits for us (-action panic=pause or -no-shutdown);
     * "poweroff": it is exiting by itself and the shut-off says crashed */
    if (g_strcmp0(action, "pause") != 0)
        return;
    switch (proc->def->on_crash) {
    case TV_LIFECYCLE_RESTART:
        proc->lifecycle_action = ACTION_RESTART_CRASH;
        break;
    case TV_LIFECYCLE_PRESERVE:
        tv_qemu_process_log_line(proc->log_path,
                                 "guest panicked, on_crash preserve: QEMU kept, vCPUs stopped");
        break;
    case TV_LIFECYCLE_COREDUMP_RESTART:
        proc->lifecycle_action = ACTION_DUMP_RESTART;
        break;
    case TV_LIFECYCLE_COREDUMP_DESTROY:
        proc->lifecycle_action = ACTION_DUMP_DESTROY;
        break;
    case TV_LIFECYCLE_DEFAULT:
    case TV_LIFECYCLE_DESTROY:
    case TV_LIFECYCLE_RENAME_RESTART:
    case TV_LIFECYCLE_LAST:
        proc->lifecycle_action = ACTION_QUIT_CRASH;
        break;
    }
}

bool tv_qemu_process_lifecycle_pending(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    bool pending = proc->lifecycle_action != ACTION_NONE && !proc->exited;
    g_mutex_unlock(&proc->lock);
    return pending;
}

void tv_qemu_process_lifecycle_run(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    int action = proc->lifecycle_action;
    proc->lifecycle_action = ACTION_NONE;
    TvQemuMonitor *mon =
        action && !proc->exited && proc->mon ? tv_qemu_monitor_ref(proc->mon) : NULL;
    g_mutex_unlock(&proc->lock);
    if (!mon)
        return;
    switch (action) {
    case ACTION_RESTART_POWEROFF:
        fake_reboot(proc, mon, "guest powered off, on_poweroff restart");
        break;
    case ACTION_RESTART_CRASH:
        fake_reboot(proc, mon, "guest panicked, on_crash restart");
        break;
    case ACTION_DUMP_RESTART:
        coredump(proc, mon);
        fake_reboot(proc, mon, "guest panicked, on_crash coredump-restart");
        break;
    case ACTION_DUMP_DESTROY:
        coredump(proc, mon);
        quit(proc, mon, TV_DOMAIN_SHUTOFF_CRASHED, "guest panicked, on_crash coredump-destroy");
        break;
    case ACTION_QUIT_REBOOT:
        quit(proc, mon, TV_DOMAIN_SHUTOFF_SHUTDOWN, "guest rebooted, on_reboot destroy");
        break;
    case ACTION_QUIT_CRASH:
        quit(proc, mon, TV_DOMAIN_SHUTOFF_CRASHED, "guest panicked, on_crash destroy");
        break;
    }
    tv_qemu_monitor_free(mon);
}

int tv_qemu_process_apply_balloon(TvQemuProcess *proc)
{
    const TvDomainDef *def = proc->def;
    if (def->devices.memballoon != TV_BALLOON_MODEL_VIRTIO || !def->current_memory_kib ||
        def->current_memory_kib >= def->memory_kib)
        return 0;
    if (tv_qemu_monitor_balloon(proc->mon, def->current_memory_kib * 1024) < 0) {
        tv_error_prefix("cannot set the balloon to /domain/currentMemory (%llu KiB)",
                        def->current_memory_kib);
        return -1;
    }
    return 0;
}
