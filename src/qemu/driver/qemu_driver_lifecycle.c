/* Running domains: start (create, create_xml, autostart), the runtime's
 * state changes, destroy, shutdown, reboot, suspend, resume, and taking
 * over running QEMUs at open. */
#include "qemu_driver_priv.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <json-c/json.h>
#include <string.h>
#include <sys/stat.h>

/* libvirt's VIR_DOMAIN_START_* */
enum {
    START_PAUSED = 1,
    START_AUTODESTROY = 2,
    START_BYPASS_CACHE = 4,
    START_FORCE_BOOT = 8,
    START_VALIDATE = 16,
};

/* A reaper task: a run whose QEMU went away (restart it for a reboot). */
typedef struct {
    TvDriverRun *run;
    bool restart;
} ReapTask;

void tv_driver_run_unref(TvDriverRun *run)
{
    if (!run || !g_atomic_int_dec_and_test(&run->refs))
        return;
    tv_qemu_process_free(run->proc); /* QEMU itself keeps running if it still does */
    tv_domain_def_free(run->def);
    if (run->vcpu_tids)
        g_array_unref(run->vcpu_tids);
    tv_driver_domain_unref(run->dom);
    g_free(run);
}

static TvDriverRun *run_new(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def)
{
    TvDriverRun *run = g_new0(TvDriverRun, 1);
    run->refs = 1;
    run->drv = drv;
    run->dom = tv_driver_domain_ref(dom);
    run->def = def;
    run->id = -1;
    return run;
}

/* The run's QEMU is gone: the domain shuts off (a transient one leaves the
 * list).  Under drv->lock and dom->lock; the domain's reference to the run
 * goes to *reap. */
static void run_detach_locked(TvQemuDriver *drv, TvDriverRun *run, int reason, bool *remove,
                              ReapTask **reap)
{
    TvDriverDomain *dom = run->dom;
    run->exited = true;
    if (!run->attached || dom->run != run)
        return;
    run->attached = false;
    dom->run = NULL;
    if (g_hash_table_lookup(drv->by_id, GINT_TO_POINTER(run->id)) == dom)
        g_hash_table_remove(drv->by_id, GINT_TO_POINTER(run->id));
    dom->shutoff_reason = reason;
    bool restart = run->reboot_pending && reason == TV_DOMAIN_SHUTOFF_SHUTDOWN && !drv->closing;
    *remove = !dom->def && !restart;
    tv_driver_event_queue(drv, dom, -1, TV_DOMAIN_EVENT_STOPPED,
                          tv_driver_event_stopped_detail(reason));
    *reap = g_new0(ReapTask, 1);
    (*reap)->run = run;
    (*reap)->restart = restart;
}

/* Under drv->lock, in the same hold that took the domain off the list: once
 * the lock is dropped, close() may free the driver at any time, and only a
 * task already queued or orphaned is one it knows of (a watcher thread that
 * came back for the lock touched a freed driver, seen under ASan). */
static void reap_locked(TvQemuDriver *drv, ReapTask *task)
{
    if (!task)
        return;
    if (drv->closing || !drv->reaper)
        /* on the watcher thread the run cannot be freed; close() frees it */
        drv->orphans = g_list_prepend(drv->orphans, task);
    else
        g_thread_pool_push(drv->reaper, task, NULL); /* does not wait */
}

/* Events for a change of a running domain (not start, not stop). */
static void queue_change_event(TvQemuDriver *drv, TvDriverRun *run, int old, int state)
{
    if (state == old)
        return;
    switch ((TvDomainState)state) {
    case TV_DOMAIN_STATE_RUNNING:
        if (old == TV_DOMAIN_STATE_PAUSED)
            tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_RESUMED,
                                  0 /* UNPAUSED */);
        break;
    case TV_DOMAIN_STATE_PAUSED:
        tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_SUSPENDED, 0 /* PAUSED */);
        break;
    case TV_DOMAIN_STATE_SHUTDOWN:
        tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_SHUTDOWN, 0 /* FINISHED */);
        break;
    case TV_DOMAIN_STATE_NOSTATE:
    case TV_DOMAIN_STATE_BLOCKED:
    case TV_DOMAIN_STATE_SHUTOFF:
    case TV_DOMAIN_STATE_CRASHED:
        break;
    }
}

/* The runtime's callback: from its watcher thread or the calling thread. */
static void on_process_state(TvQemuProcess *proc, int state, int reason, void *opaque)
{
    TvDriverRun *run = opaque;
    TvQemuDriver *drv = run->drv;
    TvDriverDomain *dom = run->dom;
    bool remove = false;
    ReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    int old = run->state;
    run->state = state;
    run->reason = reason;
    if (state == TV_DOMAIN_STATE_SHUTOFF)
        run_detach_locked(drv, run, reason, &remove, &task);
    else if (run->attached)
        queue_change_event(drv, run, old, state);
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
}

/* QMP events of the run's QEMU that become domain events (no lock held). */
static void on_process_event(TvQemuProcess *proc, const TvQemuEvent *event, void *opaque)
{
    TvDriverRun *run = opaque;
    TvQemuDriver *drv = run->drv;
    TvDriverDomain *dom = run->dom;
    g_mutex_lock(&dom->lock);
    bool attached = run->attached;
    g_mutex_unlock(&dom->lock);
    if (!attached)
        return;
    if (event->type == TV_QEMU_EVENT_RESET) {
        /* a guest reboot or a reset: QEMU stays, the guest starts over */
        tv_driver_event_queue_other(drv, dom, run->id, TV_DOMAIN_EVENT_ID_REBOOT, 0, 0, NULL, 0);
    } else if (event->type == TV_QEMU_EVENT_BALLOON_CHANGE && event->balloon_actual > 0) {
        unsigned long long kib = event->balloon_actual / 1024;
        tv_driver_balloon_changed(run, kib);
        tv_driver_event_queue_other(drv, dom, run->id, TV_DOMAIN_EVENT_ID_BALLOON_CHANGE, 0, 0,
                                    NULL, kib);
    }
}

/* The runtime's view of one run of a domain under this driver. */
static TvQemuProcessConfig process_config(TvQemuDriver *drv, const TvQemuCaps *caps,
                                          TvDriverRun *run)
{
    return (TvQemuProcessConfig){
        .state_dir = drv->state_dir,
        .log_dir = drv->log_dir,
        .caps = caps,
        .host = drv->host,
        .id = run->id,
        .state_cb = on_process_state,
        .state_opaque = run,
        .event_cb = on_process_event,
        .event_opaque = run,
        .security = drv->security,
    };
}

/* Did this start get as far as QEMU (its log grew)?  Then it failed, else
 * it was refused and the domain's state stays as it was. */
static off_t log_size(TvQemuDriver *drv, const char *name)
{
    g_autofree char *path = tv_qemu_process_log_path(drv->log_dir, name);
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static void starting_done(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    dom->starting = NULL;
    g_mutex_unlock(&dom->lock);
}

/* In the domain's job, while it is shut off.  def: what to run (owned; NULL:
 * the persistent definition). */
static int start_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def, unsigned flags)
{
    TvDriverRun *run = run_new(drv, dom, def);
    const TvDomainDef *what = def ? def : dom->def; /* define waits for our job */
    g_mutex_lock(&dom->lock);
    dom->starting = run; /* a new transient domain: dumpxml shows what starts */
    g_mutex_unlock(&dom->lock);
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, tv_driver_emulator_of(drv, what));
    if (!caps) {
        starting_done(dom);
        tv_driver_run_unref(run);
        return -1;
    }
    g_mutex_lock(&drv->lock);
    run->id = drv->next_id++;
    g_mutex_unlock(&drv->lock);
    TvQemuProcessConfig cfg = process_config(drv, caps, run);
    g_autoptr(TvDriverPrefork) prefork = tv_driver_prefork_get(drv, caps);
    cfg.zygote = tv_driver_prefork_zygote(prefork);
    off_t log_before = log_size(drv, dom->name);
    run->proc = tv_qemu_process_start(what, &cfg,
                                      (flags & START_PAUSED) ? TV_QEMU_PROCESS_START_PAUSED : 0);
    if (!run->proc) {
        if (log_size(drv, dom->name) != log_before) { /* QEMU ran and failed */
            g_mutex_lock(&dom->lock);
            dom->shutoff_reason = TV_DOMAIN_SHUTOFF_FAILED;
            tv_driver_event_queue(drv, dom, -1, TV_DOMAIN_EVENT_STOPPED,
                                  tv_driver_event_stopped_detail(TV_DOMAIN_SHUTOFF_FAILED));
            g_mutex_unlock(&dom->lock);
        }
        starting_done(dom);
        tv_driver_run_unref(run);
        return -1;
    }
    if (run->state == TV_DOMAIN_STATE_NOSTATE)
        tv_qemu_process_get_state(run->proc, &run->state, &run->reason);

    bool remove = false;
    ReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    dom->run = run; /* the domain takes our reference */
    dom->starting = NULL;
    run->attached = true;
    g_hash_table_insert(drv->by_id, GINT_TO_POINTER(run->id), dom);
    tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_STARTED, 0 /* BOOTED */);
    if (run->state == TV_DOMAIN_STATE_PAUSED)
        tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_SUSPENDED, 0 /* PAUSED */);
    if (run->exited) /* it went away before we took it */
        run_detach_locked(drv, run, run->reason, &remove, &task);
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
    return 0;
}

static int start_flags_check(unsigned flags, unsigned extra)
{
    unsigned known = START_PAUSED | START_BYPASS_CACHE | START_FORCE_BOOT | extra;
    if (flags & START_AUTODESTROY) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "start flag 0x2 (autodestroy) is not supported");
        return -1;
    }
    if (flags & ~known) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "start flags 0x%x are not supported; accepted: 0x%x", flags, known);
        return -1;
    }
    return 0;
}

/* A start's job, on a domain that must be shut off. */
static int begin_inactive_job(TvDriverDomain *dom, const char *owner)
{
    if (tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, owner) < 0)
        return -1;
    g_mutex_lock(&dom->lock);
    bool active = dom->run != NULL;
    g_mutex_unlock(&dom->lock);
    if (active) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is already running",
                        dom->name);
        return -1;
    }
    return 0;
}

static void fill_ref(TvDriverDomain *dom, TvDomainRef *out)
{
    if (!out)
        return;
    g_mutex_lock(&dom->lock);
    tv_driver_domain_ref_fill(dom, out);
    g_mutex_unlock(&dom->lock);
}

int tv_qemu_driver_create(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags,
                          TvDomainRef *out)
{
    /* BYPASS_CACHE and FORCE_BOOT concern saved state, which tagvirt has none of */
    if (start_flags_check(flags, 0) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || begin_inactive_job(dom, "start") < 0)
        return -1;
    int rc = start_in_job(drv, dom, NULL, flags);
    if (rc == 0)
        fill_ref(dom, out);
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

/* create_xml on a name and uuid that exist: run the given definition in
 * place of the persistent one (libvirt's behaviour). */
static int create_existing(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def, unsigned flags,
                           TvDomainRef *out)
{
    if (begin_inactive_job(dom, "create") < 0) {
        tv_domain_def_free(def);
        return -1;
    }
    int rc = start_in_job(drv, dom, def, flags);
    if (rc == 0)
        fill_ref(dom, out);
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

int tv_qemu_driver_create_xml(TvQemuDriver *drv, const char *xml, unsigned flags, TvDomainRef *out)
{
    if (start_flags_check(flags, START_VALIDATE) < 0)
        return -1;
    if (!xml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no domain XML given");
        return -1;
    }
    size_t len = strlen(xml);
    if ((flags & START_VALIDATE) && tv_domain_def_validate_schema(xml, len) < 0)
        return -1;
    TvDomainDef *def = tv_qemu_domain_load(&drv->pipe, xml, len, TV_DOMAIN_PARSE_DEFAULT, NULL);
    if (!def)
        return -1;
    /* its status file is its only copy */
    if (tv_qemu_state_check_def(def) < 0) {
        tv_domain_def_free(def);
        return -1;
    }

    g_mutex_lock(&drv->define_lock);
    g_mutex_lock(&drv->lock);
    TvDriverDomain *by_name = g_hash_table_lookup(drv->by_name, def->name);
    TvDriverDomain *by_uuid = g_hash_table_lookup(drv->by_uuid, def->uuid);
    if (by_name || by_uuid) {
        TvDriverDomain *dom = by_name == by_uuid ? tv_driver_domain_ref(by_name) : NULL;
        g_mutex_unlock(&drv->lock);
        g_mutex_unlock(&drv->define_lock);
        if (!dom) {
            char uuid[TV_UUID_STRLEN + 1];
            tv_uuid_format(by_name ? by_name->uuid : def->uuid, uuid);
            tv_error_report(TV_FROM_QEMU, TV_ERR_DOM_EXIST,
                            "domain '%s' already exists with uuid %s",
                            by_name ? by_name->name : by_uuid->name, uuid);
            tv_domain_def_free(def);
            return -1;
        }
        int rc = create_existing(drv, dom, def, flags, out);
        tv_driver_domain_unref(dom);
        return rc;
    }
    /* a new transient domain, listed (in its job) while it starts */
    TvDriverDomain *dom = tv_driver_domain_new(drv, def->name, def->uuid);
    tv_driver_job_begin_new(dom, "create");
    tv_driver_list_add_locked(drv, dom);
    g_mutex_unlock(&drv->lock);
    g_mutex_unlock(&drv->define_lock);
    int rc = start_in_job(drv, dom, def, flags);
    if (rc == 0) {
        fill_ref(dom, out);
    } else {
        g_mutex_lock(&drv->lock);
        tv_driver_list_remove_locked(drv, dom);
        g_mutex_unlock(&drv->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    tv_driver_domain_unref(dom);
    return rc;
}

/* A job on a running domain calling one runtime operation. */
typedef int (*ProcessOp)(TvQemuProcess *proc);

static int running_op(TvQemuDriver *drv, const unsigned char *uuid, ProcessOp op, bool reboot,
                      TvJobSync job, const char *owner)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, job, owner) < 0)
        return -1;
    TvDriverRun *run = tv_driver_run_get(dom);
    int rc = -1;
    if (run) {
        if (reboot) {
            g_mutex_lock(&dom->lock);
            run->reboot_pending = true;
            g_mutex_unlock(&dom->lock);
        }
        rc = op(run->proc);
        if (rc < 0 && reboot) {
            g_mutex_lock(&dom->lock);
            run->reboot_pending = false;
            g_mutex_unlock(&dom->lock);
        }
        tv_driver_run_unref(run);
    }
    tv_driver_job_end(dom, job);
    return rc;
}

int tv_qemu_driver_destroy(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    /* GRACEFUL (1): the runtime already lets a QEMU with writable disks flush */
    if (flags & ~1u) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "destroy flags 0x%x are not supported; accepted: 0x1 (graceful)", flags);
        return -1;
    }
    return running_op(drv, uuid, tv_qemu_process_destroy, false, TV_JOB_SYNC_DESTROY, "destroy");
}

/* libvirt's shutdown/reboot modes: only the ACPI power button (1) exists here. */
static int power_flags_check(const char *what, unsigned flags)
{
    if (flags & ~1u) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "%s flags 0x%x are not supported; accepted: 0x1 (ACPI power button)", what,
                        flags);
        return -1;
    }
    return 0;
}

int tv_qemu_driver_shutdown(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (power_flags_check("shutdown", flags) < 0)
        return -1;
    return running_op(drv, uuid, tv_qemu_process_shutdown, false, TV_JOB_SYNC_MODIFY, "shutdown");
}

int tv_qemu_driver_reboot(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    /* the guest powers off; once it has, the reaper starts it again */
    if (power_flags_check("reboot", flags) < 0)
        return -1;
    return running_op(drv, uuid, tv_qemu_process_shutdown, true, TV_JOB_SYNC_MODIFY, "reboot");
}

int tv_qemu_driver_suspend(TvQemuDriver *drv, const unsigned char *uuid)
{
    return running_op(drv, uuid, tv_qemu_process_suspend, false, TV_JOB_SYNC_SUSPEND, "suspend");
}

int tv_qemu_driver_resume(TvQemuDriver *drv, const unsigned char *uuid)
{
    return running_op(drv, uuid, tv_qemu_process_resume, false, TV_JOB_SYNC_MODIFY, "resume");
}

/* Reboot: start again what just powered off. */
static void restart(TvQemuDriver *drv, TvDriverRun *old)
{
    TvDriverDomain *dom = old->dom;
    if (begin_inactive_job(dom, "reboot (start again)") < 0) {
        tv_error_reset();
        return;
    }
    TvDomainDef *def = g_steal_pointer(&old->def); /* transient: what it ran */
    if (start_in_job(drv, dom, def, 0) < 0) {
        g_warning("QEMU driver: reboot of '%s': %s", dom->name, tv_error_message());
        tv_error_reset();
        g_mutex_lock(&drv->lock);
        g_mutex_lock(&dom->lock);
        bool transient = !dom->def;
        g_mutex_unlock(&dom->lock);
        if (transient)
            tv_driver_list_remove_locked(drv, dom);
        g_mutex_unlock(&drv->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
}

static void reaper_task(gpointer data, gpointer user)
{
    ReapTask *task = data;
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
        ReapTask *task = it->data;
        tv_driver_run_unref(task->run);
        g_free(task);
    }
    g_list_free(orphans);
}

/* One status file: take its QEMU over and list it (as the persistent domain
 * of that name and uuid, or as a transient one).  The runtime leaves nothing
 * running unmanaged: what it cannot take over it kills, and says so. */
static void reconnect_one(TvQemuDriver *drv, const char *name)
{
    g_autofree char *status_path = tv_qemu_process_status_path(drv->state_dir, name);
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    tv_error_reset(); /* reconnect says what is wrong with it */
    g_mutex_lock(&drv->lock);
    TvDriverDomain *dom = g_hash_table_lookup(drv->by_name, name);
    if (dom)
        tv_driver_domain_ref(dom);
    g_mutex_unlock(&drv->lock);
    /* open() is single-threaded: the persistent definition cannot change now */
    const TvDomainDef *persistent = dom ? dom->def : NULL;
    const TvDomainDef *which = st ? st->def : persistent;
    g_autoptr(TvQemuCaps) caps = tv_driver_caps(drv, tv_driver_emulator_of(drv, which));
    if (!caps && !(caps = tv_driver_caps(drv, NULL))) {
        g_warning("QEMU driver: cannot take over '%s': %s", name, tv_error_message());
        tv_error_reset();
        tv_driver_domain_unref(dom);
        return;
    }
    if (dom && st && memcmp(dom->uuid, st->def->uuid, TV_UUID_LEN) != 0) {
        /* not ours to judge: the status file is the record of that QEMU, the
         * definition of a domain that happens to have its name */
        g_warning("QEMU driver: QEMU pid %d runs a domain '%s' with another uuid than the "
                  "definition of that name: left running, not managed",
                  (int)st->pid, name);
        tv_driver_domain_unref(dom);
        return;
    }
    if (!dom && st) {
        dom = tv_driver_domain_new(drv, name, st->def->uuid);
        g_mutex_lock(&drv->lock);
        tv_driver_list_add_locked(drv, dom); /* transient until it stops */
        g_mutex_unlock(&drv->lock);
    }
    if (!dom) /* an unreadable file of a transient domain: its QEMU is killed */
        dom = tv_driver_domain_new(drv, name, (const unsigned char[TV_UUID_LEN]){ 0 });
    TvDriverRun *run = run_new(drv, dom, st ? g_steal_pointer(&st->def) : NULL);
    g_mutex_lock(&drv->lock);
    /* a recorded id that is free, else a new one (the runtime rewrites it) */
    int recorded = run->def && run->def->id > 0 ? run->def->id : 0;
    bool taken = recorded && g_hash_table_contains(drv->by_id, GINT_TO_POINTER(recorded));
    run->id = recorded && !taken ? recorded : drv->next_id++;
    drv->next_id = MAX(drv->next_id, run->id + 1);
    g_mutex_unlock(&drv->lock);
    TvQemuProcessConfig cfg = process_config(drv, caps, run);
    cfg.definition = persistent;
    bool stale = false;
    run->proc = tv_qemu_process_reconnect(name, &cfg, &stale);
    if (run->proc && taken && tv_qemu_process_set_id(run->proc, run->id) < 0) {
        g_warning("QEMU driver: '%s': %s", name, tv_error_message());
        tv_error_reset();
    }
    bool remove = false;
    ReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    if (run->proc) {
        tv_qemu_process_get_state(run->proc, &run->state, &run->reason);
        dom->run = g_steal_pointer(&run);
        dom->run->attached = true;
        g_hash_table_insert(drv->by_id, GINT_TO_POINTER(dom->run->id), dom);
        if (dom->run->exited || dom->run->state == TV_DOMAIN_STATE_SHUTOFF)
            run_detach_locked(drv, dom->run, dom->run->reason, &remove, &task);
    } else {
        remove = !dom->def;
    }
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
    if (run) {
        /* stale: nothing of it runs (any more); else a QEMU could not be ended */
        if (stale)
            g_message("QEMU driver: %s", tv_error_message());
        else
            g_warning("QEMU driver: cannot take over '%s': %s", name, tv_error_message());
        tv_error_reset();
        tv_driver_run_unref(run);
    }
    tv_driver_domain_unref(dom);
}

void tv_driver_reconnect_all(TvQemuDriver *drv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(drv->state_dir, 0, &err);
    if (!dir) {
        g_warning("QEMU driver: cannot read %s: %s", drv->state_dir, err->message);
        return;
    }
    const char *entry;
    while ((entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml") || entry[0] == '.')
            continue;
        g_autofree char *name = g_strndup(entry, strlen(entry) - 4);
        if (tv_domain_name_check(name) < 0) {
            tv_error_reset();
            continue;
        }
        reconnect_one(drv, name);
    }
}

void tv_driver_autostart_all(TvQemuDriver *drv)
{
    g_autoptr(GPtrArray) doms = tv_driver_domains_snapshot(drv);
    for (guint i = 0; i < doms->len; i++) {
        TvDriverDomain *dom = g_ptr_array_index(doms, i);
        g_mutex_lock(&dom->lock);
        bool wanted = dom->autostart && dom->def && !dom->run;
        g_mutex_unlock(&dom->lock);
        if (!wanted)
            continue;
        int rc = begin_inactive_job(dom, "autostart");
        if (rc == 0) {
            rc = start_in_job(drv, dom, NULL, 0);
            tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        }
        if (rc == 0)
            g_message("QEMU driver: autostarted '%s'", dom->name);
        else
            g_warning("QEMU driver: autostart of '%s' failed: %s", dom->name, tv_error_message());
        tv_error_reset();
    }
}
