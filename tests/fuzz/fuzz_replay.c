/* The plain program around a fuzz target (tests/fuzz/meson.build builds one
 * per target, any compiler): replays the files named on the command line, and
 * the files in the folders named, in name order, through the target's
 * LLVMFuzzerTestOneInput and prints TAP, one line per file.  The target's own
 * checks abort() on a finding, which ends the TAP stream early: a failure. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gint compare_paths(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *path, GPtrArray *files)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return;
    }
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    while (dir && (name = g_dir_read_name(dir)))
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    g_ptr_array_sort(names, compare_paths);
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(files, g_strdup(names->pdata[i]));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++)
        collect(argv[i], files);
    if (files->len == 0) {
        printf("1..0 # SKIP no input files\n");
        return 1;
    }
    printf("1..%u\n", files->len);
    int failed = 0;
    for (guint i = 0; i < files->len; i++) {
        g_autofree char *bytes = NULL;
        gsize len = 0;
        g_autoptr(GError) err = NULL;
        if (!g_file_get_contents(files->pdata[i], &bytes, &len, &err)) {
            printf("not ok %u - %s: %s\n", i + 1, (char *)files->pdata[i], err->message);
            failed++;
            continue;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)bytes, len);
        printf("ok %u - %s\n", i + 1, (char *)files->pdata[i]);
    }
    return failed ? 1 : 0;
}
