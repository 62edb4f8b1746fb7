/* The source of a migration (docs/migration.rst): Perform sends the guest
 * with QEMU's migrate in the domain's MIGRATION_OUT job, following it for
 * job info and abort; Confirm stops the source QEMU once the destination
 * runs the guest, or runs the guest on here when the migration failed. */
#include "domain_migration_cookie.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>

#define POLL_MS 50
/* libvirt's "unlimited" (QEMU's own default is 32 MiB/s) */
#define BANDWIDTH_UNLIMITED_MIB ((unsigned long long)G_MAXINT64 / (1024 * 1024))

int tv_driver_migrate_check_idle(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    TvJobAsync job = dom->job.async;
    g_mutex_unlock(&dom->lock);
    if (job == TV_JOB_ASYNC_NONE)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                    "domain '%s' has a %s job running: one migration at a time (wait for it, or "
                    "end it with virsh domjobabort)",
                    dom->name, tv_job_async_to_string(job));
    return -1;
}

char *tv_driver_migrated_out_path(TvQemuDriver *drv, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.migrated-out", name);
    return g_build_filename(drv->state_dir, file, NULL);
}

/* Written before Perform answers that QEMU copied the guest (from then on a
 * Finish may run it on the destination), removed at the next Perform and
 * by Confirm. */
static void mark_performed(TvQemuDriver *drv, TvDriverDomain *dom, bool performed)
{
    g_autofree char *path = tv_driver_migrated_out_path(drv, dom->name);
    int rc = performed ? tv_file_write_atomic(path, "performed\n", 10, 0600) : tv_file_remove(path);
    if (rc < 0) {
        g_warning("migration of domain '%s' out: %s", dom->name, tv_error_message());
        tv_error_reset();
    }
}

/* A migration also reports its setup time, its dirty rate and, once
 * completed, its downtime. */
static void stats_from(const TvQmpMigrationInfo *i, TvDomainJobStats *st)
{
    tv_driver_job_stats_from_migration(i, TV_JOB_OPERATION_MIGRATION_OUT, st);
    st->setup_time_ms = (unsigned long long)MAX(i->setup_time_ms, 0);
    if (i->status == TV_QMP_MIGRATION_STATUS_COMPLETED) {
        st->has_downtime = true;
        st->downtime_ms = (unsigned long long)MAX(i->downtime_ms, 0);
    }
    if (i->has_ram)
        st->mem_dirty_rate = i->ram.dirty_pages_rate;
}

typedef struct {
    bool auto_converge;
    unsigned long long bandwidth_mib;
} Settings;

static int apply_settings(TvQemuMonitor *mon, void *opaque)
{
    const Settings *s = opaque;
    TvQmpMigrationCapState cap = { TV_QMP_MIGRATION_CAP_AUTO_CONVERGE, s->auto_converge };
    if (tv_qemu_monitor_migrate_set_capabilities(mon, &cap, 1) < 0)
        return -1;
    TvQmpMigrationParams p = { .has_max_bandwidth = true,
                               .max_bandwidth = s->bandwidth_mib * 1024 * 1024 };
    return tv_qemu_monitor_migrate_set_parameters(mon, &p);
}

static int abort_migration(TvDriverDomain *dom, void *opaque)
{
    (void)dom;
    return tv_qemu_process_migrate_cancel(opaque);
}

/* QEMU's URI for the destination's answer ("tcp:HOST:PORT"; libvirt's
 * clients may also pass "tcp://HOST:PORT"). */
static char *qemu_uri(const char *uri)
{
    if (uri && g_str_has_prefix(uri, "tcp://") && uri[6])
        return g_strdup_printf("tcp:%s", uri + 6);
    if (uri && g_str_has_prefix(uri, "tcp:") && uri[4])
        return g_strdup(uri);
    tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                    "migration: Perform needs the destination's tcp:HOST:PORT (migrate_uri), got "
                    "'%s'",
                    uri ? uri : "nothing");
    return NULL;
}

/* The destination's host in QEMU's "tcp:HOST:PORT" ("tcp:[V6]:PORT"):
 * the name its certificate must carry (tls-hostname), as libvirt sets it. */
static char *uri_host(const char *uri)
{
    const char *rest = uri + 4; /* qemu_uri() made it "tcp:..." */
    if (rest[0] == '[') {
        const char *end = strchr(rest, ']');
        return end ? g_strndup(rest + 1, (gsize)(end - rest - 1)) : g_strdup(rest);
    }
    const char *colon = strrchr(rest, ':');
    return colon ? g_strndup(rest, (gsize)(colon - rest)) : g_strdup(rest);
}

/* Why the copy must stop now though nobody aborted it: the client that
 * performs it left (client-managed), or the destination's daemon is gone
 * (peer-to-peer: asked every PEER_CHECK_MS).  NULL: go on. */
#define PEER_CHECK_MS 1000

static char *lost_reason(TvDriverDomain *dom, const TvMigrateParams *params, gint64 *next_check)
{
    g_mutex_lock(&dom->lock);
    bool caller_lost = dom->migrate_caller_lost;
    g_mutex_unlock(&dom->lock);
    if (caller_lost)
        return g_strdup("the client that started it disconnected");
    gint64 now = g_get_monotonic_time();
    if (!params->peer_check || now < *next_check)
        return NULL;
    *next_check = now + PEER_CHECK_MS * 1000;
    if (params->peer_check(params->peer_opaque) == 0)
        return NULL;
    char *why = g_strdup(tv_error_message());
    tv_error_reset();
    return why;
}

/* Until QEMU says completed (0) or failed or cancelled, or goes away (-1).
 * A lost caller or destination cancels the copy here. */
static int follow(TvDriverDomain *dom, TvQemuProcess *proc, const TvMigrateParams *params)
{
    g_autofree char *lost = NULL;
    gint64 next_check = 0;
    for (;;) {
        g_usleep(POLL_MS * 1000);
        if (!lost && (lost = lost_reason(dom, params, &next_check))) {
            g_message("migration of domain '%s' out: %s: cancelling the copy", dom->name, lost);
            if (tv_qemu_process_migrate_cancel(proc) < 0)
                tv_error_reset(); /* the query below says how it ends */
        }
        TvQmpMigrationInfo info;
        if (tv_qemu_process_migrate_query(proc, &info) < 0) {
            tv_error_prefix("migration of domain '%s' failed", dom->name);
            return -1;
        }
        TvDomainJobStats st;
        stats_from(&info, &st);
        tv_driver_async_set_progress(dom, &st);
        TvQmpMigrationStatus status = info.status;
        g_autofree char *why = g_steal_pointer(&info.error_desc);
        tv_qmp_migration_info_clear(&info);
        bool ended =
            status == TV_QMP_MIGRATION_STATUS_CANCELLED || status == TV_QMP_MIGRATION_STATUS_FAILED;
        if (status == TV_QMP_MIGRATION_STATUS_COMPLETED && !lost)
            return 0;
        if (lost && (ended || status == TV_QMP_MIGRATION_STATUS_COMPLETED)) {
            /* completed all the same: nobody will finish it on the destination,
             * which stops its QEMU when its caller leaves */
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "migration of domain '%s' was cancelled: %s; the guest runs on here",
                            dom->name, lost);
            return -1;
        }
        if (status == TV_QMP_MIGRATION_STATUS_CANCELLED || tv_driver_async_abort_requested(dom)) {
            if (!ended)
                continue; /* migrate_cancel was sent: wait for QEMU to say so */
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_ABORTED,
                            "migration of domain '%s' was aborted; the guest runs on here",
                            dom->name);
            return -1;
        }
        if (status == TV_QMP_MIGRATION_STATUS_FAILED) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "migration of domain '%s' failed: QEMU says: %s; the guest runs on "
                            "here",
                            dom->name, why ? why : "no reason given");
            return -1;
        }
    }
}

/* After a failed or cancelled copy: the guest runs as before (QEMU runs it
 * again itself when it had paused it; a guest that was paused stays so),
 * "running (migration canceled)" as libvirt says. */
static void run_on(TvQemuProcess *proc, bool was_running)
{
    TvError *err = tv_error_steal();
    tv_qemu_process_set_outgoing(proc, 0);
    int state = 0, reason = 0;
    tv_qemu_process_get_state(proc, &state, &reason);
    if (was_running && state == TV_DOMAIN_STATE_PAUSED &&
        tv_qemu_process_resume_as(proc, TV_DOMAIN_RUNNING_MIGRATION_CANCELED) < 0) {
        g_warning("%s: %s", tv_qemu_process_name(proc), tv_error_message());
        tv_error_reset();
    }
    tv_error_restore(err);
}

/* Perform's cookie for Finish: the guest, and the figures of its copy as
 * the job has them now (QEMU said completed: with the downtime). */
static char *perform_cookie(TvDriverDomain *dom, TvQemuProcess *proc)
{
    g_autoptr(TvDomainDef) live = tv_qemu_process_copy_def(proc);
    if (!live) {
        g_message("migration of domain '%s': no cookie for Finish: %s", dom->name,
                  tv_error_message());
        tv_error_reset();
        return NULL;
    }
    TvDomainJobStats st;
    tv_driver_job_stats(dom, 0, &st);
    TvMigrationCookie c = {
        .name = live->name,
        .abi = live->guest_abi,
        .has_stats = true,
        .stats = { .elapsed = st.time_elapsed_ms,
                   .downtime = st.downtime_ms,
                   .setup = st.setup_time_ms,
                   .data_total = st.data_total,
                   .data_processed = st.data_processed,
                   .data_remaining = st.data_remaining,
                   .mem_bps = st.mem_bps,
                   .mem_iteration = st.mem_iteration,
                   .mem_page_size = st.mem_page_size,
                   .mem_constant = st.mem_constant,
                   .mem_normal = st.mem_normal,
                   .mem_normal_bytes = st.mem_normal_bytes },
    };
    memcpy(c.uuid, live->uuid, sizeof(c.uuid));
    return tv_migration_cookie_format(&c);
}

int tv_qemu_driver_migrate_perform(TvQemuDriver *drv, const unsigned char *uuid,
                                   const TvMigrateParams *params, unsigned flags, char **cookie_out)
{
    *cookie_out = NULL;
    g_autofree char *uri = qemu_uri(params->uri);
    if (!uri)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_migrate_check_idle(dom) < 0 ||
        tv_driver_async_begin(dom, TV_JOB_ASYNC_MIGRATION_OUT, "migration out") < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    if (!run || !run->proc) {
        tv_driver_run_unref(run);
        tv_driver_async_end(dom, TV_JOB_FAILED);
        return -1;
    }
    TvQemuProcess *proc = run->proc;
    int state = 0;
    tv_qemu_process_get_state(proc, &state, NULL);
    bool was_running = state == TV_DOMAIN_STATE_RUNNING;
    g_mutex_lock(&dom->lock);
    unsigned long long set_speed = dom->migrate_bandwidth;
    dom->migrate_caller = params->caller;
    dom->migrate_caller_lost = false;
    g_mutex_unlock(&dom->lock);
    Settings s = { .auto_converge = (flags & TV_MIGRATE_AUTO_CONVERGE) != 0,
                   .bandwidth_mib = params->has_bandwidth ? params->bandwidth
                                    : set_speed           ? set_speed
                                                          : BANDWIDTH_UNLIMITED_MIB };
    if (s.bandwidth_mib > BANDWIDTH_UNLIMITED_MIB)
        s.bandwidth_mib = BANDWIDTH_UNLIMITED_MIB;
    TvQemuOutgoing out = { .uri = uri, .fd = -1 };
    mark_performed(drv, dom, false);
    gint64 t0 = g_get_monotonic_time();
    int rc = tv_qemu_process_with_monitor(proc, apply_settings, &s);
    bool tls = (flags & TV_MIGRATE_TLS) != 0;
    if (rc == 0 && tls) {
        g_autofree char *host = uri_host(uri);
        TvQemuMigrationTls t;
        tv_driver_migrate_tls(drv, false, host, &t);
        rc = tv_qemu_process_migration_tls_enable(proc, &t);
        tls = rc == 0;
    }
    if (rc == 0) {
        tv_driver_async_set_abort(dom, abort_migration, proc);
        rc = tv_qemu_process_migrate_start(proc, &out);
        if (rc == 0)
            rc = follow(dom, proc, params);
        tv_driver_async_set_abort(dom, NULL, NULL);
    }
    if (tls) /* the stream has ended, either way */
        tv_qemu_process_migration_tls_disable(proc);
    g_mutex_lock(&dom->lock);
    bool lost = rc == 0 && dom->migrate_caller_lost;
    if (rc == 0 && !lost) {
        dom->migrated_out = true; /* the job stays for Confirm */
        dom->migrate_flags = flags;
    }
    g_mutex_unlock(&dom->lock);
    if (lost) { /* between the end of the copy and here: nobody hears the answer */
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "migration of domain '%s' was cancelled: the client that started it "
                        "disconnected; the guest runs on here",
                        dom->name);
        rc = -1;
    }
    if (rc < 0) {
        run_on(proc, was_running);
        bool aborted = tv_driver_async_abort_requested(dom);
        g_mutex_lock(&dom->lock);
        dom->migrate_caller = 0;
        g_mutex_unlock(&dom->lock);
        tv_driver_run_unref(run);
        tv_driver_async_end(dom, aborted ? TV_JOB_CANCELLED : TV_JOB_FAILED);
        return -1;
    }
    g_message("migration of domain '%s' out to %s: copied in %.3f s", dom->name, uri,
              (g_get_monotonic_time() - t0) / 1e6);
    *cookie_out = perform_cookie(dom, proc);
    mark_performed(drv, dom, true);
    tv_driver_run_unref(run);
    return 0;
}

int tv_qemu_driver_migrate_confirm(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                                   bool cancelled)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    bool performed = dom->migrated_out && dom->job.async == TV_JOB_ASYNC_MIGRATION_OUT;
    dom->migrated_out = false;
    dom->migrate_caller = 0;
    g_mutex_unlock(&dom->lock);
    if (!performed) {
        if (cancelled)
            return 0; /* Perform failed or never ran: the guest runs on here */
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "migration of domain '%s' cannot be confirmed: no migration of it was "
                        "performed",
                        dom->name);
        return -1;
    }
    tv_driver_async_continue(dom, "migration out (confirm)");
    mark_performed(drv, dom, false);
    TvDriverRun *run = tv_driver_run_get(dom);
    tv_error_reset();
    if (cancelled) { /* the destination did not take the guest: it runs on here */
        if (run && run->proc)
            run_on(run->proc, true);
        tv_driver_run_unref(run);
        tv_driver_async_end(dom, TV_JOB_FAILED);
        g_message("migration of domain '%s' out: cancelled by the destination, the guest runs "
                  "here",
                  dom->name);
        return 0;
    }
    int rc = 0;
    if (run && run->proc && tv_qemu_process_is_active(run->proc))
        rc = tv_qemu_process_destroy_as(run->proc, TV_DOMAIN_SHUTOFF_MIGRATED);
    tv_driver_run_unref(run);
    tv_driver_async_end(dom, TV_JOB_COMPLETED);
    if (rc < 0)
        return -1;
    g_mutex_lock(&dom->lock);
    bool persistent = dom->def != NULL;
    g_mutex_unlock(&dom->lock);
    if ((flags & TV_MIGRATE_UNDEFINE_SOURCE) && persistent &&
        tv_qemu_driver_undefine(drv, uuid, 0) < 0) {
        tv_error_prefix("migration of domain '%s' completed, but the source definition stays "
                        "(undefine_source)",
                        dom->name);
        return -1;
    }
    return 0;
}

/* The copy completed and nobody can tell whether the destination runs the
 * guest now: running it here too could give two, so it stays paused (reason
 * migration) and the job ends (libvirt does the same).  why: who left. */
static void leave_paused(TvDriverDomain *dom, const char *why)
{
    tv_driver_async_end(dom, TV_JOB_FAILED);
    g_warning("migration of domain '%s' out: %s before Confirm: the guest stays paused here "
              "(the destination may run it; resume it here only if it does not)",
              dom->name, why);
}

int tv_qemu_driver_migrate_unconfirmed(TvQemuDriver *drv, const unsigned char *uuid,
                                       const char *why)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    bool copied = dom->migrated_out && dom->job.async == TV_JOB_ASYNC_MIGRATION_OUT;
    dom->migrated_out = false;
    dom->migrate_caller = 0;
    g_mutex_unlock(&dom->lock);
    if (copied)
        leave_paused(dom, why);
    return 0;
}

void tv_driver_outgoing_caller_gone(TvQemuDriver *drv, guint64 caller)
{
    g_autoptr(GPtrArray) doms = tv_driver_domains_snapshot(drv);
    for (guint i = 0; i < doms->len; i++) {
        TvDriverDomain *dom = g_ptr_array_index(doms, i);
        g_mutex_lock(&dom->lock);
        bool ours = dom->migrate_caller == caller;
        bool copied = ours && dom->migrated_out && dom->job.async == TV_JOB_ASYNC_MIGRATION_OUT;
        if (ours) {
            dom->migrate_caller = 0;
            dom->migrate_caller_lost = !copied; /* Perform's follow() cancels the copy */
            dom->migrated_out = false;
        }
        g_mutex_unlock(&dom->lock);
        /* Perform answered: the client may have called Finish */
        if (copied)
            leave_paused(dom, "the client that performed it disconnected");
    }
}

/* ---- migration settings: migrate-setmaxdowntime, -getmaxdowntime,
 * -setspeed, -getspeed ---- */

static int flags_none(unsigned flags, const char *call)
{
    if (flags == 0)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                    "%s: flags 0x%x are not supported (post-copy is not); accepted: 0", call,
                    flags);
    return -1;
}

typedef struct {
    bool set;
    TvQmpMigrationParams p;
} ParamsCall;

static int params_call(TvQemuMonitor *mon, void *opaque)
{
    ParamsCall *c = opaque;
    if (c->set)
        return tv_qemu_monitor_migrate_set_parameters(mon, &c->p);
    return tv_qemu_monitor_query_migrate_parameters(mon, &c->p);
}

/* The running QEMU's migration parameters, set or read in a MIGRATION_OP
 * job (allowed beside a migration). */
static int running_params(TvQemuDriver *drv, const unsigned char *uuid, ParamsCall *c)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MIGRATION_OP, "migration setting") < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    int rc = run && run->proc ? tv_qemu_process_with_monitor(run->proc, params_call, c) : -1;
    tv_driver_run_unref(run);
    tv_driver_job_end(dom, TV_JOB_SYNC_MIGRATION_OP);
    return rc;
}

int tv_qemu_driver_migrate_set_max_downtime(TvQemuDriver *drv, const unsigned char *uuid,
                                            unsigned long long ms, unsigned flags)
{
    if (flags_none(flags, "migrate-setmaxdowntime") < 0)
        return -1;
    /* QEMU's limit: 2000 s */
    if (ms > 2000000) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migrate-setmaxdowntime: %llu ms is more than QEMU accepts (2000000)", ms);
        return -1;
    }
    ParamsCall c = { .set = true, .p = { .has_downtime_limit = true, .downtime_limit = ms } };
    return running_params(drv, uuid, &c);
}

int tv_qemu_driver_migrate_get_max_downtime(TvQemuDriver *drv, const unsigned char *uuid,
                                            unsigned flags, unsigned long long *ms)
{
    if (flags_none(flags, "migrate-getmaxdowntime") < 0)
        return -1;
    ParamsCall c = { .set = false };
    int rc = running_params(drv, uuid, &c);
    bool has = c.p.has_downtime_limit;
    *ms = has ? c.p.downtime_limit : 0;
    tv_qmp_migration_params_clear(&c.p);
    if (rc == 0 && !has) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's migration parameters have no downtime-limit");
        return -1;
    }
    return rc;
}

int tv_qemu_driver_migrate_set_max_speed(TvQemuDriver *drv, const unsigned char *uuid,
                                         unsigned long long mib, unsigned flags)
{
    if (flags_none(flags, "migrate-setspeed") < 0)
        return -1;
    if (mib > BANDWIDTH_UNLIMITED_MIB) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "migrate-setspeed: bandwidth must be at most %llu MiB/s, got %llu",
                        BANDWIDTH_UNLIMITED_MIB, mib);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MIGRATION_OP, "migrate-setspeed") < 0)
        return -1;
    g_mutex_lock(&dom->lock);
    dom->migrate_bandwidth = mib == BANDWIDTH_UNLIMITED_MIB ? 0 : mib;
    bool migrating = dom->job.async == TV_JOB_ASYNC_MIGRATION_OUT;
    g_mutex_unlock(&dom->lock);
    int rc = 0;
    if (migrating) { /* the running copy slows down or speeds up now */
        TvDriverRun *run = tv_driver_run_get(dom);
        ParamsCall c = { .set = true,
                         .p = { .has_max_bandwidth = true,
                                .max_bandwidth =
                                    (mib ? mib : BANDWIDTH_UNLIMITED_MIB) * 1024 * 1024 } };
        rc = run && run->proc ? tv_qemu_process_with_monitor(run->proc, params_call, &c) : -1;
        tv_driver_run_unref(run);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MIGRATION_OP);
    return rc;
}

int tv_qemu_driver_migrate_get_max_speed(TvQemuDriver *drv, const unsigned char *uuid,
                                         unsigned flags, unsigned long long *mib)
{
    if (flags_none(flags, "migrate-getspeed") < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    *mib = dom->migrate_bandwidth ? dom->migrate_bandwidth : BANDWIDTH_UNLIMITED_MIB;
    g_mutex_unlock(&dom->lock);
    return 0;
}
