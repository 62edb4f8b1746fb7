/* End-to-end tests of the runtime (qemu_process) with the real QEMU and
 * tagvirt XML: console, lifecycle, destroy latency, crash detection,
 * reconnect (in-process and after the manager died), stale status files,
 * start-up faults.  Guests: the bundled demo (or probe) firmware, and a
 * two-instruction "wfi; b ." image written here for guests that must stay up. */
#include "tagvirt-config.h"
#include "e2eutils.h"
#include "qemu_process.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- state-change recording ---- */

typedef struct {
    GMutex lock;
    GString *log; /* "running/booted paused/user ..." */
} Changes;

static void on_change(TvQemuProcess *proc, int state, int reason, void *opaque)
{
    Changes *c = opaque;
    g_mutex_lock(&c->lock);
    g_string_append_printf(c->log, "%s%s/%s", c->log->len ? " " : "",
                           tv_domain_state_to_string(state),
                           tv_domain_reason_to_string(state, reason));
    g_mutex_unlock(&c->lock);
}

static char *changes_take(Changes *c)
{
    g_mutex_lock(&c->lock);
    char *s = g_strdup(c->log->str);
    g_mutex_unlock(&c->lock);
    return s;
}

static TvQemuProcessConfig config_with(Changes *c)
{
    TvQemuProcessConfig cfg = e2e_config();
    cfg.state_cb = on_change;
    cfg.state_opaque = c;
    return cfg;
}

static void assert_state(TvQemuProcess *proc, int want_state, int want_reason)
{
    int state = -1, reason = -1;
    tv_qemu_process_get_state(proc, &state, &reason);
    g_assert_cmpstr(tv_domain_state_to_string(state), ==, tv_domain_state_to_string(want_state));
    g_assert_cmpstr(tv_domain_reason_to_string(state, reason), ==,
                    tv_domain_reason_to_string(want_state, want_reason));
}

static void assert_files_gone(const char *name)
{
    g_autofree char *status = tv_qemu_process_status_path(e2e.state_dir, name);
    g_autofree char *mon = tv_qemu_process_monitor_path(e2e.state_dir, name);
    g_assert_false(g_file_test(status, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(mon, G_FILE_TEST_EXISTS));
}

/* ---- tests ---- */

/* The bundled guest with version 3: its console shows level 3 and it powers off. */
static void test_console_mte3(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-console", e2e.firmware, "<mte version='3'/>", "");
    Changes ch = { .log = g_string_new(NULL) };
    TvQemuProcessConfig cfg = config_with(&ch);
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, TV_QEMU_PROCESS_START_CONSOLE);
    g_assert_nonnull(proc);
    int fd = tv_qemu_process_steal_console(proc);
    g_assert_cmpint(fd, >=, 0);
    g_autofree char *out = e2e_read_console(fd, 30000);
    close(fd);
    g_assert_cmpint(tv_qemu_process_wait(proc, 10000), ==, 0);
    g_test_message("console: %s", out);
    g_assert_cmpint(e2e_console_level(out), ==, 3);
    assert_state(proc, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_SHUTDOWN);
    g_autofree char *seen = changes_take(&ch);
    g_assert_true(g_str_has_prefix(seen, "running/booted"));
    g_assert_true(g_str_has_suffix(seen, "shutoff/shutdown"));
    assert_files_gone("rt-console");
    e2e_assert_no_children();
    g_string_free(ch.log, TRUE);
}

/* version='max': the status file and the live XML carry the number. */
static void test_lifecycle(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-life", e2e.loop_image, "<mte version='max'/>", "");
    Changes ch = { .log = g_string_new(NULL) };
    TvQemuProcessConfig cfg = config_with(&ch);
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, 0);
    g_assert_nonnull(proc);
    assert_state(proc, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_BOOTED);

    g_autofree char *status_path = tv_qemu_process_status_path(e2e.state_dir, "rt-life");
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    g_assert_nonnull(st);
    g_assert_cmpint(st->pid, ==, tv_qemu_process_pid(proc));
    g_assert_cmpint(st->def->features.mte.level, ==, 3);
    g_assert_true(st->def->features.mte.abi.valid);
    g_assert_cmpint(tv_qemu_status_check_pid(st, NULL), ==, TV_QEMU_STATUS_PID_ALIVE);
    g_autofree char *live = tv_qemu_process_format_xml(proc, TV_DOMAIN_FORMAT_LIVE);
    g_assert_nonnull(strstr(live, "<mte version='3'/>"));

    g_assert_cmpint(tv_qemu_process_suspend(proc), ==, 0);
    assert_state(proc, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_USER);
    g_autoptr(TvQemuStatus) st2 = tv_qemu_status_read(status_path);
    g_assert_cmpint(st2->state, ==, TV_DOMAIN_STATE_PAUSED);
    g_assert_cmpint(tv_qemu_process_resume(proc), ==, 0);
    assert_state(proc, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_UNPAUSED);

    pid_t pid = tv_qemu_process_pid(proc);
    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(tv_qemu_process_destroy(proc), ==, 0);
    gint64 us = g_get_monotonic_time() - t0;
    g_test_message("destroy took %.1f ms", us / 1000.0);
    assert_state(proc, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_DESTROYED);
    g_assert_cmpint(kill(pid, 0), ==, -1); /* reaped, not a zombie */
    assert_files_gone("rt-life");
    g_autofree char *seen = changes_take(&ch);
    g_assert_cmpstr(seen, ==, "running/booted paused/user running/unpaused shutoff/destroyed");
    g_assert_cmpint(tv_qemu_process_destroy(proc), ==, -1); /* not running any more */
    e2e_assert_no_children();
    g_string_free(ch.log, TRUE);
}

/* Destroy returns promptly: devices is "" (no writable disk: SIGKILL at once)
 * or a writable disk (SIGTERM first).  The speed target (30 ms) is measured by
 * bench/run-bench.sh, not here; this only catches a destroy that waits for a
 * timeout or for PID 1's late reaping (about 2 s here). */
static void destroy_latency(const char *devices)
{
    enum {
        RUNS = 7
    };
    double ms[RUNS];
    for (int i = 0; i < RUNS; i++) {
        g_autoptr(TvDomainDef) def = e2e_domain("rt-destroy", e2e.loop_image, "", devices);
        TvQemuProcessConfig cfg = e2e_config();
        g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, 0);
        g_assert_nonnull(proc);
        g_usleep(50000); /* the guest is up and idle */
        gint64 t0 = g_get_monotonic_time();
        g_assert_cmpint(tv_qemu_process_destroy(proc), ==, 0);
        ms[i] = (g_get_monotonic_time() - t0) / 1000.0;
        assert_state(proc, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_DESTROYED);
    }
    for (int i = 0; i < RUNS; i++)
        for (int j = i + 1; j < RUNS; j++)
            if (ms[j] < ms[i]) {
                double t = ms[i];
                ms[i] = ms[j];
                ms[j] = t;
            }
    g_test_message("destroy ms: min %.1f median %.1f max %.1f", ms[0], ms[RUNS / 2], ms[RUNS - 1]);
    g_assert_cmpfloat(ms[RUNS / 2], <, 1000.0);
    e2e_assert_no_children();
}

static void test_destroy_latency(void)
{
    destroy_latency("");
}

static void test_destroy_latency_disk(void)
{
    g_autofree char *img = g_build_filename(e2e.dir, "disk.img", NULL);
    g_autofree char *zeros = g_malloc0(1 << 20);
    g_assert_true(g_file_set_contents(img, zeros, 1 << 20, NULL));
    g_autofree char *dev =
        g_strdup_printf("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                        "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                        "<serial type='pty'><target port='0'/></serial>",
                        img);
    destroy_latency(dev);
}

/* SIGKILL from outside: shut off, reason crashed, files cleaned up. */
static void test_sigkill_crashed(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-crash", e2e.loop_image, "<mte version='3'/>", "");
    Changes ch = { .log = g_string_new(NULL) };
    TvQemuProcessConfig cfg = config_with(&ch);
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, 0);
    g_assert_nonnull(proc);
    g_assert_cmpint(kill(tv_qemu_process_pid(proc), SIGKILL), ==, 0);
    g_assert_cmpint(tv_qemu_process_wait(proc, 5000), ==, 0);
    assert_state(proc, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_CRASHED);
    g_autofree char *how = tv_qemu_process_exit_description(proc);
    g_assert_cmpstr(how, ==, "killed by signal 9 (Killed)");
    g_autofree char *seen = changes_take(&ch);
    g_assert_cmpstr(seen, ==, "running/booted shutoff/crashed");
    assert_files_gone("rt-crash");
    e2e_assert_no_children();
    g_string_free(ch.log, TRUE);
}

/* Started paused, the manager object freed, taken over again from the
 * status file: same pid, same state, same resolved level. */
static void test_reconnect_in_process(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-recon", e2e.loop_image, "<mte version='max'/>", "");
    TvQemuProcessConfig cfg = e2e_config();
    TvQemuProcess *first = tv_qemu_process_start(def, &cfg, TV_QEMU_PROCESS_START_PAUSED);
    g_assert_nonnull(first);
    pid_t pid = tv_qemu_process_pid(first);
    tv_qemu_process_free(first); /* the manager goes away; QEMU stays */
    g_assert_cmpint(kill(pid, 0), ==, 0);

    bool stale = true;
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_reconnect("rt-recon", &cfg, &stale);
    g_assert_nonnull(proc);
    g_assert_false(stale);
    g_assert_cmpint(tv_qemu_process_pid(proc), ==, pid);
    assert_state(proc, TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_USER);
    g_autofree char *live = tv_qemu_process_format_xml(proc, TV_DOMAIN_FORMAT_LIVE);
    g_assert_nonnull(strstr(live, "<mte version='3'/>"));
    g_assert_cmpint(tv_qemu_process_resume(proc), ==, 0);
    assert_state(proc, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_UNPAUSED);
    g_assert_cmpint(tv_qemu_process_destroy(proc), ==, 0);
    assert_files_gone("rt-recon");
    e2e_assert_no_children();
}

/* `tagvirt run` starts the guest and is SIGKILLed: QEMU survives; a new
 * manager reconnects.  With subreaper on, QEMU becomes our child; off, it
 * goes to PID 1 and only the pidfd tells us it ended. */
static void reconnect_after_manager_death(bool subreaper)
{
    const char *name = subreaper ? "rt-orphan-sr" : "rt-orphan-init";
    g_autofree char *xml = e2e_domain_xml(name, e2e.loop_image, "", "", NULL);
    g_autofree char *xml_path = g_build_filename(e2e.dir, "orphan.xml", NULL);
    g_assert_true(g_file_set_contents(xml_path, xml, -1, NULL));
    g_assert_cmpint(prctl(PR_SET_CHILD_SUBREAPER, subreaper ? 1 : 0, 0, 0, 0), ==, 0);

    GPid manager = e2e_spawn_tagvirt_run(xml_path);
    g_autofree char *status_path = tv_qemu_process_status_path(e2e.state_dir, name);
    g_assert_true(e2e_wait_for_started(status_path, 20000));
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    g_assert_nonnull(st);
    kill(manager, SIGKILL);
    waitpid(manager, NULL, 0);
    g_usleep(20000);
    g_assert_cmpint(kill(st->pid, 0), ==, 0); /* the guest outlived its manager */

    TvQemuProcessConfig cfg = e2e_config();
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_reconnect(name, &cfg, NULL);
    if (!proc)
        g_error("reconnect to '%s': %s", name, tv_error_message());
    assert_state(proc, TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_BOOTED);
    g_assert_cmpint(tv_qemu_process_destroy(proc), ==, 0);
    assert_state(proc, TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_DESTROYED);
    g_autofree char *how = tv_qemu_process_exit_description(proc);
    if (subreaper)
        g_assert_true(g_str_has_prefix(how, "killed by signal") ||
                      g_str_has_prefix(how, "exited with status"));
    else
        g_assert_cmpstr(how, ==, "exited (not our child: status unknown)");
    assert_files_gone(name);
    g_assert_cmpint(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), ==, 0);
    e2e_assert_no_children();
}

static void test_reconnect_subreaper(void)
{
    reconnect_after_manager_death(true);
}

static void test_reconnect_init(void)
{
    reconnect_after_manager_death(false);
}

/* A status file whose pid is gone, or is another program: removed. */
static void test_stale_status(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-stale", e2e.loop_image, "", "");
    g_autofree char *status_path = tv_qemu_process_status_path(e2e.state_dir, "rt-stale");
    TvQemuProcessConfig cfg = e2e_config();

    /* a pid that is gone: a child that exited and was reaped */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    /* another program: this test process (its command line has no -name guest=) */
    unsigned long long my_start = 0;
    g_assert_cmpint(tv_qemu_proc_stat(getpid(), &my_start, NULL, NULL), ==, 0);
    struct {
        pid_t pid;
        unsigned long long start;
    } cases[] = { { gone, 1 }, { getpid(), my_start }, { getpid(), my_start + 1 } };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        TvQemuStatus st = {
            .state = TV_DOMAIN_STATE_RUNNING,
            .reason = TV_DOMAIN_RUNNING_BOOTED,
            .pid = cases[i].pid,
            .start_time = cases[i].start,
            .monitor_path = tv_qemu_process_monitor_path(e2e.state_dir, "rt-stale"),
            .fingerprint = e2e.caps->fingerprint,
            .def = def,
        };
        g_assert_cmpint(tv_qemu_status_write(status_path, &st), ==, 0);
        g_autofree char *why = NULL;
        g_assert_cmpint(tv_qemu_status_check_pid(&st, &why), !=, TV_QEMU_STATUS_PID_ALIVE);
        g_test_message("stale case %zu: %s", i, why);
        g_free(st.monitor_path);
        bool stale = false;
        tv_error_reset();
        TvQemuProcess *proc = tv_qemu_process_reconnect("rt-stale", &cfg, &stale);
        g_assert_null(proc);
        g_assert_true(stale);
        g_assert_nonnull(strstr(tv_error_message(), "stale status file"));
        g_assert_false(g_file_test(status_path, G_FILE_TEST_EXISTS));
    }
    /* a start over a stale file goes ahead */
    TvQemuStatus st = { .state = TV_DOMAIN_STATE_RUNNING,
                        .pid = gone,
                        .start_time = 1,
                        .monitor_path = "x",
                        .fingerprint = e2e.caps->fingerprint,
                        .def = def };
    g_assert_cmpint(tv_qemu_status_write(status_path, &st), ==, 0);
    g_autoptr(TvQemuProcess) proc = tv_qemu_process_start(def, &cfg, 0);
    g_assert_nonnull(proc);
    /* and a second start of the same running domain is refused */
    tv_error_reset();
    TvQemuProcess *again = tv_qemu_process_start(def, &cfg, 0);
    g_assert_null(again);
    g_assert_nonnull(strstr(tv_error_message(), "already running"));
    g_assert_cmpint(tv_qemu_process_destroy(proc), ==, 0);
    e2e_assert_no_children();
}

/* Start-up faults: a clear error with QEMU's own words, nothing left behind. */
static void assert_start_fails(TvDomainDef *def, unsigned monitor_timeout_ms, const char *expect)
{
    TvQemuProcessConfig cfg = e2e_config();
    cfg.monitor_timeout_ms = monitor_timeout_ms;
    tv_error_reset();
    gint64 t0 = g_get_monotonic_time();
    TvQemuProcess *proc = tv_qemu_process_start(def, &cfg, TV_QEMU_PROCESS_START_CONSOLE);
    double ms = (g_get_monotonic_time() - t0) / 1000.0;
    g_assert_null(proc);
    g_test_message("failed after %.0f ms: %s", ms, tv_error_message());
    if (!strstr(tv_error_message(), expect)) {
        g_test_message("expected the error to contain '%s'", expect);
        g_test_fail();
    }
    assert_files_gone(def->name);
    e2e_assert_no_children();
}

static void test_fault_bad_kernel(void)
{
    g_autoptr(TvDomainDef) def =
        e2e_domain("rt-badkernel", "/nonexistent/tagvirt/kernel.elf", "", "");
    assert_start_fails(def, 0, "could not load kernel '/nonexistent/tagvirt/kernel.elf'");
}

/* A serial port that must connect to a socket nobody listens on: QEMU exits. */
static void test_fault_chardev(void)
{
    g_autofree char *sock = g_build_filename(e2e.dir, "nobody.sock", NULL);
    g_autofree char *dev = g_strdup_printf(
        "<serial type='unix'><source mode='connect' path='%s'/><target port='0'/></serial>", sock);
    g_autoptr(TvDomainDef) def = e2e_domain("rt-badchr", e2e.loop_image, "", dev);
    assert_start_fails(def, 0, sock);
}

/* An emulator that opens the monitor socket and never says a word. */
static void test_fault_silent_qmp(void)
{
    g_autoptr(TvDomainDef) def = e2e_domain("rt-silent", e2e.loop_image, "", "");
    g_free(def->devices.emulator);
    def->devices.emulator =
        g_build_filename(TAGVIRT_SRCDIR, "tests", "e2e", "fake-qemu-silent", NULL);
    assert_start_fails(def, 800, "timed out");
}

/* A configuration the emulator cannot give exactly: refused before spawning. */
static void test_refused_no_process(void)
{
    /* not validated: the runtime's own resolution must refuse it */
    g_autoptr(TvDomainDef) def =
        e2e_domain_unchecked("rt-refused", e2e.loop_image, "<mte version='2'/>");
    g_autofree char *log = tv_qemu_process_log_path(e2e.log_dir, "rt-refused");
    TvQemuProcessConfig cfg = e2e_config();
    tv_error_reset();
    TvQemuProcess *proc = tv_qemu_process_start(def, &cfg, 0);
    g_assert_null(proc);
    g_test_message("%s", tv_error_message());
    g_assert_nonnull(strstr(tv_error_message(), "MTE version 2"));
    g_assert_false(g_file_test(log, G_FILE_TEST_EXISTS)); /* no QEMU, so no log either */
    assert_files_gone("rt-refused");
    e2e_assert_no_children();
}

/* `tagvirt run` and Ctrl-C: the guest (deaf to power-down) is destroyed
 * after --shutdown-timeout, nothing is left, and the exit status is not 0. */
static void test_run_sigint(void)
{
    g_autofree char *xml = e2e_domain_xml("rt-sigint", e2e.loop_image, "", "", NULL);
    g_autofree char *xml_path = g_build_filename(e2e.dir, "sigint.xml", NULL);
    g_assert_true(g_file_set_contents(xml_path, xml, -1, NULL));
    g_autofree char *status_path = tv_qemu_process_status_path(e2e.state_dir, "rt-sigint");
    GPid manager = e2e_spawn_tagvirt_run(xml_path);
    g_assert_true(e2e_wait_for_started(status_path, 20000));
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    g_assert_nonnull(st);
    g_autofree char *log = tv_qemu_process_log_path(e2e.log_dir, "rt-sigint");
    g_autofree char *running = g_strdup_printf("QEMU pid %d is running", (int)st->pid);
    g_assert_true(e2e_wait_for_text(log, running, 20000));
    gint64 t0 = g_get_monotonic_time();
    kill(manager, SIGINT);
    int status = 0;
    g_assert_cmpint(waitpid(manager, &status, 0), ==, manager);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("tagvirt run ended %.2f s after SIGINT with status %d", secs,
                   WEXITSTATUS(status));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), !=, 0);
    g_assert_cmpfloat(secs, <, 5.0);
    g_assert_cmpint(kill(st->pid, 0), ==, -1); /* QEMU is gone and was reaped */
    assert_files_gone("rt-sigint");
    e2e_assert_no_children();
}

/* `tagvirt run` whose QEMU is SIGKILLed: reported as crashed, status not 0. */
static void test_run_crash(void)
{
    g_autofree char *xml = e2e_domain_xml("rt-runcrash", e2e.loop_image, "", "", NULL);
    g_autofree char *xml_path = g_build_filename(e2e.dir, "runcrash.xml", NULL);
    g_assert_true(g_file_set_contents(xml_path, xml, -1, NULL));
    g_autofree char *status_path = tv_qemu_process_status_path(e2e.state_dir, "rt-runcrash");
    GPid manager = e2e_spawn_tagvirt_run(xml_path);
    g_assert_true(e2e_wait_for_started(status_path, 20000));
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(status_path);
    g_assert_nonnull(st);
    g_autofree char *log = tv_qemu_process_log_path(e2e.log_dir, "rt-runcrash");
    g_autofree char *running = g_strdup_printf("QEMU pid %d is running", (int)st->pid);
    g_assert_true(e2e_wait_for_text(log, running, 20000));
    kill(st->pid, SIGKILL);
    int status = 0;
    g_assert_cmpint(waitpid(manager, &status, 0), ==, manager);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    assert_files_gone("rt-runcrash");
    e2e_assert_no_children();
}

/* State changes -> libvirt lifecycle events and details. */
static void test_state_events(void)
{
    struct {
        int state, reason, event, detail;
    } cases[] = {
        { TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_BOOTED, TV_DOMAIN_EVENT_STARTED, 0 },
        { TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_UNPAUSED, TV_DOMAIN_EVENT_RESUMED, 0 },
        { TV_DOMAIN_STATE_PAUSED, TV_DOMAIN_PAUSED_USER, TV_DOMAIN_EVENT_SUSPENDED, 0 },
        { TV_DOMAIN_STATE_SHUTDOWN, TV_DOMAIN_SHUTDOWN_USER, TV_DOMAIN_EVENT_SHUTDOWN, 1 },
        { TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_SHUTDOWN, TV_DOMAIN_EVENT_STOPPED, 0 },
        { TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_DESTROYED, TV_DOMAIN_EVENT_STOPPED, 1 },
        { TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_CRASHED, TV_DOMAIN_EVENT_STOPPED, 2 },
        { TV_DOMAIN_STATE_SHUTOFF, TV_DOMAIN_SHUTOFF_FAILED, TV_DOMAIN_EVENT_STOPPED, 5 },
        { TV_DOMAIN_STATE_RUNNING, TV_DOMAIN_RUNNING_CRASHED, TV_DOMAIN_EVENT_RESUMED, 0 },
        { TV_DOMAIN_STATE_CRASHED, TV_DOMAIN_CRASHED_PANICKED, TV_DOMAIN_EVENT_CRASHED, 0 },
        { TV_DOMAIN_STATE_NOSTATE, 0, -1, 0 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int event = -2, detail = -2;
        tv_domain_state_event(cases[i].state, cases[i].reason, &event, &detail);
        g_assert_cmpint(event, ==, cases[i].event);
        g_assert_cmpint(detail, ==, cases[i].detail);
        /* and the spellings round-trip */
        const char *st = tv_domain_state_to_string(cases[i].state);
        const char *why = tv_domain_reason_to_string(cases[i].state, cases[i].reason);
        g_assert_cmpint(tv_domain_state_from_string(st), ==, cases[i].state);
        g_assert_cmpint(tv_domain_reason_from_string(cases[i].state, why), ==, cases[i].reason);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (e2e_setup() < 0) {
        g_printerr("%s\n", tv_error_message());
        return 1;
    }
    g_test_add_func("/runtime/state-events", test_state_events);
    g_test_add_func("/runtime/console-mte3", test_console_mte3);
    g_test_add_func("/runtime/lifecycle", test_lifecycle);
    g_test_add_func("/runtime/destroy-latency", test_destroy_latency);
    g_test_add_func("/runtime/destroy-latency-disk", test_destroy_latency_disk);
    g_test_add_func("/runtime/sigkill-crashed", test_sigkill_crashed);
    g_test_add_func("/runtime/reconnect-in-process", test_reconnect_in_process);
    g_test_add_func("/runtime/reconnect-after-manager-death/subreaper", test_reconnect_subreaper);
    g_test_add_func("/runtime/reconnect-after-manager-death/init", test_reconnect_init);
    g_test_add_func("/runtime/stale-status", test_stale_status);
    g_test_add_func("/runtime/fault/bad-kernel", test_fault_bad_kernel);
    g_test_add_func("/runtime/fault/chardev-connect", test_fault_chardev);
    g_test_add_func("/runtime/fault/silent-qmp", test_fault_silent_qmp);
    g_test_add_func("/runtime/refused-no-process", test_refused_no_process);
    g_test_add_func("/runtime/tagvirt-run/sigint", test_run_sigint);
    g_test_add_func("/runtime/tagvirt-run/crash", test_run_crash);
    int rc = g_test_run();
    e2e_teardown();
    return rc;
}
