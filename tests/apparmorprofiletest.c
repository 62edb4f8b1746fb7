/* The AppArmor profile tagvirtd writes for one domain
 * (src/qemu/security/qemu_security_apparmor.c): what each kind of file gets.
 * This machine's kernel has no AppArmor, so the rules are checked as text:
 * a file gets its own rule, a folder (a <filesystem> share, the migration
 * TLS folder) gets the folder and everything below it, and characters that
 * AppArmor reads as globbing are escaped. */
#include "qemu_security_apparmor.h"
#include "qemu_security_dac.h"

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
        tv_qemu_apparmor_profile("tagvirt-x", "/usr/bin/qemu-system-aarch64", files, 2, 0);
    g_autofree char *file_rule = g_strdup_printf("  \"%s/disk\\[1\\].img\" rwk,\n", dir);
    g_autofree char *dir_rule = g_strdup_printf("  \"%s/\" r,\n", dir);
    g_autofree char *below_rule = g_strdup_printf("  \"%s/**\" rk,\n", dir);
    g_assert_nonnull(strstr(text, "profile tagvirt-x flags=(attach_disconnected) {\n"));
    g_assert_nonnull(strstr(text, "  \"/usr/bin/qemu-system-aarch64\" mrix,\n"));
    g_assert_nonnull(strstr(text, file_rule));
    g_assert_nonnull(strstr(text, dir_rule));
    g_assert_nonnull(strstr(text, below_rule));
    g_assert_true(g_str_has_suffix(text, "}\n"));
    /* nothing asked for: no network, no unix connect */
    g_assert_null(strstr(text, "network"));
    g_assert_null(strstr(text, "unix (create, connect)"));
    g_unlink(file);
    g_rmdir(dir);
}

/* A smartcard's NSS database (a folder, read only) and its passthrough
 * sockets: TCP needs the network rules, a connect-mode unix socket its
 * path writable and unix connect. */
#define XML_FMT                                                                                    \
    "<domain type='qemu'><name>sc</name><memory unit='MiB'>64</memory>"                            \
    "<os><type arch='aarch64' machine='virt'>hvm</type></os><devices>"                             \
    "<controller type='usb' model='qemu-xhci'/>%s</devices></domain>"

static void test_smartcard(void)
{
    g_autofree char *db = g_dir_make_tmp("tvaa-nssdb-XXXXXX", NULL);
    g_assert_nonnull(db);
    g_autofree char *card =
        g_strdup_printf("<smartcard mode='host-certificates'><certificate>a</certificate>"
                        "<certificate>b</certificate><certificate>c</certificate>"
                        "<database>%s</database></smartcard>",
                        db);
    g_autofree char *certs = g_strdup_printf(XML_FMT, card);
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(certs, strlen(certs), 0);
    g_assert_nonnull(def);
    g_autoptr(GArray) files = tv_qemu_security_domain_files(def);
    g_autofree char *text = tv_qemu_apparmor_profile("tagvirt-sc", "/usr/bin/qemu-system-aarch64",
                                                     (TvQemuLaunchFile *)(void *)files->data,
                                                     files->len, tv_qemu_apparmor_net_needs(def));
    g_autofree char *dir_rule = g_strdup_printf("  \"%s/\" r,\n", db);
    g_autofree char *below_rule = g_strdup_printf("  \"%s/**\" rk,\n", db);
    g_assert_nonnull(strstr(text, dir_rule));
    g_assert_nonnull(strstr(text, below_rule));
    g_assert_null(strstr(text, "network"));

    g_autofree char *tcp = g_strdup_printf(
        XML_FMT, "<smartcard mode='passthrough' type='tcp'><source mode='bind' host='127.0.0.1' "
                 "service='2001'/></smartcard>");
    g_autoptr(TvDomainDef) tcp_def = tv_domain_def_parse(tcp, strlen(tcp), 0);
    g_assert_nonnull(tcp_def);
    g_assert_cmpuint(tv_qemu_apparmor_net_needs(tcp_def), ==, TV_QEMU_APPARMOR_TCP);
    g_autofree char *tcp_text = tv_qemu_apparmor_profile(
        "tagvirt-sc", "/usr/bin/qemu-system-aarch64", NULL, 0, tv_qemu_apparmor_net_needs(tcp_def));
    g_assert_nonnull(strstr(tcp_text, "  network inet stream,\n"));
    g_assert_nonnull(strstr(tcp_text, "  network inet6 stream,\n"));

    g_autofree char *unix_xml =
        g_strdup_printf(XML_FMT, "<smartcard mode='passthrough' type='unix'><source mode='connect' "
                                 "path='/run/vscard.sock'/></smartcard>");
    g_autoptr(TvDomainDef) unix_def = tv_domain_def_parse(unix_xml, strlen(unix_xml), 0);
    g_assert_nonnull(unix_def);
    g_autoptr(GArray) unix_files = tv_qemu_security_domain_files(unix_def);
    g_autofree char *unix_text = tv_qemu_apparmor_profile(
        "tagvirt-sc", "/usr/bin/qemu-system-aarch64", (TvQemuLaunchFile *)(void *)unix_files->data,
        unix_files->len, tv_qemu_apparmor_net_needs(unix_def));
    g_assert_nonnull(strstr(unix_text, "  \"/run/vscard.sock\" rwk,\n"));
    g_assert_nonnull(strstr(unix_text, "  unix (create, connect) type=stream,\n"));
    g_assert_null(strstr(unix_text, "network"));
    g_rmdir(db);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/apparmor/rules", test_rules);
    g_test_add_func("/apparmor/smartcard", test_smartcard);
    return g_test_run();
}
