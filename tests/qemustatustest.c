/* Status files (src/qemu/runtime/qemu_status.c) without QEMU, driven by
 * tests/qemustatusdata/:
 *   NAME.xml   a status file; it must parse and format back to exactly itself,
 *              also after more rounds (a rewrite never changes it), unless
 *   NAME.err   exists: then parsing it fails with that message.
 * TAGVIRT_REGENERATE=1 rewrites NAME.err, and NAME.xml with what is formatted.
 * Also: the one size limit (TV_QEMU_STATE_FILE_MAX) as the writer, the loader
 * and tv_qemu_state_check_def apply it. */
#include "qemu_status.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#define DATADIR TAGVIRT_SRCDIR "/tests/qemustatusdata"

static bool regenerate(void)
{
    return g_strcmp0(g_getenv("TAGVIRT_REGENERATE"), "1") == 0;
}

static void check_file(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml_path = g_strdup_printf("%s/%s.xml", DATADIR, name);
    g_autofree char *err_path = g_strdup_printf("%s/%s.err", DATADIR, name);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(xml_path, &xml, &len, NULL));
    tv_error_reset();
    g_autoptr(TvQemuStatus) st = tv_qemu_status_parse(xml, len);
    if (g_file_test(err_path, G_FILE_TEST_EXISTS)) {
        g_autofree char *expected = NULL;
        g_assert_true(g_file_get_contents(err_path, &expected, NULL, NULL));
        g_strchomp(expected);
        if (st)
            g_error("%s parsed, but %s expects an error", xml_path, err_path);
        if (regenerate()) {
            g_autofree char *text = g_strdup_printf("%s\n", tv_error_message());
            g_assert_true(g_file_set_contents(err_path, text, -1, NULL));
            return;
        }
        g_assert_cmpstr(tv_error_message(), ==, expected);
        return;
    }
    if (!st)
        g_error("%s: %s", xml_path, tv_error_message());
    g_autofree char *out = tv_qemu_status_format(st);
    if (regenerate()) {
        g_assert_true(g_file_set_contents(xml_path, out, -1, NULL));
        return;
    }
    g_assert_cmpstr(out, ==, xml);
    /* rewrites (suspend, resume, reconnect) read and write it again */
    for (int round = 0; round < 3; round++) {
        g_autoptr(TvQemuStatus) again = tv_qemu_status_parse(out, strlen(out));
        g_assert_nonnull(again);
        g_autofree char *next = tv_qemu_status_format(again);
        g_assert_cmpstr(next, ==, xml);
    }
}

/* A definition whose <description> makes it n bytes as tagvirt stores it in
 * a status file (the larger of its two forms). */
static TvDomainDef *def_of_size(size_t n)
{
    static const char head[] = "<domain type='qemu'><name>big</name>"
                               "<memory unit='MiB'>64</memory><os><type arch='aarch64' "
                               "machine='virt'>hvm</type><kernel>/k</kernel></os><description>";
    g_autofree char *one = g_strdup_printf("%sx</description></domain>", head);
    g_autoptr(TvDomainDef) probe = tv_domain_def_parse(one, strlen(one), 0);
    g_assert_nonnull(probe);
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    w.indent = 1;
    tv_domain_def_format_into(&w, probe, TV_DOMAIN_FORMAT_STATUS);
    g_autofree char *formatted = tv_xml_writer_finish(&w);
    size_t base = strlen(formatted) - 1; /* without the one 'x' */
    g_assert_cmpuint(n, >, base);
    g_autofree char *text = g_strnfill(n - base, 'x');
    g_autofree char *xml = g_strdup_printf("%s%s</description></domain>", head, text);
    return tv_domain_def_parse(xml, strlen(xml), 0);
}

/* One limit: check_def accepts exactly up to the limit less the reserve;
 * what it accepts the writer writes and the loader reads; the loader
 * refuses a file over the limit. */
static void test_one_limit(void)
{
    size_t max = TV_QEMU_STATE_FILE_MAX - TV_QEMU_STATUS_RESERVE;
    g_autoptr(TvDomainDef) fits = def_of_size(max);
    g_autoptr(TvDomainDef) over = def_of_size(max + 1);
    g_assert_cmpint(tv_qemu_state_check_def(fits), ==, 0);
    g_assert_cmpint(tv_qemu_state_check_def(over), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_CONFIG_UNSUPPORTED);
    g_test_message("%s", tv_error_message());
    tv_error_reset();

    g_autofree char *dir = g_dir_make_tmp("tvstatus-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "big.xml", NULL);
    g_autofree char *long_path = g_strnfill(4000, 'p');
    TvQemuStatus st = {
        .state = 1,
        .reason = 1,
        .pid = 1234,
        .start_time = 5678,
        .monitor_path = long_path,
        .log_path = long_path,
        .fingerprint = { .binary_path = long_path,
                         .tagvirt_version = long_path,
                         .kernel_release = long_path },
        .console_path = long_path,
        .def = fits,
    };
    g_assert_cmpint(tv_qemu_status_write(path, &st), ==, 0);
    g_autoptr(TvQemuStatus) read = tv_qemu_status_read(path);
    g_assert_nonnull(read);
    g_assert_cmpstr(read->def->description, ==, fits->description);

    /* the loader's side of the same limit */
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
    g_autofree char *pad = g_strnfill(TV_QEMU_STATE_FILE_MAX, ' ');
    g_autofree char *inflated = g_strconcat(data, pad, NULL);
    g_assert_true(g_file_set_contents(path, inflated, -1, NULL));
    g_assert_null(tv_qemu_status_read(path));
    g_assert_nonnull(strstr(tv_error_message(), "larger than the limit of 4194304 bytes"));
    tv_error_reset();
    /* and the writer's: a status file that would be over it is not written */
    g_autoptr(TvDomainDef) huge = def_of_size(TV_QEMU_STATE_FILE_MAX);
    st.def = huge;
    g_assert_cmpint(tv_qemu_status_write(path, &st), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "the limit is 4194304 bytes"));
    tv_error_reset();
    g_unlink(path);
    g_rmdir(dir);
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GDir) dir = g_dir_open(DATADIR, 0, NULL);
    g_assert_nonnull(dir);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while ((e = g_dir_read_name(dir))) {
        if (g_str_has_suffix(e, ".xml"))
            g_ptr_array_add(names, g_strndup(e, strlen(e) - 4));
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *test = g_strdup_printf("/status/data/%s", name);
        g_test_add_data_func(test, name, check_file);
    }
    g_test_add_func("/status/one-limit", test_one_limit);
    return g_test_run();
}
