/* The XML of the other drivers' objects: storage pools and volumes
 * (src/conf/storage_*.c, tests/storageconfdata/) and networks
 * (src/conf/network_conf.c, tests/networkconfdata/).  NAME.xml (a <pool>,
 * <volume> or <network>) with NAME.out.xml (what it formats to) or NAME.err
 * (the error).  TAGVIRT_REGENERATE=1 rewrites the expected files. */
#include "domain_conf_testing.h"
#include "network_conf.h"
#include "storage_conf.h"
#include "testutils.h"
#include "tv_error.h"

#include <string.h>

static void test_case(gconstpointer data)
{
    const char *const *item = data;
    const char *dir = item[0], *name = item[1];
    g_autofree char *file = g_strconcat(name, ".xml", NULL);
    g_autofree char *out_file = g_strconcat(name, ".out.xml", NULL);
    g_autofree char *err_file = g_strconcat(name, ".err", NULL);
    g_autofree char *in_path = tv_test_path(dir, file, NULL);
    g_autofree char *out_path = tv_test_path(dir, out_file, NULL);
    g_autofree char *err_path = tv_test_path(dir, err_file, NULL);
    g_autofree char *input = tv_test_read(in_path);
    g_assert_nonnull(input);

    tv_domain_conf_test_seed(20261205);
    tv_error_reset();
    g_autofree char *output = NULL;
    if (strstr(input, "<network")) {
        g_autoptr(TvNetworkDef) def = tv_network_def_parse(input, strlen(input));
        if (def) {
            output = tv_network_def_format(def);
            g_autoptr(TvNetworkDef) again = tv_network_def_parse(output, strlen(output));
            g_assert_nonnull(again);
            g_autofree char *output2 = tv_network_def_format(again);
            g_assert_cmpstr(output2, ==, output);
        }
    } else if (strstr(input, "<pool")) {
        g_autoptr(TvStoragePoolDef) def = tv_storage_pool_def_parse(input, strlen(input));
        TvStoragePoolSizes sizes = { 1000, 200, 800 };
        if (def) {
            output = tv_storage_pool_def_format(def, &sizes);
            /* what is formatted parses back to the same */
            g_autoptr(TvStoragePoolDef) again = tv_storage_pool_def_parse(output, strlen(output));
            g_assert_nonnull(again);
            g_autofree char *output2 = tv_storage_pool_def_format(again, &sizes);
            g_assert_cmpstr(output2, ==, output);
        }
    } else {
        g_autoptr(TvStorageVolDef) def = tv_storage_vol_def_parse(input, strlen(input));
        if (def) {
            if (!def->path)
                def->path = g_strdup("/var/lib/tagvirt/images/x");
            output = tv_storage_vol_def_format(def);
            g_autoptr(TvStorageVolDef) again = tv_storage_vol_def_parse(output, strlen(output));
            g_assert_nonnull(again);
            g_autofree char *output2 = tv_storage_vol_def_format(again);
            g_assert_cmpstr(output2, ==, output);
        }
    }
    tv_domain_conf_test_seed(0);
    if (output) {
        tv_test_compare(out_path, output, err_path);
    } else {
        g_autofree char *message = g_strdup_printf("%s\n", tv_error_message());
        tv_test_compare(err_path, message, out_path);
    }
}

static void add_dir(const char *dir, const char *prefix)
{
    g_autofree char *path = tv_test_path(dir, NULL);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    const char *f;
    while ((f = g_dir_read_name(d))) {
        if (g_str_has_suffix(f, ".xml") && !g_str_has_suffix(f, ".out.xml"))
            g_ptr_array_add(names, g_strndup(f, strlen(f) - 4));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < names->len; i++) {
        const char **item = g_new0(const char *, 2); /* lives until the process ends */
        item[0] = dir;
        item[1] = names->pdata[i];
        g_autofree char *test = g_strconcat(prefix, item[1], NULL);
        g_test_add_data_func(test, item, test_case);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    add_dir("storageconfdata", "/storageconf/");
    add_dir("networkconfdata", "/networkconf/");
    return g_test_run();
}
