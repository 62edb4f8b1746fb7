/* The probe's QEMU fork server (qemu_zygote.h) against the plain spawns, with
 * the real QEMU: the caps XML of a probe is byte-identical either way (for
 * /usr/bin/qemu-system-aarch64 and every directly executable QEMU named in
 * TAGVIRT_ZYGOTE_TEST_QEMUS, colon-separated); a child that hangs, crashes or
 * refuses looks the same through the server; a wrapper script, a non-QEMU
 * binary or a dead server mean plain spawns. */
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_zygote.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "tv_file.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define QEMU "/usr/bin/qemu-system-aarch64"

static char *tmpdir;

static char *probe_xml(const char *binary, bool zygote)
{
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    TvQemuCapsProbeOptions opts = { .no_zygote = !zygote };
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_probe(binary, host, &opts);
    if (!caps)
        g_error("probe of %s (%s): %s", binary, zygote ? "fork server" : "plain",
                tv_error_message());
    g_test_message("%s, %s: %.0f ms, %zu guest-ABI probes", binary,
                   zygote ? "fork server" : "plain", (g_get_monotonic_time() - t0) / 1000.0,
                   caps->nprobes);
    g_assert_cmpuint(caps->nprobes, >, 0);
    return tv_qemu_caps_format(caps);
}

static void test_equal(gconstpointer data)
{
    const char *binary = data;
    /* the server must really serve this binary, or the comparison proves nothing */
    g_autoptr(TvQemuZygote) z = tv_qemu_zygote_start(binary);
    g_assert_true(tv_qemu_zygote_ready(z));
    g_autofree char *plain = probe_xml(binary, false);
    g_autofree char *forked = probe_xml(binary, true);
    g_assert_cmpstr(forked, ==, plain);
}

typedef struct {
    int status;
    char *first_error;
    gint64 ms;
} Outcome;

static void outcome_clear(Outcome *o)
{
    g_free(o->first_error);
}

/* Spawn argv (through z, or plain when NULL); optionally signal it; wait
 * at most wait_ms, then kill; reap and describe.  Nothing may be left. */
static void run_child(TvQemuZygote *z, const char *const *argv, int sig, unsigned wait_ms,
                      Outcome *o)
{
    TvQemuChild child;
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(tv_qemu_zygote_spawn(z, &child, argv, false), ==, 0);
    g_assert_true(child.zygote == z);
    pid_t pid = child.pid;
    if (sig)
        g_assert_cmpint(kill(pid, sig), ==, 0);
    if (tv_qemu_child_wait(&child, t0 + (gint64)wait_ms * 1000) < 0)
        tv_qemu_child_kill(&child);
    g_assert_true(child.reaped);
    o->status = child.status;
    o->first_error = tv_qemu_child_first_error(&child);
    o->ms = (g_get_monotonic_time() - t0) / 1000;
    tv_qemu_child_clear(&child);
    g_assert_cmpint(kill(pid, 0), ==, -1); /* reaped: no process, no zombie */
    g_assert_cmpint(errno, ==, ESRCH);
}

static void test_children(void)
{
    g_autoptr(TvQemuZygote) z = tv_qemu_zygote_start(QEMU);
    g_assert_true(tv_qemu_zygote_ready(z));
    /* no machine to run and nothing to quit it: runs until killed */
    const char *hang[] = { QEMU,          "-machine",        "none", "-display", "none",
                           "-nodefaults", "-no-user-config", NULL };
    const char *refuse[] = { QEMU,   "-machine",    "virt",
                             "-cpu", "no-such-cpu", "-display",
                             "none", "-nodefaults", "-no-user-config",
                             NULL };
    struct {
        const char *const *argv;
        int sig;
        unsigned wait_ms;
    } cases[] = { { hang, 0, 300 }, { hang, SIGSEGV, 5000 }, { refuse, 0, 5000 } };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        Outcome plain = { 0 }, forked = { 0 };
        run_child(NULL, cases[i].argv, cases[i].sig, cases[i].wait_ms, &plain);
        run_child(z, cases[i].argv, cases[i].sig, cases[i].wait_ms, &forked);
        g_autofree char *a = tv_qemu_child_describe_status(plain.status);
        g_autofree char *b = tv_qemu_child_describe_status(forked.status);
        g_test_message("case %zu: plain %s (%" G_GINT64_FORMAT
                       " ms, '%s'), fork server %s (%" G_GINT64_FORMAT " ms, '%s')",
                       i, a, plain.ms, plain.first_error, b, forked.ms, forked.first_error);
        g_assert_cmpint(forked.status, ==, plain.status);
        g_assert_cmpstr(forked.first_error, ==, plain.first_error);
        outcome_clear(&plain);
        outcome_clear(&forked);
    }
    Outcome o = { 0 };
    run_child(z, hang, 0, 300, &o);
    g_assert_true(WIFSIGNALED(o.status) && WTERMSIG(o.status) == SIGKILL);
    outcome_clear(&o);
    run_child(z, refuse, 0, 5000, &o);
    g_assert_true(WIFEXITED(o.status) && WEXITSTATUS(o.status) == 1);
    g_assert_nonnull(strstr(o.first_error, "no-such-cpu"));
    outcome_clear(&o);
}

static char *write_script(const char *name, const char *body)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);
    g_assert_cmpint(tv_file_write_atomic(path, text, strlen(text), 0755), ==, 0);
    return g_steal_pointer(&path);
}

static void test_fallback(void)
{
    /* a wrapper script ends in QEMU, but the server serves only the named binary */
    g_autofree char *wrapper = write_script("qemu-wrapper", "exec " QEMU " \"$@\"");
    g_autoptr(TvQemuZygote) w = tv_qemu_zygote_start(wrapper);
    g_assert_false(tv_qemu_zygote_ready(w));
    /* not QEMU at all */
    g_autoptr(TvQemuZygote) t = tv_qemu_zygote_start("/bin/true");
    g_assert_false(tv_qemu_zygote_ready(t));
    g_assert_null(tv_qemu_zygote_start("/nonexistent/qemu"));
    /* unusable: spawns are plain ones, and work */
    const char *argv[] = { wrapper, "-version", NULL };
    TvQemuChild child;
    g_assert_cmpint(tv_qemu_zygote_spawn(w, &child, argv, false), ==, 0);
    g_assert_null(child.zygote);
    g_assert_cmpint(tv_qemu_child_wait(&child, g_get_monotonic_time() + 5000 * 1000), ==, 0);
    g_assert_nonnull(strstr(child.out->str, "QEMU emulator version"));
    tv_qemu_child_clear(&child);
    /* a probe through the wrapper falls back silently */
    g_autofree char *xml = probe_xml(wrapper, true);
    g_assert_nonnull(strstr(xml, "cortex-a57"));
}

static void test_server_death(void)
{
    g_autoptr(TvQemuZygote) z = tv_qemu_zygote_start(QEMU);
    g_assert_true(tv_qemu_zygote_ready(z));
    const char *hang[] = { QEMU,          "-machine",        "none", "-display", "none",
                           "-nodefaults", "-no-user-config", NULL };
    TvQemuChild child;
    g_assert_cmpint(tv_qemu_zygote_spawn(z, &child, hang, false), ==, 0);
    g_assert_true(child.zygote == z);
    pid_t pid = child.pid;
    g_assert_cmpint(kill(tv_qemu_zygote_pid(z), SIGKILL), ==, 0);
    /* the child follows its server (parent-death signal) */
    g_assert_cmpint(tv_qemu_child_wait(&child, g_get_monotonic_time() + 5000 * 1000), ==, 0);
    g_assert_true(WIFSIGNALED(child.status) && WTERMSIG(child.status) == SIGKILL);
    tv_qemu_child_clear(&child);
    for (int i = 0; i < 250 && kill(pid, 0) == 0; i++)
        g_usleep(20 * 1000); /* reparented to init, reaped there */
    g_assert_cmpint(kill(pid, 0), ==, -1);
    /* later spawns are plain */
    const char *version[] = { QEMU, "-version", NULL };
    g_assert_cmpint(tv_qemu_zygote_spawn(z, &child, version, false), ==, 0);
    g_assert_null(child.zygote);
    g_assert_cmpint(tv_qemu_child_wait(&child, g_get_monotonic_time() + 5000 * 1000), ==, 0);
    g_assert_true(WIFEXITED(child.status) && WEXITSTATUS(child.status) == 0);
    tv_qemu_child_clear(&child);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test(QEMU, G_FILE_TEST_IS_EXECUTABLE)) {
        printf("Bail out! %s is not installed (Debian package qemu-system-arm)\n", QEMU);
        return 1;
    }
    tmpdir = g_dir_make_tmp("qemuzygotetest-XXXXXX", NULL);
    g_test_add_data_func("/qemuzygote/equal/" QEMU, QEMU, test_equal);
    const char *more = g_getenv("TAGVIRT_ZYGOTE_TEST_QEMUS");
    g_auto(GStrv) extra = g_strsplit(more ? more : "", ":", -1);
    for (char **b = extra; *b; b++) {
        if (**b) {
            g_autofree char *name = g_strdup_printf("/qemuzygote/equal/%s", *b);
            g_test_add_data_func(name, *b, test_equal);
        }
    }
    g_test_add_func("/qemuzygote/children", test_children);
    g_test_add_func("/qemuzygote/fallback", test_fallback);
    g_test_add_func("/qemuzygote/server-death", test_server_death);
    int rc = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    (void)!system(cmd);
    g_free(tmpdir);
    return rc;
}
