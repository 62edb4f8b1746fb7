/* Storage pools and volumes in libvirt's XML format (docs/storage.rst):
 * parse what clients send, format what virsh and virt-manager read.  Only
 * directory pools and file volumes exist here; every other pool type, volume
 * format or element is refused with an error that names it. */
#pragma once

#include "domain_conf.h"
#include "tv_enum.h"

#include <glib.h>
#include <stdbool.h>

typedef enum {
    TV_POOL_TYPE_NONE = 0,
    TV_POOL_TYPE_DIR,
    TV_POOL_TYPE_LAST
} TvPoolType;
TV_ENUM_DECL(tv_pool_type) /* "", "dir" */

/* libvirt's file format names; 'iso' is only ever probed, never created. */
typedef enum {
    TV_VOL_FORMAT_NONE = 0,
    TV_VOL_FORMAT_RAW,
    TV_VOL_FORMAT_QCOW2,
    TV_VOL_FORMAT_ISO,
    TV_VOL_FORMAT_LAST
} TvVolFormat;
TV_ENUM_DECL(tv_vol_format) /* "", "raw", "qcow2", "iso" */

/* <permissions>: -1 (or mode 0) when not written. */
typedef struct {
    unsigned mode; /* 0: not written */
    long long owner;
    long long group;
} TvStoragePerms;

typedef struct {
    TvPoolType type;
    char *name;
    unsigned char uuid[TV_UUID_LEN];
    char *target_path;
    TvStoragePerms perms;
} TvStoragePoolDef;

/* What only a running pool knows: for the formatted XML and GET_INFO. */
typedef struct {
    unsigned long long capacity, allocation, available; /* bytes */
} TvStoragePoolSizes;

typedef struct {
    char *name;
    char *key;  /* the path, for a directory pool */
    char *path; /* <target><path> */
    TvVolFormat format;
    unsigned long long capacity;   /* bytes the guest sees */
    unsigned long long allocation; /* bytes used on the host */
    bool allocation_set;           /* written by the client (create: preallocate that much) */
    unsigned long long physical;   /* file size (output only) */
    TvStoragePerms perms;
    char *compat;        /* qcow2 <compat>: "0.10" or "1.1" */
    bool lazy_refcounts; /* qcow2 <features><lazy_refcounts/> */
    char *backing_path;
    TvVolFormat backing_format;
} TvStorageVolDef;

/* Largest size a volume may have: what qemu-img accepts (2^63 - 1 bytes,
 * rounded down to 512). */
#define TV_STORAGE_SIZE_MAX 0x7ffffffffffffe00ULL

TvStoragePoolDef *tv_storage_pool_def_parse(const char *xml, size_t len);
/* sizes NULL: an inactive pool (sizes written as 0, as libvirt does). */
char *tv_storage_pool_def_format(const TvStoragePoolDef *def, const TvStoragePoolSizes *sizes);
void tv_storage_pool_def_free(TvStoragePoolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvStoragePoolDef, tv_storage_pool_def_free)

/* A volume to create: name, sizes, format, backing store; the target path
 * and key are the pool's to decide (a written <target><path> and <key> are
 * replaced, as libvirt does). */
TvStorageVolDef *tv_storage_vol_def_parse(const char *xml, size_t len);
char *tv_storage_vol_def_format(const TvStorageVolDef *def);
void tv_storage_vol_def_free(TvStorageVolDef *def);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TvStorageVolDef, tv_storage_vol_def_free)

/* Pool and volume names: 1 to 255 bytes of UTF-8, no '/', no control
 * characters, not '.' or '..' (a volume name is a file name). */
int tv_storage_name_check(const char *what, const char *name);
