/* Define, undefine and autostart: the persistent side of a domain. */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <string.h>

/* libvirt's VIR_DOMAIN_UNDEFINE_* */
enum {
    UNDEFINE_MANAGED_SAVE = 1,
    UNDEFINE_SNAPSHOTS_METADATA = 2,
    UNDEFINE_NVRAM = 4,
    UNDEFINE_KEEP_NVRAM = 8,
    UNDEFINE_CHECKPOINTS_METADATA = 16,
    UNDEFINE_TPM = 32,
    UNDEFINE_KEEP_TPM = 64,
};

/* The domain that holds def's name or uuid, if any; errors on a clash.
 * Under drv->lock.  *found gets a reference. */
static int find_same(TvQemuDriver *drv, const TvDomainDef *def, TvDriverDomain **found)
{
    TvDriverDomain *by_name = g_hash_table_lookup(drv->by_name, def->name);
    TvDriverDomain *by_uuid = g_hash_table_lookup(drv->by_uuid, def->uuid);
    char uuid[TV_UUID_STRLEN + 1];
    if (by_name && by_name != by_uuid) {
        tv_uuid_format(by_name->uuid, uuid);
        tv_error_report(TV_FROM_QEMU, TV_ERR_DOM_EXIST, "domain '%s' already exists with uuid %s",
                        def->name, uuid);
        return -1;
    }
    if (by_uuid && !by_name) {
        tv_uuid_format(def->uuid, uuid);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "domain '%s' is already defined with uuid %s: a definition cannot rename "
                        "a domain",
                        by_uuid->name, uuid);
        return -1;
    }
    *found = by_uuid ? tv_driver_domain_ref(by_uuid) : NULL;
    return 0;
}

/* A name nobody holds: write the file, then list it (failure leaves neither). */
static int define_new(TvQemuDriver *drv, TvDomainDef *def, TvDomainRef *out)
{
    if (tv_driver_persist_set_autostart(drv, def->name, false) < 0 || /* a stale link */
        tv_driver_persist_save(drv, def) < 0) {
        tv_domain_def_free(def);
        return -1;
    }
    TvDriverDomain *dom = tv_driver_domain_new(drv, def->name, def->uuid);
    dom->def = def;
    g_mutex_lock(&drv->lock);
    tv_driver_list_add_locked(drv, dom);
    g_mutex_unlock(&drv->lock);
    g_mutex_lock(&dom->lock);
    tv_driver_domain_ref_fill(dom, out);
    tv_driver_event_queue(drv, dom, -1, TV_DOMAIN_EVENT_DEFINED, 0 /* ADDED */);
    g_mutex_unlock(&dom->lock);
    tv_driver_domain_unref(dom);
    return 0;
}

/* The same name and uuid: the new definition replaces the persistent one; a
 * running instance keeps what it runs until it stops. */
int tv_driver_define_update(TvQemuDriver *drv, TvDriverDomain *dom, TvDomainDef *def,
                            TvDomainRef *out)
{
    if (tv_driver_persist_save(drv, def) < 0) {
        tv_domain_def_free(def);
        return -1;
    }
    g_mutex_lock(&dom->lock);
    bool was_persistent = dom->def != NULL;
    TvDomainDef *old = g_steal_pointer(&dom->def);
    if (dom->run && !dom->run->def)
        dom->run->def = g_steal_pointer(&old);
    dom->def = def;
    g_atomic_int_set(&dom->xml_size, 0); /* the old size says nothing about the new one */
    tv_driver_domain_ref_fill(dom, out);
    tv_driver_event_queue(drv, dom, out->id, TV_DOMAIN_EVENT_DEFINED,
                          was_persistent ? 1 /* UPDATED */ : 0 /* ADDED */);
    g_mutex_unlock(&dom->lock);
    tv_driver_domain_def_retire(dom, old);
    return 0;
}

static int define_def(TvQemuDriver *drv, TvDomainDef *def, TvDomainRef *out)
{
    for (;;) {
        g_mutex_lock(&drv->define_lock);
        g_mutex_lock(&drv->lock);
        TvDriverDomain *dom = NULL;
        int rc = find_same(drv, def, &dom);
        g_mutex_unlock(&drv->lock);
        if (rc < 0) {
            g_mutex_unlock(&drv->define_lock);
            tv_domain_def_free(def);
            return -1;
        }
        if (!dom) {
            rc = define_new(drv, def, out);
            g_mutex_unlock(&drv->define_lock);
            return rc;
        }
        g_mutex_unlock(&drv->define_lock);
        if (tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "define") < 0) {
            bool gone = tv_error_code() == TV_ERR_NO_DOMAIN;
            tv_driver_domain_unref(dom);
            if (gone) { /* undefined meanwhile: define it anew */
                tv_error_reset();
                continue;
            }
            tv_domain_def_free(def);
            return -1;
        }
        rc = tv_driver_define_update(drv, dom, def, out);
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        tv_driver_domain_unref(dom);
        return rc;
    }
}

int tv_qemu_driver_define(TvQemuDriver *drv, const char *xml, unsigned flags, TvDomainRef *out)
{
    if (flags & ~TV_DEFINE_VALIDATE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "define flags 0x%x are not supported; accepted: 0x1 (validate)", flags);
        return -1;
    }
    if (!xml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no domain XML given");
        return -1;
    }
    size_t len = strlen(xml);
    if ((flags & TV_DEFINE_VALIDATE) && tv_domain_def_validate_schema(xml, len) < 0)
        return -1;
    TvDomainDef *def = tv_qemu_domain_load(&drv->pipe, xml, len, TV_DOMAIN_PARSE_DEFAULT, NULL);
    if (!def)
        return -1;
    return define_def(drv, def, out);
}

#define UNDEFINE_KNOWN                                                                             \
    (UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM | UNDEFINE_KEEP_NVRAM |  \
     UNDEFINE_CHECKPOINTS_METADATA | UNDEFINE_TPM | UNDEFINE_KEEP_TPM)

static int undefine_flags_check(unsigned flags)
{
    if (flags & ~UNDEFINE_KNOWN) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "undefine flags 0x%x are not supported; accepted: 0x%x", flags,
                        UNDEFINE_KNOWN);
        return -1;
    }
    if ((flags & UNDEFINE_NVRAM) && (flags & UNDEFINE_KEEP_NVRAM)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "undefine flags 0x4 (remove nvram) and 0x8 (keep nvram) contradict "
                        "each other");
        return -1;
    }
    if ((flags & UNDEFINE_TPM) && (flags & UNDEFINE_KEEP_TPM)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "undefine flags 0x20 (remove TPM state) and 0x40 (keep TPM state) "
                        "contradict each other");
        return -1;
    }
    return 0;
}

int tv_qemu_driver_undefine(TvQemuDriver *drv, const unsigned char *uuid, unsigned flags)
{
    /* snapshots and checkpoints do not exist here: asking to remove them
     * is satisfied as it is; TPM state (swtpm) goes unless --keep-tpm, as
     * libvirt does for a TPM without persistent_state */
    if (undefine_flags_check(flags) < 0)
        return -1;
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "undefine") < 0)
        return -1;
    g_mutex_lock(&dom->lock);
    bool persistent = dom->def != NULL;
    g_autofree char *nvram = persistent ? g_strdup(dom->def->os.boot.fw.nvram) : NULL;
    g_mutex_unlock(&dom->lock);
    if (!persistent) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot undefine transient domain '%s'", dom->name);
        return -1;
    }
    /* libvirt's rule: a variable store on disk is removed or kept on request only */
    bool nvram_exists = nvram && g_file_test(nvram, G_FILE_TEST_EXISTS);
    if (nvram_exists && !(flags & (UNDEFINE_NVRAM | UNDEFINE_KEEP_NVRAM))) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot undefine domain '%s' with nvram: its UEFI variable store '%s' "
                        "exists; use --nvram to remove it or --keep-nvram to keep it",
                        dom->name, nvram);
        return -1;
    }
    /* libvirt's rule: a managed save image is removed on request only */
    g_autofree char *image = tv_driver_managed_save_path(drv, dom->name);
    bool has_image = g_file_test(image, G_FILE_TEST_EXISTS);
    if (has_image && !(flags & UNDEFINE_MANAGED_SAVE)) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "refusing to undefine domain '%s' while its managed save image exists "
                        "(use --managed-save to remove it with the definition)",
                        dom->name);
        return -1;
    }
    if (has_image && tv_file_remove(image) < 0) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        return -1;
    }
    if (!(flags & UNDEFINE_NVRAM))
        g_clear_pointer(&nvram, g_free);
    if (tv_driver_persist_remove(drv, dom->name) < 0) {
        tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
        return -1;
    }
    if (nvram && tv_file_remove(nvram) < 0) {
        g_warning("QEMU driver: undefine '%s': %s", dom->name, tv_error_message());
        tv_error_reset();
    }
    g_mutex_lock(&drv->lock);
    g_mutex_lock(&dom->lock);
    TvDomainDef *old = g_steal_pointer(&dom->def);
    bool running = dom->run != NULL;
    /* TPM state: a running guest's swtpm still uses it; it goes (or stays
     * with --keep-tpm, noted beside it) when that run ends, as a transient
     * domain's: noted under drv->lock, before that end can come */
    bool keep = flags & UNDEFINE_KEEP_TPM;
    int tpm_rc = running ? tv_qemu_process_swtpm_mark_kept(drv->swtpm_dir, uuid, keep) : 0;
    if (running && !dom->run->def) /* it stays, as a transient domain, until it stops */
        dom->run->def = g_steal_pointer(&old);
    dom->autostart = false;
    tv_driver_event_queue(drv, dom, running ? dom->run->id : -1, TV_DOMAIN_EVENT_UNDEFINED,
                          0 /* REMOVED */);
    g_mutex_unlock(&dom->lock);
    if (!running) {
        tv_driver_list_remove_locked(drv, dom);
        /* in the same hold: a new domain of this uuid cannot start meanwhile */
        tpm_rc = keep ? tv_qemu_process_swtpm_mark_kept(drv->swtpm_dir, uuid, false)
                      : tv_qemu_process_swtpm_remove_state(drv->swtpm_dir, uuid);
    }
    g_mutex_unlock(&drv->lock);
    tv_driver_domain_def_retire(dom, old);
    if (tpm_rc < 0) {
        g_warning("QEMU driver: undefine '%s': %s", dom->name, tv_error_message());
        tv_error_reset();
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return 0;
}

int tv_qemu_driver_get_autostart(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    g_mutex_lock(&dom->lock);
    int on = dom->autostart;
    g_mutex_unlock(&dom->lock);
    return on;
}

int tv_qemu_driver_set_autostart(TvQemuDriver *drv, const unsigned char *uuid, bool autostart)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom || tv_driver_job_begin(dom, TV_JOB_SYNC_MODIFY, "set autostart") < 0)
        return -1;
    g_mutex_lock(&dom->lock);
    bool persistent = dom->def != NULL;
    g_mutex_unlock(&dom->lock);
    int rc = -1;
    if (!persistent)
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot set autostart for transient domain '%s'", dom->name);
    else
        rc = tv_driver_persist_set_autostart(drv, dom->name, autostart);
    if (rc == 0) {
        g_mutex_lock(&dom->lock);
        dom->autostart = autostart;
        g_mutex_unlock(&dom->lock);
    }
    tv_driver_job_end(dom, TV_JOB_SYNC_MODIFY);
    return rc;
}
