#include "drivertestutils.h"

#include "qemu_process.h"
#include "qemu_status.h"
#include "tagvirt-config.h"
#include "tv_error.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The prefix of every root of this run: "tvdrv-<guard pid>-". */
static char *root_prefix(void)
{
    const char *guard = g_getenv("TVDRV_GUARD");
    return g_strdup_printf("tvdrv-%s-", guard ? guard : "0");
}

/* Calls visit with every process's pid and NUL-separated command line
 * until it returns true; returns that pid, or 0. */
static pid_t scan_cmdlines(bool (*visit)(pid_t pid, const char *cmdline, gsize len,
                                         const char *arg),
                           const char *arg)
{
    g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
    const char *entry;
    while (proc && (entry = g_dir_read_name(proc))) {
        if (!g_ascii_isdigit(entry[0]))
            continue;
        g_autofree char *path = g_strdup_printf("/proc/%s/cmdline", entry);
        g_autofree char *cmdline = NULL;
        gsize len = 0;
        if (g_file_get_contents(path, &cmdline, &len, NULL) &&
            visit(atoi(entry), cmdline, len, arg))
            return atoi(entry);
    }
    return 0;
}

/* Is pid a descendant of this run's guard (dt_run_guarded: the test
 * process is its child, and it is the subreaper of orphaned QEMUs)? */
static bool of_this_run(pid_t pid)
{
    const char *guard = g_getenv("TVDRV_GUARD");
    pid_t want = guard ? (pid_t)atoi(guard) : 0;
    for (int depth = 0; want > 1 && pid > 1 && depth < 64; depth++) {
        pid_t parent = 0;
        if (tv_qemu_proc_stat(pid, NULL, NULL, &parent) < 0)
            return false;
        if (parent == want)
            return true;
        pid = parent;
    }
    return false;
}

/* A QEMU of this run: its command line names one of the run's roots
 * (prefix), or it descends from the guard (a QEMU given its monitor socket
 * as a descriptor names no root): killed. */
static bool kill_if_ours(pid_t pid, const char *cmdline, gsize len, const char *prefix)
{
    bool ours = false;
    for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1)
        ours = ours || strstr(cmdline + off, prefix) != NULL;
    if (g_str_has_suffix(cmdline, "qemu-system-aarch64") && (ours || of_this_run(pid))) {
        fprintf(stderr, "# guard: killing QEMU pid %d left by the tests\n", (int)pid);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0); /* ours when we are its subreaper */
    }
    return false;
}

static void kill_run_qemus(const char *prefix)
{
    scan_cmdlines(kill_if_ours, prefix);
}

int dt_run_guarded(int (*run)(void))
{
    g_autofree char *guard = g_strdup_printf("%d", (int)getpid());
    g_setenv("TVDRV_GUARD", guard, TRUE);
    tv_qemu_process_become_subreaper(); /* orphaned QEMUs come back to the guard */
    fflush(stdout);
    pid_t child = fork();
    if (child < 0)
        return 99;
    if (child == 0)
        exit(run()); /* exit, not _exit: sanitizers report at exit */
    int status = 0;
    while (waitpid(child, &status, 0) < 0)
        ;
    g_autofree char *prefix = root_prefix();
    kill_run_qemus(prefix);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'/%s*", g_get_tmp_dir(), prefix);
    if (system(cmd) != 0)
        fprintf(stderr, "# guard: '%s' failed\n", cmd);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "# guard: the tests died of signal %d\n", WTERMSIG(status));
    return 128 + WTERMSIG(status);
}

static void on_event(const TvDomainEvent *e, void *opaque)
{
    DtEnv *env = opaque;
    DtEvent ev = { .id = e->dom.id, .kind = (int)e->id, .event = e->event, .detail = e->detail };
    g_strlcpy(ev.name, e->dom.name, sizeof(ev.name));
    g_strlcpy(ev.str, e->str ? e->str : "", sizeof(ev.str));
    g_mutex_lock(&env->lock);
    g_array_append_val(env->events, ev);
    g_cond_broadcast(&env->cond);
    g_mutex_unlock(&env->lock);
}

static char *firmware(const char *var)
{
    const char *path = g_getenv(var);
    return path && g_file_test(path, G_FILE_TEST_IS_REGULAR) ? g_strdup(path) : NULL;
}

bool dt_env_init(DtEnv *env)
{
    memset(env, 0, sizeof(*env));
    env->demo = firmware("TAGVIRT_TEST_DEMO");
    env->demo_loop = firmware("TAGVIRT_TEST_DEMO_LOOP");
    if (!env->demo || !env->demo_loop) {
        g_test_message(
            "the demo firmware was not built (TAGVIRT_TEST_DEMO, TAGVIRT_TEST_DEMO_LOOP)");
        g_test_fail();
        g_free(env->demo);
        g_free(env->demo_loop);
        return false;
    }
    g_autoptr(GError) err = NULL;
    g_autofree char *prefix = root_prefix();
    g_autofree char *tmpl = g_strdup_printf("%sXXXXXX", prefix);
    env->root = g_dir_make_tmp(tmpl, &err);
    g_assert_no_error(err);
    env->cache_dir = g_build_filename(TAGVIRT_BUILDDIR, "tests", "daemon-caps", NULL);
    g_mutex_init(&env->lock);
    g_cond_init(&env->cond);
    env->events = g_array_new(FALSE, TRUE, sizeof(DtEvent));
    /* QEMUs whose parent is gone come to us (as to tagvirtd), and are reaped */
    tv_qemu_process_become_subreaper();
    return true;
}

TvQemuDriver *dt_open(DtEnv *env, bool autostart)
{
    g_assert_null(env->drv);
    TvQemuDriverConfig cfg = { .root = env->root,
                               .cache_dir = env->cache_dir,
                               .autostart = autostart,
                               .prefork = !env->no_prefork,
                               .host_root = env->host_root,
                               .job_wait_ms = env->job_wait_ms };
    env->drv = tv_qemu_driver_open(&cfg);
    if (!env->drv)
        g_error("driver open: %s", tv_error_message());
    tv_qemu_driver_set_event_callback(env->drv, on_event, env);
    return env->drv;
}

void dt_close(DtEnv *env)
{
    tv_qemu_driver_set_event_callback(env->drv, NULL, NULL);
    tv_qemu_driver_close(g_steal_pointer(&env->drv));
}

/* The QEMUs of this root's state files: killed and reaped. */
static void kill_leftovers(DtEnv *env)
{
    g_autofree char *state = g_build_filename(env->root, "state", NULL);
    g_autoptr(GDir) dir = g_dir_open(state, 0, NULL);
    const char *entry;
    while (dir && (entry = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(entry, ".xml"))
            continue;
        g_autofree char *path = g_build_filename(state, entry, NULL);
        g_autoptr(TvQemuStatus) st = tv_qemu_status_read(path);
        tv_error_reset();
        if (st && tv_qemu_status_check_pid(st, NULL) == TV_QEMU_STATUS_PID_ALIVE) {
            g_test_message("killing leftover QEMU pid %d", (int)st->pid);
            kill(st->pid, SIGKILL);
            waitpid(st->pid, NULL, 0);
        }
    }
}

void dt_env_clear(DtEnv *env)
{
    if (!env->root)
        return;
    if (env->drv) {
        TvDomainRef *refs = NULL;
        size_t n = 0;
        if (tv_qemu_driver_list_all(env->drv, TV_LIST_ACTIVE, &refs, &n) == 0) {
            for (size_t i = 0; i < n; i++) {
                if (tv_qemu_driver_destroy(env->drv, refs[i].uuid, 0) < 0)
                    tv_error_reset();
                tv_domain_ref_clear(&refs[i]);
            }
        }
        g_free(refs);
        dt_close(env);
    }
    kill_leftovers(env);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", env->root);
    g_assert_cmpint(system(cmd), ==, 0);
    g_clear_pointer(&env->root, g_free);
    g_free(env->cache_dir);
    g_free(env->demo);
    g_free(env->demo_loop);
    g_free(env->host_root);
    g_array_free(env->events, TRUE);
    g_cond_clear(&env->cond);
    g_mutex_clear(&env->lock);
}

char *dt_domain_xml(const DtEnv *env, const char *name, const char *uuid, const char *kernel,
                    const char *features, const char *extra)
{
    g_autofree char *uuid_el = uuid ? g_strdup_printf("  <uuid>%s</uuid>\n", uuid) : g_strdup("");
    g_autofree char *feat = features
                                ? g_strdup_printf("  <features>\n    %s\n  </features>\n", features)
                                : g_strdup("");
    return g_strdup_printf("<domain type='qemu'>\n"
                           "  <name>%s</name>\n"
                           "%s"
                           "  <memory unit='MiB'>128</memory>\n"
                           "  <vcpu>1</vcpu>\n"
                           "  <os>\n"
                           "    <type arch='aarch64' machine='virt'>hvm</type>\n"
                           "    <kernel>%s</kernel>\n"
                           "  </os>\n"
                           "%s"
                           "  <cpu mode='maximum'/>\n"
                           "  <on_poweroff>destroy</on_poweroff>\n"
                           "  <devices>\n"
                           "    <controller type='usb' model='none'/>\n"
                           "    <memballoon model='none'/>\n"
                           "  </devices>\n"
                           "%s"
                           "</domain>\n",
                           name, uuid_el, kernel ? kernel : env->demo_loop, feat,
                           extra ? extra : "");
}

void dt_define_ok(DtEnv *env, const char *xml, TvDomainRef *ref)
{
    if (tv_qemu_driver_define(env->drv, xml, 0, ref) < 0)
        g_error("define: %s", tv_error_message());
}

void dt_start_ok(DtEnv *env, TvDomainRef *ref)
{
    TvDomainRef started = { 0 };
    if (tv_qemu_driver_create(env->drv, ref->uuid, 0, &started) < 0)
        g_error("start '%s': %s", ref->name, tv_error_message());
    g_assert_cmpint(started.id, >=, 1);
    ref->id = started.id;
    tv_domain_ref_clear(&started);
}

bool dt_wait_event(DtEnv *env, const char *name, int event, int detail, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool found = false;
    g_mutex_lock(&env->lock);
    for (;;) {
        for (guint i = 0; i < env->events->len && !found; i++) {
            DtEvent *ev = &g_array_index(env->events, DtEvent, i);
            found = strcmp(ev->name, name) == 0 && ev->kind == TV_DOMAIN_EVENT_ID_LIFECYCLE &&
                    ev->event == event && ev->detail == detail;
        }
        if (found || !g_cond_wait_until(&env->cond, &env->lock, deadline))
            break;
    }
    g_mutex_unlock(&env->lock);
    if (!found)
        g_test_message("no event %d/%d for '%s' within %u ms", event, detail, name, timeout_ms);
    return found;
}

bool dt_wait_event_kind(DtEnv *env, const char *name, int kind, DtEvent *out, unsigned timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    bool found = false;
    g_mutex_lock(&env->lock);
    for (;;) {
        for (guint i = 0; i < env->events->len && !found; i++) {
            DtEvent *ev = &g_array_index(env->events, DtEvent, i);
            found = strcmp(ev->name, name) == 0 && ev->kind == kind;
            if (found && out)
                *out = *ev;
        }
        if (found || !g_cond_wait_until(&env->cond, &env->lock, deadline))
            break;
    }
    g_mutex_unlock(&env->lock);
    if (!found)
        g_test_message("no event of id %d for '%s' within %u ms", kind, name, timeout_ms);
    return found;
}

void dt_events_reset(DtEnv *env)
{
    g_mutex_lock(&env->lock);
    g_array_set_size(env->events, 0);
    g_mutex_unlock(&env->lock);
}

pid_t dt_qemu_pid(const DtEnv *env, const char *name)
{
    g_autofree char *state = g_build_filename(env->root, "state", NULL);
    g_autofree char *path = tv_qemu_process_status_path(state, name);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return 0;
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(path);
    tv_error_reset();
    return st ? st->pid : 0;
}

bool dt_pid_alive(pid_t pid)
{
    char state = 0;
    return pid > 0 && tv_qemu_proc_stat(pid, NULL, &state, NULL) == 0 && state != 'Z';
}

/* A live process of this run with an argument starting with want
 * ("guest=NAME,"): another run of the same tests at the same time has
 * QEMUs of the same names, which must not be counted. */
static bool is_guest(pid_t pid, const char *cmdline, gsize len, const char *want)
{
    for (gsize off = 0; off < len; off += strlen(cmdline + off) + 1) {
        if (g_str_has_prefix(cmdline + off, want))
            return dt_pid_alive(pid) && of_this_run(pid);
    }
    return false;
}

bool dt_qemu_running(const char *name)
{
    g_autofree char *want = g_strdup_printf("guest=%s,", name);
    return scan_cmdlines(is_guest, want) != 0;
}

static int counted;

static bool count_guest(pid_t pid, const char *cmdline, gsize len, const char *want)
{
    if (is_guest(pid, cmdline, len, want))
        counted++;
    return false;
}

int dt_qemu_count(const char *name)
{
    g_autofree char *want = g_strdup_printf("guest=%s,", name);
    counted = 0;
    scan_cmdlines(count_guest, want);
    return counted;
}

char *dt_list_names(TvQemuDriver *drv, unsigned flags)
{
    TvDomainRef *refs = NULL;
    size_t n = 0;
    g_assert_cmpint(tv_qemu_driver_list_all(drv, flags, &refs, &n), ==, 0);
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < n; i++) {
        g_string_append_printf(out, "%s%s", i ? "," : "", refs[i].name);
        tv_domain_ref_clear(&refs[i]);
    }
    g_free(refs);
    return g_string_free(out, FALSE);
}
