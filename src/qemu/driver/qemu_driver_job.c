/* Jobs of a domain: the synchronous job that changes it, queries beside it,
 * the asynchronous job and what it allows; see qemu_driver_job.h. */
#include "qemu_driver_job.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

/* libvirt waits 30 s for a domain's job before giving up. */
#define JOB_WAIT_DEFAULT_MS 30000

static const char *const sync_names[TV_JOB_SYNC_LAST] = {
    [TV_JOB_SYNC_NONE] = "none",
    [TV_JOB_SYNC_QUERY] = "query",
    [TV_JOB_SYNC_DESTROY] = "destroy",
    [TV_JOB_SYNC_SUSPEND] = "suspend",
    [TV_JOB_SYNC_MODIFY] = "modify",
    [TV_JOB_SYNC_ABORT] = "abort",
    [TV_JOB_SYNC_MIGRATION_OP] = "migration operation",
    [TV_JOB_SYNC_NESTED] = "async nested",
};

static const char *const async_names[TV_JOB_ASYNC_LAST] = {
    [TV_JOB_ASYNC_NONE] = "none",
    [TV_JOB_ASYNC_MIGRATION_OUT] = "migration out",
    [TV_JOB_ASYNC_MIGRATION_IN] = "migration in",
    [TV_JOB_ASYNC_SAVE] = "save",
    [TV_JOB_ASYNC_DUMP] = "dump",
    [TV_JOB_ASYNC_SNAPSHOT] = "snapshot",
};

const char *tv_job_sync_to_string(TvJobSync job)
{
    return job < TV_JOB_SYNC_LAST ? sync_names[job] : "";
}

const char *tv_job_async_to_string(TvJobAsync job)
{
    return job < TV_JOB_ASYNC_LAST ? async_names[job] : "";
}

/* libvirt's virDomainJobOperation of an async job. */
static int operation_of(TvJobAsync job)
{
    switch (job) {
    case TV_JOB_ASYNC_MIGRATION_OUT:
        return TV_JOB_OPERATION_MIGRATION_OUT;
    case TV_JOB_ASYNC_MIGRATION_IN:
        return TV_JOB_OPERATION_MIGRATION_IN;
    case TV_JOB_ASYNC_SAVE:
        return TV_JOB_OPERATION_SAVE;
    case TV_JOB_ASYNC_DUMP:
        return TV_JOB_OPERATION_DUMP;
    case TV_JOB_ASYNC_SNAPSHOT:
        return TV_JOB_OPERATION_SNAPSHOT;
    case TV_JOB_ASYNC_NONE:
    case TV_JOB_ASYNC_LAST:
        break;
    }
    return TV_JOB_OPERATION_UNKNOWN;
}

void tv_driver_job_init(TvDriverJob *job, unsigned wait_ms)
{
    memset(job, 0, sizeof(*job));
    g_cond_init(&job->cond);
    job->wait_us = (gint64)(wait_ms ? wait_ms : JOB_WAIT_DEFAULT_MS) * 1000;
}

void tv_driver_job_clear(TvDriverJob *job)
{
    g_cond_clear(&job->cond);
}

/* May a synchronous job start while the async job runs?  (libvirt's job
 * masks: queries, destroy and abort always; migration settings and suspend
 * during a migration; nested steps for the async job's owner.) */
static bool allowed_beside_async(const TvDriverJob *j, TvJobSync job)
{
    switch (j->async) {
    case TV_JOB_ASYNC_NONE:
        return true;
    case TV_JOB_ASYNC_MIGRATION_OUT:
    case TV_JOB_ASYNC_MIGRATION_IN:
    case TV_JOB_ASYNC_SAVE:
    case TV_JOB_ASYNC_DUMP:
    case TV_JOB_ASYNC_SNAPSHOT:
    case TV_JOB_ASYNC_LAST:
        break;
    }
    bool migration =
        j->async == TV_JOB_ASYNC_MIGRATION_OUT || j->async == TV_JOB_ASYNC_MIGRATION_IN;
    switch (job) {
    case TV_JOB_SYNC_QUERY:
    case TV_JOB_SYNC_DESTROY:
    case TV_JOB_SYNC_ABORT:
        return true;
    case TV_JOB_SYNC_MIGRATION_OP:
        return migration;
    case TV_JOB_SYNC_SUSPEND:
        return j->async == TV_JOB_ASYNC_MIGRATION_OUT;
    case TV_JOB_SYNC_NESTED:
        return j->async_thread == g_thread_self();
    case TV_JOB_SYNC_MODIFY:
    case TV_JOB_SYNC_NONE:
    case TV_JOB_SYNC_LAST:
        break;
    }
    return false;
}

/* Under dom->lock: the timeout error, naming who holds what. */
static void report_busy(TvDriverDomain *dom, const char *owner, const char *what)
{
    const TvDriverJob *j = &dom->job;
    gint64 now = g_get_monotonic_time();
    g_autofree char *holder = NULL;
    if (j->active != TV_JOB_SYNC_NONE)
        holder = g_strdup_printf("held by '%s', a %s job, for %.1f s", j->owner,
                                 tv_job_sync_to_string(j->active), (now - j->started) / 1e6);
    else
        holder = g_strdup_printf("held by '%s', a %s job, for %.1f s", j->async_owner,
                                 tv_job_async_to_string(j->async), (now - j->async_started) / 1e6);
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_TIMEOUT,
                    "domain '%s': cannot acquire state change lock for '%s' (a %s job) within "
                    "%.1f s (%s)",
                    dom->name, owner, what, j->wait_us / 1e6, holder);
}

/* Under dom->lock: wait until can(dom) or the job wait runs out. */
static int wait_for(TvDriverDomain *dom, bool (*can)(TvDriverDomain *dom, TvJobSync job),
                    TvJobSync job, const char *owner, const char *what)
{
    gint64 deadline = g_get_monotonic_time() + dom->job.wait_us;
    for (;;) {
        if (dom->removed) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                            "domain not found: domain '%s' was undefined meanwhile", dom->name);
            return -1;
        }
        if (can(dom, job))
            return 0;
        if (!g_cond_wait_until(&dom->job.cond, &dom->lock, deadline) && !can(dom, job) &&
            !dom->removed) {
            report_busy(dom, owner, what);
            return -1;
        }
    }
}

static bool can_sync(TvDriverDomain *dom, TvJobSync job)
{
    if (job == TV_JOB_SYNC_QUERY)
        return allowed_beside_async(&dom->job, job);
    return dom->job.active == TV_JOB_SYNC_NONE && allowed_beside_async(&dom->job, job);
}

static bool can_async(TvDriverDomain *dom, TvJobSync job)
{
    (void)job;
    return dom->job.active == TV_JOB_SYNC_NONE && dom->job.async == TV_JOB_ASYNC_NONE;
}

int tv_driver_job_begin(TvDriverDomain *dom, TvJobSync job, const char *owner)
{
    g_mutex_lock(&dom->lock);
    if (wait_for(dom, can_sync, job, owner, tv_job_sync_to_string(job)) < 0) {
        g_mutex_unlock(&dom->lock);
        return -1;
    }
    TvDriverJob *j = &dom->job;
    if (job == TV_JOB_SYNC_QUERY) {
        j->nqueries++;
    } else {
        j->active = job;
        j->owner = owner;
        j->thread = g_thread_self();
        j->started = g_get_monotonic_time();
    }
    g_mutex_unlock(&dom->lock);
    return 0;
}

void tv_driver_job_begin_new(TvDriverDomain *dom, const char *owner)
{
    g_mutex_lock(&dom->lock);
    dom->job.active = TV_JOB_SYNC_MODIFY;
    dom->job.owner = owner;
    dom->job.thread = g_thread_self();
    dom->job.started = g_get_monotonic_time();
    g_mutex_unlock(&dom->lock);
}

void tv_driver_job_end(TvDriverDomain *dom, TvJobSync job)
{
    g_mutex_lock(&dom->lock);
    TvDriverJob *j = &dom->job;
    if (job == TV_JOB_SYNC_QUERY) {
        j->nqueries--;
    } else {
        j->active = TV_JOB_SYNC_NONE;
        j->owner = NULL;
        j->thread = NULL;
    }
    g_cond_broadcast(&j->cond);
    g_mutex_unlock(&dom->lock);
}

int tv_driver_async_begin(TvDriverDomain *dom, TvJobAsync job, const char *owner)
{
    g_mutex_lock(&dom->lock);
    if (wait_for(dom, can_async, TV_JOB_SYNC_NONE, owner, tv_job_async_to_string(job)) < 0) {
        g_mutex_unlock(&dom->lock);
        return -1;
    }
    TvDriverJob *j = &dom->job;
    j->async = job;
    j->async_owner = owner;
    j->async_thread = g_thread_self();
    j->async_started = g_get_monotonic_time();
    j->async_started_wall = g_get_real_time();
    j->abort_cb = NULL;
    j->abort_opaque = NULL;
    j->abort_requested = false;
    memset(&j->progress, 0, sizeof(j->progress));
    j->progress.type = TV_JOB_UNBOUNDED;
    j->progress.operation = operation_of(job);
    g_cond_broadcast(&j->cond);
    g_mutex_unlock(&dom->lock);
    return 0;
}

void tv_driver_async_continue(TvDriverDomain *dom, const char *owner)
{
    g_mutex_lock(&dom->lock);
    if (dom->job.async != TV_JOB_ASYNC_NONE) {
        dom->job.async_owner = owner;
        dom->job.async_thread = g_thread_self();
    }
    g_mutex_unlock(&dom->lock);
}

void tv_driver_async_end(TvDriverDomain *dom, int result)
{
    g_mutex_lock(&dom->lock);
    TvDriverJob *j = &dom->job;
    /* an abort calls the job's abort function outside the lock: let it return */
    while (j->active == TV_JOB_SYNC_ABORT)
        g_cond_wait(&j->cond, &dom->lock);
    j->completed = j->progress;
    j->completed.type = result;
    j->completed.time_elapsed_ms = (guint64)(g_get_monotonic_time() - j->async_started) / 1000;
    j->completed.time_remaining_ms = 0;
    j->has_completed = true;
    j->async = TV_JOB_ASYNC_NONE;
    j->async_owner = NULL;
    j->async_thread = NULL;
    j->abort_cb = NULL;
    j->abort_opaque = NULL;
    g_cond_broadcast(&j->cond);
    g_mutex_unlock(&dom->lock);
}

void tv_driver_async_set_abort(TvDriverDomain *dom, TvJobAbortFunc cb, void *opaque)
{
    g_mutex_lock(&dom->lock);
    dom->job.abort_cb = cb;
    dom->job.abort_opaque = opaque;
    g_mutex_unlock(&dom->lock);
}

void tv_driver_job_stats_from_migration(const TvQmpMigrationInfo *info, int operation,
                                        TvDomainJobStats *st)
{
    memset(st, 0, sizeof(*st));
    st->type = TV_JOB_UNBOUNDED;
    st->operation = operation;
    if (!info->has_ram)
        return;
    st->data_total = st->mem_total = info->ram.total;
    st->data_processed = st->mem_processed = info->ram.transferred;
    st->data_remaining = st->mem_remaining = info->ram.remaining;
    st->mem_bps = (unsigned long long)(info->ram.mbps * 1000000.0 / 8.0);
    st->mem_iteration = info->ram.dirty_sync_count;
    st->mem_page_size = info->ram.page_size;
    st->mem_constant = info->ram.duplicate;
    st->mem_normal = info->ram.normal;
    st->mem_normal_bytes = info->ram.normal_bytes;
}

void tv_driver_async_set_progress(TvDriverDomain *dom, const TvDomainJobStats *stats)
{
    g_mutex_lock(&dom->lock);
    TvDriverJob *j = &dom->job;
    if (j->async != TV_JOB_ASYNC_NONE) {
        j->progress = *stats;
        if (j->progress.type == TV_JOB_NONE)
            j->progress.type = TV_JOB_UNBOUNDED;
        if (j->progress.operation == TV_JOB_OPERATION_UNKNOWN)
            j->progress.operation = operation_of(j->async);
    }
    g_mutex_unlock(&dom->lock);
}

bool tv_driver_async_abort_requested(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    bool requested = dom->job.abort_requested;
    g_mutex_unlock(&dom->lock);
    return requested;
}

void tv_driver_job_stats(TvDriverDomain *dom, unsigned flags, TvDomainJobStats *out)
{
    memset(out, 0, sizeof(*out));
    g_mutex_lock(&dom->lock);
    TvDriverJob *j = &dom->job;
    if (flags & TV_JOB_STATS_COMPLETED) {
        if (j->has_completed) {
            *out = j->completed;
            if (!(flags & TV_JOB_STATS_KEEP_COMPLETED))
                j->has_completed = false;
        }
    } else if (j->async != TV_JOB_ASYNC_NONE) {
        *out = j->progress;
        out->time_elapsed_ms = (guint64)(g_get_monotonic_time() - j->async_started) / 1000;
    }
    g_mutex_unlock(&dom->lock);
}

int tv_driver_job_abort(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    bool abortable = dom->job.async != TV_JOB_ASYNC_NONE && dom->job.abort_cb;
    g_mutex_unlock(&dom->lock);
    /* nothing to abort: say so at once rather than after a start or stop */
    if (!abortable || tv_driver_job_begin(dom, TV_JOB_SYNC_ABORT, "abort job") < 0) {
        if (!abortable)
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                            "no job is active on domain '%s'", dom->name);
        return -1;
    }
    g_mutex_lock(&dom->lock);
    TvJobAbortFunc cb = dom->job.async != TV_JOB_ASYNC_NONE ? dom->job.abort_cb : NULL;
    void *opaque = dom->job.abort_opaque;
    if (cb)
        dom->job.abort_requested = true;
    g_cond_broadcast(&dom->job.cond);
    g_mutex_unlock(&dom->lock);
    int rc = -1;
    if (cb)
        rc = cb(dom, opaque);
    else /* it ended while we waited */
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "no job is active on domain '%s'",
                        dom->name);
    tv_driver_job_end(dom, TV_JOB_SYNC_ABORT);
    return rc;
}
