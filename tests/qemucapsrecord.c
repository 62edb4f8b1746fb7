/* qemucapsrecord: probe a real QEMU binary and write a recording (QMP
 * conversation + guest-ABI boots) for tests/qemucapabilitiesdata/, and/or
 * time probes and cached lookups (bench/probe-bench.sh).
 *
 *   qemucapsrecord [options] BINARY
 *     --record FILE    write the recording
 *     --xml FILE       write the caps XML replayed from the recording
 *     --parallel N     concurrent guest boots (default: number of CPUs)
 *     --timeout MS     per QEMU process
 *     --firmware FILE  probe.elf
 *     --cache DIR      time cached lookups in DIR instead (--repeat N)
 *     --qmp-sessions FILE  instead: run the scripted QMP sessions of
 *                      qemumonitorsession.h with real guests (--firmware-dir,
 *                      the built firmware/ with demo.elf and demo-loop.elf)
 *                      and write them for tests/qemumonitordata/
 */
#include "qemu_capabilities.h"
#include "qemumonitorsession.h"
#include "tv_error.h"
#include "tv_file.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One QEMU of a session, live, its conversation recorded. */
typedef struct {
    GPid pid;
    char *sock;
    TvQemuMonitor *mon;
    TvQemuMonitorScript *script;
} LiveQemu;

/* QEMU runs in dir (the migration's sockets are relative to it). */
static int live_start(const char *file, const char *binary, const char *firmware_dir,
                      const char *dir, LiveQemu *q)
{
    q->sock = g_strdup_printf("%s/%s.sock", dir, file);
    q->script = tv_qemu_monitor_script_new();
    g_autoptr(GPtrArray) argv = tv_mon_session_argv(file, binary, firmware_dir, q->sock);
    g_autoptr(GError) gerr = NULL;
    if (!g_spawn_async(dir, (char **)argv->pdata, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, &q->pid,
                       &gerr)) {
        fprintf(stderr, "error: cannot run %s: %s\n", binary, gerr->message);
        return -1;
    }
    q->mon = tv_qemu_monitor_open_unix(q->sock, 10000);
    if (!q->mon) {
        fprintf(stderr, "error: %s\n", tv_error_message());
        return -1;
    }
    tv_qemu_monitor_record(q->mon, q->script, true);
    return 0;
}

static void live_stop(LiveQemu *q, bool failed, char **version)
{
    const TvQmpGreeting *g = q->mon ? tv_qemu_monitor_greeting(q->mon) : NULL;
    if (g && !*version)
        *version = g_strdup_printf("QEMU %u.%u.%u (%s)", g->major, g->minor, g->micro,
                                   g->package ? g->package : "");
    g_clear_pointer(&q->mon, tv_qemu_monitor_free);
    if (q->pid > 0) {
        if (failed)
            kill(q->pid, SIGKILL);
        int status = 0;
        waitpid(q->pid, &status, 0);
    }
    unlink(q->sock);
    g_free(q->sock);
}

/* One session (two QEMUs for "migrate"); its scripts go to scripts in the
 * order of tv_mon_session_files. */
static int record_session(const char *name, const char *binary, const char *firmware_dir,
                          GPtrArray *scripts, char **version)
{
    g_autofree char *dir = g_dir_make_tmp("qmpsession-XXXXXX", NULL);
    bool migrate = g_str_equal(name, "migrate");
    LiveQemu q[2] = { { 0 } };
    int rc = -1;
    if (migrate) {
        if (live_start("migrate-source", binary, firmware_dir, dir, &q[0]) == 0 &&
            live_start("migrate-dest", binary, firmware_dir, dir, &q[1]) == 0) {
            g_auto(TvMonSession) src = { 0 };
            g_auto(TvMonSession) dst = { 0 };
            rc = tv_mon_session_run_migrate(q[0].mon, q[1].mon, &src, &dst);
        }
    } else if (live_start(name, binary, firmware_dir, dir, &q[0]) == 0) {
        g_auto(TvMonSession) session = { 0 };
        rc = tv_mon_session_run(name, q[0].mon, &session);
    }
    if (rc < 0)
        fprintf(stderr, "error: %s\n", tv_error_message());
    for (int i = 0; i < (migrate ? 2 : 1); i++) {
        live_stop(&q[i], rc < 0, version);
        g_ptr_array_add(scripts, q[i].script);
    }
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    (void)!system(rm);
    return rc;
}

static int record_sessions(const char *binary, const char *firmware_dir, const char *out)
{
    const char *sessions[] = { "run", "guest-shutdown", "devices", "migrate" };
    g_autoptr(GPtrArray) scripts =
        g_ptr_array_new_with_free_func((GDestroyNotify)tv_qemu_monitor_script_free);
    g_autofree char *version = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(sessions); i++) {
        gint64 t0 = g_get_monotonic_time();
        if (record_session(sessions[i], binary, firmware_dir, scripts, &version) < 0)
            return 1;
        fprintf(stderr, "session %s: %.1f ms\n", sessions[i],
                (g_get_monotonic_time() - t0) / 1000.0);
    }
    g_assert(scripts->len == g_strv_length((char **)tv_mon_session_files));
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    g_autofree char *comment = g_strdup_printf(
        "binary: %s\n%s\nhost: %s, kernel %s\nrecorded by tests/qemucapsrecord --qmp-sessions; "
        "sessions in tests/qemumonitorsession.c",
        binary, version ? version : "QEMU (no greeting)", host ? host->arch : "?",
        host ? host->kernel_release : "?");
    g_autofree char *text =
        tv_qemu_monitor_sessions_format(comment, (const char *const *)tv_mon_session_files,
                                        (TvQemuMonitorScript *const *)scripts->pdata, scripts->len);
    if (tv_file_write_atomic(out, text, strlen(text), 0644) < 0) {
        fprintf(stderr, "error: %s\n", tv_error_message());
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    g_autofree char *record = NULL, *xml_out = NULL, *firmware = NULL, *cache = NULL;
    g_autofree char *sessions = NULL, *firmware_dir = NULL;
    gint parallel = 0, timeout = 0, repeat = 1000;
    GOptionEntry entries[] = {
        { "record", 0, 0, G_OPTION_ARG_FILENAME, &record, "write the recording", "FILE" },
        { "xml", 0, 0, G_OPTION_ARG_FILENAME, &xml_out, "write the replayed caps XML", "FILE" },
        { "parallel", 0, 0, G_OPTION_ARG_INT, &parallel, "concurrent boots", "N" },
        { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "per QEMU process", "MS" },
        { "firmware", 0, 0, G_OPTION_ARG_FILENAME, &firmware, "probe.elf", "FILE" },
        { "cache", 0, 0, G_OPTION_ARG_FILENAME, &cache, "time cached lookups", "DIR" },
        { "repeat", 0, 0, G_OPTION_ARG_INT, &repeat, "cached lookups to time", "N" },
        { "qmp-sessions", 0, 0, G_OPTION_ARG_FILENAME, &sessions, "record the QMP sessions",
          "FILE" },
        { "firmware-dir", 0, 0, G_OPTION_ARG_FILENAME, &firmware_dir,
          "the demo guests (with --qmp-sessions)", "DIR" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("BINARY");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) gerr = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr) || argc != 2) {
        fprintf(stderr, "usage: qemucapsrecord [options] BINARY (--help)\n");
        return 2;
    }
    const char *binary = argv[1];
    if (sessions) {
        if (!firmware_dir) {
            fprintf(stderr, "error: --qmp-sessions needs --firmware-dir\n");
            return 2;
        }
        return record_sessions(binary, firmware_dir, sessions);
    }
    TvQemuCapsProbeOptions opts = { .probe_firmware = firmware,
                                    .timeout_ms = (unsigned)timeout,
                                    .parallel = (unsigned)parallel,
                                    .record_path = record };
    g_autoptr(TvHostFacts) host = tv_host_facts_read(NULL);
    if (!host) {
        fprintf(stderr, "error: %s\n", tv_error_message());
        return 1;
    }

    if (cache) {
        g_autoptr(TvQemuCapsCache) cc = tv_qemu_caps_cache_new(cache, host, &opts);
        gint64 t0 = g_get_monotonic_time();
        TvQemuCaps *first = tv_qemu_caps_cache_lookup(cc, binary);
        if (!first) {
            fprintf(stderr, "error: %s\n", tv_error_message());
            return 1;
        }
        tv_qemu_caps_unref(first);
        gint64 t1 = g_get_monotonic_time();
        int disk_repeat = MAX(repeat / 100, 1);
        for (int i = 0; i < disk_repeat; i++) {
            tv_qemu_caps_cache_clear_memory(cc);
            TvQemuCaps *c = tv_qemu_caps_cache_lookup(cc, binary);
            if (!c)
                return 1;
            tv_qemu_caps_unref(c);
        }
        gint64 t2 = g_get_monotonic_time();
        for (int i = 0; i < repeat; i++)
            tv_qemu_caps_unref(tv_qemu_caps_cache_lookup(cc, binary));
        gint64 t3 = g_get_monotonic_time();
        printf("first lookup (probe) %.1f ms, from disk %.3f ms (mean of %d), from memory "
               "%.4f ms (mean of %d)\n",
               (t1 - t0) / 1000.0, (t2 - t1) / 1000.0 / disk_repeat, disk_repeat,
               (t3 - t2) / 1000.0 / MAX(repeat, 1), repeat);
        return 0;
    }

    gint64 t0 = g_get_monotonic_time();
    g_autoptr(TvQemuCaps) caps = tv_qemu_caps_probe(binary, host, &opts);
    gint64 t1 = g_get_monotonic_time();
    if (!caps) {
        fprintf(stderr, "error: %s\n", tv_error_message());
        return 1;
    }
    fprintf(stderr, "probed %s in %.1f ms (%zu guest-ABI probes)\n", binary, (t1 - t0) / 1000.0,
            caps->nprobes);
    if (xml_out) {
        g_autofree char *text = NULL;
        size_t len = 0;
        g_autoptr(TvQemuCaps) replayed = NULL;
        if (!record || tv_file_read_all(record, 64 * 1024 * 1024, &text, &len) < 0 ||
            !(replayed = tv_qemu_caps_replay(text, len, "qemu-system-aarch64"))) {
            fprintf(stderr, "error: --xml needs --record and a replayable recording: %s\n",
                    tv_error_message());
            return 1;
        }
        g_autofree char *xml = tv_qemu_caps_format(replayed);
        if (tv_file_write_atomic(xml_out, xml, strlen(xml), 0644) < 0) {
            fprintf(stderr, "error: %s\n", tv_error_message());
            return 1;
        }
    }
    return 0;
}
