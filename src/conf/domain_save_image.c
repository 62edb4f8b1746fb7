/* tagvirt's save image: header, definition, guest ABI record (the layout is
 * in domain_save_image.h). */
#include "domain_save_image.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* libvirt's own save images start with one of these; told apart so that the
 * message says what the file is. */
#define LIBVIRT_MAGIC         "LibvirtQemudSave"
#define LIBVIRT_PARTIAL_MAGIC "LibvirtQemudPart"

#define MAGIC_LEN 16

void tv_save_image_clear(TvSaveImage *img)
{
    g_free(img->xml);
    tv_domain_guest_abi_clear(&img->abi);
    memset(img, 0, sizeof(*img));
}

static void put32(guint8 *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static void put64(guint8 *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static uint32_t get32(const guint8 *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get64(const guint8 *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t stream_offset_for(uint64_t xml_len, uint64_t abi_len)
{
    uint64_t end = TV_SAVE_IMAGE_HEADER_LEN + xml_len + abi_len;
    return (end + TV_SAVE_IMAGE_ALIGN - 1) / TV_SAVE_IMAGE_ALIGN * TV_SAVE_IMAGE_ALIGN;
}

static void encode_header(guint8 *h, uint32_t xml_len, uint32_t abi_len, const TvSaveImage *img)
{
    memset(h, 0, TV_SAVE_IMAGE_HEADER_LEN);
    memcpy(h, TV_SAVE_IMAGE_MAGIC, MAGIC_LEN);
    put32(h + 16, TV_SAVE_IMAGE_VERSION);
    put32(h + 20, TV_SAVE_IMAGE_HEADER_LEN);
    put32(h + 24, xml_len);
    put32(h + 28, abi_len);
    put32(h + 32, img->flags);
    put64(h + 40, img->stream_offset);
    put64(h + 48, img->stream_len);
    memcpy(h + 64, img->digest, TV_SAVE_IMAGE_DIGEST_LEN);
}

static int write_at(int fd, const char *path, const void *buf, size_t len, off_t off)
{
    const guint8 *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            tv_error_report_errno(TV_FROM_DOMAIN, n < 0 ? errno : EIO,
                                  "cannot write save image '%s'", path);
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static char *format_abi(const TvDomainGuestAbi *abi)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    tv_domain_guest_abi_format(&w, abi);
    return tv_xml_writer_finish(&w);
}

/* SHA-256 of len bytes of fd from off. */
static int stream_digest(int fd, const char *path, uint64_t off, uint64_t len,
                         guint8 out[TV_SAVE_IMAGE_DIGEST_LEN])
{
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guint8 *buf = g_malloc(1 << 20);
    while (len > 0) {
        ssize_t n = pread(fd, buf, MIN(len, (uint64_t)1 << 20), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            tv_error_report_errno(TV_FROM_DOMAIN, n < 0 ? errno : EIO,
                                  "cannot read save image '%s'", path);
            return -1;
        }
        g_checksum_update(sum, buf, (gssize)n);
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    gsize dlen = TV_SAVE_IMAGE_DIGEST_LEN;
    g_checksum_get_digest(sum, out, &dlen);
    return 0;
}

int tv_save_image_write_head(int fd, const char *path, TvSaveImage *img)
{
    if (!img->xml || !img->abi.valid) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_INTERNAL_ERROR,
                        "save image '%s': no definition or no guest ABI to write", path);
        return -1;
    }
    g_autofree char *abi = format_abi(&img->abi);
    size_t xml_len = strlen(img->xml), abi_len = strlen(abi);
    if (xml_len > TV_SAVE_IMAGE_XML_MAX || abi_len > TV_SAVE_IMAGE_ABI_MAX) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_OPERATION_FAILED,
                        "save image '%s': the domain XML (%zu bytes) or the guest ABI record "
                        "(%zu bytes) is larger than an image holds (%u and %u bytes)",
                        path, xml_len, abi_len, TV_SAVE_IMAGE_XML_MAX, TV_SAVE_IMAGE_ABI_MAX);
        return -1;
    }
    img->stream_offset = stream_offset_for(xml_len, abi_len);
    img->stream_len = 0;
    g_autofree guint8 *head = g_malloc0(img->stream_offset);
    encode_header(head, (uint32_t)xml_len, (uint32_t)abi_len, img);
    memcpy(head + TV_SAVE_IMAGE_HEADER_LEN, img->xml, xml_len);
    memcpy(head + TV_SAVE_IMAGE_HEADER_LEN + xml_len, abi, abi_len);
    if (write_at(fd, path, head, img->stream_offset, 0) < 0)
        return -1;
    if (lseek(fd, (off_t)img->stream_offset, SEEK_SET) < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot seek in save image '%s'", path);
        return -1;
    }
    return 0;
}

int tv_save_image_finish(int fd, const char *path, TvSaveImage *img)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot stat save image '%s'", path);
        return -1;
    }
    if ((uint64_t)st.st_size <= img->stream_offset) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_OPERATION_FAILED,
                        "save image '%s': QEMU wrote no migration stream", path);
        return -1;
    }
    img->stream_len = (uint64_t)st.st_size - img->stream_offset;
    /* fd may be write-only (QEMU was given it): read back through path */
    int rfd = open(path, O_RDONLY | O_CLOEXEC);
    if (rfd < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot read save image '%s'", path);
        return -1;
    }
    int rc = stream_digest(rfd, path, img->stream_offset, img->stream_len, img->digest);
    close(rfd);
    if (rc < 0)
        return -1;
    /* the stream is on disk before the header says it is complete */
    if (fdatasync(fd) < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot flush save image '%s'", path);
        return -1;
    }
    g_autofree char *abi = format_abi(&img->abi);
    guint8 h[TV_SAVE_IMAGE_HEADER_LEN];
    encode_header(h, (uint32_t)strlen(img->xml), (uint32_t)strlen(abi), img);
    if (write_at(fd, path, h, sizeof(h), 0) < 0)
        return -1;
    if (fsync(fd) < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot flush save image '%s'", path);
        return -1;
    }
    return 0;
}

static int bad_image(const char *path, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int bad_image(const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tv_error_report(TV_FROM_DOMAIN, TV_ERR_OPERATION_FAILED, "save image '%s': %s", path, what);
    return -1;
}

static int read_at(int fd, const char *path, void *buf, size_t len, off_t off)
{
    guint8 *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot read save image '%s'", path);
            return -1;
        }
        if (n == 0)
            return bad_image(path, "the file ends early");
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static int check_magic(const char *path, const guint8 *h)
{
    if (memcmp(h, TV_SAVE_IMAGE_MAGIC, MAGIC_LEN) == 0)
        return 0;
    if (memcmp(h, LIBVIRT_MAGIC, MAGIC_LEN) == 0 ||
        memcmp(h, LIBVIRT_PARTIAL_MAGIC, MAGIC_LEN) == 0)
        return bad_image(path, "this is a libvirt save image; tagvirt restores only its own "
                               "images (magic '" TV_SAVE_IMAGE_MAGIC "')");
    return bad_image(path,
                     "not a tagvirt save image (the magic '" TV_SAVE_IMAGE_MAGIC "' is missing)");
}

/* The header's fields against each other and the file's size. */
static int check_header(const char *path, const guint8 *h, uint64_t size, uint32_t *xml_len,
                        uint32_t *abi_len, TvSaveImage *img)
{
    if (check_magic(path, h) < 0)
        return -1;
    uint32_t version = get32(h + 16);
    if (version != TV_SAVE_IMAGE_VERSION)
        return bad_image(path, "version %u is not supported; this tagvirt reads version %d",
                         version, TV_SAVE_IMAGE_VERSION);
    if (get32(h + 20) != TV_SAVE_IMAGE_HEADER_LEN)
        return bad_image(path, "header length %u, expected %d", get32(h + 20),
                         TV_SAVE_IMAGE_HEADER_LEN);
    *xml_len = get32(h + 24);
    *abi_len = get32(h + 28);
    img->flags = get32(h + 32);
    img->stream_offset = get64(h + 40);
    img->stream_len = get64(h + 48);
    memcpy(img->digest, h + 64, TV_SAVE_IMAGE_DIGEST_LEN);
    if (*xml_len == 0 || *xml_len > TV_SAVE_IMAGE_XML_MAX)
        return bad_image(path, "domain XML length %u; accepted: 1 to %u bytes", *xml_len,
                         TV_SAVE_IMAGE_XML_MAX);
    if (*abi_len == 0 || *abi_len > TV_SAVE_IMAGE_ABI_MAX)
        return bad_image(path, "guest ABI record length %u; accepted: 1 to %u bytes", *abi_len,
                         TV_SAVE_IMAGE_ABI_MAX);
    if (img->flags & ~(unsigned)TV_SAVE_IMAGE_RUNNING)
        return bad_image(path, "unknown flags 0x%x", img->flags & ~(unsigned)TV_SAVE_IMAGE_RUNNING);
    if (get32(h + 36) != 0 || get64(h + 56) != 0)
        return bad_image(path, "reserved header fields are not zero");
    uint64_t want = stream_offset_for(*xml_len, *abi_len);
    if (img->stream_offset != want)
        return bad_image(path, "stream offset %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
                         img->stream_offset, want);
    if (img->stream_len == 0)
        return bad_image(path, "the save that wrote it did not finish (no stream length)");
    if (img->stream_len > G_MAXUINT64 - img->stream_offset ||
        img->stream_offset + img->stream_len != size)
        return bad_image(path,
                         "the file is %" G_GUINT64_FORMAT
                         " bytes but its header says %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT
                         " (truncated or changed)",
                         size, img->stream_offset, img->stream_len);
    return 0;
}

/* The <guestabi/> record. */
static int parse_abi(const char *path, const char *buf, size_t len, TvDomainGuestAbi *abi)
{
    if (memchr(buf, '\0', len))
        return bad_image(path, "a NUL byte inside the guest ABI record");
    g_autoptr(xmlDoc) doc = tv_xml_parse(buf, len, "save image guest ABI record");
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || strcmp((const char *)root->name, "guestabi") != 0) {
        if (doc)
            bad_image(path, "the guest ABI record is not a <guestabi> element");
        else
            tv_error_prefix("save image '%s'", path);
        return -1;
    }
    if (tv_domain_guest_abi_parse(root, abi) < 0) {
        tv_error_prefix("save image '%s'", path);
        return -1;
    }
    return 0;
}

int tv_save_image_read(int fd, const char *path, TvSaveImage *img)
{
    memset(img, 0, sizeof(*img));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot stat save image '%s'", path);
        return -1;
    }
    if (!S_ISREG(st.st_mode))
        return bad_image(path, "not a regular file");
    guint8 h[TV_SAVE_IMAGE_HEADER_LEN];
    /* what the file is, before whether it is whole */
    if (st.st_size >= MAGIC_LEN &&
        (read_at(fd, path, h, MAGIC_LEN, 0) < 0 || check_magic(path, h) < 0))
        return -1;
    if (st.st_size < TV_SAVE_IMAGE_HEADER_LEN)
        return bad_image(path, "%lld bytes, shorter than the %d-byte header", (long long)st.st_size,
                         TV_SAVE_IMAGE_HEADER_LEN);
    uint32_t xml_len = 0, abi_len = 0;
    TvSaveImage tmp = { 0 };
    if (read_at(fd, path, h, sizeof(h), 0) < 0 ||
        check_header(path, h, (uint64_t)st.st_size, &xml_len, &abi_len, &tmp) < 0)
        return -1;
    g_autofree char *xml = g_malloc((gsize)xml_len + 1);
    g_autofree char *abi = g_malloc((gsize)abi_len + 1);
    if (read_at(fd, path, xml, xml_len, TV_SAVE_IMAGE_HEADER_LEN) < 0 ||
        read_at(fd, path, abi, abi_len, (off_t)TV_SAVE_IMAGE_HEADER_LEN + xml_len) < 0)
        return -1;
    xml[xml_len] = abi[abi_len] = '\0';
    if (memchr(xml, '\0', xml_len))
        return bad_image(path, "a NUL byte inside the domain XML");
    if (parse_abi(path, abi, abi_len, &tmp.abi) < 0)
        return -1;
    if (lseek(fd, (off_t)tmp.stream_offset, SEEK_SET) < 0) {
        tv_domain_guest_abi_clear(&tmp.abi);
        tv_error_report_errno(TV_FROM_DOMAIN, errno, "cannot seek in save image '%s'", path);
        return -1;
    }
    tmp.xml = g_steal_pointer(&xml);
    *img = tmp;
    return 0;
}

int tv_save_image_verify(int fd, const char *path, const TvSaveImage *img)
{
    guint8 digest[TV_SAVE_IMAGE_DIGEST_LEN];
    if (stream_digest(fd, path, img->stream_offset, img->stream_len, digest) < 0)
        return -1;
    if (memcmp(digest, img->digest, sizeof(digest)) != 0)
        return bad_image(path, "the migration stream does not match its SHA-256 (the file is "
                               "corrupt)");
    return 0;
}
