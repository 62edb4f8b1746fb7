/* Pools on disk (tv_objfiles.h): CONFIG/storage/NAME.xml, its autostart
 * link, and STATE/storage/NAME.xml while a pool is active. */
#include "storage_driver_priv.h"
#include "tv_error.h"

#define POOL_XML_MAX (64 * 1024) /* a pool definition is a few hundred bytes */

int tv_storage_persist_save(TvStorageDriver *drv, const TvStoragePoolDef *def)
{
    g_autofree char *xml = tv_storage_pool_def_format(def, NULL);
    return tv_objfiles_save(&drv->files, def->name, xml);
}

int tv_storage_state_save(TvStorageDriver *drv, const TvStoragePoolDef *def)
{
    g_autofree char *xml = tv_storage_pool_def_format(def, NULL);
    return tv_objfiles_state_save(&drv->files, def->name, xml);
}

/* A definition from dir, or NULL (logged). */
static TvStoragePoolDef *load_one(TvStorageDriver *drv, const char *dir, const char *name)
{
    size_t len = 0;
    g_autofree char *xml = tv_objfiles_read(&drv->files, dir, name, POOL_XML_MAX, &len);
    if (!xml)
        return NULL;
    TvStoragePoolDef *def = tv_storage_pool_def_parse(xml, len);
    if (!def) {
        g_warning("storage: skipping %s/%s.xml: %s", dir, name, tv_error_message());
        tv_error_reset();
        return NULL;
    }
    if (g_strcmp0(def->name, name) != 0) {
        g_warning("storage: skipping %s/%s.xml: it defines pool '%s'", dir, name, def->name);
        tv_storage_pool_def_free(def);
        return NULL;
    }
    return def;
}

void tv_storage_persist_load(TvStorageDriver *drv)
{
    g_mutex_lock(&drv->lock);
    g_autoptr(GPtrArray) defs = tv_objfiles_names(drv->files.config_dir);
    for (guint i = 0; i < defs->len; i++) {
        TvStoragePoolDef *def = load_one(drv, drv->files.config_dir, g_ptr_array_index(defs, i));
        if (!def)
            continue;
        if (tv_storage_find_name_locked(drv, def->name) ||
            tv_storage_find_uuid_locked(drv, def->uuid)) {
            g_warning("storage: skipping a second pool named '%s' or with its uuid", def->name);
            tv_storage_pool_def_free(def);
            continue;
        }
        TvStoragePool *pool = g_new0(TvStoragePool, 1);
        pool->def = def;
        pool->persistent = true;
        pool->autostart = tv_objfiles_autostart(&drv->files, def->name);
        g_ptr_array_add(drv->pools, pool);
    }
    /* active pools: a transient one exists only here */
    g_autoptr(GPtrArray) states = tv_objfiles_names(drv->files.state_dir);
    for (guint i = 0; i < states->len; i++) {
        TvStoragePoolDef *def = load_one(drv, drv->files.state_dir, g_ptr_array_index(states, i));
        if (!def)
            continue;
        TvStoragePool *pool = tv_storage_find_name_locked(drv, def->name);
        if (!pool) {
            pool = g_new0(TvStoragePool, 1);
            pool->def = def;
            g_ptr_array_add(drv->pools, pool);
        } else {
            tv_storage_pool_def_free(def);
        }
        if (tv_storage_pool_scan_locked(drv, pool) < 0) {
            g_warning("storage: pool '%s' was active and cannot be read now: %s", pool->def->name,
                      tv_error_message());
            tv_error_reset();
            continue;
        }
        pool->active = true;
    }
    /* a transient pool whose folder is gone: forget it */
    for (guint i = drv->pools->len; i-- > 0;) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        if (!pool->persistent && !pool->active) {
            tv_objfiles_state_remove(&drv->files, pool->def->name);
            g_ptr_array_remove_index(drv->pools, i);
        }
    }
    g_mutex_unlock(&drv->lock);
}
