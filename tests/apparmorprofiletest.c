/* The AppArmor profile tagvirtd writes for one domain
 * (src/qemu/security/qemu_security_apparmor.c): what each kind of file gets.
 * This machine's kernel has no AppArmor, so the rules are checked as text:
 * a file gets its own rule, a folder (a <filesystem> share, the migration
 * TLS folder) gets the folder and everything below it, and characters that
 * AppArmor reads as globbing are escaped. */
#include "qemu_security_apparmor.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

static void test_rules(void)
{
    g_autofree char *dir = g_dir_make_tmp("tvaa-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *file = g_build_filename(dir, "disk[1].img", NULL);
    g_assert_true(g_file_set_contents(file, "", 0, NULL));
    TvQemuLaunchFile files[] = {
        { .path = file, .write = true },
        { .path = dir, .write = false },
    };
    g_autofree char *text =
        tv_qemu_apparmor_profile("tagvirt-x", "/usr/bin/qemu-system-aarch64", files, 2);
    g_autofree char *file_rule = g_strdup_printf("  \"%s/disk\\[1\\].img\" rwk,\n", dir);
    g_autofree char *dir_rule = g_strdup_printf("  \"%s/\" r,\n", dir);
    g_autofree char *below_rule = g_strdup_printf("  \"%s/**\" rk,\n", dir);
    g_assert_nonnull(strstr(text, "profile tagvirt-x flags=(attach_disconnected) {\n"));
    g_assert_nonnull(strstr(text, "  \"/usr/bin/qemu-system-aarch64\" mrix,\n"));
    g_assert_nonnull(strstr(text, file_rule));
    g_assert_nonnull(strstr(text, dir_rule));
    g_assert_nonnull(strstr(text, below_rule));
    g_assert_true(g_str_has_suffix(text, "}\n"));
    g_unlink(file);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/apparmor/rules", test_rules);
    return g_test_run();
}
