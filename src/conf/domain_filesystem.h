/* <filesystem type='mount'> shared with the guest over virtio-9p
 * (domain_filesystem.c).  Included by domain_conf.h. */
#pragma once

#include "domain_devices.h"
#include "tv_enum.h"

#include <stdbool.h>

typedef enum {
    TV_FS_ACCESS_DEFAULT = 0, /* passthrough */
    TV_FS_ACCESS_PASSTHROUGH, /* QEMU's security_model=passthrough */
    TV_FS_ACCESS_MAPPED,      /* security_model=mapped (guest owners in xattrs) */
    TV_FS_ACCESS_SQUASH,      /* security_model=none */
    TV_FS_ACCESS_LAST
} TvFsAccessMode;
TV_ENUM_DECL(tv_fs_access_mode) /* "", "passthrough", "mapped", "squash" */

typedef enum {
    TV_FS_DRIVER_DEFAULT = 0, /* path */
    TV_FS_DRIVER_PATH,        /* QEMU's -fsdev local */
    TV_FS_DRIVER_LAST
} TvFsDriverType;
TV_ENUM_DECL(tv_fs_driver_type) /* "", "path" */

#define TV_FS_TAG_MAX 255 /* the mount tag the guest names (<target dir>) */

typedef struct {
    TvFsAccessMode accessmode;
    TvFsDriverType driver;
    char *source_dir;
    char *target_dir;
    bool readonly;
    TvDeviceAddress address;
} TvDomainFilesystem;

void tv_domain_filesystem_free(TvDomainFilesystem *fs);
