#include "testutils.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

char *tv_test_path(const char *first, ...)
{
    va_list ap;
    GPtrArray *parts = g_ptr_array_new();
    g_ptr_array_add(parts, (char *)TAGVIRT_SRCDIR);
    g_ptr_array_add(parts, (char *)"tests");
    va_start(ap, first);
    for (const char *p = first; p; p = va_arg(ap, const char *))
        g_ptr_array_add(parts, (char *)p);
    va_end(ap);
    g_ptr_array_add(parts, NULL);
    char *path = g_build_filenamev((char **)parts->pdata);
    g_ptr_array_free(parts, TRUE);
    return path;
}

bool tv_test_regenerate(void)
{
    const char *v = g_getenv("TAGVIRT_REGENERATE");
    return v && strcmp(v, "1") == 0;
}

char *tv_test_read(const char *path)
{
    char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL))
        return NULL;
    return data;
}

void tv_test_compare(const char *path, const char *actual, const char *other_path)
{
    if (tv_test_regenerate()) {
        g_assert_true(g_file_set_contents(path, actual, -1, NULL));
        if (other_path)
            unlink(other_path);
        return;
    }
    g_autofree char *expected = tv_test_read(path);
    if (!expected) {
        g_test_message("missing expected file %s; actual output:\n%s", path, actual);
        g_test_fail();
        return;
    }
    if (strcmp(expected, actual) != 0) {
        g_test_message("%s differs; actual output:\n%s", path, actual);
        g_test_fail();
    }
}

TvQemuCaps *tv_test_load_caps(const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    g_autofree char *path = tv_test_path("qemucapabilitiesdata", file, NULL);
    g_autofree char *xml = NULL;
    size_t len = 0;
    if (tv_file_read_all(path, 16 * 1024 * 1024, &xml, &len) < 0)
        g_error("cannot read %s: %s", path, tv_error_message());
    TvQemuCaps *caps = tv_qemu_caps_parse(xml, len);
    if (!caps)
        g_error("cannot parse %s: %s", path, tv_error_message());
    g_free(caps->binary);
    caps->binary = g_strdup(TV_TEST_EMULATOR);
    return caps;
}

TvQemuCaps *tv_test_load_caps_for_host(const char *name, const char *host)
{
    TvQemuCaps *caps = tv_test_load_caps(name);
    if (g_str_has_prefix(host, "aarch64-kvm")) {
        tv_qemu_caps_set(caps, TV_QEMU_CAPS_ACCEL_KVM, true);
        tv_qemu_caps_set(caps, TV_QEMU_CAPS_GIC3_KERNEL, true);
    }
    return caps;
}

TvHostFacts *tv_test_load_host(const char *name)
{
    g_autofree char *root = tv_test_path("hostdata", name, NULL);
    TvHostFacts *host = tv_host_facts_read(root);
    if (!host)
        g_error("cannot read host fixture %s: %s", root, tv_error_message());
    return host;
}

TvTestCases *tv_test_cases_load(const char *path)
{
    g_autofree char *data = tv_test_read(path);
    if (!data)
        g_error("cannot read %s", path);
    TvTestCases *tc = g_new0(TvTestCases, 1);
    tc->cases = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    tc->caps_alias = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *line = g_strstrip(*l);
        if (!*line || *line == '#')
            continue;
        g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
        GPtrArray *w = g_ptr_array_new();
        for (char **x = words; *x; x++) {
            if (**x)
                g_ptr_array_add(w, g_strdup(*x));
        }
        g_ptr_array_add(w, NULL);
        char **v = (char **)g_ptr_array_free(w, FALSE);
        if (strcmp(v[0], "@caps") == 0) {
            if (!v[1] || !v[2])
                g_error("%s: '@caps ALIAS FILE' expected: %s", path, line);
            g_hash_table_insert(tc->caps_alias, g_strdup(v[1]), g_strdup(v[2]));
            g_strfreev(v);
            continue;
        }
        g_ptr_array_add(tc->cases, v);
    }
    return tc;
}

void tv_test_cases_free(TvTestCases *tc)
{
    g_ptr_array_free(tc->cases, TRUE);
    g_hash_table_destroy(tc->caps_alias);
    g_free(tc);
}

const char *tv_test_caps_file(TvTestCases *tc, const char *alias)
{
    const char *file = g_hash_table_lookup(tc->caps_alias, alias);
    return file ? file : alias;
}

static void test_case_free(gpointer p)
{
    TvTestCase *c = p;
    for (guint i = 0; i < G_N_ELEMENTS(c->words); i++)
        g_free(c->words[i]);
    g_free(c->caps_file);
    g_free(c);
}

bool tv_test_case_has_flag(char **words, const char *flag)
{
    for (guint i = 3; i < g_strv_length(words); i++) {
        if (strcmp(words[i], flag) == 0)
            return true;
    }
    return false;
}

void tv_test_add_cases(const char *dir, const char *prefix, guint caps_index, const char *only_flag,
                       GTestDataFunc run)
{
    g_autofree char *cases_path = tv_test_path(dir, "cases", NULL);
    TvTestCases *tc = tv_test_cases_load(cases_path);
    g_auto(GStrv) known = g_strsplit(TV_TEST_CASE_FLAGS, " ", -1);
    for (guint i = 0; i < tc->cases->len; i++) {
        char **w = g_ptr_array_index(tc->cases, i);
        if (g_strv_length(w) < 3)
            g_error("%s: three words expected near '%s'", cases_path, w[0]);
        for (guint k = 3; w[k]; k++) {
            if (!g_strv_contains((const char *const *)known, w[k]))
                g_error("%s: unknown flag '%s' on the line of '%s %s %s' (known: %s)", cases_path,
                        w[k], w[0], w[1], w[2], TV_TEST_CASE_FLAGS);
        }
        if (only_flag && !tv_test_case_has_flag(w, only_flag))
            continue;
        TvTestCase *c = g_new0(TvTestCase, 1);
        for (guint k = 0; k < 3; k++)
            c->words[k] = g_strdup(w[k]);
        c->caps_alias = c->words[caps_index];
        c->host = c->words[caps_index + 1];
        c->caps_file = g_strdup(tv_test_caps_file(tc, c->caps_alias));
        g_autofree char *test = g_strdup_printf("/%s/%s/%s/%s", prefix, w[0], w[1], w[2]);
        g_test_add_data_func_full(test, c, run, test_case_free);
    }
    tv_test_cases_free(tc);
}
