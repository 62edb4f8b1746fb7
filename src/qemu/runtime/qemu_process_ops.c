/* Operations on a running QEMU: power off, destroy, suspend, resume, wait,
 * and the getters.  Every one is safe from any thread. */
#include "qemu_process_priv.h"
#include "tv_error.h"
#include "tv_process.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

/* SIGTERM lets QEMU flush writable disks; it exits 10-15 ms later when
 * healthy (SIGKILL: 5-10 ms, the time to unmap guest RAM).  libvirt waits
 * 200 ms before SIGKILL, which makes every destroy slow. */
#define DESTROY_TERM_WAIT_MS 25
#define DESTROY_KILL_WAIT_MS 10000

static int not_running(TvQemuProcess *proc)
{
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                    proc->name);
    return -1;
}

/* Wait (proc->lock held) until exited or deadline; true when exited. */
static bool wait_exited_locked(TvQemuProcess *proc, gint64 deadline)
{
    while (!proc->exited) {
        if (deadline == 0) {
            g_cond_wait(&proc->cond, &proc->lock);
        } else if (!g_cond_wait_until(&proc->cond, &proc->lock, deadline)) {
            return proc->exited;
        }
    }
    return true;
}

TvQemuMonitor *tv_qemu_process_monitor(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    TvQemuMonitor *mon = !proc->exited && proc->mon ? tv_qemu_monitor_ref(proc->mon) : NULL;
    g_mutex_unlock(&proc->lock);
    /* EOF or a protocol error: QEMU is going away (the pidfd will say when) */
    if (!mon || tv_qemu_monitor_is_closed(mon)) {
        tv_qemu_monitor_free(mon);
        not_running(proc);
        return NULL;
    }
    return mon;
}

/* Run one QMP command that returns nothing of interest. */
static int run_command(TvQemuProcess *proc, int (*command)(TvQemuMonitor *mon))
{
    TvQemuMonitor *mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    int rc = command(mon);
    tv_qemu_monitor_free(mon);
    if (rc < 0)
        tv_error_prefix("domain '%s'", proc->name);
    return rc;
}

int tv_qemu_process_with_monitor(TvQemuProcess *proc, int (*fn)(TvQemuMonitor *mon, void *opaque),
                                 void *opaque)
{
    g_mutex_lock(&proc->lock);
    TvQemuMonitor *mon = !proc->exited && proc->mon ? tv_qemu_monitor_ref(proc->mon) : NULL;
    g_mutex_unlock(&proc->lock);
    if (!mon || tv_qemu_monitor_is_closed(mon)) {
        tv_qemu_monitor_free(mon);
        return not_running(proc);
    }
    int rc = fn(mon, opaque);
    tv_qemu_monitor_free(mon);
    if (rc < 0)
        tv_error_prefix("domain '%s'", proc->name);
    return rc;
}

void tv_qemu_process_read_def(TvQemuProcess *proc, void (*fn)(const TvDomainDef *def, void *opaque),
                              void *opaque)
{
    g_mutex_lock(&proc->lock);
    fn(proc->def, opaque);
    g_mutex_unlock(&proc->lock);
}

int tv_qemu_process_update_def(TvQemuProcess *proc, int (*fn)(TvDomainDef *def, void *opaque),
                               void *opaque)
{
    g_mutex_lock(&proc->lock);
    int rc = proc->exited ? not_running(proc) : fn(proc->def, opaque);
    if (rc == 0 && tv_qemu_process_write_status(proc) < 0) {
        /* the guest has the change already: keep it, say the file is behind */
        g_warning("%s: the status file keeps the old definition: %s", proc->name,
                  tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    return rc;
}

int tv_qemu_process_shutdown(TvQemuProcess *proc)
{
    int rc = run_command(proc, tv_qemu_monitor_system_powerdown);
    tv_qemu_process_flush_callbacks(proc);
    return rc;
}

static int send_signal(TvQemuProcess *proc, int sig)
{
    /* under proc->lock: once exited (reaped) the pid may be someone else's */
    if (proc->exited)
        return 0;
    int rc = tv_pidfd_send_signal(proc->pidfd, sig);
    if (sig == SIGKILL && proc->is_child)
        kill(-proc->pid, SIGKILL); /* helpers in its group: a zombie leader keeps the id ours */
    return rc;
}

static bool has_writable_disk(const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        if (!def->devices.disks[i]->readonly)
            return true;
    }
    return false;
}

int tv_qemu_process_destroy(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    if (proc->exited) {
        g_mutex_unlock(&proc->lock);
        return not_running(proc);
    }
    proc->destroy_requested = true;
    /* without writable disks QEMU has nothing to flush: kill at once */
    bool term = has_writable_disk(proc->def);
    send_signal(proc, term ? SIGTERM : SIGKILL);
    if (!term || !wait_exited_locked(proc, g_get_monotonic_time() + DESTROY_TERM_WAIT_MS * 1000)) {
        send_signal(proc, SIGKILL);
        wait_exited_locked(proc, g_get_monotonic_time() + DESTROY_KILL_WAIT_MS * 1000);
    }
    bool gone = proc->exited;
    g_mutex_unlock(&proc->lock);
    tv_qemu_process_flush_callbacks(proc);
    if (!gone) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                        "QEMU pid %d of domain '%s' did not die within %d ms of SIGKILL",
                        (int)proc->pid, proc->name, DESTROY_KILL_WAIT_MS);
        return -1;
    }
    return 0;
}

int tv_qemu_process_stop(TvQemuProcess *proc, unsigned timeout_ms)
{
    if (!tv_qemu_process_is_active(proc))
        return not_running(proc);
    if (tv_qemu_process_shutdown(proc) == 0 && tv_qemu_process_wait(proc, timeout_ms) == 0)
        return 0;
    tv_error_reset();
    if (!tv_qemu_process_is_active(proc))
        return 0;
    return tv_qemu_process_destroy(proc);
}

int tv_qemu_process_suspend(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    proc->pausing = true;
    g_mutex_unlock(&proc->lock);
    int rc = run_command(proc, tv_qemu_monitor_stop);
    g_mutex_lock(&proc->lock);
    proc->pausing = false;
    /* also a guest another cause paused (an incoming migration): the user's
     * now; paused while its outgoing migration runs, it is the migration's
     * (libvirt says "paused (migrating)"; a failed copy runs it again) */
    int reason = tv_qemu_process_user_pause_reason(proc);
    if (rc == 0 && !proc->exited &&
        (proc->state != TV_DOMAIN_STATE_PAUSED || proc->reason != reason))
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_PAUSED, reason);
    g_mutex_unlock(&proc->lock);
    tv_qemu_process_flush_callbacks(proc);
    return rc;
}

int tv_qemu_process_resume_as(TvQemuProcess *proc, int reason)
{
    g_mutex_lock(&proc->lock);
    proc->resume_reason = reason; /* for the RESUME event, which may come first */
    g_mutex_unlock(&proc->lock);
    int rc = run_command(proc, tv_qemu_monitor_cont);
    g_mutex_lock(&proc->lock);
    if (rc == 0 && !proc->exited && proc->state != TV_DOMAIN_STATE_RUNNING)
        tv_qemu_process_set_state(proc, TV_DOMAIN_STATE_RUNNING, reason);
    proc->resume_reason = 0;
    g_mutex_unlock(&proc->lock);
    tv_qemu_process_flush_callbacks(proc);
    return rc;
}

int tv_qemu_process_resume(TvQemuProcess *proc)
{
    return tv_qemu_process_resume_as(proc, TV_DOMAIN_RUNNING_UNPAUSED);
}

void tv_qemu_process_set_outgoing(TvQemuProcess *proc, int paused_reason)
{
    g_mutex_lock(&proc->lock);
    proc->outgoing_reason = paused_reason;
    g_mutex_unlock(&proc->lock);
    if (!paused_reason)
        tv_qemu_process_release_outgoing_fd(proc);
}

int tv_qemu_process_destroy_as(TvQemuProcess *proc, int reason)
{
    g_mutex_lock(&proc->lock);
    if (!proc->exited)
        proc->lifecycle_reason = reason; /* the shut-off reason of this exit */
    g_mutex_unlock(&proc->lock);
    return tv_qemu_process_destroy(proc);
}

int tv_qemu_process_wait(TvQemuProcess *proc, unsigned timeout_ms)
{
    g_mutex_lock(&proc->lock);
    bool gone = wait_exited_locked(
        proc, timeout_ms ? g_get_monotonic_time() + (gint64)timeout_ms * 1000 : 0);
    g_mutex_unlock(&proc->lock);
    if (!gone) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                        "domain '%s' still running after %u ms", proc->name, timeout_ms);
        return -1;
    }
    tv_qemu_process_flush_callbacks(proc);
    return 0;
}

void tv_qemu_process_get_state(TvQemuProcess *proc, int *state, int *reason)
{
    g_mutex_lock(&proc->lock);
    if (state)
        *state = proc->state;
    if (reason)
        *reason = proc->reason;
    g_mutex_unlock(&proc->lock);
}

bool tv_qemu_process_is_active(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    bool active = !proc->exited;
    g_mutex_unlock(&proc->lock);
    return active;
}

pid_t tv_qemu_process_pid(TvQemuProcess *proc)
{
    return proc->pid;
}

const char *tv_qemu_process_name(TvQemuProcess *proc)
{
    return proc->name;
}

char *tv_qemu_process_exit_description(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    char *s = tv_qemu_process_exit_description_locked(proc);
    g_mutex_unlock(&proc->lock);
    return s;
}

int tv_qemu_process_set_id(TvQemuProcess *proc, int id)
{
    g_mutex_lock(&proc->lock);
    int rc = 0;
    if (proc->def->id != id) {
        proc->def->id = id;
        rc = proc->exited ? 0 : tv_qemu_process_write_status(proc);
    }
    g_mutex_unlock(&proc->lock);
    return rc;
}

char *tv_qemu_process_format_xml(TvQemuProcess *proc, unsigned format_flags)
{
    g_mutex_lock(&proc->lock);
    char *xml = tv_domain_def_format(proc->def, format_flags);
    g_mutex_unlock(&proc->lock);
    return xml;
}

TvDomainDef *tv_qemu_process_copy_def(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    TvDomainDef *copy = tv_domain_def_copy(proc->def);
    g_mutex_unlock(&proc->lock);
    return copy;
}

int tv_qemu_process_steal_console(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->lock);
    int fd = proc->console_fd;
    proc->console_fd = -1;
    g_mutex_unlock(&proc->lock);
    return fd;
}

char *tv_qemu_process_log_tail(TvQemuProcess *proc, size_t max_bytes)
{
    return tv_qemu_process_read_log_tail(proc->log_path, proc->log_offset, max_bytes);
}
