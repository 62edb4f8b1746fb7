/* What a file in a pool's folder is: qcow2 (by its header), an ISO 9660
 * image (by its volume descriptor), else raw.  Read with O_NOFOLLOW and only
 * the bytes the headers need, so a pool refresh of hundreds of volumes costs
 * a few reads each and no process. */
#include "storage_driver_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define QCOW2_HEADER_LEN   72    /* version 2; version 3 has 104 */
#define ISO_DESCRIPTOR_POS 32769 /* "CD001" of the first volume descriptor */

static guint64 be64(const guint8 *p)
{
    guint64 v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static guint32 be32(const guint8 *p)
{
    return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* qcow2 header (big endian): magic, version at 4, backing file offset at 8
 * and length at 16, size at 24; version 3 adds feature bits and its length
 * at 100. */
static void probe_qcow2(int fd, const guint8 *hdr, TvStorageVolDef *def)
{
    def->format = TV_VOL_FORMAT_QCOW2;
    def->capacity = be64(hdr + 24);
    guint32 version = be32(hdr + 4);
    def->compat = g_strdup(version >= 3 ? "1.1" : "0.10");
    /* version 3: compatible features at 80, bit 0 lazy refcounts */
    if (version >= 3 && be32(hdr + 100) >= 104)
        def->lazy_refcounts = (be64(hdr + 80) & 1) != 0;
    guint64 off = be64(hdr + 8);
    guint32 len = be32(hdr + 16);
    if (off && len && len < 4096) {
        g_autofree char *backing = g_malloc0(len + 1);
        if (pread(fd, backing, len, (off_t)off) == (ssize_t)len && backing[0] == '/' &&
            strlen(backing) == len)
            def->backing_path = g_steal_pointer(&backing);
    }
}

TvStorageVolDef *tv_storage_probe_file(const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    TvStorageVolDef *def = g_new0(TvStorageVolDef, 1);
    def->name = g_strdup(name);
    def->path = g_steal_pointer(&path);
    def->key = g_strdup(def->path);
    def->format = TV_VOL_FORMAT_RAW;
    def->capacity = (unsigned long long)st.st_size;
    def->physical = (unsigned long long)st.st_size;
    def->allocation = (unsigned long long)st.st_blocks * 512ULL;
    def->perms.mode = st.st_mode & 07777;
    def->perms.owner = st.st_uid;
    def->perms.group = st.st_gid;

    guint8 hdr[104] = { 0 };
    ssize_t got = pread(fd, hdr, sizeof(hdr), 0);
    char cd[5];
    if (got >= QCOW2_HEADER_LEN && memcmp(hdr, "QFI\xfb", 4) == 0)
        probe_qcow2(fd, hdr, def);
    else if (pread(fd, cd, sizeof(cd), ISO_DESCRIPTOR_POS) == (ssize_t)sizeof(cd) &&
             memcmp(cd, "CD001", 5) == 0)
        def->format = TV_VOL_FORMAT_ISO;
    close(fd);
    return def;
}
