/* tagvirt's save image (src/conf/domain_save_image.c): a written image reads
 * back the same; every malformed, oversized, unfinished, truncated or
 * foreign file is refused with a message that says what is wrong, and the
 * exact text is checked. */
#include "domain_save_image.h"
#include "tv_error.h"

#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *tmpdir;

static const char *const XML = "<domain type='qemu'><name>demo</name></domain>\n";

static void fill(TvSaveImage *img)
{
    memset(img, 0, sizeof(*img));
    img->xml = g_strdup(XML);
    img->abi.valid = true;
    img->abi.accel = g_strdup("tcg");
    img->abi.cpu_model = g_strdup("max");
    img->abi.machine = g_strdup("virt-10.0");
    img->abi.pfr1 = 0x0000000001000321ull;
    img->abi.pfr2 = 0;
    img->abi.emulator = g_strdup("QEMU 10.0.2");
    img->flags = TV_SAVE_IMAGE_RUNNING;
}

static char *path_of(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* An image with a stream of n bytes (finished when finish). */
static char *make_image(const char *name, size_t n, bool finish)
{
    char *path = path_of(name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(fd, >=, 0);
    g_auto(TvSaveImage) img;
    fill(&img);
    g_assert_cmpint(tv_save_image_write_head(fd, path, &img), ==, 0);
    g_assert_cmpint(img.stream_offset, ==, TV_SAVE_IMAGE_ALIGN);
    g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, (off_t)img.stream_offset);
    g_autofree char *stream = g_malloc(n);
    for (size_t i = 0; i < n; i++)
        stream[i] = (char)(i * 7);
    g_assert_cmpint(write(fd, stream, n), ==, (ssize_t)n);
    if (finish)
        g_assert_cmpint(tv_save_image_finish(fd, path, &img), ==, 0);
    close(fd);
    return path;
}

/* Reading path fails with exactly "save image 'PATH': <expect>". */
static void expect_refused(const char *path, const char *expect)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    tv_error_reset();
    TvSaveImage img;
    g_assert_cmpint(tv_save_image_read(fd, path, &img), ==, -1);
    close(fd);
    g_autofree char *want = g_strdup_printf("save image '%s': %s", path, expect);
    g_assert_cmpstr(tv_error_message(), ==, want);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_FAILED);
}

static void patch(const char *path, off_t off, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, bytes, len, off), ==, (ssize_t)len);
    close(fd);
}

static void patch32(const char *path, off_t off, guint32 v)
{
    guint8 b[4] = { (guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24) };
    patch(path, off, b, 4);
}

static void test_round_trip(void)
{
    g_autofree char *path = make_image("ok.img", 10000, true);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_auto(TvSaveImage) img;
    tv_error_reset();
    g_assert_cmpint(tv_save_image_read(fd, path, &img), ==, 0);
    g_assert_cmpstr(img.xml, ==, XML);
    g_assert_true(img.abi.valid);
    g_assert_cmpstr(img.abi.accel, ==, "tcg");
    g_assert_cmpstr(img.abi.cpu_model, ==, "max");
    g_assert_cmpstr(img.abi.machine, ==, "virt-10.0");
    g_assert_cmpstr(img.abi.emulator, ==, "QEMU 10.0.2");
    g_assert_cmpuint(img.abi.pfr1, ==, 0x0000000001000321ull);
    g_assert_cmpuint(img.flags, ==, TV_SAVE_IMAGE_RUNNING);
    g_assert_cmpuint(img.stream_offset, ==, TV_SAVE_IMAGE_ALIGN);
    g_assert_cmpuint(img.stream_len, ==, 10000);
    /* the reader is left at the stream: QEMU reads from here */
    g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, TV_SAVE_IMAGE_ALIGN);
    char first[2];
    g_assert_cmpint(read(fd, first, 2), ==, 2);
    g_assert_cmpint(first[0], ==, 0);
    g_assert_cmpint(first[1], ==, 7);
    close(fd);
}

static void test_unfinished(void)
{
    g_autofree char *path = make_image("unfinished.img", 5000, false);
    expect_refused(path, "the save that wrote it did not finish (no stream length)");
}

static void test_truncated(void)
{
    g_autofree char *path = make_image("truncated.img", 5000, true);
    g_assert_cmpint(truncate(path, 4096 + 4000), ==, 0);
    expect_refused(path, "the file is 8096 bytes but its header says 4096 + 5000 (truncated or "
                         "changed)");
}

static void test_extended(void)
{
    g_autofree char *path = make_image("extended.img", 5000, true);
    patch(path, 4096 + 5000, "x", 1);
    expect_refused(path, "the file is 9097 bytes but its header says 4096 + 5000 (truncated or "
                         "changed)");
}

static void test_foreign(void)
{
    g_autofree char *path = path_of("foreign.img");
    g_assert_true(
        g_file_set_contents(path, "#!/bin/sh\necho this is not a save image at all\n", -1, NULL));
    expect_refused(path, "not a tagvirt save image (the magic 'TagvirtSaveImage' is missing)");
}

static void test_libvirt(void)
{
    g_autofree char *path = make_image("libvirt.img", 100, true);
    patch(path, 0, "LibvirtQemudSave", 16);
    expect_refused(path, "this is a libvirt save image; tagvirt restores only its own images "
                         "(magic 'TagvirtSaveImage')");
}

static void test_short(void)
{
    g_autofree char *path = path_of("short.img");
    g_assert_true(g_file_set_contents(path, "TagvirtSaveImage", -1, NULL));
    expect_refused(path, "16 bytes, shorter than the 96-byte header");
}

static void test_empty(void)
{
    g_autofree char *path = path_of("empty.img");
    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    expect_refused(path, "0 bytes, shorter than the 96-byte header");
}

static void test_version(void)
{
    g_autofree char *path = make_image("version.img", 100, true);
    patch32(path, 16, 2);
    expect_refused(path, "version 2 is not supported; this tagvirt reads version 1");
}

static void test_oversized_xml(void)
{
    g_autofree char *path = make_image("bigxml.img", 100, true);
    patch32(path, 24, 0xffffffffu);
    expect_refused(path, "domain XML length 4294967295; accepted: 1 to 16777216 bytes");
}

static void test_oversized_abi(void)
{
    g_autofree char *path = make_image("bigabi.img", 100, true);
    patch32(path, 28, 65537);
    expect_refused(path, "guest ABI record length 65537; accepted: 1 to 65536 bytes");
}

static void test_offset(void)
{
    g_autofree char *path = make_image("offset.img", 100, true);
    patch32(path, 40, 8192);
    expect_refused(path, "stream offset 8192, expected 4096");
}

static void test_flags(void)
{
    g_autofree char *path = make_image("flags.img", 100, true);
    patch32(path, 32, 0x11);
    expect_refused(path, "unknown flags 0x10");
}

static void test_reserved(void)
{
    g_autofree char *path = make_image("reserved.img", 100, true);
    patch32(path, 36, 1);
    expect_refused(path, "reserved header fields are not zero");
}

static void test_nul_in_xml(void)
{
    g_autofree char *path = make_image("nul.img", 100, true);
    patch(path, TV_SAVE_IMAGE_HEADER_LEN + 3, "", 1);
    expect_refused(path, "a NUL byte inside the domain XML");
}

static void test_bad_record(void)
{
    g_autofree char *path = make_image("record.img", 100, true);
    /* <guestabi ... becomes <guestxbi ... */
    patch(path, TV_SAVE_IMAGE_HEADER_LEN + (off_t)strlen(XML) + 6, "x", 1);
    expect_refused(path, "the guest ABI record is not a <guestabi> element");
}

static void test_record_attr(void)
{
    g_autofree char *path = make_image("attr.img", 100, true);
    /* accel='tcg' becomes accel='tcx' */
    patch(path, TV_SAVE_IMAGE_HEADER_LEN + (off_t)strlen(XML) + 19, "x", 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    TvSaveImage img;
    tv_error_reset();
    g_assert_cmpint(tv_save_image_read(fd, path, &img), ==, -1);
    close(fd);
    g_autofree char *want =
        g_strdup_printf("save image '%s': invalid value 'tcx' for attribute 'accel' of "
                        "<guestabi>: expected 'tcg' or 'kvm'",
                        path);
    g_assert_cmpstr(tv_error_message(), ==, want);
}

static void test_empty_stream(void)
{
    g_autofree char *path = path_of("nostream.img");
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_auto(TvSaveImage) img;
    fill(&img);
    g_assert_cmpint(tv_save_image_write_head(fd, path, &img), ==, 0);
    tv_error_reset();
    g_assert_cmpint(tv_save_image_finish(fd, path, &img), ==, -1);
    close(fd);
    g_autofree char *want =
        g_strdup_printf("save image '%s': QEMU wrote no migration stream", path);
    g_assert_cmpstr(tv_error_message(), ==, want);
    expect_refused(path, "the save that wrote it did not finish (no stream length)");
}

/* The stream is what was written: a flipped byte inside it is found. */
static void test_corrupt_stream(void)
{
    g_autofree char *path = make_image("corrupt.img", 100000, true);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_auto(TvSaveImage) img;
    tv_error_reset();
    g_assert_cmpint(tv_save_image_read(fd, path, &img), ==, 0);
    g_assert_cmpint(tv_save_image_verify(fd, path, &img), ==, 0);
    /* the reader's offset is still the stream's */
    g_assert_cmpint(lseek(fd, 0, SEEK_CUR), ==, TV_SAVE_IMAGE_ALIGN);
    close(fd);
    patch(path, TV_SAVE_IMAGE_ALIGN + 54321, "\xff", 1);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    g_auto(TvSaveImage) img2;
    g_assert_cmpint(tv_save_image_read(fd, path, &img2), ==, 0);
    tv_error_reset();
    g_assert_cmpint(tv_save_image_verify(fd, path, &img2), ==, -1);
    close(fd);
    g_autofree char *want = g_strdup_printf(
        "save image '%s': the migration stream does not match its SHA-256 (the file is corrupt)",
        path);
    g_assert_cmpstr(tv_error_message(), ==, want);
}

static void test_not_regular(void)
{
    int fd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    TvSaveImage img;
    tv_error_reset();
    g_assert_cmpint(tv_save_image_read(fd, tmpdir, &img), ==, -1);
    close(fd);
    g_autofree char *want = g_strdup_printf("save image '%s': not a regular file", tmpdir);
    g_assert_cmpstr(tv_error_message(), ==, want);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("saveimagetest-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/save-image/round-trip", test_round_trip);
    g_test_add_func("/save-image/unfinished", test_unfinished);
    g_test_add_func("/save-image/truncated", test_truncated);
    g_test_add_func("/save-image/extended", test_extended);
    g_test_add_func("/save-image/foreign", test_foreign);
    g_test_add_func("/save-image/libvirt", test_libvirt);
    g_test_add_func("/save-image/short", test_short);
    g_test_add_func("/save-image/empty", test_empty);
    g_test_add_func("/save-image/version", test_version);
    g_test_add_func("/save-image/oversized-xml", test_oversized_xml);
    g_test_add_func("/save-image/oversized-abi", test_oversized_abi);
    g_test_add_func("/save-image/offset", test_offset);
    g_test_add_func("/save-image/flags", test_flags);
    g_test_add_func("/save-image/reserved", test_reserved);
    g_test_add_func("/save-image/nul-in-xml", test_nul_in_xml);
    g_test_add_func("/save-image/bad-record", test_bad_record);
    g_test_add_func("/save-image/record-attribute", test_record_attr);
    g_test_add_func("/save-image/empty-stream", test_empty_stream);
    g_test_add_func("/save-image/not-regular", test_not_regular);
    g_test_add_func("/save-image/corrupt-stream", test_corrupt_stream);
    int rc = g_test_run();
    g_autoptr(GDir) dir = g_dir_open(tmpdir, 0, NULL);
    for (const char *n; dir && (n = g_dir_read_name(dir));) {
        g_autofree char *p = g_build_filename(tmpdir, n, NULL);
        g_unlink(p);
    }
    g_rmdir(tmpdir);
    g_free(tmpdir);
    return rc;
}
