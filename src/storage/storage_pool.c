/* Pool lifecycle with libvirt's semantics: define, create (transient),
 * start, build, refresh, stop, delete, undefine, autostart, info, XML. */
#include "storage_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* libvirt's flag numbers */
enum {
    CREATE_WITH_BUILD = 1 << 0,
    CREATE_WITH_BUILD_OVERWRITE = 1 << 1,
    CREATE_WITH_BUILD_NO_OVERWRITE = 1 << 2,
    BUILD_REPAIR = 1 << 0,
    BUILD_RESIZE = 1 << 1,
    BUILD_NO_OVERWRITE = 1 << 2,
    BUILD_OVERWRITE = 1 << 3,
    DEFINE_VALIDATE = 1 << 0,
    XML_INACTIVE = 1 << 0,
    DELETE_ZEROED = 1 << 0,
};

#define TEMP_PREFIX       ".tagvirt-"
#define DEFAULT_POOL_MODE 0711

/* The canonical form of path with symbolic links of its existing part
 * resolved, so a link cannot lead out of an allowed root. */
static char *resolve(const char *path)
{
    g_autofree char *canon = g_canonicalize_filename(path, "/");
    g_autofree char *head = g_strdup(canon);
    g_autoptr(GString) tail = g_string_new(NULL);
    for (;;) {
        char *real = realpath(head, NULL);
        if (real) {
            g_autofree char *joined = g_build_filename(real, tail->str, NULL);
            free(real);
            return g_canonicalize_filename(joined, "/");
        }
        char *slash = strrchr(head, '/');
        if (!slash || slash == head)
            return g_steal_pointer(&canon);
        g_string_prepend(tail, slash);
        *slash = '\0';
    }
}

int tv_storage_root_check(TvStorageDriver *drv, const char *path)
{
    g_autofree char *real = resolve(path);
    for (char **r = drv->roots; *r; r++) {
        size_t n = strlen(*r);
        if (strcmp(real, *r) == 0 || (strncmp(real, *r, n) == 0 && real[n] == '/') ||
            strcmp(*r, "/") == 0)
            return 0;
    }
    g_autofree char *roots = g_strjoinv("', '", drv->roots);
    tv_error_report(
        TV_FROM_STORAGE, TV_ERR_OPERATION_DENIED,
        "storage pool target '%s'%s%s%s is outside the allowed folders: '%s' (tagvirtd's "
        "storage_pool_roots setting)",
        path, strcmp(real, path) ? " (resolves to '" : "", strcmp(real, path) ? real : "",
        strcmp(real, path) ? "')" : "", roots);
    return -1;
}

static int vol_compare(gconstpointer a, gconstpointer b)
{
    const TvStorageVol *va = *(TvStorageVol *const *)a;
    const TvStorageVol *vb = *(TvStorageVol *const *)b;
    return strcmp(va->def->name, vb->def->name);
}

static void vol_free(TvStorageVol *vol)
{
    tv_storage_vol_def_free(vol->def);
    g_free(vol);
}

int tv_storage_pool_scan_locked(TvStorageDriver *drv, TvStoragePool *pool)
{
    const char *dir = pool->def->target_path;
    g_autoptr(GError) gerr = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "cannot read the folder of storage pool '%s': %s (build the pool, e.g. "
                        "'virsh pool-build %s')",
                        pool->def->name, gerr->message, pool->def->name);
        return -1;
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot read the file system of '%s'", dir);
        return -1;
    }
    GPtrArray *vols = g_ptr_array_new_with_free_func((GDestroyNotify)vol_free);
    /* volumes being made keep their placeholder */
    for (guint i = 0; pool->vols && i < pool->vols->len; i++) {
        TvStorageVol *old = g_ptr_array_index(pool->vols, i);
        if (old->building) {
            g_ptr_array_add(vols, old);
            g_ptr_array_index(pool->vols, i) = NULL;
        }
    }
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_prefix(name, TEMP_PREFIX))
            continue;
        bool placeholder = false;
        for (guint i = 0; i < vols->len && !placeholder; i++)
            placeholder =
                strcmp(((TvStorageVol *)g_ptr_array_index(vols, i))->def->name, name) == 0;
        if (placeholder)
            continue;
        TvStorageVolDef *def = tv_storage_probe_file(dir, name);
        if (!def)
            continue; /* not a regular file, or gone meanwhile */
        TvStorageVol *vol = g_new0(TvStorageVol, 1);
        vol->def = def;
        g_ptr_array_add(vols, vol);
    }
    g_ptr_array_sort(vols, vol_compare);
    if (pool->vols) {
        g_ptr_array_set_free_func(pool->vols, (GDestroyNotify)vol_free);
        g_ptr_array_unref(pool->vols);
    }
    pool->vols = vols;
    unsigned long long frsize = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
    pool->sizes.capacity = frsize * vfs.f_blocks;
    pool->sizes.available = frsize * vfs.f_bavail;
    pool->sizes.allocation = pool->sizes.capacity - frsize * vfs.f_bfree;
    return 0;
}

/* mkdir -p the target with the pool's permissions */
static int build_locked(TvStorageDriver *drv, TvStoragePool *pool, unsigned build_flags)
{
    const char *dir = pool->def->target_path;
    if (tv_storage_root_check(drv, dir) < 0)
        return -1;
    struct stat st;
    bool existed = stat(dir, &st) == 0;
    if (existed && !S_ISDIR(st.st_mode)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "cannot build storage pool '%s': '%s' exists and is not a folder",
                        pool->def->name, dir);
        return -1;
    }
    mode_t mode = pool->def->perms.mode ? pool->def->perms.mode : DEFAULT_POOL_MODE;
    if (!existed && g_mkdir_with_parents(dir, (int)mode) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno,
                              "cannot build storage pool '%s': cannot make "
                              "'%s'",
                              pool->def->name, dir);
        return -1;
    }
    if ((pool->def->perms.mode || !existed) && chmod(dir, mode) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot set the mode of '%s'", dir);
        return -1;
    }
    if ((pool->def->perms.owner >= 0 || pool->def->perms.group >= 0) &&
        chown(dir, (uid_t)pool->def->perms.owner, (gid_t)pool->def->perms.group) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot set the owner of '%s'", dir);
        return -1;
    }
    (void)build_flags; /* a folder holds no data to overwrite */
    return 0;
}

int tv_storage_pool_start_locked(TvStorageDriver *drv, TvStoragePool *pool, unsigned flags)
{
    if (pool->active) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' is already active", pool->def->name);
        return -1;
    }
    if (tv_storage_root_check(drv, pool->def->target_path) < 0)
        return -1;
    if ((flags &
         (CREATE_WITH_BUILD | CREATE_WITH_BUILD_OVERWRITE | CREATE_WITH_BUILD_NO_OVERWRITE)) &&
        build_locked(drv, pool, 0) < 0)
        return -1;
    if (tv_storage_pool_scan_locked(drv, pool) < 0)
        return -1;
    if (tv_storage_state_save(drv, pool->def) < 0) {
        g_clear_pointer(&pool->vols, g_ptr_array_unref);
        return -1;
    }
    pool->active = true;
    return 0;
}

static int create_flags_check(const char *call, unsigned flags)
{
    if (tv_storage_flags_check(call, flags,
                               CREATE_WITH_BUILD | CREATE_WITH_BUILD_OVERWRITE |
                                   CREATE_WITH_BUILD_NO_OVERWRITE) < 0)
        return -1;
    if ((flags & CREATE_WITH_BUILD_OVERWRITE) && (flags & CREATE_WITH_BUILD_NO_OVERWRITE)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "%s: overwrite and no-overwrite are mutually exclusive", call);
        return -1;
    }
    return 0;
}

/* A pool with def's name or uuid, or another pool on def's folder. */
static int clash_check_locked(TvStorageDriver *drv, const TvStoragePoolDef *def,
                              TvStoragePool **same)
{
    *same = NULL;
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(def->uuid, uuid);
    TvStoragePool *by_name = tv_storage_find_name_locked(drv, def->name);
    TvStoragePool *by_uuid = tv_storage_find_uuid_locked(drv, def->uuid);
    if (by_name && by_name != by_uuid) {
        char other[TV_UUID_STRLEN + 1];
        tv_uuid_format(by_name->def->uuid, other);
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED,
                        "storage pool '%s' already exists with uuid %s", def->name, other);
        return -1;
    }
    if (by_uuid && by_uuid != by_name) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED,
                        "storage pool with uuid %s already exists as '%s'", uuid,
                        by_uuid->def->name);
        return -1;
    }
    *same = by_name;
    for (guint i = 0; i < drv->pools->len; i++) {
        TvStoragePool *p = g_ptr_array_index(drv->pools, i);
        if (p != by_name && strcmp(p->def->target_path, def->target_path) == 0) {
            tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED,
                            "storage pool '%s' already uses the folder '%s'", p->def->name,
                            def->target_path);
            return -1;
        }
    }
    return 0;
}

int tv_storage_pool_define(TvStorageDriver *drv, const char *xml, unsigned flags, TvPoolRef *out)
{
    /* the parser checks as strictly as libvirt's schema would */
    if (tv_storage_flags_check("storage pool define", flags, DEFINE_VALIDATE) < 0)
        return -1;
    g_autoptr(TvStoragePoolDef) def = tv_storage_pool_def_parse(xml, strlen(xml));
    if (!def || tv_storage_root_check(drv, def->target_path) < 0)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = NULL;
    if (clash_check_locked(drv, def, &pool) < 0)
        goto out;
    if (pool && pool->active && strcmp(pool->def->target_path, def->target_path) != 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' is active: its folder cannot change from '%s' to '%s' "
                        "until it is stopped",
                        def->name, pool->def->target_path, def->target_path);
        goto out;
    }
    if (tv_storage_persist_save(drv, def) < 0)
        goto out;
    if (!pool) {
        pool = g_new0(TvStoragePool, 1);
        g_ptr_array_add(drv->pools, pool);
    }
    tv_storage_pool_def_free(pool->def);
    pool->def = g_steal_pointer(&def);
    pool->persistent = true;
    if (pool->active && tv_storage_state_save(drv, pool->def) < 0) {
        g_warning("storage: %s", tv_error_message());
        tv_error_reset();
    }
    tv_storage_pool_ref_fill(pool, out);
    tv_storage_event_queue(events, pool, TV_POOL_EVENT_DEFINED, 0);
    rc = 0;
out:
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_create_xml(TvStorageDriver *drv, const char *xml, unsigned flags,
                               TvPoolRef *out)
{
    if (create_flags_check("storage pool create", flags) < 0)
        return -1;
    g_autoptr(TvStoragePoolDef) def = tv_storage_pool_def_parse(xml, strlen(xml));
    if (!def)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *same = NULL;
    if (clash_check_locked(drv, def, &same) < 0)
        goto out;
    if (same) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' already exists", def->name);
        goto out;
    }
    TvStoragePool *pool = g_new0(TvStoragePool, 1);
    pool->def = g_steal_pointer(&def);
    if (tv_storage_pool_start_locked(drv, pool, flags) < 0) {
        tv_storage_pool_free(pool);
        goto out;
    }
    g_ptr_array_add(drv->pools, pool);
    tv_storage_pool_ref_fill(pool, out);
    tv_storage_event_queue(events, pool, TV_POOL_EVENT_STARTED, 0);
    rc = 0;
out:
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_create(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (create_flags_check("storage pool start", flags) < 0)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    int rc = pool ? tv_storage_pool_start_locked(drv, pool, flags) : -1;
    if (rc == 0)
        tv_storage_event_queue(events, pool, TV_POOL_EVENT_STARTED, 0);
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_build(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (tv_storage_flags_check("storage pool build", flags,
                               BUILD_REPAIR | BUILD_RESIZE | BUILD_NO_OVERWRITE | BUILD_OVERWRITE) <
        0)
        return -1;
    if ((flags & BUILD_OVERWRITE) && (flags & BUILD_NO_OVERWRITE)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "storage pool build: overwrite and no-overwrite are mutually exclusive");
        return -1;
    }
    if (flags & (BUILD_REPAIR | BUILD_RESIZE)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "storage pool build: a directory pool cannot be %s",
                        (flags & BUILD_REPAIR) ? "repaired" : "resized");
        return -1;
    }
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool && pool->active) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' is already active", pool->def->name);
    } else if (pool && build_locked(drv, pool, flags) == 0) {
        tv_storage_event_queue(events, pool, TV_POOL_EVENT_CREATED, 0);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

static bool busy_check(TvStoragePool *pool)
{
    if (!pool->busy)
        return true;
    tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                    "storage pool '%s' has volume operations running (%u)", pool->def->name,
                    pool->busy);
    return false;
}

int tv_storage_pool_destroy(TvStorageDriver *drv, const unsigned char *uuid)
{
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, true);
    if (pool && busy_check(pool)) {
        tv_objfiles_state_remove(&drv->files, pool->def->name);
        pool->active = false;
        g_clear_pointer(&pool->vols, g_ptr_array_unref);
        tv_storage_event_queue(events, pool, TV_POOL_EVENT_STOPPED, 0);
        if (!pool->persistent)
            g_ptr_array_remove(drv->pools, pool);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

static TvStoragePool *get_inactive_locked(TvStorageDriver *drv, const unsigned char *uuid)
{
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool && pool->active) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' is still active", pool->def->name);
        return NULL;
    }
    return pool;
}

int tv_storage_pool_delete(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (tv_storage_flags_check("storage pool delete", flags, DELETE_ZEROED) < 0)
        return -1;
    if (flags & DELETE_ZEROED) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "storage pool delete: a directory pool is not zeroed; delete its volumes");
        return -1;
    }
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = get_inactive_locked(drv, uuid);
    if (pool) {
        if (rmdir(pool->def->target_path) < 0 && errno != ENOENT) {
            tv_error_report_errno(TV_FROM_STORAGE, errno,
                                  "cannot delete the folder '%s' of storage pool '%s'",
                                  pool->def->target_path, pool->def->name);
        } else {
            tv_storage_event_queue(events, pool, TV_POOL_EVENT_DELETED, 0);
            rc = 0;
        }
    }
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_undefine(TvStorageDriver *drv, const unsigned char *uuid)
{
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = get_inactive_locked(drv, uuid);
    if (pool && tv_objfiles_remove(&drv->files, pool->def->name) == 0) {
        tv_storage_event_queue(events, pool, TV_POOL_EVENT_UNDEFINED, 0);
        g_ptr_array_remove(drv->pools, pool);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_refresh(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (tv_storage_flags_check("storage pool refresh", flags, 0) < 0)
        return -1;
    g_autoptr(GPtrArray) events = g_ptr_array_new();
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, true);
    if (pool && tv_storage_pool_scan_locked(drv, pool) == 0) {
        tv_storage_event_queue(events, pool, -1, 0);
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    tv_storage_events_flush(drv, events);
    return rc;
}

int tv_storage_pool_get_info(TvStorageDriver *drv, const unsigned char *uuid, int *state,
                             unsigned long long *capacity, unsigned long long *allocation,
                             unsigned long long *available)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool) {
        *state = pool->active ? TV_POOL_STATE_RUNNING : TV_POOL_STATE_INACTIVE;
        *capacity = pool->active ? pool->sizes.capacity : 0;
        *allocation = pool->active ? pool->sizes.allocation : 0;
        *available = pool->active ? pool->sizes.available : 0;
    }
    g_mutex_unlock(&drv->lock);
    return pool ? 0 : -1;
}

char *tv_storage_pool_get_xml(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags)
{
    if (tv_storage_flags_check("storage pool XML description", flags, XML_INACTIVE) < 0)
        return NULL;
    char *xml = NULL;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool)
        xml = tv_storage_pool_def_format(pool->def, pool->active ? &pool->sizes : NULL);
    g_mutex_unlock(&drv->lock);
    return xml;
}

int tv_storage_pool_get_autostart(TvStorageDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    int rc = pool ? pool->autostart : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_storage_pool_set_autostart(TvStorageDriver *drv, const unsigned char *uuid, bool on)
{
    int rc = -1;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool && !pool->persistent) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "cannot set autostart for transient storage pool '%s'", pool->def->name);
    } else if (pool && tv_objfiles_set_autostart(&drv->files, pool->def->name, on) == 0) {
        pool->autostart = on;
        rc = 0;
    }
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_storage_pool_is_active(TvStorageDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    int rc = pool ? pool->active : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_storage_pool_is_persistent(TvStorageDriver *drv, const unsigned char *uuid)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    int rc = pool ? pool->persistent : -1;
    g_mutex_unlock(&drv->lock);
    return rc;
}
