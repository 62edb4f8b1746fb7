/* Pools on disk: CONFIG/storage/NAME.xml (persistent definitions, written
 * atomically and flushed before a call returns), CONFIG/storage/autostart/
 * NAME.xml (a link to the definition), STATE/storage/NAME.xml (the
 * definition of an active pool, so a restarted daemon keeps it active). */
#include "storage_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define POOL_XML_MAX (64 * 1024) /* a pool definition is a few hundred bytes */

static char *def_path(const char *dir, const char *name)
{
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    return g_build_filename(dir, file, NULL);
}

int tv_storage_persist_save(TvStorageDriver *drv, const TvStoragePoolDef *def)
{
    g_autofree char *xml = tv_storage_pool_def_format(def, NULL);
    g_autofree char *path = def_path(drv->config_dir, def->name);
    return tv_file_write_atomic(path, xml, strlen(xml), 0600);
}

int tv_storage_persist_remove(TvStorageDriver *drv, const char *name)
{
    g_autofree char *path = def_path(drv->config_dir, name);
    g_autofree char *link = def_path(drv->autostart_dir, name);
    if (tv_file_remove(link) < 0)
        return -1;
    return tv_file_remove(path);
}

int tv_storage_persist_set_autostart(TvStorageDriver *drv, const char *name, bool on)
{
    g_autofree char *link = def_path(drv->autostart_dir, name);
    if (!on)
        return tv_file_remove(link);
    g_autofree char *file = g_strconcat("../", name, ".xml", NULL);
    if (symlink(file, link) < 0 && errno != EEXIST) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot mark storage pool '%s' autostart",
                              name);
        return -1;
    }
    return 0;
}

int tv_storage_state_save(TvStorageDriver *drv, const TvStoragePoolDef *def)
{
    g_autofree char *xml = tv_storage_pool_def_format(def, NULL);
    g_autofree char *path = def_path(drv->state_dir, def->name);
    return tv_file_write_atomic(path, xml, strlen(xml), 0600);
}

void tv_storage_state_remove(TvStorageDriver *drv, const char *name)
{
    g_autofree char *path = def_path(drv->state_dir, name);
    if (tv_file_remove(path) < 0) {
        g_warning("storage: %s", tv_error_message());
        tv_error_reset();
    }
}

/* A definition from dir/file, or NULL (logged): a broken file never stops
 * the daemon, and is never deleted. */
static TvStoragePoolDef *load_one(const char *dir, const char *file)
{
    g_autofree char *path = g_build_filename(dir, file, NULL);
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, POOL_XML_MAX, &xml, &len) < 0) {
        g_warning("storage: skipping %s: %s", path, tv_error_message());
        tv_error_reset();
        return NULL;
    }
    TvStoragePoolDef *def = tv_storage_pool_def_parse(xml, len);
    if (!def) {
        g_warning("storage: skipping %s: %s", path, tv_error_message());
        tv_error_reset();
        return NULL;
    }
    g_autofree char *expected = g_strconcat(def->name, ".xml", NULL);
    if (strcmp(expected, file) != 0) {
        g_warning("storage: skipping %s: it defines pool '%s'", path, def->name);
        tv_storage_pool_def_free(def);
        return NULL;
    }
    return def;
}

static GPtrArray *xml_files(const char *dir)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".xml") && name[0] != '.')
            g_ptr_array_add(names, g_strdup(name));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    return names;
}

static bool clashes(TvStorageDriver *drv, const TvStoragePoolDef *def)
{
    return tv_storage_find_name_locked(drv, def->name) ||
           tv_storage_find_uuid_locked(drv, def->uuid);
}

void tv_storage_persist_load(TvStorageDriver *drv)
{
    g_mutex_lock(&drv->lock);
    g_autoptr(GPtrArray) defs = xml_files(drv->config_dir);
    for (guint i = 0; i < defs->len; i++) {
        TvStoragePoolDef *def = load_one(drv->config_dir, g_ptr_array_index(defs, i));
        if (!def)
            continue;
        if (clashes(drv, def)) {
            g_warning("storage: skipping a second pool named '%s' or with its uuid", def->name);
            tv_storage_pool_def_free(def);
            continue;
        }
        TvStoragePool *pool = g_new0(TvStoragePool, 1);
        pool->def = def;
        pool->persistent = true;
        g_autofree char *link = def_path(drv->autostart_dir, def->name);
        pool->autostart = g_file_test(link, G_FILE_TEST_IS_SYMLINK);
        g_ptr_array_add(drv->pools, pool);
    }
    /* active pools: a transient one exists only here */
    g_autoptr(GPtrArray) states = xml_files(drv->state_dir);
    for (guint i = 0; i < states->len; i++) {
        TvStoragePoolDef *def = load_one(drv->state_dir, g_ptr_array_index(states, i));
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
            tv_storage_state_remove(drv, pool->def->name);
            g_ptr_array_remove_index(drv->pools, i);
        }
    }
    g_mutex_unlock(&drv->lock);
}
