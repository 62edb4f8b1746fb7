/* The AppArmor profiles tagvirtd writes for one domain's QEMU and swtpm
 * (src/qemu/security/qemu_security_apparmor.c): what each kind of file gets.
 * This machine's kernel has no AppArmor, so the rules are checked as text:
 * a file gets its own rule, a folder (a <filesystem> share, the migration
 * TLS folder) gets the folder and everything below it, and characters that
 * AppArmor reads as globbing are escaped; swtpm's profile has exactly its
 * binary, state folder, log and socket.  Both compile with Debian's
 * apparmor_parser (-Q: not loaded into a kernel); without apparmor_parser
 * (package apparmor) that test fails. */
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

/* A domain's swtpm: its own profile with exactly its binary, its state
 * folder and what it holds, its log and the socket it was given; none of
 * QEMU's files or devices, no other folder. */
static void test_swtpm(void)
{
    g_autofree char *text =
        tv_qemu_apparmor_swtpm_profile("tagvirt-u-swtpm", "/usr/bin/swtpm",
                                       "/srv/tv root/swtpm/u/tpm2", "/srv/log/d{1}-swtpm.log");
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    /* every rule of the profile, in order: nothing more */
    const char *want[] = {
        "abi <abi/3.0>,",
        "include <tunables/global>",
        "profile tagvirt-u-swtpm flags=(attach_disconnected) {",
        "  include <abstractions/base>",
        "  include <abstractions/openssl>",
        "  signal (receive) peer=unconfined,",
        "  unix (send, receive, getattr, getopt, setopt, shutdown) type=stream,",
        "  \"/usr/bin/swtpm\" mr,",
        "  \"/srv/tv root/swtpm/u/tpm2/\" r,",
        "  \"/srv/tv root/swtpm/u/tpm2/**\" rwk,",
        "  \"/srv/log/d\\{1\\}-swtpm.log\" w,",
        "}",
    };
    size_t n = 0;
    for (size_t i = 0; lines[i]; i++) {
        if (!lines[i][0] || lines[i][0] == '#')
            continue;
        g_assert_cmpuint(n, <, G_N_ELEMENTS(want));
        g_assert_cmpstr(lines[i], ==, want[n]);
        n++;
    }
    g_assert_cmpuint(n, ==, G_N_ELEMENTS(want));
    g_assert_null(strstr(text, "qemu"));
    g_assert_null(strstr(text, "/dev/"));
}

static void test_swtpm_label(void)
{
    TvDomainDef def = { 0 };
    static const unsigned char uuid[TV_UUID_LEN] = {
        0x7f, 0x4c, 0x2a, 0x1e, 0x5b, 0x3d, 0x4e, 0x6f,
        0x8a, 0x9b, 0x0c, 0x1d, 0x2e, 0x3f, 0x4a, 0x5b
    };
    memcpy(def.uuid, uuid, TV_UUID_LEN);
    g_autofree char *qemu = tv_qemu_apparmor_label(&def);
    g_autofree char *swtpm = tv_qemu_apparmor_swtpm_label(&def);
    g_assert_cmpstr(qemu, ==, "tagvirt-7f4c2a1e-5b3d-4e6f-8a9b-0c1d2e3f4a5b");
    g_assert_cmpstr(swtpm, ==, "tagvirt-7f4c2a1e-5b3d-4e6f-8a9b-0c1d2e3f4a5b-swtpm");
}

/* apparmor_parser compiles text (with the system's abstractions), without
 * loading it: 0, or fails the test with the parser's message. */
static void assert_compiles(const char *what, const char *text)
{
    const char *fixed[] = { "/sbin/apparmor_parser", "/usr/sbin/apparmor_parser" };
    const char *parser = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(fixed) && !parser; i++)
        if (g_file_test(fixed[i], G_FILE_TEST_IS_EXECUTABLE))
            parser = fixed[i];
    if (!parser)
        g_error("apparmor_parser is not installed (Debian package apparmor): cannot compile the "
                "%s profile",
                what);
    g_autofree char *dir = g_dir_make_tmp("tvaa-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *path = g_build_filename(dir, "profile", NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    const char *argv[] = { parser, "-Q", "-K", "-T", path, NULL };
    g_autofree char *err = NULL;
    gint status = 0;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &status, NULL));
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("apparmor_parser refuses the %s profile: %s\n%s", what, err, text);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_compiles(void)
{
    g_autofree char *dir = g_dir_make_tmp("tvaa-XXXXXX", NULL);
    g_assert_nonnull(dir);
    g_autofree char *file = g_build_filename(dir, "disk{2}.img", NULL);
    g_assert_true(g_file_set_contents(file, "", 0, NULL));
    TvQemuLaunchFile files[] = {
        { .path = file, .write = true },
        { .path = dir, .write = false },
    };
    /* with every optional rule (a smartcard's TCP and unix sockets) */
    g_autofree char *qemu =
        tv_qemu_apparmor_profile("tagvirt-x", "/usr/bin/qemu-system-aarch64", files, 2,
                                 TV_QEMU_APPARMOR_TCP | TV_QEMU_APPARMOR_UNIX_CONNECT);
    assert_compiles("QEMU", qemu);
    g_autofree char *swtpm =
        tv_qemu_apparmor_swtpm_profile("tagvirt-x-swtpm", "/usr/bin/swtpm",
                                       "/srv/tv root/swtpm/x/tpm2", "/srv/log/d{1}-swtpm.log");
    assert_compiles("swtpm", swtpm);
    g_unlink(file);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/apparmor/rules", test_rules);
    g_test_add_func("/apparmor/smartcard", test_smartcard);
    g_test_add_func("/apparmor/swtpm", test_swtpm);
    g_test_add_func("/apparmor/swtpm-label", test_swtpm_label);
    g_test_add_func("/apparmor/compiles", test_compiles);
    return g_test_run();
}
