/* Live capability probes of Debian bookworm's QEMU 7.2 as scripts/test-qemus.sh
 * fetches it (suite 'slow'): the live guest-ABI facts equal the replayed 7.2
 * recording; the
 * cache reuses a probe, and reprobes when the binary is touched or the kernel
 * release differs; a QEMU that hangs or crashes while booting the probe
 * firmware is a clear error, with nothing left running. */
#include "qemu_capabilities.h"
#include "qemu_host.h"
#include "qemu_monitor.h"
#include "tagvirt-config.h"
#include "tv_error.h"
#include "testutils.h"
#include "tv_file.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <utime.h>

/* QEMU 7.2 from scripts/test-qemus.sh (TAGVIRT_QEMU_72, or
 * ${TAGVIRT_QEMU_CACHE:-~/.cache/tagvirt}/qemu-bookworm) */
static char *qemu72;
#define QEMU qemu72

static char *tmpdir;

static const char *srcdir(void)
{
    const char *d = g_getenv("TAGVIRT_TESTS_SRCDIR");
    return d ? d : TAGVIRT_SRCDIR "/tests";
}

static TvQemuCaps *replay_72(void)
{
    g_autofree char *dir = g_build_filename(srcdir(), "qemucapabilitiesdata", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        if (!g_str_has_prefix(name, "caps_7.2.") || !g_str_has_suffix(name, ".replies"))
            continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(path, &text, &len, NULL));
        TvQemuCaps *caps = tv_qemu_caps_replay(text, len, QEMU);
        if (!caps)
            g_error("%s: %s", name, tv_error_message());
        return caps;
    }
    g_error("no caps_7.2.*.replies in %s", dir);
}

static void test_live_equals_recording(void)
{
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    g_autoptr(TvQemuCaps) recorded = replay_72();
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) live = tv_qemu_caps_probe(QEMU, host, NULL);
    if (!live)
        g_error("live probe: %s", tv_error_message());
    g_test_message("live probe of %s: %.0f ms", QEMU, (g_get_monotonic_time() - t0) / 1000.0);
    if (live->version / 1000 != recorded->version / 1000)
        g_error("%s is QEMU %u.%u, the recording 7.2: run scripts/test-qemus.sh", QEMU,
                live->version / 1000000, live->version / 1000 % 1000);
    g_assert_cmpuint(live->nprobes, ==, recorded->nprobes);
    for (size_t i = 0; i < recorded->nprobes; i++) {
        const TvGuestAbiProbe *r = &recorded->probes[i];
        const TvGuestAbiProbe *l = tv_qemu_caps_guest_abi(live, r->cpu_model, r->accel);
        g_assert_nonnull(l);
        const TvGuestAbiResult *rr[] = { &r->mte_on, &r->mte_off };
        const TvGuestAbiResult *lr[] = { &l->mte_on, &l->mte_off };
        for (int k = 0; k < 2; k++) {
            g_assert_cmpint(lr[k]->refused, ==, rr[k]->refused);
            g_assert_cmpstr(lr[k]->error, ==, rr[k]->error);
            g_assert_cmphex(lr[k]->pfr1, ==, rr[k]->pfr1);
            g_assert_cmphex(lr[k]->pfr2, ==, rr[k]->pfr2);
        }
    }
    const TvGuestAbiProbe *max = tv_qemu_caps_guest_abi(live, "max", TV_ACCEL_TCG);
    g_assert_cmpint(tv_mte_abi_level(&max->mte_on.abi), ==, 3);
    const TvGuestAbiProbe *a57 = tv_qemu_caps_guest_abi(live, "cortex-a57", TV_ACCEL_TCG);
    g_assert_true(a57->mte_on.refused);
    g_assert_cmpstr(a57->mte_on.error, ==, "MTE requested, but not supported by the guest CPU");
    /* the whole caps, not only the guest ABI, are what was recorded */
    g_free(live->binary);
    live->binary = g_strdup(recorded->binary);
    g_autofree char *a = tv_qemu_caps_format(recorded);
    memset(&live->fingerprint, 0, sizeof(live->fingerprint)); /* leaks a little: a test */
    g_autofree char *b = tv_qemu_caps_format(live);
    g_assert_cmpstr(b, ==, a);
}

static char *write_script(const char *name, const char *body)
{
    g_autofree char *path = g_build_filename(tmpdir, name, NULL);
    g_autofree char *text = g_strdup_printf("#!/bin/sh\n%s\n", body);
    g_assert_cmpint(tv_file_write_atomic(path, text, strlen(text), 0755), ==, 0);
    return g_steal_pointer(&path);
}

static int count_lines(const char *path, const char *needle)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    int n = 0;
    for (char *p = text; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_cache(void)
{
    g_autofree char *log = g_build_filename(tmpdir, "calls.log", NULL);
    g_autofree char *body = g_strdup_printf("echo \"$2\" >> '%s'\nexec '%s' \"$@\"", log, QEMU);
    g_autofree char *wrapper = write_script("qemu-wrapper", body);
    g_autofree char *cache = g_build_filename(tmpdir, "cache", NULL);
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);

    g_autoptr(TvQemuCapsCache) cc = tv_qemu_caps_cache_new(cache, host, NULL);
    g_autoptr(TvQemuCaps) a = tv_qemu_caps_cache_lookup(cc, wrapper);
    if (!a)
        g_error("%s", tv_error_message());
    g_assert_cmpint(count_lines(log, "none"), ==, 1); /* the QMP process: -machine none */

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) b = tv_qemu_caps_cache_lookup(cc, wrapper);
    gint64 mem_us = g_get_monotonic_time() - t0;
    g_assert_true(a == b);
    tv_qemu_caps_cache_clear_memory(cc);
    t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) c = tv_qemu_caps_cache_lookup(cc, wrapper);
    gint64 disk_us = g_get_monotonic_time() - t0;
    g_assert_nonnull(c);
    g_assert_true(c != a); /* read from the disk again */
    g_assert_cmpint(count_lines(log, "none"), ==, 1);
    g_test_message("cached lookup: memory %" G_GINT64_FORMAT " us, disk %" G_GINT64_FORMAT " us",
                   mem_us, disk_us);
    g_assert_cmpint(mem_us, <, 1000);
    g_autofree char *xa = tv_qemu_caps_format(a);
    g_autofree char *xc = tv_qemu_caps_format(c);
    g_assert_cmpstr(xa, ==, xc);

    /* touching the binary changes mtime/ctime: probe again; the replaced caps
     * stay valid for whoever holds them (a, b and c here) */
    struct utimbuf later = { time(NULL) + 10, time(NULL) + 10 };
    g_assert_cmpint(utime(wrapper, &later), ==, 0);
    g_autoptr(TvQemuCaps) e = tv_qemu_caps_cache_lookup(cc, wrapper);
    g_assert_nonnull(e);
    g_assert_true(e != c);
    g_assert_cmpint(count_lines(log, "none"), ==, 2);
    g_autoptr(TvQemuCaps) f = tv_qemu_caps_cache_lookup(cc, wrapper);
    g_assert_true(f == e);
    g_assert_cmpint(count_lines(log, "none"), ==, 2);
    g_autofree char *xc_again = tv_qemu_caps_format(c);
    g_assert_cmpstr(xc_again, ==, xc);

    /* another kernel release: probe again, also from another owner's cache
     * on the same folder (disk) */
    TvHostFacts other = *host;
    other.kernel_release = (char *)"0.0.0-other";
    g_autoptr(TvQemuCapsCache) cc2 = tv_qemu_caps_cache_new(cache, &other, NULL);
    g_autoptr(TvQemuCaps) d = tv_qemu_caps_cache_lookup(cc2, wrapper);
    g_assert_nonnull(d);
    g_assert_cmpstr(d->fingerprint.kernel_release, ==, "0.0.0-other");
    g_assert_cmpint(count_lines(log, "none"), ==, 3);
}

static void expect_boot_error(const char *script, const char *needle)
{
    TvQemuCapsProbeOptions opts = { .timeout_ms = 1500 };
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    tv_error_reset();
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_probe(script, host, &opts);
    gint64 ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_null(caps);
    if (!strstr(tv_error_message(), needle))
        g_error("error '%s' does not mention '%s'", tv_error_message(), needle);
    g_test_message("%s (%" G_GINT64_FORMAT " ms)", tv_error_message(), ms);
    g_assert_cmpint(ms, <, 6000);
    g_autofree char *out = NULL;
    g_autofree char *cmd = g_strdup_printf("pgrep -f '%s'", script);
    g_spawn_command_line_sync(cmd, &out, NULL, NULL, NULL);
    g_assert_cmpstr(out, ==, "");
}

static void test_boot_failures(void)
{
    /* the QMP part is the real QEMU; only the firmware boots misbehave */
    g_autofree char *hang_body =
        g_strdup_printf("case \"$*\" in *-kernel*) sleep 1000;; esac\nexec '%s' \"$@\"", QEMU);
    g_autofree char *hang = write_script("qemu-boot-hang", hang_body);
    expect_boot_error(hang, "did not finish within 1500 ms");
    g_autofree char *crash_body =
        g_strdup_printf("case \"$*\" in *-kernel*) kill -SEGV $$;; esac\nexec '%s' \"$@\"", QEMU);
    g_autofree char *crash = write_script("qemu-boot-crash", crash_body);
    expect_boot_error(crash, "was killed by signal 11");
    g_autofree char *silent_body =
        g_strdup_printf("case \"$*\" in *-kernel*) exit 0;; esac\nexec '%s' \"$@\"", QEMU);
    g_autofree char *silent = write_script("qemu-boot-silent", silent_body);
    expect_boot_error(silent, "without printing the probe line");

    TvQemuCapsProbeOptions opts = { .probe_firmware = "/nonexistent/probe.elf" };
    tv_error_reset();
    g_assert_null(tv_qemu_caps_probe(QEMU, NULL, &opts));
    g_assert_nonnull(strstr(tv_error_message(), "probe firmware"));
}

static void collect_event(TvQemuMonitor *mon, const TvQemuEvent *ev, void *opaque)
{
    g_ptr_array_add(opaque, g_strdup(ev->name));
}

/* Reads until an event of that name came (it must within 3 s). */
static void wait_event(TvQemuMonitor *mon, GPtrArray *events, const char *name)
{
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    for (;;) {
        for (guint i = 0; i < events->len; i++) {
            if (g_str_equal(events->pdata[i], name)) {
                g_ptr_array_remove_index(events, i);
                return;
            }
        }
        if (g_get_monotonic_time() > deadline || tv_qemu_monitor_wait_input(mon, 3000) < 0)
            g_error("no %s event: %s", name, tv_error_message());
    }
}

/* QEMU with -machine none and a QMP unix socket named name, connected and
 * past the handshake; *pid to reap.  It starts paused (-S): started running,
 * QEMU writes one RESUME at start-up that reaches the monitor or not,
 * depending on timing (seen before the greeting, during the handshake, or
 * not at all), so the tests could not count the events they cause. */
static TvQemuMonitor *spawn_with_monitor(const char *name, GPid *pid)
{
    g_autofree char *sock = g_build_filename(tmpdir, name, NULL);
    g_autofree char *chardev = g_strdup_printf("socket,id=mon,path=%s,server=on,wait=off", sock);
    const char *argv[] = { QEMU,
                           "-machine",
                           "none",
                           "-display",
                           "none",
                           "-nodefaults",
                           "-no-user-config",
                           "-S",
                           "-chardev",
                           chardev,
                           "-mon",
                           "chardev=mon,mode=control",
                           NULL };
    /* its output goes to a file, and it dies with this test: a failed
     * assertion must not leave it holding meson's output pipe */
    g_autofree char *log = g_strdup_printf("%s.log", sock);
    int log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    g_assert_cmpint(log_fd, >=, 0);
    *pid = tv_test_spawn(argv, SIGKILL, log_fd);
    close(log_fd);
    TvQemuMonitor *mon = tv_qemu_monitor_open_unix(sock, 5000);
    if (!mon || tv_qemu_monitor_handshake(mon, 5000) < 0)
        g_error("%s", tv_error_message());
    return mon;
}

/* The runtime's way in: a unix socket monitor, status, stop/cont events. */
static void test_monitor_unix(void)
{
    GPid pid = 0;
    g_autoptr(TvQemuMonitor) mon = spawn_with_monitor("mon.sock", &pid);
    const TvQmpGreeting *greeting = tv_qemu_monitor_greeting(mon);
    g_assert_nonnull(greeting);
    g_assert_cmpuint(greeting->major, >=, 7);
    GPtrArray *events = g_ptr_array_new_with_free_func(g_free);
    tv_qemu_monitor_set_event_callback(mon, collect_event, events);

    TvQmpStatus st;
    g_assert_cmpint(tv_qemu_monitor_query_status(mon, &st), ==, 0);
    g_assert_cmpint(st.status, ==, TV_QMP_RUN_STATE_PRELAUNCH);
    g_assert_cmpuint(events->len, ==, 0);

    g_assert_cmpint(tv_qemu_monitor_cont(mon), ==, 0);
    wait_event(mon, events, "RESUME");
    g_assert_cmpint(tv_qemu_monitor_stop(mon), ==, 0);
    wait_event(mon, events, "STOP");

    /* an error reply carries QEMU's description and class */
    tv_error_reset();
    g_auto(TvQmpMteCapabilityList) mte = { 0 };
    g_assert_cmpint(tv_qemu_monitor_query_mte_capabilities(mon, &mte), ==, -1);
    g_assert_cmpint(tv_qemu_monitor_error_class(), ==, TV_QMP_ERROR_COMMAND_NOT_FOUND);
    g_assert_nonnull(strstr(tv_error_message(), "QEMU command 'query-mte-capabilities' failed: "));

    g_assert_cmpint(tv_qemu_monitor_quit(mon), ==, 0);
    /* after quit the monitor reaches EOF: waiting for input says so */
    int rc;
    while ((rc = tv_qemu_monitor_wait_input(mon, 3000)) > 0)
        ;
    g_assert_cmpint(rc, ==, -1);
    if (!strstr(tv_error_message(), "closed the monitor"))
        g_error("after quit, expected 'closed the monitor', got: %s", tv_error_message());
    g_assert_true(tv_qemu_monitor_is_closed(mon));
    g_ptr_array_unref(events);
    int wstatus = 0;
    g_assert_cmpint(waitpid(pid, &wstatus, 0), ==, pid);
    g_assert_true(WIFEXITED(wstatus));
}

/* ---- one I/O thread reads, commands come from other threads ---- */

typedef struct {
    TvQemuMonitor *mon;
    GThread *io;
    int stops, resumes;
    char *wrong_thread; /* the first event a callback saw on another thread */
    int failures;
    char *first_failure; /* what the first failed command said */
} IoTest;

static void io_failed(IoTest *t, const char *what)
{
    if (g_atomic_int_add(&t->failures, 1) == 0)
        t->first_failure = g_strdup_printf("%s: %s", what, tv_error_message());
}

static void count_event(TvQemuMonitor *mon, const TvQemuEvent *ev, void *opaque)
{
    IoTest *t = opaque;
    if (g_thread_self() != t->io && !t->wrong_thread)
        t->wrong_thread = g_strdup_printf("%s on thread %p (the I/O thread is %p)", ev->name,
                                          (void *)g_thread_self(), (void *)t->io);
    t->stops += ev->type == TV_QEMU_EVENT_STOP;
    t->resumes += ev->type == TV_QEMU_EVENT_RESUME;
}

/* The runtime's watcher in small: poll, dispatch, until EOF. */
static gpointer io_thread(gpointer data)
{
    IoTest *t = data;
    for (;;) {
        struct pollfd p = { .fd = tv_qemu_monitor_fd(t->mon), .events = POLLIN };
        if (p.fd < 0)
            return NULL;
        if (poll(&p, 1, 10000) <= 0)
            return NULL;
        if (tv_qemu_monitor_dispatch(t->mon) < 0)
            return NULL;
    }
}

/* From -S: each cont writes one RESUME, each stop one STOP. */
static gpointer cont_stop(gpointer data)
{
    IoTest *t = data;
    for (int i = 0; i < 20; i++) {
        if (tv_qemu_monitor_cont(t->mon) < 0)
            io_failed(t, "cont");
        else if (tv_qemu_monitor_stop(t->mon) < 0)
            io_failed(t, "stop");
    }
    return NULL;
}

static gpointer query_status(gpointer data)
{
    IoTest *t = data;
    for (int i = 0; i < 50; i++) {
        TvQmpStatus st;
        if (tv_qemu_monitor_query_status(t->mon, &st) < 0)
            io_failed(t, "query-status");
        else if (st.status == TV_QMP_RUN_STATE_UNKNOWN)
            io_failed(t, "query-status: an unknown state");
    }
    return NULL;
}

static void test_monitor_io_thread(void)
{
    GPid pid = 0;
    IoTest t = { 0 };
    t.mon = spawn_with_monitor("mon-io.sock", &pid);
    /* still in prelaunch: no event was written, none was kept for the
     * callback (which would get it here, on this thread) */
    TvQmpStatus st;
    g_assert_cmpint(tv_qemu_monitor_query_status(t.mon, &st), ==, 0);
    g_assert_cmpint(st.status, ==, TV_QMP_RUN_STATE_PRELAUNCH);
    tv_qemu_monitor_set_event_callback(t.mon, count_event, &t);
    t.io = g_thread_new("io", io_thread, &t);
    tv_qemu_monitor_set_io_thread(t.mon, t.io);
    GThread *a = g_thread_new("cont-stop", cont_stop, &t);
    GThread *b = g_thread_new("query-status", query_status, &t);
    g_thread_join(a);
    g_thread_join(b);
    if (t.failures)
        g_error("%d commands failed; the first: %s", t.failures, t.first_failure);
    g_assert_cmpint(tv_qemu_monitor_quit(t.mon), ==, 0);
    g_thread_join(t.io); /* it saw EOF */
    g_assert_true(tv_qemu_monitor_is_closed(t.mon));
    /* every event went to the callback on the I/O thread, in pairs */
    if (t.wrong_thread)
        g_error("an event reached the callback on another thread: %s", t.wrong_thread);
    g_assert_cmpint(t.stops, ==, 20);
    g_assert_cmpint(t.resumes, ==, 20);
    tv_qemu_monitor_free(t.mon);
    int wstatus = 0;
    g_assert_cmpint(waitpid(pid, &wstatus, 0), ==, pid);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const char *env = g_getenv("TAGVIRT_QEMU_72");
    const char *cache = g_getenv("TAGVIRT_QEMU_CACHE");
    g_autofree char *dflt =
        cache ? g_build_filename(cache, "qemu-bookworm", "bin", "qemu-system-aarch64", NULL)
              : g_build_filename(g_get_home_dir(), ".cache", "tagvirt", "qemu-bookworm", "bin",
                                 "qemu-system-aarch64", NULL);
    qemu72 = g_strdup(env && *env ? env : dflt);
    if (!g_file_test(QEMU, G_FILE_TEST_IS_EXECUTABLE)) {
        /* a missing QEMU fails the suite: scripts/test-qemus.sh fetches it */
        printf("1..1\nnot ok 1 - %s is not there: run scripts/test-qemus.sh\n", QEMU);
        return 1;
    }
    tmpdir = g_dir_make_tmp("qemucapsprobe-XXXXXX", NULL);
    g_test_add_func("/qemucaps/live/equals-recording", test_live_equals_recording);
    g_test_add_func("/qemucaps/live/cache", test_cache);
    g_test_add_func("/qemucaps/live/boot-failures", test_boot_failures);
    g_test_add_func("/qemucaps/live/monitor-unix", test_monitor_unix);
    g_test_add_func("/qemucaps/live/monitor-io-thread", test_monitor_io_thread);
    int rc = g_test_run();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
    (void)!system(rm);
    return rc;
}
