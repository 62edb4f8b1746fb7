/* At open: take over the QEMUs that the status files name, then start
 * the autostart domains. */
#include "qemu_driver_priv.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <string.h>

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
    TvDriverRun *run = tv_driver_run_new(drv, dom, st ? g_steal_pointer(&st->def) : NULL);
    g_mutex_lock(&drv->lock);
    /* a recorded id that is free, else a new one (the runtime rewrites it) */
    int recorded = run->def && run->def->id > 0 ? run->def->id : 0;
    bool taken = recorded && g_hash_table_contains(drv->by_id, GINT_TO_POINTER(recorded));
    run->id = recorded && !taken ? recorded : drv->next_id++;
    drv->next_id = MAX(drv->next_id, run->id + 1);
    g_mutex_unlock(&drv->lock);
    TvQemuProcessConfig cfg = tv_driver_process_config(drv, caps, run);
    cfg.definition = persistent;
    bool stale = false;
    run->proc = tv_qemu_process_reconnect(name, &cfg, &stale);
    if (run->proc && taken && tv_qemu_process_set_id(run->proc, run->id) < 0) {
        g_warning("QEMU driver: '%s': %s", name, tv_error_message());
        tv_error_reset();
    }
    bool remove = false;
    TvDriverReapTask *task = NULL;
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    if (run->proc) {
        tv_qemu_process_get_state(run->proc, &run->state, &run->reason);
        dom->run = g_steal_pointer(&run);
        dom->run->attached = true;
        g_hash_table_insert(drv->by_id, GINT_TO_POINTER(dom->run->id), dom);
        if (dom->run->exited || dom->run->state == TV_DOMAIN_STATE_SHUTOFF)
            tv_driver_run_detach_locked(drv, dom->run, dom->run->reason, &remove, &task);
    } else {
        /* nothing of it runs now: a transient one is gone (with its TPM state) */
        remove = !dom->def;
        if (remove)
            tv_driver_tpm_transient_ended(drv, dom, run->def && run->def->devices.tpm);
    }
    g_mutex_unlock(&dom->lock);
    if (remove)
        tv_driver_list_remove_locked(drv, dom);
    tv_driver_reap_locked(drv, task);
    g_mutex_unlock(&drv->lock);
    if (run) {
        /* stale: nothing of it runs (any more); else a QEMU could not be ended */
        if (stale)
            g_message("QEMU driver: %s", tv_error_message());
        else
            g_warning("QEMU driver: cannot take over '%s': %s", name, tv_error_message());
        tv_error_reset();
        tv_driver_run_unref(run);
    } else {
        tv_driver_migration_recover(drv, dom); /* a migration nobody can finish now */
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
        int rc = tv_driver_begin_inactive_job(dom, "autostart");
        if (rc == 0) {
            /* as libvirt: from the managed save image when there is one */
            rc = tv_driver_start_managed_save(drv, dom, false);
            if (rc > 0)
                rc = tv_driver_start_in_job(drv, dom, NULL, 0);
            tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        }
        if (rc == 0)
            g_message("QEMU driver: autostarted '%s'", dom->name);
        else
            g_warning("QEMU driver: autostart of '%s' failed: %s", dom->name, tv_error_message());
        tv_error_reset();
    }
}
