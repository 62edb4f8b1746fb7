/* The reaper: one thread that drops the runs whose QEMU went away and
 * starts again the ones that rebooted (on_reboot=restart). */
#include "qemu_driver_priv.h"
#include "tv_error.h"

/* Reboot: start again what just powered off. */
static void restart(TvQemuDriver *drv, TvDriverRun *old)
{
    TvDriverDomain *dom = old->dom;
    if (tv_driver_begin_inactive_job(dom, "reboot (start again)") < 0) {
        tv_error_reset();
        return;
    }
    TvDomainDef *def = g_steal_pointer(&old->def); /* transient: what it ran */
    bool had_tpm = def && def->devices.tpm;
    if (tv_driver_start_in_job(drv, dom, def, 0) < 0) {
        g_warning("QEMU driver: reboot of '%s': %s", dom->name, tv_error_message());
        tv_error_reset();
        g_mutex_lock(&drv->lock);
        g_mutex_lock(&dom->lock);
        bool transient = !dom->def;
        g_mutex_unlock(&dom->lock);
        if (transient) {
            tv_driver_list_remove_locked(drv, dom);
            tv_driver_tpm_transient_ended(drv, dom, had_tpm);
        }
        g_mutex_unlock(&drv->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
}

static void reaper_task(gpointer data, gpointer user)
{
    TvDriverReapTask *task = data;
    TvQemuDriver *drv = user;
    g_mutex_lock(&drv->lock);
    bool closing = drv->closing;
    g_mutex_unlock(&drv->lock);
    if (task->restart && !closing)
        restart(drv, task->run);
    tv_driver_run_unref(task->run); /* joins the run's watcher */
    g_free(task);
}

int tv_driver_reaper_init(TvQemuDriver *drv)
{
    g_autoptr(GError) err = NULL;
    drv->reaper = g_thread_pool_new(reaper_task, drv, 1, FALSE, &err);
    if (!drv->reaper) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "cannot start a thread: %s",
                        err->message);
        return -1;
    }
    return 0;
}

void tv_driver_reaper_shutdown(TvQemuDriver *drv)
{
    g_mutex_lock(&drv->lock);
    drv->closing = true;
    GThreadPool *pool = g_steal_pointer(&drv->reaper);
    g_mutex_unlock(&drv->lock);
    if (pool)
        g_thread_pool_free(pool, FALSE, TRUE); /* runs what is queued */
}

void tv_driver_reaper_free_orphans(TvQemuDriver *drv)
{
    g_mutex_lock(&drv->lock);
    GList *orphans = g_steal_pointer(&drv->orphans);
    g_mutex_unlock(&drv->lock);
    for (GList *it = orphans; it; it = it->next) {
        TvDriverReapTask *task = it->data;
        tv_driver_run_unref(task->run);
        g_free(task);
    }
    g_list_free(orphans);
}
