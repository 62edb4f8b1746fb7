/* Migrations whose caller went away (docs/migration.rst, "Nothing lost"):
 * the connection that prepared an incoming migration closed before Finish,
 * or one that performs a client-managed migration closed before Confirm;
 * and incoming migrations that never receive a stream.  The work that
 * waits for QEMU runs on the driver's own threads, never on the daemon's
 * main loop that reports the closed connection. */
#include "qemu_driver_priv.h"
#include "tv_error.h"

typedef struct {
    guint64 caller; /* stop the incoming migrations of this connection */
    guint64 serial; /* or watch the expiry of this incoming migration */
} Work;

static void work_run(gpointer data, gpointer user)
{
    Work *w = data;
    TvQemuDriver *drv = user;
    if (w->caller)
        tv_driver_incoming_stop_caller(drv, w->caller);
    else
        tv_driver_incoming_expiry(drv, w->serial);
    g_free(w);
}

int tv_driver_migration_work_init(TvQemuDriver *drv)
{
    g_autoptr(GError) err = NULL;
    /* not bounded: every expiry waits on its own thread */
    drv->migration_work = g_thread_pool_new(work_run, drv, -1, FALSE, &err);
    if (!drv->migration_work) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "cannot start a thread: %s",
                        err->message);
        return -1;
    }
    return 0;
}

void tv_driver_migration_work_shutdown(TvQemuDriver *drv)
{
    g_mutex_lock(&drv->lock);
    drv->closing = true;
    GThreadPool *pool = g_steal_pointer(&drv->migration_work);
    g_cond_broadcast(&drv->incoming_cond); /* the expiries return */
    g_mutex_unlock(&drv->lock);
    if (pool)
        g_thread_pool_free(pool, FALSE, TRUE);
}

bool tv_driver_migration_work_push(TvQemuDriver *drv, guint64 caller, guint64 serial)
{
    Work *w = g_new0(Work, 1);
    w->caller = caller;
    w->serial = serial;
    g_mutex_lock(&drv->lock);
    bool pushed =
        drv->migration_work && !drv->closing && g_thread_pool_push(drv->migration_work, w, NULL);
    g_mutex_unlock(&drv->lock);
    if (!pushed)
        g_free(w);
    return pushed;
}

void tv_qemu_driver_migrate_caller_gone(TvQemuDriver *drv, guint64 caller)
{
    if (!caller)
        return;
    tv_driver_outgoing_caller_gone(drv, caller);
    g_mutex_lock(&drv->lock);
    unsigned n = tv_driver_incoming_count_locked(drv, caller);
    g_mutex_unlock(&drv->lock);
    /* closing: the next start's reconnect stops them (qemu_driver_migrate_recover.c) */
    if (n && !tv_driver_migration_work_push(drv, caller, 0))
        g_message("migration: the connection that prepared %u incoming migration(s) closed "
                  "while tagvirtd stops: their QEMUs are stopped at the next start",
                  n);
}
