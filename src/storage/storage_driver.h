/* The storage driver: directory pools and their file volumes, with libvirt's
 * semantics for each call (docs/storage.rst), so virsh's pool-* and vol-*
 * commands, virt-install and virt-manager manage disk images through
 * tagvirtd.  Every function is thread-safe; on failure it reports a tv_error
 * (libvirt's code, domain STORAGE) and returns -1 or NULL, and leaves no
 * half-made pool, volume or file behind. */
#pragma once

#include "domain_conf.h"

#include <glib.h>
#include <stdbool.h>

typedef struct TvStorageDriver TvStorageDriver;

/* A domain that uses a path (its name, newly allocated), or NULL: asked
 * before a volume is deleted, wiped or resized. */
typedef char *(*TvStoragePathUserFunc)(const char *path, void *opaque);

typedef struct {
    const char *config_dir; /* pool definitions (CONFIG/storage) */
    const char *state_dir;  /* active pools (STATE/storage) */
    const char *images_dir; /* the target of the 'default' pool made at the first start */
    const char *qemu_img;   /* NULL: qemu-img from PATH */
    /* where pool targets may be (a target is one of them or below one); NULL:
     * images_dir plus tv_storage_default_roots */
    const char *const *allowed_roots;
    bool autostart; /* start the pools marked autostart when opened */
    TvStoragePathUserFunc path_user;
    void *path_user_opaque;
} TvStorageDriverConfig;

/* The roots allowed besides the images folder when the configuration names
 * none: folders where people keep disk images and installer ISOs. */
extern const char *const tv_storage_default_roots[];

typedef struct {
    char *name;
    unsigned char uuid[TV_UUID_LEN];
} TvPoolRef;

typedef struct {
    char *pool;
    char *name;
    char *key;
} TvVolRef;

void tv_pool_ref_clear(TvPoolRef *ref);
void tv_vol_ref_clear(TvVolRef *ref);

/* libvirt's virStoragePoolState and event numbers */
enum {
    TV_POOL_STATE_INACTIVE = 0,
    TV_POOL_STATE_RUNNING = 2,
};
enum {
    TV_POOL_EVENT_DEFINED = 0,
    TV_POOL_EVENT_UNDEFINED = 1,
    TV_POOL_EVENT_STARTED = 2,
    TV_POOL_EVENT_STOPPED = 3,
    TV_POOL_EVENT_CREATED = 4,
    TV_POOL_EVENT_DELETED = 5,
};
/* event: TV_POOL_EVENT_*, or -1 for a refresh */
typedef void (*TvPoolEventFunc)(const TvPoolRef *pool, int event, int detail, void *opaque);

TvStorageDriver *tv_storage_driver_open(const TvStorageDriverConfig *cfg);
void tv_storage_driver_close(TvStorageDriver *drv);
void tv_storage_driver_set_event_callback(TvStorageDriver *drv, TvPoolEventFunc cb, void *opaque);
/* <storagepoolCapabilities> */
char *tv_storage_driver_capabilities(TvStorageDriver *drv);

/* Pools.  A pool is named by its uuid (the wire's pool carries both). */
int tv_storage_pool_define(TvStorageDriver *drv, const char *xml, unsigned flags, TvPoolRef *out);
int tv_storage_pool_create_xml(TvStorageDriver *drv, const char *xml, unsigned flags,
                               TvPoolRef *out);
int tv_storage_pool_create(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_storage_pool_build(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_storage_pool_destroy(TvStorageDriver *drv, const unsigned char *uuid);
int tv_storage_pool_delete(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_storage_pool_undefine(TvStorageDriver *drv, const unsigned char *uuid);
int tv_storage_pool_refresh(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_storage_pool_lookup_by_name(TvStorageDriver *drv, const char *name, TvPoolRef *out);
int tv_storage_pool_lookup_by_uuid(TvStorageDriver *drv, const unsigned char *uuid, TvPoolRef *out);
int tv_storage_pool_lookup_by_target_path(TvStorageDriver *drv, const char *path, TvPoolRef *out);
int tv_storage_pool_get_info(TvStorageDriver *drv, const unsigned char *uuid, int *state,
                             unsigned long long *capacity, unsigned long long *allocation,
                             unsigned long long *available);
char *tv_storage_pool_get_xml(TvStorageDriver *drv, const unsigned char *uuid, unsigned flags);
int tv_storage_pool_get_autostart(TvStorageDriver *drv, const unsigned char *uuid);
int tv_storage_pool_set_autostart(TvStorageDriver *drv, const unsigned char *uuid, bool on);
int tv_storage_pool_is_active(TvStorageDriver *drv, const unsigned char *uuid);
int tv_storage_pool_is_persistent(TvStorageDriver *drv, const unsigned char *uuid);
/* flags: libvirt's CONNECT_LIST_STORAGE_POOLS_*; *out: *n refs (clear each, g_free) */
int tv_storage_pool_list_all(TvStorageDriver *drv, unsigned flags, TvPoolRef **out, size_t *n);

/* Volumes.  A volume is named by its pool's name and its own. */
int tv_storage_vol_create(TvStorageDriver *drv, const unsigned char *pool_uuid, const char *xml,
                          unsigned flags, TvVolRef *out);
int tv_storage_vol_create_from(TvStorageDriver *drv, const unsigned char *pool_uuid,
                               const char *xml, const char *src_pool, const char *src_name,
                               unsigned flags, TvVolRef *out);
int tv_storage_vol_delete(TvStorageDriver *drv, const char *pool, const char *name, unsigned flags);
int tv_storage_vol_wipe(TvStorageDriver *drv, const char *pool, const char *name,
                        unsigned algorithm, unsigned flags);
int tv_storage_vol_resize(TvStorageDriver *drv, const char *pool, const char *name,
                          unsigned long long capacity, unsigned flags);
int tv_storage_vol_lookup_by_name(TvStorageDriver *drv, const unsigned char *pool_uuid,
                                  const char *name, TvVolRef *out);
int tv_storage_vol_lookup_by_key(TvStorageDriver *drv, const char *key, TvVolRef *out);
int tv_storage_vol_lookup_by_path(TvStorageDriver *drv, const char *path, TvVolRef *out);
int tv_storage_pool_lookup_by_volume(TvStorageDriver *drv, const char *pool, const char *name,
                                     TvPoolRef *out);
/* *type: libvirt's virStorageVolType (0 file) */
int tv_storage_vol_get_info(TvStorageDriver *drv, const char *pool, const char *name,
                            unsigned flags, int *type, unsigned long long *capacity,
                            unsigned long long *allocation);
char *tv_storage_vol_get_xml(TvStorageDriver *drv, const char *pool, const char *name,
                             unsigned flags);
char *tv_storage_vol_get_path(TvStorageDriver *drv, const char *pool, const char *name);
int tv_storage_pool_list_volumes(TvStorageDriver *drv, const unsigned char *pool_uuid,
                                 TvVolRef **out, size_t *n);
