/* Domain state: QMP events -> state, QEMU's exit -> shut off with a
 * reason, and the state-change callback. */
#include "qemu_process_priv.h"
#include "qemu_security_dac.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

int tv_qemu_process_write_status(TvQemuProcess *proc)
{
    TvQemuStatus st = {
        .state = proc->state,
        .reason = proc->reason,
        .pid = proc->pid,
        .start_time = proc->start_time,
        .monitor_path = proc->monitor_path,
        .log_path = proc->log_path,
        .fingerprint = proc->fingerprint,
        .console_path = proc->console_path,
        .def = proc->def,
    };
    return tv_qemu_status_write(proc->status_path, &st);
}

int tv_qemu_process_user_pause_reason(const TvQemuProcess *proc)
{
    return proc->outgoing_reason == TV_DOMAIN_PAUSED_MIGRATION ? TV_DOMAIN_PAUSED_MIGRATION
                                                               : TV_DOMAIN_PAUSED_USER;
}

void tv_qemu_process_set_state(TvQemuProcess *proc, int state, int reason)
{
    if (proc->state == state && proc->reason == reason)
        return;
    proc->state = state;
    proc->reason = reason;
    int pair[2] = { state, reason };
    g_array_append_vals(proc->pending, pair, 2);
    if (!proc->exited && state != TV_DOMAIN_STATE_SHUTOFF) {
        /* the status file follows the state; a failed write keeps the old one */
        TvError *saved = tv_error_steal();
        if (tv_qemu_process_write_status(proc) < 0)
            g_warning("%s: %s", proc->name, tv_error_message());
        tv_error_restore(saved);
    }
    g_cond_broadcast(&proc->cond);
}

void tv_qemu_process_handle_event(TvQemuProcess *proc, const TvQemuEvent *ev)
{
    if (proc->exited)
        return;
    if (proc->event_cb) {
        g_ptr_array_add(proc->pending_events, tv_qemu_event_copy(ev)); /* after the state below */
        proc->events_queued++;
        if (ev->type == TV_QEMU_EVENT_WATCHDOG) {
            /* but before what the watchdog's action changes (paused, shut
             * off), as libvirt orders them */
            int mark[2] = { -1, (int)proc->events_queued };
            g_array_append_vals(proc->pending, mark, 2);
        }
    }
    switch (ev->type) {
    case TV_QEMU_EVENT_STOP: {
        if (proc->state != TV_DOMAIN_STATE_RUNNING || proc->fake_reboot)
            return;
        int reason = proc->pausing           ? tv_qemu_process_user_pause_reason(proc)
                     : proc->outgoing_reason ? proc->outgoing_reason
                     : proc->shutdown_event  ? TV_DOMAIN_PAUSED_SHUTTING_DOWN
                                             : TV_DOMAIN_PAUSED_UNKNOWN;
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_PAUSED, reason);
        break;
    }
    case TV_QEMU_EVENT_RESUME:
        if (proc->fake_reboot) {
            /* the restart's own 'cont': the guest runs again from here */
            proc->fake_reboot = false;
            proc->shutdown_event = false;
            proc->shutdown_cause = TV_QMP_SHUTDOWN_CAUSE_UNKNOWN;
            proc->guest_panicked = false;
            tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_RUNNING,
                                      proc->state == TV_DOMAIN_STATE_CRASHED
                                          ? TV_DOMAIN_RUNNING_CRASHED
                                          : TV_DOMAIN_RUNNING_BOOTED);
            return;
        }
        if (proc->state == TV_DOMAIN_STATE_PAUSED) {
            /* nobody of ours resumed it: QEMU runs a guest again itself when
             * an outgoing migration that had paused it fails */
            int reason = proc->resume_reason ? proc->resume_reason
                         : proc->reason == TV_DOMAIN_PAUSED_MIGRATION
                             ? TV_DOMAIN_RUNNING_MIGRATION_CANCELED
                             : TV_DOMAIN_RUNNING_UNPAUSED;
            tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_RUNNING, reason);
        }
        break;
    case TV_QEMU_EVENT_SHUTDOWN:
        proc->shutdown_event = true;
        proc->shutdown_cause = ev->shutdown.reason;
        if (proc->destroy_requested || proc->state == TV_DOMAIN_STATE_CRASHED)
            return; /* our own SIGTERM, or QEMU ending after a panic: shut off next */
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_SHUTDOWN,
                                  ev->shutdown.guest ? TV_DOMAIN_SHUTDOWN_USER
                                                     : TV_DOMAIN_SHUTDOWN_UNKNOWN);
        if (ev->shutdown.guest)
            tv_qemu_process_lifecycle_shutdown(proc, ev->shutdown.reason);
        break;
    case TV_QEMU_EVENT_GUEST_PANICKED:
        proc->guest_panicked = true;
        tv_qemu_process_lifecycle_panic(proc, ev->panic.action);
        break;
    case TV_QEMU_EVENT_BALLOON_CHANGE:
        if (ev->balloon_actual > 0 && proc->def)
            proc->def->current_memory_kib = ev->balloon_actual / 1024;
        break;
    case TV_QEMU_EVENT_DEVICE_DELETED:
        tv_qemu_process_hotplug_event(proc, ev);
        break;
    case TV_QEMU_EVENT_WATCHDOG:
        /* QEMU sends WATCHDOG before it stops the vCPUs for action 'pause':
         * the STOP that follows finds the guest paused already (libvirt's
         * reason 'watchdog').  For 'poweroff' QEMU exits (status 0) with no
         * SHUTDOWN event, which libvirt reports as 'shut off (crashed)'.
         * reset: a RESET follows; none, inject-nmi: nothing changes. */
        if (g_strcmp0(ev->watchdog_action, "pause") == 0 &&
            proc->state == TV_DOMAIN_STATE_RUNNING && !proc->fake_reboot)
            tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_WATCHDOG);
        else if (g_strcmp0(ev->watchdog_action, "poweroff") == 0 && !proc->lifecycle_reason)
            proc->lifecycle_reason = TV_DOMAIN_SHUTOFF_CRASHED;
        break;
    case TV_QEMU_EVENT_OTHER:
    case TV_QEMU_EVENT_POWERDOWN:
    case TV_QEMU_EVENT_RESET:
    case TV_QEMU_EVENT_SUSPEND:
    case TV_QEMU_EVENT_WAKEUP:
    case TV_QEMU_EVENT_MIGRATION:
    case TV_QEMU_EVENT_MIGRATION_PASS:
    case TV_QEMU_EVENT_LAST:
        break;
    }
}

/* Why QEMU went away, in libvirt's shut-off reasons. */
static int exit_reason(TvQemuProcess *proc)
{
    if (proc->lifecycle_reason)
        return proc->lifecycle_reason;
    if (proc->destroy_requested)
        return TV_DOMAIN_SHUTOFF_DESTROYED;
    if (proc->guest_panicked)
        return TV_DOMAIN_SHUTOFF_CRASHED;
    if (proc->shutdown_event) {
        if (tv_qmp_shutdown_cause_is_host(proc->shutdown_cause))
            return TV_DOMAIN_SHUTOFF_DESTROYED; /* signal, QMP quit, UI */
        if (proc->shutdown_cause == TV_QMP_SHUTDOWN_CAUSE_GUEST_PANIC)
            return TV_DOMAIN_SHUTOFF_CRASHED;
        return TV_DOMAIN_SHUTOFF_SHUTDOWN;
    }
    /* no SHUTDOWN event: QEMU died (signal, error exit) or the status is unknown */
    if (proc->exit_status_known && WIFEXITED(proc->exit_status) &&
        WEXITSTATUS(proc->exit_status) == 0)
        return TV_DOMAIN_SHUTOFF_SHUTDOWN;
    return TV_DOMAIN_SHUTOFF_CRASHED;
}

void tv_qemu_process_handle_exit(TvQemuProcess *proc)
{
    if (proc->exited)
        return;
    if (proc->is_child) {
        int status = 0;
        pid_t r;
        while ((r = waitpid(proc->pid, &status, 0)) < 0 && errno == EINTR)
            ;
        if (r == proc->pid) {
            proc->exit_status = status;
            proc->exit_status_known = true;
        }
        tv_qemu_process_reap_group(proc->pid);
    }
    proc->exited = true;
    int reason = exit_reason(proc);
    tv_file_remove(proc->status_path);
    tv_file_remove(proc->monitor_path);
    tv_qemu_process_remove_channels(proc->def);
    tv_qemu_process_release_security(proc);
    g_autofree char *how = tv_qemu_process_exit_description_locked(proc);
    tv_qemu_process_log_line(proc->log_path, "QEMU %s; domain shut off (%s)", how,
                             tv_domain_reason_to_string(TV_DOMAIN_STATE_SHUTOFF, reason));
    tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_SHUTOFF, reason);
}

char *tv_qemu_process_exit_description_locked(TvQemuProcess *proc)
{
    if (!proc->exited)
        return NULL;
    if (!proc->exit_status_known)
        return g_strdup("exited (not our child: status unknown)");
    int status = proc->exit_status;
    if (WIFEXITED(status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return g_strdup_printf("killed by signal %d (%s)", WTERMSIG(status),
                               strsignal(WTERMSIG(status)));
    return g_strdup_printf("ended with wait status 0x%x", (unsigned)status);
}

/* Give event_cb the pending events, up to the upto'th ever queued (0: all). */
static void flush_events(TvQemuProcess *proc, guint64 upto)
{
    for (;;) {
        g_mutex_lock(&proc->lock);
        g_autoptr(TvQemuEvent) ev = NULL;
        if (proc->pending_events->len && (!upto || proc->events_given < upto)) {
            ev = g_ptr_array_steal_index(proc->pending_events, 0);
            proc->events_given++;
        }
        g_mutex_unlock(&proc->lock);
        if (!ev)
            break;
        proc->event_cb(proc, ev, proc->event_opaque);
    }
}

void tv_qemu_process_flush_callbacks(TvQemuProcess *proc)
{
    /* recursive: a callback may call back into the process (suspend, resume) */
    g_rec_mutex_lock(&proc->cb_lock);
    for (;;) {
        g_mutex_lock(&proc->lock);
        if (proc->pending->len == 0) {
            g_mutex_unlock(&proc->lock);
            break;
        }
        int state = g_array_index(proc->pending, int, 0);
        int reason = g_array_index(proc->pending, int, 1);
        g_array_remove_range(proc->pending, 0, 2);
        g_mutex_unlock(&proc->lock);
        if (state < 0)
            flush_events(proc, (guint64)reason); /* a WATCHDOG's mark */
        else if (proc->cb)
            proc->cb(proc, state, reason, proc->cb_opaque);
    }
    flush_events(proc, 0);
    g_rec_mutex_unlock(&proc->cb_lock);
}
