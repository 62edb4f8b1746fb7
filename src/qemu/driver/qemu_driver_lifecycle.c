/* Running domains: start (create, create_xml), the runtime's state
 * changes, destroy, shutdown, reboot, suspend, resume.  The reaper is in
 * qemu_driver_reaper.c, taking over QEMUs at open and autostart in
 * qemu_driver_reconnect.c. */
#include "qemu_driver_priv.h"
#include "qemu_status.h"
#include "tv_error.h"
#include "tv_file.h"

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

TvDriverRun *tv_driver_run_new(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def)
{
    TvDriverRun *run = g_new0(TvDriverRun, 1);
    run->refs = 1;
    run->drv = drv;
    run->dom = tv_driver_domain_ref(dom);
    run->def = def;
    run->id = -1;
    return run;
}

void tv_driver_tpm_transient_ended(TvQemuDriver *drv, TvDriverDomain *dom, bool had_tpm)
{
    if (!had_tpm || !drv->swtpm_dir)
        return;
    TvError *err = tv_error_steal();
    if (tv_qemu_process_swtpm_transient_ended(drv->swtpm_dir, dom->uuid) < 0) {
        g_warning("QEMU driver: '%s' ended: %s", dom->name, tv_error_message());
        tv_error_reset();
    }
    tv_error_restore(err);
}

/* The run's QEMU is gone: the domain shuts off (a transient one leaves the
 * list, and its TPM state goes).  Under drv->lock and dom->lock; the
 * domain's reference to the run goes to *reap. */
void tv_driver_run_detach_locked(TvQemuDriver *drv, TvDriverRun *run, int reason, bool *remove,
                                 TvDriverReapTask **reap)
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
    /* its swtpm ended with QEMU (the runtime releases it first) */
    if (*remove)
        tv_driver_tpm_transient_ended(drv, dom, run->def && run->def->devices.tpm);
    /* libvirt says FAILED (5) when QEMU went without SHUTDOWN: so after a
     * watchdog's poweroff */
    tv_driver_event_queue(drv, dom, -1, TV_DOMAIN_EVENT_STOPPED,
                          run->watchdog_poweroff && reason == TV_DOMAIN_SHUTOFF_CRASHED
                              ? 5
                              : tv_driver_event_stopped_detail(reason));
    *reap = g_new0(TvDriverReapTask, 1);
    (*reap)->run = run;
    (*reap)->restart = restart;
}

/* Under drv->lock, in the same hold that took the domain off the list: once
 * the lock is dropped, close() may free the driver at any time, and only a
 * task already queued or orphaned is one it knows of (a watcher thread that
 * came back for the lock touched a freed driver, seen under ASan). */
void tv_driver_reap_locked(TvQemuDriver *drv, TvDriverReapTask *task)
{
    if (!task)
        return;
    if (drv->closing || !drv->reaper)
        /* on the watcher thread the run cannot be freed; close() frees it */
        drv->orphans = g_list_prepend(drv->orphans, task);
    else
        g_thread_pool_push(drv->reaper, task, NULL); /* does not wait */
}

/* The detail of a RESUMED event from the running reason, as libvirt maps
 * them: both migration reasons say MIGRATED, a restore says FROM_SNAPSHOT. */
static int resumed_detail(int reason)
{
    switch (reason) {
    case TV_DOMAIN_RUNNING_MIGRATED:
    case TV_DOMAIN_RUNNING_MIGRATION_CANCELED:
        return 1; /* MIGRATED */
    case TV_DOMAIN_RUNNING_RESTORED:
    case TV_DOMAIN_RUNNING_FROM_SNAPSHOT:
        return 2; /* FROM_SNAPSHOT */
    default:
        return 0; /* UNPAUSED */
    }
}

/* Events for a change of a running domain (not start, not stop). */
static void queue_change_event(TvQemuDriver *drv, TvDriverRun *run, int old, int state, int reason)
{
    if (state == old)
        return;
    switch ((TvDomainState)state) {
    case TV_DOMAIN_STATE_RUNNING:
        /* from paused, and (as libvirt) after a restart in the same QEMU
         * following a power-off or a panic */
        if (old == TV_DOMAIN_STATE_PAUSED || old == TV_DOMAIN_STATE_SHUTDOWN ||
            old == TV_DOMAIN_STATE_CRASHED)
            tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_RESUMED,
                                  resumed_detail(reason));
        break;
    case TV_DOMAIN_STATE_PAUSED:
        tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_SUSPENDED,
                              reason == TV_DOMAIN_PAUSED_MIGRATION  ? 1 /* MIGRATED */
                              : reason == TV_DOMAIN_PAUSED_WATCHDOG ? 3 /* WATCHDOG */
                                                                    : 0 /* PAUSED */);
        break;
    case TV_DOMAIN_STATE_SHUTDOWN:
        tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_SHUTDOWN, 0 /* FINISHED */);
        break;
    case TV_DOMAIN_STATE_CRASHED:
        tv_driver_event_queue(drv, run->dom, run->id, TV_DOMAIN_EVENT_CRASHED, 0 /* PANICKED */);
        break;
    case TV_DOMAIN_STATE_NOSTATE:
    case TV_DOMAIN_STATE_BLOCKED:
    case TV_DOMAIN_STATE_SHUTOFF:
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
    TvDriverReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    int old = run->state;
    run->state = state;
    run->reason = reason;
    if (state == TV_DOMAIN_STATE_SHUTOFF)
        tv_driver_run_detach_locked(drv, run, reason, &remove, &task);
    else if (run->attached)
        queue_change_event(drv, run, old, state, reason);
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    tv_driver_reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
}

/* QEMU's WatchdogAction as libvirt's WATCHDOG event action; a name this
 * table does not know is NONE, as libvirt does. */
static int watchdog_event_action(const char *action)
{
    static const char *const names[] = {
        [TV_DOMAIN_EVENT_WATCHDOG_NONE] = "none",
        [TV_DOMAIN_EVENT_WATCHDOG_PAUSE] = "pause",
        [TV_DOMAIN_EVENT_WATCHDOG_RESET] = "reset",
        [TV_DOMAIN_EVENT_WATCHDOG_POWEROFF] = "poweroff",
        [TV_DOMAIN_EVENT_WATCHDOG_SHUTDOWN] = "shutdown",
        [TV_DOMAIN_EVENT_WATCHDOG_DEBUG] = "debug",
        [TV_DOMAIN_EVENT_WATCHDOG_INJECTNMI] = "inject-nmi",
    };
    for (size_t i = 0; action && i < G_N_ELEMENTS(names); i++) {
        if (strcmp(names[i], action) == 0)
            return (int)i;
    }
    return TV_DOMAIN_EVENT_WATCHDOG_NONE;
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
    } else if (event->type == TV_QEMU_EVENT_DEVICE_DELETED) {
        tv_driver_device_deleted(run, event->device_deleted.device);
    } else if (event->type == TV_QEMU_EVENT_WATCHDOG) {
        /* the guest's watchdog expired, with its action; the runtime gives
         * this before the state it changes (paused, shut off) */
        int action = watchdog_event_action(event->watchdog_action);
        if (action == TV_DOMAIN_EVENT_WATCHDOG_POWEROFF) {
            g_mutex_lock(&dom->lock);
            run->watchdog_poweroff = true;
            g_mutex_unlock(&dom->lock);
        }
        tv_driver_event_queue_other(drv, dom, run->id, TV_DOMAIN_EVENT_ID_WATCHDOG, action, 0, NULL,
                                    0);
    }
}

/* The runtime's view of one run of a domain under this driver. */
TvQemuProcessConfig tv_driver_process_config(TvQemuDriver *drv, const TvQemuCaps *caps,
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
        .network_bridge = drv->network_bridge,
        .network_opaque = drv->network_opaque,
        .migrate_tls_dir = drv->migrate_tls_dir,
        .swtpm_dir = drv->swtpm_dir,
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
 * the persistent definition); in: a QEMU that receives the guest's state. */
static int start_run(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def, unsigned flags,
                     const TvQemuIncoming *in, int started_detail)
{
    TvDriverRun *run = tv_driver_run_new(drv, dom, def);
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
    TvQemuProcessConfig cfg = tv_driver_process_config(drv, caps, run);
    g_autoptr(TvDriverPrefork) prefork = tv_driver_prefork_get(drv, caps);
    cfg.zygote = tv_driver_prefork_zygote(prefork);
    off_t log_before = log_size(drv, dom->name);
    run->proc = in ? tv_qemu_process_start_incoming(what, &cfg, in)
                   : tv_qemu_process_start(
                         what, &cfg, (flags & START_PAUSED) ? TV_QEMU_PROCESS_START_PAUSED : 0);
    if (!run->proc) {
        if (log_size(drv, dom->name) != log_before) { /* QEMU ran and failed */
            g_mutex_lock(&dom->lock);
            dom->shutoff_reason = TV_DOMAIN_SHUTOFF_FAILED;
            /* an incoming QEMU (restore, migration Prepare, which may try
             * the next port) was never announced: as libvirt, its failure is
             * the caller's error alone */
            if (!in)
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
    TvDriverReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    dom->run = run; /* the domain takes our reference */
    dom->starting = NULL;
    run->attached = true;
    g_hash_table_insert(drv->by_id, GINT_TO_POINTER(run->id), dom);
    tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_STARTED, started_detail);
    /* An incoming QEMU is paused until its state has arrived: whoever
     * started it (restore, migration Finish) says paused or resumed then,
     * as libvirt does; a start asked to be paused says it now. */
    if (run->state == TV_DOMAIN_STATE_PAUSED && !in)
        tv_driver_event_queue(drv, dom, run->id, TV_DOMAIN_EVENT_SUSPENDED, 0 /* PAUSED */);
    if (run->exited) /* it went away before we took it */
        tv_driver_run_detach_locked(drv, run, run->reason, &remove, &task);
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    tv_driver_reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
    return 0;
}

int tv_driver_start_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def, unsigned flags)
{
    return start_run(drv, dom, def, flags, NULL, 0 /* BOOTED */);
}

int tv_driver_start_incoming_in_job(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def,
                                    const TvQemuIncoming *in, int started_detail)
{
    return start_run(drv, dom, def, 0, in, started_detail);
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
int tv_driver_begin_inactive_job(TvDriverDomain *dom, const char *owner)
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
    /* BYPASS_CACHE: reading the managed save image through the page cache
     * is accepted (docs/migration.rst, "Save and restore") */
    if (start_flags_check(flags, 0) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_begin_inactive_job(dom, "start") < 0)
        return -1;
    /* as libvirt: a managed save image is restored, or with FORCE_BOOT
     * discarded before a fresh boot */
    int rc = 1;
    if (flags & START_FORCE_BOOT) {
        g_autofree char *image = tv_driver_managed_save_path(drv, dom->name);
        rc = tv_file_remove(image) < 0 ? -1 : 1;
    } else {
        rc = tv_driver_start_managed_save(drv, dom, flags & START_PAUSED);
    }
    if (rc > 0)
        rc = tv_driver_start_in_job(drv, dom, NULL, flags);
    if (rc == 0)
        fill_ref(dom, out);
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}

TvDriverDomain *tv_driver_domain_for_start(TvQemuDriver *drv, const TvDomainDef *def,
                                           const char *owner, bool *created)
{
    g_mutex_lock(&drv->define_lock);
    g_mutex_lock(&drv->lock);
    TvDriverDomain *by_name = g_hash_table_lookup(drv->by_name, def->name);
    TvDriverDomain *by_uuid = g_hash_table_lookup(drv->by_uuid, def->uuid);
    TvDriverDomain *dom = NULL;
    *created = false;
    if (by_name || by_uuid) {
        /* the same name and uuid: the given definition runs in place of the
         * persistent one (libvirt's behaviour) */
        dom = by_name == by_uuid ? tv_driver_domain_ref(by_name) : NULL;
        if (!dom) {
            char uuid[TV_UUID_STRLEN + 1];
            tv_uuid_format(by_name ? by_name->uuid : def->uuid, uuid);
            tv_error_report(TV_FROM_QEMU, TV_ERR_DOM_EXIST,
                            "domain '%s' already exists with uuid %s",
                            by_name ? by_name->name : by_uuid->name, uuid);
        }
    } else {
        /* a new transient domain, listed (in its job) while it starts */
        dom = tv_driver_domain_new(drv, def->name, def->uuid);
        tv_driver_job_begin_new(dom, owner);
        tv_driver_list_add_locked(drv, dom);
        *created = true;
    }
    g_mutex_unlock(&drv->lock);
    g_mutex_unlock(&drv->define_lock);
    if (dom && !*created && tv_driver_begin_inactive_job(dom, owner) < 0)
        g_clear_pointer(&dom, tv_driver_domain_unref);
    return dom;
}

void tv_driver_domain_for_start_end(TvQemuDriver *drv, TvDriverDomain *dom, bool created,
                                    bool started)
{
    if (!started && created) {
        g_mutex_lock(&drv->lock);
        tv_driver_list_remove_locked(drv, dom);
        g_mutex_unlock(&drv->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    tv_driver_domain_unref(dom);
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

    bool created = false;
    TvDriverDomain *dom = tv_driver_domain_for_start(drv, def, "create", &created);
    if (!dom) {
        tv_domain_def_free(def);
        return -1;
    }
    int rc = tv_driver_start_in_job(drv, dom, def, flags);
    if (rc == 0)
        fill_ref(dom, out);
    tv_driver_domain_for_start_end(drv, dom, created, rc == 0);
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
