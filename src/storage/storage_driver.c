/* The storage driver object: open and close, the pool list, lookups,
 * listing, events and capabilities. */
#include "storage_driver_priv.h"
#include "tv_error.h"
#include "tv_file.h"
#include "tv_xml.h"

#include <string.h>

const char *const tv_storage_default_roots[] = {
    "/var/lib/libvirt/images", "/srv", "/home", "/mnt", "/media", "/tmp", "/var/tmp", NULL,
};

int tv_storage_flags_check(const char *call, unsigned flags, unsigned known)
{
    if (!(flags & ~known))
        return 0;
    tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", call,
                    flags & ~known);
    return -1;
}

void tv_pool_ref_clear(TvPoolRef *ref)
{
    g_clear_pointer(&ref->name, g_free);
}

void tv_vol_ref_clear(TvVolRef *ref)
{
    g_clear_pointer(&ref->pool, g_free);
    g_clear_pointer(&ref->name, g_free);
    g_clear_pointer(&ref->key, g_free);
}

void tv_storage_pool_free(TvStoragePool *pool)
{
    if (!pool)
        return;
    tv_storage_pool_def_free(pool->def);
    if (pool->vols)
        g_ptr_array_unref(pool->vols);
    g_free(pool);
}

TvStoragePool *tv_storage_find_uuid_locked(TvStorageDriver *drv, const unsigned char *uuid)
{
    for (guint i = 0; i < drv->pools->len; i++) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        if (memcmp(pool->def->uuid, uuid, TV_UUID_LEN) == 0)
            return pool;
    }
    return NULL;
}

TvStoragePool *tv_storage_find_name_locked(TvStorageDriver *drv, const char *name)
{
    for (guint i = 0; i < drv->pools->len; i++) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        if (strcmp(pool->def->name, name) == 0)
            return pool;
    }
    return NULL;
}

static TvStoragePool *check_active(TvStoragePool *pool, bool active)
{
    if (pool && active && !pool->active) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "storage pool '%s' is not active", pool->def->name);
        return NULL;
    }
    return pool;
}

TvStoragePool *tv_storage_get_locked(TvStorageDriver *drv, const unsigned char *uuid, bool active)
{
    TvStoragePool *pool = tv_storage_find_uuid_locked(drv, uuid);
    if (!pool) {
        char str[TV_UUID_STRLEN + 1];
        tv_uuid_format(uuid, str);
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_POOL,
                        "storage pool not found: no storage pool with matching uuid '%s'", str);
        return NULL;
    }
    return check_active(pool, active);
}

TvStoragePool *tv_storage_get_name_locked(TvStorageDriver *drv, const char *name, bool active)
{
    TvStoragePool *pool = tv_storage_find_name_locked(drv, name);
    if (!pool) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_POOL,
                        "storage pool not found: no storage pool with matching name '%s'", name);
        return NULL;
    }
    return check_active(pool, active);
}

void tv_storage_pool_ref_fill(const TvStoragePool *pool, TvPoolRef *out)
{
    out->name = g_strdup(pool->def->name);
    memcpy(out->uuid, pool->def->uuid, TV_UUID_LEN);
}

void tv_storage_event_queue(GPtrArray *queue, const TvStoragePool *pool, int event, int detail)
{
    TvPoolEvent *ev = g_new0(TvPoolEvent, 1);
    tv_storage_pool_ref_fill(pool, &ev->ref);
    ev->event = event;
    ev->detail = detail;
    g_ptr_array_add(queue, ev);
}

void tv_storage_events_flush(TvStorageDriver *drv, GPtrArray *queue)
{
    g_mutex_lock(&drv->event_lock);
    for (guint i = 0; i < queue->len; i++) {
        TvPoolEvent *ev = g_ptr_array_index(queue, i);
        if (drv->event_cb)
            drv->event_cb(&ev->ref, ev->event, ev->detail, drv->event_opaque);
        tv_pool_ref_clear(&ev->ref);
        g_free(ev);
    }
    g_ptr_array_set_size(queue, 0);
    g_mutex_unlock(&drv->event_lock);
}

void tv_storage_driver_set_event_callback(TvStorageDriver *drv, TvPoolEventFunc cb, void *opaque)
{
    g_mutex_lock(&drv->event_lock);
    drv->event_cb = cb;
    drv->event_opaque = opaque;
    g_mutex_unlock(&drv->event_lock);
}

static char **canonical_roots(const TvStorageDriverConfig *cfg)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    if (cfg->allowed_roots) {
        for (const char *const *r = cfg->allowed_roots; *r; r++)
            g_ptr_array_add(out, g_canonicalize_filename(*r, "/"));
    } else {
        g_ptr_array_add(out, g_canonicalize_filename(cfg->images_dir, "/"));
        for (const char *const *r = tv_storage_default_roots; *r; r++)
            g_ptr_array_add(out, g_strdup(*r));
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* libvirt's first start leaves no pool; virt-install and virt-manager make
 * 'default' at its images folder the first time they need one.  tagvirtd
 * makes it at its first start instead, so the clients find it. */
static void make_default_pool(TvStorageDriver *drv)
{
    g_autofree char *images = tv_xml_esc(drv->images_dir);
    g_autofree char *xml = g_strdup_printf("<pool type='dir'><name>default</name><target>"
                                           "<path>%s</path><permissions><mode>0711</mode>"
                                           "</permissions></target></pool>",
                                           images);
    TvPoolRef ref = { 0 };
    if (tv_storage_pool_define(drv, xml, 0, &ref) < 0 ||
        tv_storage_pool_set_autostart(drv, ref.uuid, true) < 0 ||
        tv_storage_pool_create(drv, ref.uuid, 1 /* WITH_BUILD */) < 0) {
        g_warning("storage: cannot make the default pool at %s: %s", drv->images_dir,
                  tv_error_message());
        tv_error_reset();
    } else {
        g_message("storage: made the default pool at %s", drv->images_dir);
    }
    tv_pool_ref_clear(&ref);
}

TvStorageDriver *tv_storage_driver_open(const TvStorageDriverConfig *cfg)
{
    TvStorageDriver *drv = g_new0(TvStorageDriver, 1);
    g_mutex_init(&drv->lock);
    g_mutex_init(&drv->event_lock);
    drv->pools = g_ptr_array_new_with_free_func((GDestroyNotify)tv_storage_pool_free);
    drv->images_dir = g_strdup(cfg->images_dir);
    drv->qemu_img = g_strdup(cfg->qemu_img ? cfg->qemu_img : "qemu-img");
    drv->roots = canonical_roots(cfg);
    drv->path_user = cfg->path_user;
    drv->path_user_opaque = cfg->path_user_opaque;

    bool first = false;
    if (tv_objfiles_init(&drv->files, "storage pool", cfg->config_dir, cfg->state_dir, &first) <
        0) {
        tv_storage_driver_close(drv);
        return NULL;
    }
    tv_storage_persist_load(drv);
    if (first)
        make_default_pool(drv);

    if (cfg->autostart) {
        g_autoptr(GPtrArray) events = g_ptr_array_new();
        g_mutex_lock(&drv->lock);
        for (guint i = 0; i < drv->pools->len; i++) {
            TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
            if (!pool->autostart || pool->active)
                continue;
            if (tv_storage_pool_start_locked(drv, pool, 0) < 0) {
                g_warning("storage: cannot autostart pool '%s': %s", pool->def->name,
                          tv_error_message());
                tv_error_reset();
                continue;
            }
            tv_storage_event_queue(events, pool, TV_POOL_EVENT_STARTED, 0);
        }
        g_mutex_unlock(&drv->lock);
        tv_storage_events_flush(drv, events);
    }
    return drv;
}

void tv_storage_driver_close(TvStorageDriver *drv)
{
    if (!drv)
        return;
    g_ptr_array_unref(drv->pools);
    g_strfreev(drv->roots);
    tv_objfiles_clear(&drv->files);
    g_free(drv->images_dir);
    g_free(drv->qemu_img);
    g_mutex_clear(&drv->lock);
    g_mutex_clear(&drv->event_lock);
    g_free(drv);
}

/* libvirt's CONNECT_LIST_STORAGE_POOLS_*: the common groups
 * (tv_objfiles_list_match), then one bit per pool type from 1 << 6; every
 * pool here is a directory pool. */
#define LIST_DIR   (1u << 6)
#define LIST_TYPES 0xfffc0u /* bits 6..19: dir, fs, netfs, ..., iscsi-direct */

int tv_storage_pool_list_all(TvStorageDriver *drv, unsigned flags, TvPoolRef **out, size_t *n)
{
    unsigned known = TV_OBJ_LIST_COMMON_FLAGS | LIST_TYPES;
    if (flags & ~known) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "unsupported flags (0x%x) in listing storage pools", flags & ~known);
        return -1;
    }
    GArray *refs = g_array_new(FALSE, TRUE, sizeof(TvPoolRef));
    g_mutex_lock(&drv->lock);
    for (guint i = 0; i < drv->pools->len; i++) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        if (!tv_objfiles_list_match(flags, pool->active, pool->persistent, pool->autostart) ||
            ((flags & LIST_TYPES) && !(flags & LIST_DIR)))
            continue;
        TvPoolRef ref = { 0 };
        tv_storage_pool_ref_fill(pool, &ref);
        g_array_append_val(refs, ref);
    }
    g_mutex_unlock(&drv->lock);
    *n = refs->len;
    *out = (TvPoolRef *)g_array_free(refs, FALSE);
    return 0;
}

int tv_storage_pool_lookup_by_name(TvStorageDriver *drv, const char *name, TvPoolRef *out)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_name_locked(drv, name, false);
    if (pool)
        tv_storage_pool_ref_fill(pool, out);
    g_mutex_unlock(&drv->lock);
    return pool ? 0 : -1;
}

int tv_storage_pool_lookup_by_uuid(TvStorageDriver *drv, const unsigned char *uuid, TvPoolRef *out)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, uuid, false);
    if (pool)
        tv_storage_pool_ref_fill(pool, out);
    g_mutex_unlock(&drv->lock);
    return pool ? 0 : -1;
}

int tv_storage_pool_lookup_by_target_path(TvStorageDriver *drv, const char *path, TvPoolRef *out)
{
    g_autofree char *canon = g_canonicalize_filename(path, "/");
    int rc = -1;
    g_mutex_lock(&drv->lock);
    for (guint i = 0; i < drv->pools->len; i++) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        if (strcmp(pool->def->target_path, canon) == 0) {
            tv_storage_pool_ref_fill(pool, out);
            rc = 0;
            break;
        }
    }
    g_mutex_unlock(&drv->lock);
    if (rc < 0)
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_POOL,
                        "storage pool not found: no storage pool with matching target path '%s'",
                        path);
    return rc;
}

char *tv_storage_driver_capabilities(TvStorageDriver *drv)
{
    static const char *const others[] = { "fs",           "netfs", "logical",  "disk", "iscsi",
                                          "iscsi-direct", "scsi",  "mpath",    "rbd",  "sheepdog",
                                          "gluster",      "zfs",   "vstorage", NULL };
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_xml_line(&w, "<storagepoolCapabilities>");
    w.indent++;
    tv_xml_line(&w, "<pool type='dir' supported='yes'>");
    w.indent++;
    tv_xml_line(&w, "<volOptions>");
    w.indent++;
    tv_xml_line(&w, "<defaultFormat type='raw'/>");
    tv_xml_line(&w, "<enum name='targetFormatType'>");
    for (int f = TV_VOL_FORMAT_RAW; f < TV_VOL_FORMAT_LAST; f++) {
        if (f != TV_VOL_FORMAT_ISO)
            tv_xml_line(&w, "  <value>%s</value>", tv_vol_format_to_string(f));
    }
    tv_xml_line(&w, "</enum>");
    w.indent--;
    tv_xml_line(&w, "</volOptions>");
    w.indent--;
    tv_xml_line(&w, "</pool>");
    for (const char *const *t = others; *t; t++)
        tv_xml_line(&w, "<pool type='%s' supported='no'/>", *t);
    w.indent--;
    tv_xml_line(&w, "</storagepoolCapabilities>");
    return tv_xml_writer_finish(&w);
}
