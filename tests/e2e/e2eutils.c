/* Shared set-up of the runtime end-to-end tests; see e2eutils.h. */
#include "tagvirt-config.h"
#include "e2eutils.h"
#include "qemu_domain.h"
#include "qemu_status.h"
#include "testutils.h"
#include "tv_error.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

E2eEnv e2e;

static TvQemuCaps *env_caps(const char *emulator, void *opaque)
{
    return tv_qemu_caps_ref(e2e.caps);
}

/* aarch64 "wfi" then "b .-4": the vCPU sleeps forever (no timer is armed). */
static int write_loop_image(const char *path)
{
    const guint8 code[] = { 0x7f, 0x20, 0x03, 0xd5, 0xff, 0xff, 0xff, 0x17 };
    g_autoptr(GError) err = NULL;
    if (!g_file_set_contents(path, (const char *)code, sizeof(code), &err)) {
        tv_error_report(TV_FROM_NONE, TV_ERR_SYSTEM_ERROR, "%s", err->message);
        return -1;
    }
    return 0;
}

int e2e_setup(void)
{
    g_autoptr(GError) err = NULL;
    e2e.dir = g_dir_make_tmp("tvrt-XXXXXX", &err);
    if (!e2e.dir) {
        tv_error_report(TV_FROM_NONE, TV_ERR_SYSTEM_ERROR, "%s", err->message);
        return -1;
    }
    e2e.state_dir = g_build_filename(e2e.dir, "run", NULL);
    e2e.log_dir = g_build_filename(e2e.dir, "log", NULL);
    e2e.cache_dir = g_build_filename(TAGVIRT_BUILDDIR, "tests", "e2e-caps", NULL);
    e2e.loop_image = g_build_filename(e2e.dir, "loop.img", NULL);
    e2e.firmware = g_build_filename(TAGVIRT_BUILDDIR, "firmware", "demo.elf", NULL);
    if (!g_file_test(e2e.firmware, G_FILE_TEST_EXISTS)) {
        g_free(e2e.firmware);
        e2e.firmware = g_build_filename(TAGVIRT_BUILDDIR, "firmware", "probe.elf", NULL);
    }
    if (write_loop_image(e2e.loop_image) < 0 || tv_qemu_process_become_subreaper() < 0)
        return -1;
    e2e.host = tv_host_facts_read(NULL);
    if (!e2e.host)
        return -1;
    g_autoptr(TvQemuCapsCache) cache = tv_qemu_caps_cache_new(e2e.cache_dir, e2e.host, NULL);
    /* TAGVIRT_E2E_QEMU: another QEMU build for the tests that allow it */
    const char *emulator = g_getenv("TAGVIRT_E2E_QEMU");
    e2e.caps = tv_qemu_caps_cache_lookup(cache, emulator ? emulator : TV_QEMU_DEFAULT_EMULATOR);
    return e2e.caps ? 0 : -1;
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, n, NULL);
            if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
                remove_tree(p);
            else
                unlink(p);
        }
        g_dir_close(d);
    }
    rmdir(path);
}

void e2e_teardown(void)
{
    if (e2e.dir && !g_getenv("TAGVIRT_E2E_KEEP"))
        remove_tree(e2e.dir);
    g_clear_pointer(&e2e.caps, tv_qemu_caps_unref);
    tv_host_facts_free(e2e.host);
}

TvQemuProcessConfig e2e_config(void)
{
    TvQemuProcessConfig cfg = {
        .state_dir = e2e.state_dir,
        .log_dir = e2e.log_dir,
        .caps = e2e.caps,
        .host = e2e.host,
    };
    return cfg;
}

char *e2e_domain_xml(const char *name, const char *kernel, const char *features,
                     const char *devices, const char *emulator)
{
    g_autofree char *emu =
        emulator ? g_strdup_printf("    <emulator>%s</emulator>\n", emulator) : g_strdup("");
    return g_strdup_printf("<domain type='qemu'>\n"
                           "  <name>%s</name>\n"
                           "  <memory unit='MiB'>128</memory>\n"
                           "  <vcpu>1</vcpu>\n"
                           "  <os>\n"
                           "    <type arch='aarch64' machine='virt'>hvm</type>\n"
                           "    <kernel>%s</kernel>\n"
                           "  </os>\n"
                           "  <features>%s</features>\n"
                           "  <cpu mode='maximum'/>\n"
                           "  <on_poweroff>destroy</on_poweroff>\n"
                           "  <on_reboot>destroy</on_reboot>\n"
                           "  <devices>\n%s"
                           "    %s\n"
                           "  </devices>\n"
                           "</domain>\n",
                           name, kernel, features ? features : "", emu,
                           devices && *devices ? devices
                                               : "<serial type='pty'><target port='0'/></serial>");
}

TvDomainDef *e2e_domain(const char *name, const char *kernel, const char *features,
                        const char *devices)
{
    g_autofree char *xml = e2e_domain_xml(name, kernel, features, devices, NULL);
    TvQemuPipeline pipe = { .host = e2e.host, .caps_lookup = env_caps };
    TvDomainDef *def = tv_qemu_domain_load(&pipe, xml, strlen(xml), 0, NULL);
    if (!def)
        g_error("test domain '%s' does not load: %s", name, tv_error_message());
    return def;
}

TvDomainDef *e2e_domain_unchecked(const char *name, const char *kernel, const char *features)
{
    g_autofree char *xml = e2e_domain_xml(name, kernel, features, NULL, NULL);
    TvDomainDef *def = tv_domain_def_parse(xml, strlen(xml), 0);
    if (!def || tv_qemu_domain_post_parse(def, e2e.caps, e2e.host) < 0)
        g_error("test domain '%s' does not parse: %s", name, tv_error_message());
    return def;
}

char *e2e_read_console(int fd, unsigned timeout_ms)
{
    GString *out = g_string_new(NULL);
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        if (left <= 0)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(left / 1000) + 1) <= 0)
            continue;
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0)
            g_string_append_len(out, buf, n);
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            break; /* EIO: QEMU closed the pty */
    }
    return g_string_free(out, FALSE);
}

int e2e_console_level(const char *out)
{
    const char *p = strstr(out, "MTE level ");
    if (p)
        return (int)g_ascii_strtoll(p + strlen("MTE level "), NULL, 10);
    p = strstr(out, "PFR1=");
    if (p) {
        guint64 pfr1 = g_ascii_strtoull(p + strlen("PFR1="), NULL, 16);
        return (int)((pfr1 >> 8) & 0xf);
    }
    return -1;
}

void e2e_assert_no_children(void)
{
    int status;
    pid_t r = waitpid(-1, &status, WNOHANG);
    if (r != -1 || errno != ECHILD) {
        g_test_message("a child is left: waitpid(-1) returned %d", (int)r);
        g_test_fail();
    }
}

GPid e2e_spawn_tagvirt_run(const char *xml_path)
{
    g_autofree char *tagvirt = g_build_filename(TAGVIRT_BUILDDIR, "tools", "tagvirt", NULL);
    const char *argv[] = { tagvirt,     "run",         "--no-console", "--shutdown-timeout",
                           "1",         "--state-dir", e2e.state_dir,  "--log-dir",
                           e2e.log_dir, "--cache-dir", e2e.cache_dir,  xml_path,
                           NULL };
    /* SIGTERM when this test dies: it stops its guest and exits, and does
     * not keep meson's output pipe open until the timeout */
    return tv_test_spawn(argv, SIGTERM, -1);
}

bool e2e_wait_for_file(const char *path, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (g_get_monotonic_time() >= deadline)
            return false;
        g_usleep(2000);
    }
    return true;
}

bool e2e_wait_for_started(const char *status_path, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        if (g_file_test(status_path, G_FILE_TEST_EXISTS)) {
            g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
            tv_error_reset();
            if (st && !tv_qemu_status_is_start(st))
                return true;
        }
        if (g_get_monotonic_time() >= deadline)
            return false;
        g_usleep(2000);
    }
}

bool e2e_wait_for_text(const char *path, const char *text, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        g_autofree char *data = NULL;
        if (g_file_get_contents(path, &data, NULL, NULL) && strstr(data, text))
            return true;
        if (g_get_monotonic_time() >= deadline)
            return false;
        g_usleep(2000);
    }
}
