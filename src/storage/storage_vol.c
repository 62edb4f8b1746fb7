/* Volumes of a directory pool: create (raw by tagvirt, qcow2 by qemu-img),
 * clone, delete, wipe, resize, lookups, info and XML.  A new file is made
 * under a temporary name and renamed into place only when complete, so a
 * failure leaves nothing behind. */
#include "storage_driver_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libvirt's flag numbers */
enum {
    CREATE_PREALLOC_METADATA = 1 << 0,
    CREATE_REFLINK = 1 << 1,
    CREATE_VALIDATE = 1 << 2,
    DELETE_ZEROED = 1 << 0,
    DELETE_WITH_SNAPSHOTS = 1 << 1,
    RESIZE_ALLOCATE = 1 << 0,
    RESIZE_DELTA = 1 << 1,
    RESIZE_SHRINK = 1 << 2,
    INFO_GET_PHYSICAL = 1 << 0,
};

#define TEMP_PREFIX      ".tagvirt-"
#define DEFAULT_VOL_MODE 0600
#define WIPE_ALG_ZERO    0

static TvStorageVol *find_vol(TvStoragePool *pool, const char *name)
{
    for (guint i = 0; pool->vols && i < pool->vols->len; i++) {
        TvStorageVol *vol = g_ptr_array_index(pool->vols, i);
        if (strcmp(vol->def->name, name) == 0)
            return vol;
    }
    return NULL;
}

/* The volume name of an active pool, or NULL with NO_STORAGE_VOL. */
static TvStorageVol *get_vol_locked(TvStorageDriver *drv, const char *pool_name, const char *name,
                                    TvStoragePool **pool_out)
{
    TvStoragePool *pool = tv_storage_get_name_locked(drv, pool_name, true);
    if (!pool)
        return NULL;
    TvStorageVol *vol = find_vol(pool, name);
    if (!vol) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_VOL,
                        "storage volume not found: no storage vol with matching name '%s' in "
                        "pool '%s'",
                        name, pool_name);
        return NULL;
    }
    if (pool_out)
        *pool_out = pool;
    return vol;
}

static bool building_check(const TvStorageVol *vol)
{
    if (!vol->building)
        return true;
    tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                    "storage volume '%s' is still being built or wiped", vol->def->name);
    return false;
}

static void ref_fill(const TvStoragePool *pool, const TvStorageVol *vol, TvVolRef *out)
{
    out->pool = g_strdup(pool->def->name);
    out->name = g_strdup(vol->def->name);
    out->key = g_strdup(vol->def->key);
}

static void vol_free(TvStorageVol *vol)
{
    if (!vol)
        return;
    tv_storage_vol_def_free(vol->def);
    g_free(vol);
}

static int vol_compare(gconstpointer a, gconstpointer b)
{
    const TvStorageVol *va = *(TvStorageVol *const *)a;
    const TvStorageVol *vb = *(TvStorageVol *const *)b;
    return strcmp(va->def->name, vb->def->name);
}

static TvStorageVolDef *copy_def(const TvStorageVolDef *d)
{
    TvStorageVolDef *c = g_new0(TvStorageVolDef, 1);
    *c = *d;
    c->name = g_strdup(d->name);
    c->key = g_strdup(d->key);
    c->path = g_strdup(d->path);
    c->compat = g_strdup(d->compat);
    c->backing_path = g_strdup(d->backing_path);
    return c;
}

/* Refuse when a running domain uses path (asked without drv->lock). */
static int in_use_check(TvStorageDriver *drv, const char *what, const char *name, const char *path)
{
    if (!drv->path_user)
        return 0;
    g_autofree char *user = drv->path_user(path, drv->path_user_opaque);
    if (!user)
        return 0;
    tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                    "cannot %s storage volume '%s': it is in use by running domain '%s'", what,
                    name, user);
    return -1;
}

/* ---- making files ---- */

static char *temp_path(const char *dir, const char *name)
{
    g_autofree char *file = g_strdup_printf(TEMP_PREFIX "%s.%08x", name, g_random_int());
    return g_build_filename(dir, file, NULL);
}

static int apply_perms(const char *path, const TvStoragePerms *perms)
{
    mode_t mode = perms->mode ? perms->mode : DEFAULT_VOL_MODE;
    if (chmod(path, mode) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot set the mode of '%s'", path);
        return -1;
    }
    if ((perms->owner >= 0 || perms->group >= 0) &&
        chown(path, (uid_t)perms->owner, (gid_t)perms->group) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot set the owner of '%s'", path);
        return -1;
    }
    return 0;
}

static int make_raw(const char *path, unsigned long long capacity, unsigned long long allocation)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, DEFAULT_VOL_MODE);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot create '%s'", path);
        return -1;
    }
    int rc = 0;
    if (ftruncate(fd, (off_t)capacity) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot size '%s' to %llu bytes", path,
                              capacity);
        rc = -1;
    }
    if (rc == 0 && allocation) {
        int err = posix_fallocate(fd, 0, (off_t)MIN(allocation, capacity));
        if (err) {
            tv_error_report_errno(TV_FROM_STORAGE, err, "cannot allocate %llu bytes for '%s'",
                                  MIN(allocation, capacity), path);
            rc = -1;
        }
    }
    if (rc == 0 && fsync(fd) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot flush '%s'", path);
        rc = -1;
    }
    close(fd);
    return rc;
}

/* "-o" options for a new qcow2 */
static char *qcow2_options(const TvStorageVolDef *def, bool prealloc_metadata)
{
    g_autoptr(GString) o = g_string_new(NULL);
    g_string_append_printf(o, "compat=%s", def->compat ? def->compat : "1.1");
    if (def->lazy_refcounts)
        g_string_append(o, ",lazy_refcounts=on");
    if (prealloc_metadata)
        g_string_append(o, ",preallocation=metadata");
    return g_string_free(g_steal_pointer(&o), FALSE);
}

static int make_qcow2(TvStorageDriver *drv, const char *path, const TvStorageVolDef *def,
                      bool prealloc_metadata)
{
    if (tv_storage_qcow2_native(def->capacity, def->compat, def->lazy_refcounts, prealloc_metadata,
                                def->backing_path != NULL))
        return tv_storage_qcow2_create(path, def->capacity, def->compat, def->lazy_refcounts,
                                       DEFAULT_VOL_MODE);
    g_autofree char *opts = qcow2_options(def, prealloc_metadata && !def->backing_path);
    g_autofree char *size = g_strdup_printf("%llu", def->capacity);
    const char *argv[14]; /* 6 + backing 4 + path, size, NULL */
    int n = 0;
    argv[n++] = "create";
    argv[n++] = "-q";
    argv[n++] = "-f";
    argv[n++] = "qcow2";
    argv[n++] = "-o";
    argv[n++] = opts;
    if (def->backing_path) {
        argv[n++] = "-b";
        argv[n++] = def->backing_path;
        argv[n++] = "-F";
        argv[n++] = tv_vol_format_to_string(def->backing_format);
    }
    argv[n++] = path;
    if (def->capacity || !def->backing_path)
        argv[n++] = size;
    g_assert((size_t)n < G_N_ELEMENTS(argv));
    argv[n] = NULL;
    return tv_storage_qemu_img(drv, argv);
}

/* Move tmp to path unless something appeared there meanwhile. */
static int install(const char *tmp, const char *path)
{
    if (link(tmp, path) < 0) {
        tv_error_report(TV_FROM_STORAGE,
                        errno == EEXIST ? TV_ERR_STORAGE_VOL_EXIST : TV_ERR_SYSTEM_ERROR,
                        "cannot create '%s': %s", path, g_strerror(errno));
        return -1;
    }
    unlink(tmp);
    return 0;
}

/* ---- create and clone ---- */

/* Check def against the pool and fill its path and key.  Under drv->lock. */
static int prepare_locked(TvStoragePool *pool, TvStorageVolDef *def, bool clone)
{
    g_autofree char *path = g_build_filename(pool->def->target_path, def->name, NULL);
    if (find_vol(pool, def->name) || g_file_test(path, G_FILE_TEST_EXISTS)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_STORAGE_VOL_EXIST,
                        "storage volume name '%s' is already in use in pool '%s'", def->name,
                        pool->def->name);
        return -1;
    }
    /* as libvirt: a volume of a folder is the folder's file of that name, whatever
     * <target><path> says (virsh vol-clone passes the source's path on) */
    if (def->format == TV_VOL_FORMAT_ISO) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_CONFIG_UNSUPPORTED,
                        "storage volume format 'iso' cannot be created; accepted: 'raw', 'qcow2'");
        return -1;
    }
    if (!clone && !def->format)
        def->format = TV_VOL_FORMAT_RAW;
    if (def->backing_path && def->format != TV_VOL_FORMAT_QCOW2) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_CONFIG_UNSUPPORTED,
                        "a backing store needs format 'qcow2', not '%s'",
                        tv_vol_format_to_string(def->format));
        return -1;
    }
    if (!clone && !def->capacity && !def->backing_path) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "missing or zero /volume/capacity: a new volume needs its size");
        return -1;
    }
    g_free(def->path);
    def->path = g_steal_pointer(&path);
    g_free(def->key);
    def->key = g_strdup(def->path);
    return 0;
}

static int backing_prepare(TvStorageVolDef *def)
{
    if (!def->backing_path)
        return 0;
    g_autofree char *dir = g_path_get_dirname(def->backing_path);
    g_autofree char *base = g_path_get_basename(def->backing_path);
    g_autoptr(TvStorageVolDef) probed = tv_storage_probe_file(dir, base);
    if (!probed) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_INVALID,
                        "backing store '%s' is not a readable file", def->backing_path);
        return -1;
    }
    if (!def->backing_format)
        def->backing_format = probed->format;
    if (def->backing_format == TV_VOL_FORMAT_ISO)
        def->backing_format = TV_VOL_FORMAT_RAW;
    if (!def->capacity)
        def->capacity = probed->capacity;
    return 0;
}

/* Add a placeholder for def (taken) and mark the pool busy. */
static TvStorageVol *placeholder_add_locked(TvStoragePool *pool, TvStorageVolDef *def)
{
    TvStorageVol *vol = g_new0(TvStorageVol, 1);
    vol->def = def;
    vol->building = true;
    g_ptr_array_add(pool->vols, vol);
    g_ptr_array_sort(pool->vols, vol_compare);
    pool->busy++;
    return vol;
}

/* Replace the placeholder of name by what the file is now (or drop it). */
static void placeholder_finish_locked(TvStoragePool *pool, const char *name, bool made)
{
    for (guint i = 0; i < pool->vols->len; i++) {
        TvStorageVol *vol = g_ptr_array_index(pool->vols, i);
        if (!vol->building || strcmp(vol->def->name, name) != 0)
            continue;
        TvStorageVolDef *probed = made ? tv_storage_probe_file(pool->def->target_path, name) : NULL;
        if (probed) {
            if (vol->def->backing_format && !probed->backing_format)
                probed->backing_format = vol->def->backing_format;
            tv_storage_vol_def_free(vol->def);
            vol->def = probed;
            vol->building = false;
        } else {
            vol_free(g_ptr_array_steal_index(pool->vols, i));
        }
        break;
    }
    pool->busy--;
}

/* Build a new volume from def: src_path NULL creates, else copies. */
static int build_file(TvStorageDriver *drv, const TvStorageVolDef *def, const char *src_path,
                      TvVolFormat src_format, unsigned long long src_capacity, unsigned flags)
{
    g_autofree char *dir = g_path_get_dirname(def->path);
    g_autofree char *tmp = temp_path(dir, def->name);
    int rc = -1;
    if (src_path) {
        g_autofree char *opts = def->format == TV_VOL_FORMAT_QCOW2
                                    ? qcow2_options(def, (flags & CREATE_PREALLOC_METADATA) != 0)
                                    : NULL;
        const char *argv[] = { "convert",
                               "-q",
                               "-f",
                               tv_vol_format_to_string(src_format),
                               "-O",
                               tv_vol_format_to_string(def->format),
                               opts ? "-o" : src_path,
                               opts ? opts : tmp,
                               opts ? src_path : NULL,
                               opts ? tmp : NULL,
                               NULL };
        rc = tv_storage_qemu_img(drv, argv);
        if (rc == 0 && def->capacity > src_capacity) {
            g_autofree char *size = g_strdup_printf("%llu", def->capacity);
            const char *grow[] = { "resize", "-q", "-f", tv_vol_format_to_string(def->format),
                                   tmp,      size, NULL };
            rc = tv_storage_qemu_img(drv, grow);
        }
    } else if (def->format == TV_VOL_FORMAT_QCOW2) {
        rc = make_qcow2(drv, tmp, def, (flags & CREATE_PREALLOC_METADATA) != 0);
    } else {
        rc = make_raw(tmp, def->capacity, def->allocation_set ? def->allocation : 0);
    }
    if (rc == 0)
        rc = apply_perms(tmp, &def->perms);
    if (rc == 0)
        rc = install(tmp, def->path);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int create_common(TvStorageDriver *drv, const unsigned char *pool_uuid, const char *xml,
                         const char *src_pool, const char *src_name, unsigned flags, TvVolRef *out)
{
    const char *call = src_name ? "storage volume clone" : "storage volume create";
    if (tv_storage_flags_check(call, flags,
                               CREATE_PREALLOC_METADATA | CREATE_REFLINK | CREATE_VALIDATE) < 0)
        return -1;
    if (flags & CREATE_REFLINK) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "%s: reflink copies are not supported; copy without the flag", call);
        return -1;
    }
    g_autoptr(TvStorageVolDef) def = tv_storage_vol_def_parse(xml, strlen(xml));
    if (!def || backing_prepare(def) < 0)
        return -1;

    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, pool_uuid, true);
    TvStoragePool *src = NULL;
    g_autofree char *src_path = NULL;
    TvVolFormat src_format = TV_VOL_FORMAT_RAW;
    unsigned long long src_capacity = 0;
    if (pool && src_name) {
        TvStorageVol *sv = get_vol_locked(drv, src_pool, src_name, &src);
        if (!sv || !building_check(sv)) {
            pool = NULL;
        } else {
            src_path = g_strdup(sv->def->path);
            src_format = sv->def->format == TV_VOL_FORMAT_ISO ? TV_VOL_FORMAT_RAW : sv->def->format;
            src_capacity = sv->def->capacity;
        }
    }
    if (!pool || prepare_locked(pool, def, src_name != NULL) < 0) {
        g_mutex_unlock(&drv->lock);
        return -1;
    }
    if (src_name) {
        if (!def->format)
            def->format = src_format;
        if (!def->capacity)
            def->capacity = src_capacity;
        if (def->capacity < src_capacity) {
            g_mutex_unlock(&drv->lock);
            tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                            "%s: capacity %llu is smaller than the source's %llu", call,
                            def->capacity, src_capacity);
            return -1;
        }
        src->busy++;
    }
    g_autofree char *name = g_strdup(def->name);
    /* a private copy for the unlocked part: a scan may replace the placeholder */
    TvStorageVolDef *work = copy_def(def);
    placeholder_add_locked(pool, g_steal_pointer(&def));
    g_mutex_unlock(&drv->lock);

    int rc = build_file(drv, work, src_path, src_format, src_capacity, flags);
    tv_storage_vol_def_free(work);

    g_mutex_lock(&drv->lock);
    if (src_name)
        src->busy--;
    placeholder_finish_locked(pool, name, rc == 0);
    TvStorageVol *made = rc == 0 ? find_vol(pool, name) : NULL;
    if (rc == 0 && made)
        ref_fill(pool, made, out);
    else if (rc == 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_OPERATION_FAILED,
                        "storage volume '%s' disappeared right after it was made", name);
        rc = -1;
    }
    g_mutex_unlock(&drv->lock);
    return rc;
}

int tv_storage_vol_create(TvStorageDriver *drv, const unsigned char *pool_uuid, const char *xml,
                          unsigned flags, TvVolRef *out)
{
    return create_common(drv, pool_uuid, xml, NULL, NULL, flags, out);
}

int tv_storage_vol_create_from(TvStorageDriver *drv, const unsigned char *pool_uuid,
                               const char *xml, const char *src_pool, const char *src_name,
                               unsigned flags, TvVolRef *out)
{
    return create_common(drv, pool_uuid, xml, src_pool, src_name, flags, out);
}

/* ---- operations on an existing volume ---- */

/* Mark the volume building and its pool busy, so it can be worked on
 * without the lock; returns a copy of its definition. */
static TvStorageVolDef *claim(TvStorageDriver *drv, const char *pool_name, const char *name,
                              TvStoragePool **pool_out)
{
    TvStorageVolDef *copy = NULL;
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = NULL;
    TvStorageVol *vol = get_vol_locked(drv, pool_name, name, &pool);
    if (vol && building_check(vol)) {
        copy = copy_def(vol->def);
        vol->building = true;
        pool->busy++;
        *pool_out = pool;
    }
    g_mutex_unlock(&drv->lock);
    return copy;
}

/* Give the volume back: rescanned (kept) or removed from the list. */
static void release(TvStorageDriver *drv, TvStoragePool *pool, const char *name, bool removed)
{
    g_mutex_lock(&drv->lock);
    placeholder_finish_locked(pool, name, !removed);
    g_mutex_unlock(&drv->lock);
}

int tv_storage_vol_delete(TvStorageDriver *drv, const char *pool_name, const char *name,
                          unsigned flags)
{
    if (tv_storage_flags_check("storage volume delete", flags,
                               DELETE_ZEROED | DELETE_WITH_SNAPSHOTS) < 0)
        return -1;
    if (flags & DELETE_ZEROED) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "storage volume delete: zeroing while deleting is not supported; wipe "
                        "the volume first ('virsh vol-wipe')");
        return -1;
    }
    TvStoragePool *pool = NULL;
    g_autoptr(TvStorageVolDef) def = claim(drv, pool_name, name, &pool);
    if (!def)
        return -1;
    if (in_use_check(drv, "delete", name, def->path) < 0) {
        release(drv, pool, name, false);
        return -1;
    }
    if (unlink(def->path) < 0 && errno != ENOENT) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot delete storage volume '%s'",
                              def->path);
        release(drv, pool, name, false);
        return -1;
    }
    release(drv, pool, name, true);
    return 0;
}

static int zero_raw(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot open '%s'", path);
        return -1;
    }
    struct stat st;
    int rc = fstat(fd, &st);
    /* punching holes leaves zeros behind and no allocation; writing zeros
     * where the file system cannot punch */
    if (rc == 0 && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, st.st_size) < 0) {
        static const char zeros[65536];
        for (off_t off = 0; rc == 0 && off < st.st_size; off += (off_t)sizeof(zeros)) {
            size_t n = (size_t)MIN((off_t)sizeof(zeros), st.st_size - off);
            if (pwrite(fd, zeros, n, off) != (ssize_t)n)
                rc = -1;
        }
    }
    if (rc == 0)
        rc = fsync(fd);
    if (rc < 0)
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot wipe '%s'", path);
    close(fd);
    return rc;
}

int tv_storage_vol_wipe(TvStorageDriver *drv, const char *pool_name, const char *name,
                        unsigned algorithm, unsigned flags)
{
    if (tv_storage_flags_check("storage volume wipe", flags, 0) < 0)
        return -1;
    if (algorithm != WIPE_ALG_ZERO) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "storage volume wipe: algorithm %u is not supported; accepted: 0 (zero)",
                        algorithm);
        return -1;
    }
    TvStoragePool *pool = NULL;
    g_autoptr(TvStorageVolDef) def = claim(drv, pool_name, name, &pool);
    if (!def)
        return -1;
    int rc = in_use_check(drv, "wipe", name, def->path);
    if (rc == 0 && def->format == TV_VOL_FORMAT_QCOW2) {
        /* what the guest reads of a new image of the same shape is zeros */
        g_autofree char *dir = g_path_get_dirname(def->path);
        g_autofree char *tmp = temp_path(dir, name);
        rc = make_qcow2(drv, tmp, def, false);
        if (rc == 0)
            rc = apply_perms(tmp, &def->perms);
        if (rc == 0 && rename(tmp, def->path) < 0) {
            tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot replace '%s'", def->path);
            rc = -1;
        }
        if (rc < 0)
            unlink(tmp);
    } else if (rc == 0) {
        rc = zero_raw(def->path);
    }
    release(drv, pool, name, false);
    return rc;
}

int tv_storage_vol_resize(TvStorageDriver *drv, const char *pool_name, const char *name,
                          unsigned long long capacity, unsigned flags)
{
    if (tv_storage_flags_check("storage volume resize", flags,
                               RESIZE_ALLOCATE | RESIZE_DELTA | RESIZE_SHRINK) < 0)
        return -1;
    TvStoragePool *pool = NULL;
    g_autoptr(TvStorageVolDef) def = claim(drv, pool_name, name, &pool);
    if (!def)
        return -1;
    unsigned long long cur = def->capacity, target = capacity;
    int rc = 0;
    if (flags & RESIZE_DELTA) {
        if (flags & RESIZE_SHRINK)
            target = capacity > cur ? 0 : cur - capacity;
        else
            target =
                capacity > TV_STORAGE_SIZE_MAX - cur ? TV_STORAGE_SIZE_MAX + 1 : cur + capacity;
    }
    if (target > TV_STORAGE_SIZE_MAX) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "cannot resize storage volume '%s': at most %llu bytes", name,
                        TV_STORAGE_SIZE_MAX);
        rc = -1;
    } else if (target < cur && !(flags & RESIZE_SHRINK)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "cannot shrink storage volume '%s' from %llu to %llu bytes without the "
                        "shrink flag",
                        name, cur, target);
        rc = -1;
    } else if (target > cur && (flags & RESIZE_SHRINK)) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "cannot shrink storage volume '%s' to a larger size (%llu > %llu)", name,
                        target, cur);
        rc = -1;
    } else if (target == 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_INVALID_ARG,
                        "cannot resize storage volume '%s' to 0 bytes", name);
        rc = -1;
    } else if ((flags & RESIZE_ALLOCATE) && def->format == TV_VOL_FORMAT_QCOW2) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "cannot preallocate while resizing qcow2 volume '%s'", name);
        rc = -1;
    }
    if (rc == 0)
        rc = in_use_check(drv, "resize", name, def->path);
    if (rc == 0 && def->format == TV_VOL_FORMAT_QCOW2) {
        g_autofree char *size = g_strdup_printf("%llu", target);
        const char *argv[8];
        int n = 0;
        argv[n++] = "resize";
        argv[n++] = "-q";
        if (flags & RESIZE_SHRINK)
            argv[n++] = "--shrink";
        argv[n++] = "-f";
        argv[n++] = "qcow2";
        argv[n++] = def->path;
        argv[n++] = size;
        argv[n] = NULL;
        rc = tv_storage_qemu_img(drv, argv);
    } else if (rc == 0) {
        if (truncate(def->path, (off_t)target) < 0) {
            tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot resize '%s'", def->path);
            rc = -1;
        } else if (flags & RESIZE_ALLOCATE) {
            int fd = open(def->path, O_WRONLY | O_CLOEXEC);
            int err = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)target);
            if (fd >= 0)
                close(fd);
            if (err) {
                tv_error_report_errno(TV_FROM_STORAGE, err, "cannot allocate '%s'", def->path);
                rc = -1;
            }
        }
    }
    release(drv, pool, name, false);
    return rc;
}

/* ---- queries ---- */

int tv_storage_vol_lookup_by_name(TvStorageDriver *drv, const unsigned char *pool_uuid,
                                  const char *name, TvVolRef *out)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, pool_uuid, true);
    TvStorageVol *vol = pool ? find_vol(pool, name) : NULL;
    if (vol)
        ref_fill(pool, vol, out);
    else if (pool)
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_VOL,
                        "storage volume not found: no storage vol with matching name '%s'", name);
    g_mutex_unlock(&drv->lock);
    return vol ? 0 : -1;
}

/* by == 0: key, 1: path */
static int lookup_by(TvStorageDriver *drv, const char *value, int by, TvVolRef *out)
{
    g_autofree char *canon = by ? g_canonicalize_filename(value, "/") : g_strdup(value);
    int rc = -1;
    g_mutex_lock(&drv->lock);
    for (guint i = 0; rc < 0 && i < drv->pools->len; i++) {
        TvStoragePool *pool = g_ptr_array_index(drv->pools, i);
        for (guint j = 0; pool->active && j < pool->vols->len; j++) {
            TvStorageVol *vol = g_ptr_array_index(pool->vols, j);
            if (strcmp(by ? vol->def->path : vol->def->key, canon) == 0) {
                ref_fill(pool, vol, out);
                rc = 0;
                break;
            }
        }
    }
    g_mutex_unlock(&drv->lock);
    if (rc < 0)
        tv_error_report(TV_FROM_STORAGE, TV_ERR_NO_STORAGE_VOL,
                        "storage volume not found: no storage vol with matching %s '%s'",
                        by ? "path" : "key", value);
    return rc;
}

int tv_storage_vol_lookup_by_key(TvStorageDriver *drv, const char *key, TvVolRef *out)
{
    return lookup_by(drv, key, 0, out);
}

int tv_storage_vol_lookup_by_path(TvStorageDriver *drv, const char *path, TvVolRef *out)
{
    return lookup_by(drv, path, 1, out);
}

int tv_storage_pool_lookup_by_volume(TvStorageDriver *drv, const char *pool_name, const char *name,
                                     TvPoolRef *out)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = NULL;
    TvStorageVol *vol = get_vol_locked(drv, pool_name, name, &pool);
    if (vol)
        tv_storage_pool_ref_fill(pool, out);
    g_mutex_unlock(&drv->lock);
    return vol ? 0 : -1;
}

int tv_storage_vol_get_info(TvStorageDriver *drv, const char *pool_name, const char *name,
                            unsigned flags, int *type, unsigned long long *capacity,
                            unsigned long long *allocation)
{
    if (tv_storage_flags_check("storage volume info", flags, INFO_GET_PHYSICAL) < 0)
        return -1;
    g_mutex_lock(&drv->lock);
    TvStorageVol *vol = get_vol_locked(drv, pool_name, name, NULL);
    if (vol) {
        *type = 0; /* VIR_STORAGE_VOL_FILE */
        *capacity = vol->def->capacity;
        *allocation = (flags & INFO_GET_PHYSICAL) ? vol->def->physical : vol->def->allocation;
    }
    g_mutex_unlock(&drv->lock);
    return vol ? 0 : -1;
}

char *tv_storage_vol_get_xml(TvStorageDriver *drv, const char *pool_name, const char *name,
                             unsigned flags)
{
    if (tv_storage_flags_check("storage volume XML description", flags, 0) < 0)
        return NULL;
    g_mutex_lock(&drv->lock);
    TvStorageVol *vol = get_vol_locked(drv, pool_name, name, NULL);
    char *xml = vol ? tv_storage_vol_def_format(vol->def) : NULL;
    g_mutex_unlock(&drv->lock);
    return xml;
}

char *tv_storage_vol_get_path(TvStorageDriver *drv, const char *pool_name, const char *name)
{
    g_mutex_lock(&drv->lock);
    TvStorageVol *vol = get_vol_locked(drv, pool_name, name, NULL);
    char *path = vol ? g_strdup(vol->def->path) : NULL;
    g_mutex_unlock(&drv->lock);
    return path;
}

int tv_storage_pool_list_volumes(TvStorageDriver *drv, const unsigned char *pool_uuid,
                                 TvVolRef **out, size_t *n)
{
    g_mutex_lock(&drv->lock);
    TvStoragePool *pool = tv_storage_get_locked(drv, pool_uuid, true);
    if (!pool) {
        g_mutex_unlock(&drv->lock);
        return -1;
    }
    *n = pool->vols->len;
    *out = g_new0(TvVolRef, MAX(*n, 1));
    for (guint i = 0; i < pool->vols->len; i++)
        ref_fill(pool, g_ptr_array_index(pool->vols, i), &(*out)[i]);
    g_mutex_unlock(&drv->lock);
    return 0;
}
