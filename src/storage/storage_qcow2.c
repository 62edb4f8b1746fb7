/* A new, empty qcow2 image written here instead of by `qemu-img create`:
 * starting qemu-img (about twenty shared libraries) and its four flushes
 * were nearly all of a `vol-create-as` (docs/performance.md, "Storage
 * volumes").  Only the plain case: no backing file, no preallocation, 64 KiB
 * clusters, 16-bit refcounts, zlib compression; version 3 (compat 1.1, with
 * or without lazy refcounts) or 2 (compat 0.10).  The layout is the one
 * qemu-img makes for the same options, cluster by cluster:
 *
 *   cluster 0  the header (no header extensions: the feature name table
 *              qemu-img adds is informational)
 *   cluster 1  the refcount table: one entry, the block at cluster 2
 *   cluster 2  the refcount block: 1 for every cluster in use
 *   cluster 3… the L1 table, all zero (nothing allocated); the file ends
 *              where it ends.  With no L1 table (capacity 0) the file is
 *              three clusters and the header's L1 offset is 0.
 *
 * Header fields are big-endian; offsets and meanings are those of the qcow2
 * format specification (QEMU's docs/interop/qcow2.txt). */
#include "storage_driver_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CLUSTER_BITS 16
#define CLUSTER_SIZE (1ull << CLUSTER_BITS)
#define L2_ENTRIES   (CLUSTER_SIZE / 8)
/* QEMU refuses an L1 table larger than 32 MiB (4 Mi entries) */
#define L1_MAX_ENTRIES (32ull * 1024 * 1024 / 8)
#define REFCOUNT_ORDER 4 /* 16-bit refcounts */
#define V2_HEADER_LEN  72
#define V3_HEADER_LEN  112 /* up to the compression type and its padding */

static void put_be32(guint8 *p, guint32 v)
{
    guint32 be = GUINT32_TO_BE(v);
    memcpy(p, &be, 4);
}

static void put_be64(guint8 *p, guint64 v)
{
    guint64 be = GUINT64_TO_BE(v);
    memcpy(p, &be, 8);
}

static guint64 l1_entries(unsigned long long capacity)
{
    guint64 per_l1 = CLUSTER_SIZE * L2_ENTRIES; /* bytes one L1 entry maps: 512 MiB */
    return (capacity + per_l1 - 1) / per_l1;
}

bool tv_storage_qcow2_native(unsigned long long capacity, const char *compat, bool lazy_refcounts,
                             bool prealloc_metadata, bool backing)
{
    if (backing || prealloc_metadata)
        return false;
    if (capacity % 512 != 0) /* qemu-img rounds it up: leave that to it */
        return false;
    if (capacity > G_MAXUINT64 - CLUSTER_SIZE * L2_ENTRIES || l1_entries(capacity) > L1_MAX_ENTRIES)
        return false; /* qemu-img's error */
    if (!compat || strcmp(compat, "1.1") == 0)
        return true;
    return strcmp(compat, "0.10") == 0 && !lazy_refcounts; /* v2 has no lazy refcounts */
}

static int write_at(int fd, const char *path, const void *buf, size_t len, off_t off)
{
    ssize_t n = pwrite(fd, buf, len, off);
    if (n == (ssize_t)len)
        return 0;
    tv_error_report_errno(TV_FROM_STORAGE, n < 0 ? errno : EIO, "cannot write '%s'", path);
    return -1;
}

int tv_storage_qcow2_create(const char *path, unsigned long long capacity, const char *compat,
                            bool lazy_refcounts, mode_t mode)
{
    bool v3 = !compat || strcmp(compat, "1.1") == 0;
    guint64 l1_size = l1_entries(capacity);
    guint64 l1_clusters = (l1_size * 8 + CLUSTER_SIZE - 1) / CLUSTER_SIZE;
    guint64 l1_offset = l1_size ? 3 * CLUSTER_SIZE : 0;
    guint64 used = 3 + l1_clusters; /* clusters with a refcount of 1 */
    guint64 end = l1_size ? 3 * CLUSTER_SIZE + l1_size * 8 : 3 * CLUSTER_SIZE;

    guint8 header[V3_HEADER_LEN] = { 0 };
    memcpy(header, "QFI\xfb", 4);
    put_be32(header + 4, v3 ? 3 : 2);
    put_be32(header + 20, CLUSTER_BITS);
    put_be64(header + 24, capacity);
    put_be32(header + 36, (guint32)l1_size);
    put_be64(header + 40, l1_offset);
    put_be64(header + 48, CLUSTER_SIZE); /* refcount table */
    put_be32(header + 56, 1);            /* its clusters */
    if (v3) {
        put_be64(header + 80, lazy_refcounts ? 1 : 0); /* compatible features */
        put_be32(header + 96, REFCOUNT_ORDER);
        put_be32(header + 100, V3_HEADER_LEN);
    }
    guint8 table[8];
    put_be64(table, 2 * CLUSTER_SIZE); /* the refcount block */
    /* at most 3 + 512 clusters: one block (32768 refcounts) holds them */
    g_autofree guint8 *block = g_malloc0(used * 2);
    for (guint64 i = 0; i < used; i++)
        block[2 * i + 1] = 1;

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot create '%s'", path);
        return -1;
    }
    int rc = 0;
    if (write_at(fd, path, header, v3 ? V3_HEADER_LEN : V2_HEADER_LEN, 0) < 0 ||
        write_at(fd, path, table, sizeof(table), CLUSTER_SIZE) < 0 ||
        write_at(fd, path, block, used * 2, 2 * CLUSTER_SIZE) < 0) {
        rc = -1;
    } else if (ftruncate(fd, (off_t)end) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot size '%s'", path);
        rc = -1;
    } else if (fdatasync(fd) < 0) {
        tv_error_report_errno(TV_FROM_STORAGE, errno, "cannot flush '%s'", path);
        rc = -1;
    }
    close(fd);
    return rc;
}
