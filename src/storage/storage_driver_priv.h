/* Internals of the storage driver (storage_*.c).
 *
 * One lock, drv->lock, guards the pool list and every pool's fields.  It is
 * never held while qemu-img runs or a file is filled: a volume being made
 * is listed as "building" (a placeholder other calls see and refuse to
 * touch) and the pool counts it in 'busy', which keeps the pool from being
 * stopped, deleted or undefined meanwhile.  Events are queued under the
 * lock and delivered after it is dropped. */
#pragma once

#include "storage_conf.h"
#include "storage_driver.h"
#include "tv_objfiles.h"

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    TvStorageVolDef *def; /* path, key, format, sizes as probed */
    bool building;        /* being created or wiped: not usable yet */
} TvStorageVol;

typedef struct {
    TvStoragePoolDef *def; /* persistent or transient definition */
    bool active;
    bool persistent;
    bool autostart;
    unsigned busy;   /* volume operations running without the lock */
    GPtrArray *vols; /* TvStorageVol *, while active, sorted by name */
    TvStoragePoolSizes sizes;
} TvStoragePool;

typedef struct {
    TvPoolRef ref;
    int event;
    int detail;
} TvPoolEvent;

struct TvStorageDriver {
    TvObjFiles files; /* CONFIG/storage, STATE/storage */
    char *images_dir;
    char *qemu_img;
    char **roots; /* canonical allowed roots */
    TvStoragePathUserFunc path_user;
    void *path_user_opaque;

    GMutex lock;
    GPtrArray *pools; /* TvStoragePool * */

    GMutex event_lock; /* delivery in order, never under drv->lock */
    TvPoolEventFunc event_cb;
    void *event_opaque;
};

/* storage_driver.c */
/* INVALID_ARG naming call and the unknown bits when flags has any beyond known. */
int tv_storage_flags_check(const char *call, unsigned flags, unsigned known);
/* under drv->lock: */
TvStoragePool *tv_storage_find_uuid_locked(TvStorageDriver *drv, const unsigned char *uuid);
TvStoragePool *tv_storage_find_name_locked(TvStorageDriver *drv, const char *name);
/* A pool by uuid, or NULL with NO_STORAGE_POOL; active: also OPERATION_INVALID when not. */
TvStoragePool *tv_storage_get_locked(TvStorageDriver *drv, const unsigned char *uuid, bool active);
TvStoragePool *tv_storage_get_name_locked(TvStorageDriver *drv, const char *name, bool active);
void tv_storage_pool_free(TvStoragePool *pool);
void tv_storage_pool_ref_fill(const TvStoragePool *pool, TvPoolRef *out);
/* Queue an event (under drv->lock); tv_storage_events_flush() after unlocking. */
void tv_storage_event_queue(GPtrArray *queue, const TvStoragePool *pool, int event, int detail);
void tv_storage_events_flush(TvStorageDriver *drv, GPtrArray *queue);

/* storage_persist.c: definitions and state files (the rest: tv_objfiles_*) */
int tv_storage_persist_save(TvStorageDriver *drv, const TvStoragePoolDef *def);
int tv_storage_state_save(TvStorageDriver *drv, const TvStoragePoolDef *def);
/* Load definitions and state files into drv->pools (at open). */
void tv_storage_persist_load(TvStorageDriver *drv);

/* storage_pool.c */
/* Is path (canonical) under one of the allowed roots?  Reports when not. */
int tv_storage_root_check(TvStorageDriver *drv, const char *path);
/* Read the target folder: volumes, sizes.  Under drv->lock. */
int tv_storage_pool_scan_locked(TvStorageDriver *drv, TvStoragePool *pool);
/* Start (after an optional build), used by create and autostart; under drv->lock. */
int tv_storage_pool_start_locked(TvStorageDriver *drv, TvStoragePool *pool, unsigned flags);

/* storage_probe.c: what a file is (format, capacity, backing store). */
TvStorageVolDef *tv_storage_probe_file(const char *dir, const char *name);

/* storage_qemu_img.c: run qemu-img with argv (NULL-terminated, without the
 * program); its error output goes into the report. */
int tv_storage_qemu_img(TvStorageDriver *drv, const char *const *argv);

/* storage_qcow2.c: an empty qcow2 image written without qemu-img.  native:
 * whether these options are the plain case it writes (else use qemu-img);
 * compat NULL means "1.1".  create: path must not exist (made with mode). */
bool tv_storage_qcow2_native(unsigned long long capacity, const char *compat, bool lazy_refcounts,
                             bool prealloc_metadata, bool backing);
int tv_storage_qcow2_create(const char *path, unsigned long long capacity, const char *compat,
                            bool lazy_refcounts, mode_t mode);
