/* The qcow2 images the storage driver writes itself (src/storage/storage_qcow2.c)
 * against the real qemu-img and qemu-io (Debian's qemu-utils; missing is a
 * failure): for each size and option set, qemu-img's own image of the same
 * options is byte for byte the same file once its informational header
 * extensions (the feature name table) are blanked; `qemu-img check` finds
 * nothing; qemu-img info reports the same; data written through qemu-io at
 * the start, the middle and the end reads back, and the image stays clean.
 * The plain-case rule (tv_storage_qcow2_native) sends everything else to
 * qemu-img. */
#include "storage_driver_priv.h"
#include "tv_error.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *name;
    unsigned long long capacity;
    const char *compat; /* NULL: the driver's default, 1.1 */
    bool lazy;
} Case;

static const Case cases[] = {
    { "empty-v3", 0, NULL, false },
    { "512b-v3", 512, "1.1", false },
    { "1m-v3", 1ull << 20, NULL, false },
    { "1g-v3", 1ull << 30, NULL, false },
    { "1g-v3-lazy", 1ull << 30, "1.1", true },
    { "1g-v2", 1ull << 30, "0.10", false },
    { "odd-v3", (5ull << 30) + 512, NULL, false },
    { "1t-v3", 1ull << 40, NULL, false },
    { "100t-v2", 100ull << 40, "0.10", false },
};

static char *run(const char *const *argv, int *status)
{
    g_autofree char *out = NULL, *err = NULL;
    g_autoptr(GError) e = NULL;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                      status, &e))
        g_error("cannot run %s (Debian's qemu-utils is needed): %s", argv[0], e->message);
    return g_strconcat(out ? out : "", err ? err : "", NULL);
}

static char *run_ok(const char *const *argv)
{
    int status = 0;
    char *out = run(argv, &status);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s %s failed: %s", argv[0], argv[1], out);
    return out;
}

static char *read_file(const char *path, gsize *len)
{
    char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, len, NULL));
    return data;
}

/* qemu-img info without the file's name and size on disk */
static char *info(const char *path)
{
    const char *argv[] = { "qemu-img", "info", "--output=json", path, NULL };
    g_autofree char *out = run_ok(argv);
    GString *kept = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++)
        if (!strstr(*l, "\"filename\"") && !strstr(*l, "\"actual-size\""))
            g_string_append_printf(kept, "%s\n", *l);
    return g_string_free(kept, FALSE);
}

static void check_clean(const char *path)
{
    const char *argv[] = { "qemu-img", "check", "-f", "qcow2", path, NULL };
    g_autofree char *out = run_ok(argv);
    g_assert_nonnull(strstr(out, "No errors were found"));
}

static void test_case(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *dir = g_dir_make_tmp("qcow2test-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *ours = g_build_filename(dir, "ours.qcow2", NULL);
    g_autofree char *theirs = g_build_filename(dir, "theirs.qcow2", NULL);

    g_assert_true(tv_storage_qcow2_native(c->capacity, c->compat, c->lazy, false, false));
    g_assert_cmpint(tv_storage_qcow2_create(ours, c->capacity, c->compat, c->lazy, 0600), ==, 0);
    /* the file is new: an existing one is refused, not overwritten */
    g_assert_cmpint(tv_storage_qcow2_create(ours, c->capacity, c->compat, c->lazy, 0600), ==, -1);
    tv_error_reset();

    g_autofree char *opts = g_strdup_printf("compat=%s%s", c->compat ? c->compat : "1.1",
                                            c->lazy ? ",lazy_refcounts=on" : "");
    g_autofree char *size = g_strdup_printf("%llu", c->capacity);
    const char *create[] = { "qemu-img", "create", "-q",   "-f", "qcow2",
                             "-o",       opts,     theirs, size, NULL };
    g_free(run_ok(create));

    gsize ours_len, theirs_len;
    g_autofree char *a = read_file(ours, &ours_len);
    g_autofree char *b = read_file(theirs, &theirs_len);
    g_assert_cmpuint(ours_len, ==, theirs_len);
    /* blank qemu-img's header extensions: from the header's end (72 for
     * version 2, the header_length field for 3) to the end of the cluster */
    gsize header_len = 72;
    if (b[7] == 3)
        header_len = (gsize)GUINT32_FROM_BE(*(guint32 *)(b + 100));
    memset(b + header_len, 0, 65536 - header_len);
    g_assert_true(memcmp(a, b, ours_len) == 0);

    check_clean(ours);
    g_autofree char *ia = info(ours);
    g_autofree char *ib = info(theirs);
    g_assert_cmpstr(ia, ==, ib);

    if (c->capacity >= 3 * 65536) {
        unsigned long long mid = (c->capacity / 2) & ~65535ull, last = c->capacity - 65536;
        g_autofree char *w1 = g_strdup_printf("write -P 0x5a %llu 65536", mid);
        g_autofree char *w2 = g_strdup_printf("write -P 0x3c %llu 65536", last);
        const char *writes[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0xa5 0 65536", "-c", w1,
                                 "-c",      w2,   ours,    NULL };
        g_free(run_ok(writes));
        g_autofree char *r1 = g_strdup_printf("read -P 0x5a %llu 65536", mid);
        g_autofree char *r2 = g_strdup_printf("read -P 0x3c %llu 65536", last);
        const char *reads[] = { "qemu-io", "-f", "qcow2", "-c", "read -P 0xa5 0 65536",  "-c",
                                r1,        "-c", r2,      "-c", "read -P 0 65536 65536", ours,
                                NULL };
        g_autofree char *out = run_ok(reads);
        g_assert_null(strstr(out, "Pattern verification failed"));
        g_auto(GStrv) parts = g_strsplit(out, "read 65536/65536 bytes", -1);
        g_assert_cmpuint(g_strv_length(parts), ==, 5); /* four reads */
        check_clean(ours);
    }
    g_assert_cmpint(g_unlink(ours), ==, 0);
    g_assert_cmpint(g_unlink(theirs), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

/* what the driver leaves to qemu-img */
static void test_not_native(void)
{
    g_assert_false(tv_storage_qcow2_native(1ull << 30, NULL, false, false, true));   /* backing */
    g_assert_false(tv_storage_qcow2_native(1ull << 30, NULL, false, true, false));   /* prealloc */
    g_assert_false(tv_storage_qcow2_native(1000, NULL, false, false, false));        /* rounded */
    g_assert_false(tv_storage_qcow2_native(1ull << 30, "0.10", true, false, false)); /* v2 lazy */
    g_assert_false(tv_storage_qcow2_native(1ull << 30, "2.0", false, false, false));
    g_assert_false(tv_storage_qcow2_native(G_MAXUINT64 - 511, NULL, false, false, false));
    /* QEMU's L1 table is at most 32 MiB: 2 PiB, not a byte more */
    g_assert_false(tv_storage_qcow2_native((2ull << 50) + 512, NULL, false, false, false));
    g_assert_true(tv_storage_qcow2_native(2ull << 50, NULL, false, false, false));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/storage/qcow2/%s", cases[i].name);
        g_test_add_data_func(path, &cases[i], test_case);
    }
    g_test_add_func("/storage/qcow2/not-native", test_not_native);
    return g_test_run();
}
