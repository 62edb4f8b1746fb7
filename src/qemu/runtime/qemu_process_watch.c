/* The watcher thread of one QEMU: its pidfd (works for children and, after
 * a reconnect, for processes we did not start) and its monitor events. */
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PUMP_NO_SUCH_EVENT "__tagvirt_pump__"

/* Read whatever the monitor has (events get queued), without waiting. */
static void pump_monitor(TvQemuProcess *proc)
{
    g_mutex_lock(&proc->mon_lock);
    if (proc->mon && !proc->mon_dead) {
        /* waiting 0 ms for an event that never comes reads all that is there */
        if (tv_qemu_monitor_wait_event(proc->mon, PUMP_NO_SUCH_EVENT, 0, NULL) < 0 &&
            tv_error_code() != TV_ERR_OPERATION_TIMEOUT)
            proc->mon_dead = true; /* EOF: QEMU is going away; the pidfd will say when */
        tv_error_reset();
    }
    tv_qemu_process_drain_events(proc);
    g_mutex_unlock(&proc->mon_lock);
}

static gpointer watch_thread(gpointer data)
{
    TvQemuProcess *proc = data;
    for (;;) {
        struct pollfd fds[3] = {
            { .fd = proc->wake_fd, .events = POLLIN },
            { .fd = proc->pidfd, .events = POLLIN },
            { .fd = -1, .events = POLLIN },
        };
        /* only this thread frees the monitor, so reading the pointer is safe */
        if (proc->mon && !proc->mon_dead)
            fds[2].fd = tv_qemu_monitor_read_fd(proc->mon);
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            g_warning("%s: poll: %s", proc->name, g_strerror(errno));
            break;
        }
        if (fds[0].revents) {
            uint64_t n;
            (void)!read(proc->wake_fd, &n, sizeof(n));
            g_mutex_lock(&proc->lock);
            bool quit = proc->quit;
            g_mutex_unlock(&proc->lock);
            if (quit)
                break;
        }
        if (fds[2].revents)
            pump_monitor(proc);
        if (fds[1].revents) {
            pump_monitor(proc); /* the last events say why it went */
            g_mutex_lock(&proc->mon_lock);
            g_mutex_lock(&proc->lock);
            tv_qemu_process_handle_exit(proc);
            g_mutex_unlock(&proc->lock);
            g_mutex_unlock(&proc->mon_lock);
            tv_qemu_process_flush_callbacks(proc);
            break;
        }
        tv_qemu_process_flush_callbacks(proc);
    }
    g_mutex_lock(&proc->mon_lock);
    g_clear_pointer(&proc->mon, tv_qemu_monitor_free);
    g_mutex_unlock(&proc->mon_lock);
    return NULL;
}

int tv_qemu_process_watch_start(TvQemuProcess *proc)
{
    proc->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (proc->wake_fd < 0) {
        tv_error_report_errno(TV_FROM_QEMU, errno, "cannot create an eventfd");
        return -1;
    }
    g_autofree char *name = g_strdup_printf("qemu-watch-%d", (int)proc->pid);
    g_autoptr(GError) err = NULL;
    proc->watcher = g_thread_try_new(name, watch_thread, proc, &err);
    if (!proc->watcher) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "cannot start a watcher thread: %s",
                        err->message);
        return -1;
    }
    return 0;
}

void tv_qemu_process_watch_stop(TvQemuProcess *proc)
{
    if (!proc->watcher)
        return;
    g_mutex_lock(&proc->lock);
    proc->quit = true;
    g_mutex_unlock(&proc->lock);
    uint64_t one = 1;
    (void)!write(proc->wake_fd, &one, sizeof(one));
    g_thread_join(g_steal_pointer(&proc->watcher));
}
