/* The domain objects and the driver's name/uuid/id maps: references,
 * list membership, lookup by uuid, snapshots of the list. */
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

guint tv_driver_uuid_hash(gconstpointer uuid)
{
    guint h;
    memcpy(&h, uuid, sizeof(h)); /* uuids are random: any 4 bytes hash well */
    return h;
}

gboolean tv_driver_uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, TV_UUID_LEN) == 0;
}

TvDriverDomain *tv_driver_domain_new(TvQemuDriver *drv, const char *name, const unsigned char *uuid)
{
    TvDriverDomain *dom = g_new0(TvDriverDomain, 1);
    dom->refs = 1;
    dom->name = g_strdup(name);
    memcpy(dom->uuid, uuid, TV_UUID_LEN);
    g_mutex_init(&dom->lock);
    g_rw_lock_init(&dom->def_lock);
    tv_driver_job_init(&dom->job, drv->job_wait_ms);
    dom->shutoff_reason = TV_DOMAIN_SHUTOFF_UNKNOWN;
    return dom;
}

TvDriverDomain *tv_driver_domain_ref(TvDriverDomain *dom)
{
    g_atomic_int_inc(&dom->refs);
    return dom;
}

void tv_driver_domain_unref(TvDriverDomain *dom)
{
    if (!dom || !g_atomic_int_dec_and_test(&dom->refs))
        return;
    tv_domain_def_free(dom->def);
    g_rw_lock_clear(&dom->def_lock);
    tv_driver_job_clear(&dom->job);
    g_mutex_clear(&dom->lock);
    g_free(dom->name);
    g_free(dom);
}

void tv_driver_domain_def_retire(TvDriverDomain *dom, TvDomainDef *old)
{
    if (!old)
        return;
    g_rw_lock_writer_lock(&dom->def_lock);
    tv_domain_def_free(old);
    g_rw_lock_writer_unlock(&dom->def_lock);
}

void tv_driver_list_add_locked(TvQemuDriver *drv, TvDriverDomain *dom)
{
    g_hash_table_insert(drv->by_uuid, dom->uuid, tv_driver_domain_ref(dom));
    g_hash_table_insert(drv->by_name, dom->name, dom);
}

void tv_driver_list_remove_locked(TvQemuDriver *drv, TvDriverDomain *dom)
{
    if (g_hash_table_lookup(drv->by_uuid, dom->uuid) != dom)
        return;
    g_mutex_lock(&dom->lock);
    dom->removed = true;
    g_cond_broadcast(&dom->job.cond); /* waiters for its job give up */
    g_mutex_unlock(&dom->lock);
    g_hash_table_remove(drv->by_name, dom->name);
    g_hash_table_remove(drv->by_uuid, dom->uuid); /* drops the list's reference */
}

static void uuid_string(const unsigned char *uuid, char out[TV_UUID_STRLEN + 1])
{
    tv_uuid_format(uuid, out);
}

TvDriverDomain *tv_driver_find_uuid(TvQemuDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvDriverDomain *dom = g_hash_table_lookup(drv->by_uuid, uuid);
    if (dom)
        tv_driver_domain_ref(dom);
    g_mutex_unlock(&drv->lock);
    if (!dom) {
        char str[TV_UUID_STRLEN + 1];
        uuid_string(uuid, str);
        tv_error_report(TV_FROM_QEMU, TV_ERR_NO_DOMAIN,
                        "domain not found: no domain with matching uuid '%s'", str);
    }
    return dom;
}

const TvDomainDef *tv_driver_domain_current_def(TvDriverDomain *dom)
{
    if (dom->run && dom->run->def)
        return dom->run->def;
    return dom->def;
}

bool tv_driver_domain_active_locked(TvDriverDomain *dom)
{
    return dom->run != NULL;
}

void tv_driver_domain_ref_fill(TvDriverDomain *dom, TvDomainRef *out)
{
    out->name = g_strdup(dom->name);
    memcpy(out->uuid, dom->uuid, TV_UUID_LEN);
    out->id = dom->run ? dom->run->id : -1;
}

GPtrArray *tv_driver_domains_snapshot(TvQemuDriver *drv)
{
    GPtrArray *doms = g_ptr_array_new_with_free_func((GDestroyNotify)tv_driver_domain_unref);
    g_mutex_lock(&drv->lock);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, drv->by_uuid);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(doms, tv_driver_domain_ref(value));
    g_mutex_unlock(&drv->lock);
    return doms;
}

void tv_driver_domains_free_all(TvQemuDriver *drv)
{
    g_autoptr(GPtrArray) doms = tv_driver_domains_snapshot(drv);

    for (guint i = 0; i < doms->len; i++) {
        TvDriverDomain *dom = g_ptr_array_index(doms, i);
        g_mutex_lock(&dom->lock);
        TvDriverRun *run = g_steal_pointer(&dom->run);
        if (run)
            run->attached = false;
        g_mutex_unlock(&dom->lock);
        /* stops the watcher (its callbacks end first); QEMU keeps running */
        if (run) {
            g_clear_pointer(&run->proc, tv_qemu_process_free);
            tv_driver_run_unref(run);
        }
    }
    g_mutex_lock(&drv->lock);
    g_hash_table_remove_all(drv->by_id);
    g_hash_table_remove_all(drv->by_name);
    g_hash_table_remove_all(drv->by_uuid);
    g_mutex_unlock(&drv->lock);
}
