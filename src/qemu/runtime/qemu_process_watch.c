/* The watcher thread of one QEMU: its pidfd (works for children and, after
 * a reconnect, for processes we did not start) and its monitor events. */
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* The monitor's events, on whichever thread read them (no lock held). */
static void on_event(TvQemuMonitor *mon, const TvQemuEvent *ev, void *opaque)
{
    (void)mon;
    TvQemuProcess *proc = opaque;
    g_mutex_lock(&proc->lock);
    tv_qemu_process_handle_event(proc, ev);
    g_mutex_unlock(&proc->lock);
}

/* Read what the monitor has, without waiting: events go to on_event,
 * replies to the threads waiting for them. */
static void dispatch_monitor(TvQemuProcess *proc)
{
    /* EOF: QEMU is going away; the pidfd will say when (the fd is then -1) */
    if (tv_qemu_monitor_dispatch(proc->mon) < 0)
        tv_error_reset();
}

static gpointer watch_thread(gpointer data)
{
    TvQemuProcess *proc = data;
    for (;;) {
        /* What an event asked for (on_poweroff restart, ...), with no
         * callback running: its commands are read by this thread.  Events
         * read while they run (another power-off right after the restart's
         * 'cont', in the same read as its reply), or before this thread
         * started (a guest that powered off during the start), may choose
         * the next action: it is carried out on the next turn, without
         * waiting for more input from QEMU. */
        tv_qemu_process_lifecycle_run(proc);
        tv_qemu_process_flush_callbacks(proc);
        struct pollfd fds[3] = {
            { .fd = proc->wake_fd, .events = POLLIN },
            { .fd = proc->pidfd, .events = POLLIN },
            { .fd = -1, .events = POLLIN },
        };
        /* only this thread clears the pointer, so reading it is safe */
        if (proc->mon)
            fds[2].fd = tv_qemu_monitor_fd(proc->mon);
        if (poll(fds, 3, tv_qemu_process_lifecycle_pending(proc) ? 0 : -1) < 0) {
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
        if (fds[2].revents && proc->mon)
            dispatch_monitor(proc);
        if (fds[1].revents) {
            if (proc->mon)
                dispatch_monitor(proc); /* the last events say why it went */
            g_mutex_lock(&proc->lock);
            tv_qemu_process_handle_exit(proc);
            g_mutex_unlock(&proc->lock);
            tv_qemu_process_flush_callbacks(proc);
            break;
        }
    }
    g_mutex_lock(&proc->lock);
    TvQemuMonitor *mon = g_steal_pointer(&proc->mon);
    g_mutex_unlock(&proc->lock);
    if (mon) {
        /* commands still waiting give up: nobody reads for them any more */
        tv_qemu_monitor_set_io_thread(mon, NULL);
        tv_qemu_monitor_close(mon);
        tv_qemu_monitor_free(mon);
    }
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
    /* events read during start-up were kept: they are handled here */
    tv_qemu_monitor_set_event_callback(proc->mon, on_event, proc);
    /* the watcher reads from now on; the thread is running before it polls */
    g_mutex_lock(&proc->lock);
    proc->watcher = g_thread_try_new(name, watch_thread, proc, &err);
    if (proc->watcher)
        tv_qemu_monitor_set_io_thread(proc->mon, proc->watcher);
    g_mutex_unlock(&proc->lock);
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
