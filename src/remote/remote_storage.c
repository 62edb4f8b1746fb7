/* The storage procedures (remote_storage_protocol.x) translated to the
 * storage driver (storage_driver.h), and storage pool events to clients. */
#include "remote_storage.h"

#include <string.h>

#include "remote_objevents.h"
#include "remote_storage_protocol.h"

#define DRV(conn) ((conn)->remote->storage->drv)

/* libvirt's VIR_STORAGE_POOL_EVENT_ID_* */
enum {
    EVENT_ID_LIFECYCLE = 0,
    EVENT_ID_REFRESH = 1,
};

struct TvRemoteStorage {
    TvStorageDriver *drv;
    TvObjEvents events;
};

static const unsigned char *pool_uuid(const tvr_nonnull_storage_pool *pool)
{
    return (const unsigned char *)pool->uuid;
}

static void pool_to_wire(TvPoolRef *ref, tvr_nonnull_storage_pool *out)
{
    out->name = g_steal_pointer(&ref->name);
    memcpy(out->uuid, ref->uuid, sizeof(out->uuid));
}

static void vol_to_wire(TvVolRef *ref, tvr_nonnull_storage_vol *out)
{
    out->pool = g_steal_pointer(&ref->pool);
    out->name = g_steal_pointer(&ref->name);
    out->key = g_steal_pointer(&ref->key);
}

static int take_pool(int rc, TvPoolRef *ref, void *retp)
{
    if (rc < 0) {
        tv_pool_ref_clear(ref);
        return -1;
    }
    pool_to_wire(ref, &((tvr_pool_ret *)retp)->pool);
    return 0;
}

static int take_vol(int rc, TvVolRef *ref, void *retp)
{
    if (rc < 0) {
        tv_vol_ref_clear(ref);
        return -1;
    }
    vol_to_wire(ref, &((tvr_vol_ret *)retp)->vol);
    return 0;
}

static int take_int(int value, void *retp)
{
    if (value < 0)
        return -1;
    ((tvr_storage_int_ret *)retp)->value = value;
    return 0;
}

static int take_xml(char *xml, void *retp)
{
    if (!xml)
        return -1;
    ((tvr_storage_xml_ret *)retp)->xml = xml;
    return 0;
}

static int no_flags(const char *call, unsigned flags)
{
    if (!flags)
        return 0;
    tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG, "%s: unsupported flags (0x%x)", call,
                    flags);
    return -1;
}

/* ---- pools: listing ---- */

enum {
    LIST_INACTIVE = 1 << 0,
    LIST_ACTIVE = 1 << 1,
};

static int list_names(TvRemoteConn *conn, unsigned flags, int maxnames, void *retp)
{
    if (maxnames < 0 || maxnames > TVR_STORAGE_LIST_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "maxnames %d out of range 0 to %d", maxnames,
                        TVR_STORAGE_LIST_MAX);
        return -1;
    }
    TvPoolRef *refs = NULL;
    size_t n = 0;
    if (tv_storage_pool_list_all(DRV(conn), flags, &refs, &n) < 0)
        return -1;
    tvr_storage_names_ret *ret = retp;
    size_t keep = MIN(n, (size_t)maxnames);
    ret->names.names_val = g_new0(char *, MAX(keep, 1));
    for (size_t i = 0; i < n; i++) {
        if (i < keep)
            ret->names.names_val[i] = g_steal_pointer(&refs[i].name);
        tv_pool_ref_clear(&refs[i]);
    }
    ret->names.names_len = (u_int)keep;
    g_free(refs);
    return 0;
}

static int count_pools(TvRemoteConn *conn, unsigned flags, void *retp)
{
    TvPoolRef *refs = NULL;
    size_t n = 0;
    if (tv_storage_pool_list_all(DRV(conn), flags, &refs, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        tv_pool_ref_clear(&refs[i]);
    g_free(refs);
    ((tvr_storage_num_ret *)retp)->num = (int)n;
    return 0;
}

static int h_num_of_pools(TvRemoteConn *conn, const void *a, void *r)
{
    return count_pools(conn, LIST_ACTIVE, r);
}

static int h_list_pools(TvRemoteConn *conn, const void *a, void *r)
{
    return list_names(conn, LIST_ACTIVE, ((const tvr_storage_maxnames_args *)a)->maxnames, r);
}

static int h_num_of_defined_pools(TvRemoteConn *conn, const void *a, void *r)
{
    return count_pools(conn, LIST_INACTIVE, r);
}

static int h_list_defined_pools(TvRemoteConn *conn, const void *a, void *r)
{
    return list_names(conn, LIST_INACTIVE, ((const tvr_storage_maxnames_args *)a)->maxnames, r);
}

static int h_find_pool_sources(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_find_storage_pool_sources_args *args = a;
    if (no_flags("find storage pool sources", args->flags) < 0)
        return -1;
    /* a directory pool has no sources to find; other types do not exist here */
    if (strcmp(args->type, "dir") != 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_SUPPORT,
                        "storage pool type '%s' is not supported; accepted: 'dir'", args->type);
        return -1;
    }
    tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_SUPPORT,
                    "a 'dir' storage pool has no sources to find");
    return -1;
}

static int h_list_all_pools(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_list_all_storage_pools_args *args = a;
    tvr_connect_list_all_storage_pools_ret *ret = r;
    TvPoolRef *refs = NULL;
    size_t n = 0;
    if (tv_storage_pool_list_all(DRV(conn), args->flags, &refs, &n) < 0)
        return -1;
    if (n > TVR_STORAGE_LIST_MAX) {
        for (size_t i = 0; i < n; i++)
            tv_pool_ref_clear(&refs[i]);
        g_free(refs);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "too many storage pools for one answer: %zu", n);
        return -1;
    }
    ret->ret = (u_int)n;
    if (args->need_results) {
        ret->pools.pools_val = g_new0(tvr_nonnull_storage_pool, MAX(n, 1));
        ret->pools.pools_len = (u_int)n;
        for (size_t i = 0; i < n; i++)
            pool_to_wire(&refs[i], &ret->pools.pools_val[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            tv_pool_ref_clear(&refs[i]);
    }
    g_free(refs);
    return 0;
}

/* ---- pools: lifecycle ---- */

static int h_pool_create_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_xml_flags_args *args = a;
    TvPoolRef ref = { 0 };
    return take_pool(tv_storage_pool_create_xml(DRV(conn), args->xml, args->flags, &ref), &ref, r);
}

static int h_pool_define_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_xml_flags_args *args = a;
    TvPoolRef ref = { 0 };
    return take_pool(tv_storage_pool_define(DRV(conn), args->xml, args->flags, &ref), &ref, r);
}

static int h_pool_create(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_pool_flags_args *args = a;
    return tv_storage_pool_create(DRV(conn), pool_uuid(&args->pool), args->flags);
}

static int h_pool_build(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_pool_flags_args *args = a;
    return tv_storage_pool_build(DRV(conn), pool_uuid(&args->pool), args->flags);
}

static int h_pool_destroy(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_storage_pool_destroy(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool));
}

static int h_pool_delete(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_pool_flags_args *args = a;
    return tv_storage_pool_delete(DRV(conn), pool_uuid(&args->pool), args->flags);
}

static int h_pool_undefine(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_storage_pool_undefine(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool));
}

static int h_pool_refresh(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_pool_flags_args *args = a;
    return tv_storage_pool_refresh(DRV(conn), pool_uuid(&args->pool), args->flags);
}

/* ---- pools: queries ---- */

static int h_pool_lookup_by_name(TvRemoteConn *conn, const void *a, void *r)
{
    TvPoolRef ref = { 0 };
    return take_pool(
        tv_storage_pool_lookup_by_name(DRV(conn), ((const tvr_storage_name_args *)a)->name, &ref),
        &ref, r);
}

static int h_pool_lookup_by_uuid(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_pool_lookup_by_uuid_args *args = a;
    TvPoolRef ref = { 0 };
    return take_pool(
        tv_storage_pool_lookup_by_uuid(DRV(conn), (const unsigned char *)args->uuid, &ref), &ref,
        r);
}

static int h_pool_lookup_by_volume(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_args *args = a;
    TvPoolRef ref = { 0 };
    return take_pool(
        tv_storage_pool_lookup_by_volume(DRV(conn), args->vol.pool, args->vol.name, &ref), &ref, r);
}

static int h_pool_lookup_by_target_path(TvRemoteConn *conn, const void *a, void *r)
{
    TvPoolRef ref = { 0 };
    return take_pool(tv_storage_pool_lookup_by_target_path(
                         DRV(conn), ((const tvr_storage_name_args *)a)->name, &ref),
                     &ref, r);
}

static int h_pool_get_info(TvRemoteConn *conn, const void *a, void *r)
{
    tvr_storage_pool_get_info_ret *ret = r;
    int state = 0;
    unsigned long long cap = 0, alloc = 0, avail = 0;
    if (tv_storage_pool_get_info(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool), &state,
                                 &cap, &alloc, &avail) < 0)
        return -1;
    ret->state = (u_char)state;
    ret->capacity = cap;
    ret->allocation = alloc;
    ret->available = avail;
    return 0;
}

static int h_pool_get_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_pool_flags_args *args = a;
    return take_xml(tv_storage_pool_get_xml(DRV(conn), pool_uuid(&args->pool), args->flags), r);
}

static int h_pool_get_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(
        tv_storage_pool_get_autostart(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool)), r);
}

static int h_pool_set_autostart(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_pool_set_autostart_args *args = a;
    return tv_storage_pool_set_autostart(DRV(conn), pool_uuid(&args->pool), args->autostart != 0);
}

static int h_pool_is_active(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(
        tv_storage_pool_is_active(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool)), r);
}

static int h_pool_is_persistent(TvRemoteConn *conn, const void *a, void *r)
{
    return take_int(
        tv_storage_pool_is_persistent(DRV(conn), pool_uuid(&((const tvr_pool_args *)a)->pool)), r);
}

static int list_vols(TvRemoteConn *conn, const tvr_nonnull_storage_pool *pool, TvVolRef **refs,
                     size_t *n)
{
    if (tv_storage_pool_list_volumes(DRV(conn), pool_uuid(pool), refs, n) < 0)
        return -1;
    if (*n > TVR_STORAGE_LIST_MAX) {
        for (size_t i = 0; i < *n; i++)
            tv_vol_ref_clear(&(*refs)[i]);
        g_free(*refs);
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "too many volumes for one answer: %zu", *n);
        return -1;
    }
    return 0;
}

static int h_pool_num_of_volumes(TvRemoteConn *conn, const void *a, void *r)
{
    TvVolRef *refs = NULL;
    size_t n = 0;
    if (list_vols(conn, &((const tvr_pool_args *)a)->pool, &refs, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        tv_vol_ref_clear(&refs[i]);
    g_free(refs);
    ((tvr_storage_num_ret *)r)->num = (int)n;
    return 0;
}

static int h_pool_list_volumes(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_pool_list_volumes_args *args = a;
    tvr_storage_names_ret *ret = r;
    if (args->maxnames < 0 || args->maxnames > TVR_STORAGE_LIST_MAX) {
        tv_error_report(TV_FROM_RPC, TV_ERR_RPC, "maxnames %d out of range 0 to %d", args->maxnames,
                        TVR_STORAGE_LIST_MAX);
        return -1;
    }
    TvVolRef *refs = NULL;
    size_t n = 0;
    if (list_vols(conn, &args->pool, &refs, &n) < 0)
        return -1;
    size_t keep = MIN(n, (size_t)args->maxnames);
    ret->names.names_val = g_new0(char *, MAX(keep, 1));
    for (size_t i = 0; i < n; i++) {
        if (i < keep)
            ret->names.names_val[i] = g_steal_pointer(&refs[i].name);
        tv_vol_ref_clear(&refs[i]);
    }
    ret->names.names_len = (u_int)keep;
    g_free(refs);
    return 0;
}

static int h_pool_list_all_volumes(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_pool_list_all_volumes_args *args = a;
    tvr_storage_pool_list_all_volumes_ret *ret = r;
    if (no_flags("list storage volumes", args->flags) < 0)
        return -1;
    TvVolRef *refs = NULL;
    size_t n = 0;
    if (list_vols(conn, &args->pool, &refs, &n) < 0)
        return -1;
    ret->ret = (u_int)n;
    if (args->need_results) {
        ret->vols.vols_val = g_new0(tvr_nonnull_storage_vol, MAX(n, 1));
        ret->vols.vols_len = (u_int)n;
        for (size_t i = 0; i < n; i++)
            vol_to_wire(&refs[i], &ret->vols.vols_val[i]);
    } else {
        for (size_t i = 0; i < n; i++)
            tv_vol_ref_clear(&refs[i]);
    }
    g_free(refs);
    return 0;
}

static int h_capabilities(TvRemoteConn *conn, const void *a, void *r)
{
    if (no_flags("storage pool capabilities",
                 ((const tvr_connect_get_storage_pool_capabilities_args *)a)->flags) < 0)
        return -1;
    return take_xml(tv_storage_driver_capabilities(DRV(conn)), r);
}

/* ---- volumes ---- */

static int h_vol_create_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_vol_create_xml_args *args = a;
    TvVolRef ref = { 0 };
    return take_vol(
        tv_storage_vol_create(DRV(conn), pool_uuid(&args->pool), args->xml, args->flags, &ref),
        &ref, r);
}

static int h_vol_create_xml_from(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_vol_create_xml_from_args *args = a;
    TvVolRef ref = { 0 };
    return take_vol(tv_storage_vol_create_from(DRV(conn), pool_uuid(&args->pool), args->xml,
                                               args->clonevol.pool, args->clonevol.name,
                                               args->flags, &ref),
                    &ref, r);
}

static int h_vol_delete(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_flags_args *args = a;
    return tv_storage_vol_delete(DRV(conn), args->vol.pool, args->vol.name, args->flags);
}

static int h_vol_wipe(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_flags_args *args = a;
    return tv_storage_vol_wipe(DRV(conn), args->vol.pool, args->vol.name, 0, args->flags);
}

static int h_vol_wipe_pattern(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_vol_wipe_pattern_args *args = a;
    return tv_storage_vol_wipe(DRV(conn), args->vol.pool, args->vol.name, args->algorithm,
                               args->flags);
}

static int h_vol_resize(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_vol_resize_args *args = a;
    return tv_storage_vol_resize(DRV(conn), args->vol.pool, args->vol.name, args->capacity,
                                 args->flags);
}

static int h_vol_lookup_by_name(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_storage_vol_lookup_by_name_args *args = a;
    TvVolRef ref = { 0 };
    return take_vol(
        tv_storage_vol_lookup_by_name(DRV(conn), pool_uuid(&args->pool), args->name, &ref), &ref,
        r);
}

static int h_vol_lookup_by_key(TvRemoteConn *conn, const void *a, void *r)
{
    TvVolRef ref = { 0 };
    return take_vol(
        tv_storage_vol_lookup_by_key(DRV(conn), ((const tvr_storage_name_args *)a)->name, &ref),
        &ref, r);
}

static int h_vol_lookup_by_path(TvRemoteConn *conn, const void *a, void *r)
{
    TvVolRef ref = { 0 };
    return take_vol(
        tv_storage_vol_lookup_by_path(DRV(conn), ((const tvr_storage_name_args *)a)->name, &ref),
        &ref, r);
}

static int vol_info(TvRemoteConn *conn, const tvr_nonnull_storage_vol *vol, unsigned flags, void *r)
{
    tvr_storage_vol_get_info_ret *ret = r;
    int type = 0;
    unsigned long long cap = 0, alloc = 0;
    if (tv_storage_vol_get_info(DRV(conn), vol->pool, vol->name, flags, &type, &cap, &alloc) < 0)
        return -1;
    ret->type = (char)type;
    ret->capacity = cap;
    ret->allocation = alloc;
    return 0;
}

static int h_vol_get_info(TvRemoteConn *conn, const void *a, void *r)
{
    return vol_info(conn, &((const tvr_vol_args *)a)->vol, 0, r);
}

static int h_vol_get_info_flags(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_flags_args *args = a;
    return vol_info(conn, &args->vol, args->flags, r);
}

static int h_vol_get_xml(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_flags_args *args = a;
    return take_xml(tv_storage_vol_get_xml(DRV(conn), args->vol.pool, args->vol.name, args->flags),
                    r);
}

static int h_vol_get_path(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_vol_args *args = a;
    char *path = tv_storage_vol_get_path(DRV(conn), args->vol.pool, args->vol.name);
    if (!path)
        return -1;
    ((tvr_storage_vol_get_path_ret *)r)->name = path;
    return 0;
}

/* ---- pool events ---- */

static int h_event_register(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_connect_storage_pool_event_register_any_args *args = a;
    if (args->event_id != EVENT_ID_LIFECYCLE && args->event_id != EVENT_ID_REFRESH) {
        /* libvirt's code for an event id past its last one */
        tv_error_report(TV_FROM_RPC, TV_ERR_INTERNAL_ERROR,
                        "unsupported storage pool event ID %d; accepted: 0 (lifecycle), 1 "
                        "(refresh)",
                        args->event_id);
        return -1;
    }
    ((tvr_connect_storage_pool_event_register_any_ret *)r)->callback_id =
        tv_obj_events_register(&conn->remote->storage->events, conn, args->event_id,
                               args->pool ? (const unsigned char *)args->pool->uuid : NULL);
    return 0;
}

static int h_event_deregister(TvRemoteConn *conn, const void *a, void *r)
{
    return tv_obj_events_deregister(
        &conn->remote->storage->events, conn,
        ((const tvr_connect_storage_pool_event_deregister_any_args *)a)->callback_id);
}

void tv_remote_storage_drop_conn(TvRemoteConn *conn)
{
    if (conn->remote->storage)
        tv_obj_events_drop_conn(&conn->remote->storage->events, conn);
}

typedef struct {
    tvr_nonnull_storage_pool pool;
    int event, detail;
} PoolEvent;

static void send_pool_event(TvRemoteConn *conn, int callback_id, void *opaque)
{
    const PoolEvent *ev = opaque;
    if (ev->event >= 0) {
        tvr_storage_pool_event_lifecycle_msg msg = { callback_id, ev->pool, ev->event, ev->detail };
        tv_remote_send_message(conn, TVR_PROC_STORAGE_POOL_EVENT_LIFECYCLE,
                               TV_XDR(xdr_tvr_storage_pool_event_lifecycle_msg), &msg);
    } else {
        tvr_storage_pool_event_refresh_msg msg = { callback_id, ev->pool };
        tv_remote_send_message(conn, TVR_PROC_STORAGE_POOL_EVENT_REFRESH,
                               TV_XDR(xdr_tvr_storage_pool_event_refresh_msg), &msg);
    }
}

static void emit_pool_event(const TvPoolRef *pool, int event, int detail, void *opaque)
{
    TvRemoteStorage *st = opaque;
    PoolEvent ev = { { pool->name, { 0 } }, event, detail };
    memcpy(ev.pool.uuid, pool->uuid, sizeof(ev.pool.uuid));
    tv_obj_events_emit(&st->events, event < 0 ? EVENT_ID_REFRESH : EVENT_ID_LIFECYCLE, pool->uuid,
                       send_pool_event, &ev);
}

static const TvRemoteHandlerEntry storage_handlers[] = {
    { TVR_PROC_CONNECT_NUM_OF_STORAGE_POOLS, h_num_of_pools },
    { TVR_PROC_CONNECT_LIST_STORAGE_POOLS, h_list_pools },
    { TVR_PROC_CONNECT_NUM_OF_DEFINED_STORAGE_POOLS, h_num_of_defined_pools },
    { TVR_PROC_CONNECT_LIST_DEFINED_STORAGE_POOLS, h_list_defined_pools },
    { TVR_PROC_CONNECT_FIND_STORAGE_POOL_SOURCES, h_find_pool_sources },
    { TVR_PROC_STORAGE_POOL_CREATE_XML, h_pool_create_xml },
    { TVR_PROC_STORAGE_POOL_DEFINE_XML, h_pool_define_xml },
    { TVR_PROC_STORAGE_POOL_CREATE, h_pool_create },
    { TVR_PROC_STORAGE_POOL_BUILD, h_pool_build },
    { TVR_PROC_STORAGE_POOL_DESTROY, h_pool_destroy },
    { TVR_PROC_STORAGE_POOL_DELETE, h_pool_delete },
    { TVR_PROC_STORAGE_POOL_UNDEFINE, h_pool_undefine },
    { TVR_PROC_STORAGE_POOL_REFRESH, h_pool_refresh },
    { TVR_PROC_STORAGE_POOL_LOOKUP_BY_NAME, h_pool_lookup_by_name },
    { TVR_PROC_STORAGE_POOL_LOOKUP_BY_UUID, h_pool_lookup_by_uuid },
    { TVR_PROC_STORAGE_POOL_LOOKUP_BY_VOLUME, h_pool_lookup_by_volume },
    { TVR_PROC_STORAGE_POOL_GET_INFO, h_pool_get_info },
    { TVR_PROC_STORAGE_POOL_GET_XML_DESC, h_pool_get_xml },
    { TVR_PROC_STORAGE_POOL_GET_AUTOSTART, h_pool_get_autostart },
    { TVR_PROC_STORAGE_POOL_SET_AUTOSTART, h_pool_set_autostart },
    { TVR_PROC_STORAGE_POOL_NUM_OF_VOLUMES, h_pool_num_of_volumes },
    { TVR_PROC_STORAGE_POOL_LIST_VOLUMES, h_pool_list_volumes },
    { TVR_PROC_STORAGE_VOL_CREATE_XML, h_vol_create_xml },
    { TVR_PROC_STORAGE_VOL_DELETE, h_vol_delete },
    { TVR_PROC_STORAGE_VOL_LOOKUP_BY_NAME, h_vol_lookup_by_name },
    { TVR_PROC_STORAGE_VOL_LOOKUP_BY_KEY, h_vol_lookup_by_key },
    { TVR_PROC_STORAGE_VOL_LOOKUP_BY_PATH, h_vol_lookup_by_path },
    { TVR_PROC_STORAGE_VOL_GET_INFO, h_vol_get_info },
    { TVR_PROC_STORAGE_VOL_GET_XML_DESC, h_vol_get_xml },
    { TVR_PROC_STORAGE_VOL_GET_PATH, h_vol_get_path },
    { TVR_PROC_STORAGE_VOL_CREATE_XML_FROM, h_vol_create_xml_from },
    { TVR_PROC_STORAGE_POOL_IS_ACTIVE, h_pool_is_active },
    { TVR_PROC_STORAGE_POOL_IS_PERSISTENT, h_pool_is_persistent },
    { TVR_PROC_STORAGE_VOL_WIPE, h_vol_wipe },
    { TVR_PROC_STORAGE_VOL_WIPE_PATTERN, h_vol_wipe_pattern },
    { TVR_PROC_STORAGE_VOL_RESIZE, h_vol_resize },
    { TVR_PROC_CONNECT_LIST_ALL_STORAGE_POOLS, h_list_all_pools },
    { TVR_PROC_STORAGE_POOL_LIST_ALL_VOLUMES, h_pool_list_all_volumes },
    { TVR_PROC_CONNECT_STORAGE_POOL_EVENT_REGISTER_ANY, h_event_register },
    { TVR_PROC_CONNECT_STORAGE_POOL_EVENT_DEREGISTER_ANY, h_event_deregister },
    { TVR_PROC_STORAGE_VOL_GET_INFO_FLAGS, h_vol_get_info_flags },
    { TVR_PROC_STORAGE_POOL_LOOKUP_BY_TARGET_PATH, h_pool_lookup_by_target_path },
    { TVR_PROC_CONNECT_GET_STORAGE_POOL_CAPABILITIES, h_capabilities },
};

void tv_remote_register_storage(TvRemote *remote, TvStorageDriver *drv)
{
    g_return_if_fail(remote->storage == NULL);
    TvRemoteStorage *st = g_new0(TvRemoteStorage, 1);
    st->drv = drv;
    tv_obj_events_init(&st->events, "storage pool");
    remote->storage = st;
    tv_remote_add_handlers(remote, storage_handlers, G_N_ELEMENTS(storage_handlers));
    tv_storage_driver_set_event_callback(drv, emit_pool_event, st);
}

void tv_remote_unregister_storage(TvRemote *remote)
{
    TvRemoteStorage *st = remote->storage;
    if (!st)
        return;
    /* the driver may be gone already: its owner clears the event callback */
    tv_obj_events_clear(&st->events);
    g_free(st);
    remote->storage = NULL;
}
