/* The QEMU driver's state on disk under faults, with guests that really run:
 * a start interrupted before QEMU answered (its start record), status files
 * that are truncated, over the size limit or name a dead pid while another
 * QEMU of the domain runs, a name too long for a socket path derived from it,
 * a multi-line <description> across status rewrites, and dumpxml racing a
 * domain that goes away.  After each: exactly one QEMU per running domain,
 * none that nobody manages.  (The kill -9 loop against tagvirtd itself is
 * tests/daemon/kill-loop.py.) */
#include "domain_conf.h"
#include "drivertestutils.h"
#include "qemu_process.h"
#include "qemu_status.h"
#include "tv_error.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EVENT_WAIT_MS 10000

static char *status_path(DtEnv *env, const char *name)
{
    g_autofree char *state = g_build_filename(env->root, "state", NULL);
    return tv_qemu_process_status_path(state, name);
}

/* The files in STATE whose name starts with prefix ("x.xml.unreadable-"). */
static int count_state_files(DtEnv *env, const char *prefix)
{
    g_autofree char *state = g_build_filename(env->root, "state", NULL);
    g_autoptr(GDir) dir = g_dir_open(state, 0, NULL);
    int n = 0;
    const char *e;
    while (dir && (e = g_dir_read_name(dir)))
        n += g_str_has_prefix(e, prefix);
    return n;
}

/* What the domain's QEMU log says about the last recovery. */
static bool log_says(DtEnv *env, const char *name, const char *text)
{
    g_autofree char *file = g_strdup_printf("%s.log", name);
    g_autofree char *path = g_build_filename(env->root, "log", file, NULL);
    g_autofree char *log = NULL;
    if (!g_file_get_contents(path, &log, NULL, NULL))
        return false;
    if (!strstr(log, text))
        g_test_message("%s lacks '%s':\n%s", path, text, log);
    return strstr(log, text) != NULL;
}

static bool is_active(DtEnv *env, const char *name)
{
    TvDomainRef ref = { 0 };
    if (tv_qemu_driver_lookup_by_name(env->drv, name, &ref) < 0) {
        tv_error_reset();
        return false;
    }
    int active = tv_qemu_driver_is_active(env->drv, ref.uuid);
    tv_domain_ref_clear(&ref);
    return active == 1;
}

static bool is_listed(DtEnv *env, const char *name)
{
    TvDomainRef ref = { 0 };
    int rc = tv_qemu_driver_lookup_by_name(env->drv, name, &ref);
    tv_error_reset();
    tv_domain_ref_clear(&ref);
    return rc == 0;
}

/* Turn a running domain's status file into the record a start writes before
 * it spawns QEMU: what a tagvirtd killed in that window leaves. */
static void make_start_record(DtEnv *env, const char *name)
{
    g_autofree char *path = status_path(env, name);
    g_autoptr(TvQemuStatus) st = tv_qemu_status_read(path);
    g_assert_nonnull(st);
    st->state = TV_DOMAIN_STATE_PAUSED;
    st->reason = TV_DOMAIN_PAUSED_STARTING_UP;
    st->pid = 0;
    st->start_time = 0;
    g_clear_pointer(&st->console_path, g_free);
    g_assert_cmpint(tv_qemu_status_write(path, st), ==, 0);
}

/* A start interrupted after the start record: its QEMU (found by its command
 * line, since the record has no pid) is killed, never left unmanaged; the
 * domain is shut off (a transient one is gone); a new start makes one QEMU. */
static void test_interrupted_start(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = true; /* as tagvirtd: the monitor socket is passed to QEMU */
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "intr", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_autofree char *t_xml = dt_domain_xml(&env, "intr-t", NULL, NULL, NULL, NULL);
    TvDomainRef tref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, t_xml, 0, &tref), ==, 0);
    pid_t pid = dt_qemu_pid(&env, "intr"), tpid = dt_qemu_pid(&env, "intr-t");
    dt_close(&env);
    make_start_record(&env, "intr");
    make_start_record(&env, "intr-t");

    dt_open(&env, false);
    g_assert_false(dt_pid_alive(pid));
    g_assert_false(dt_pid_alive(tpid));
    g_assert_cmpint(dt_qemu_count("intr"), ==, 0);
    g_assert_cmpint(dt_qemu_count("intr-t"), ==, 0);
    g_assert_false(is_active(&env, "intr"));
    g_assert_false(is_listed(&env, "intr-t"));
    g_autofree char *path = status_path(&env, "intr");
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_assert_true(log_says(&env, "intr",
                           "found by its command line: killed (its start was "
                           "interrupted)"));

    dt_start_ok(&env, &ref);
    g_assert_cmpint(dt_qemu_count("intr"), ==, 1);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    g_assert_cmpint(dt_qemu_count("intr"), ==, 0);
    tv_domain_ref_clear(&ref);
    tv_domain_ref_clear(&tref);
    dt_env_clear(&env);
}

static void truncate_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_true(g_file_set_contents(path, data, (gssize)(len / 2), NULL));
}

/* Over TV_QEMU_STATE_FILE_MAX: a comment the loader never gets to read. */
static void inflate_file(const char *path)
{
    g_autofree char *data = NULL;
    g_assert_true(g_file_get_contents(path, &data, NULL, NULL));
    g_autofree char *pad = g_strnfill(TV_QEMU_STATE_FILE_MAX, 'x');
    g_autofree char *big = g_strdup_printf("%s<!-- %s -->\n", data, pad);
    g_assert_true(g_file_set_contents(path, big, -1, NULL));
}

#define REDEF_UUID "6ba7b812-9dad-41d1-80b4-00c04fd430c8"

/* Status files that cannot be read are kept aside, never deleted; the QEMU is
 * found by its command line and taken over when the persistent definition
 * gives exactly that command line, else killed.  No second QEMU from start. */
static void test_unreadable_status(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = true; /* as tagvirtd: the monitor socket is passed to QEMU */
    dt_open(&env, false);
    const char *names[] = { "trunc", "big", "redef" };
    TvDomainRef refs[3] = { 0 };
    pid_t pids[3];
    const char *uuids[] = { NULL, NULL, REDEF_UUID };
    for (size_t i = 0; i < 3; i++) {
        g_autofree char *xml = dt_domain_xml(&env, names[i], uuids[i], NULL, NULL, NULL);
        dt_define_ok(&env, xml, &refs[i]);
        dt_start_ok(&env, &refs[i]);
        pids[i] = dt_qemu_pid(&env, names[i]);
    }
    /* redef: the persistent definition changed (another kernel) while it runs */
    g_autofree char *xml2 = dt_domain_xml(&env, "redef", REDEF_UUID, env.demo, NULL, NULL);
    TvDomainRef r2 = { 0 };
    dt_define_ok(&env, xml2, &r2);
    tv_domain_ref_clear(&r2);
    g_autofree char *t_xml = dt_domain_xml(&env, "trunc-t", NULL, NULL, NULL, NULL);
    TvDomainRef tref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, t_xml, 0, &tref), ==, 0);
    pid_t tpid = dt_qemu_pid(&env, "trunc-t");
    dt_close(&env);
    g_autofree char *p_trunc = status_path(&env, "trunc");
    g_autofree char *p_big = status_path(&env, "big");
    g_autofree char *p_redef = status_path(&env, "redef");
    g_autofree char *p_t = status_path(&env, "trunc-t");
    truncate_file(p_trunc);
    inflate_file(p_big);
    truncate_file(p_redef);
    truncate_file(p_t);

    dt_open(&env, false);
    /* taken over: same QEMU, running, a fresh status file, the old kept */
    for (size_t i = 0; i < 2; i++) {
        g_assert_true(is_active(&env, names[i]));
        g_assert_cmpint(dt_qemu_pid(&env, names[i]), ==, pids[i]);
        g_assert_cmpint(dt_qemu_count(names[i]), ==, 1);
        g_autofree char *aside = g_strdup_printf("%s.xml.unreadable-", names[i]);
        g_assert_cmpint(count_state_files(&env, aside), ==, 1);
        g_assert_true(log_says(&env, names[i], "runs the domain's definition: taken over"));
        /* start: refused, no second QEMU */
        TvDomainRef started = { 0 };
        g_assert_cmpint(tv_qemu_driver_create(env.drv, refs[i].uuid, 0, &started), ==, -1);
        g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
        tv_error_reset();
        g_assert_cmpint(dt_qemu_count(names[i]), ==, 1);
    }
    /* killed: what runs is not the persistent definition, or there is none */
    g_assert_false(is_active(&env, "redef"));
    g_assert_false(dt_pid_alive(pids[2]));
    g_assert_true(log_says(&env, "redef", "its command line is not the one the definition gives"));
    g_assert_cmpint(count_state_files(&env, "redef.xml.unreadable-"), ==, 1);
    g_assert_false(is_listed(&env, "trunc-t"));
    g_assert_false(dt_pid_alive(tpid));
    g_assert_cmpint(dt_qemu_count("trunc-t"), ==, 0);
    g_assert_true(log_says(&env, "trunc-t", "there is no definition to compare"));
    g_assert_cmpint(count_state_files(&env, "trunc-t.xml.unreadable-"), ==, 1);

    /* the taken-over ones are managed: destroy ends them */
    for (size_t i = 0; i < 2; i++) {
        g_assert_cmpint(tv_qemu_driver_destroy(env.drv, refs[i].uuid, 0), ==, 0);
        g_assert_cmpint(dt_qemu_count(names[i]), ==, 0);
    }
    for (size_t i = 0; i < 3; i++)
        tv_domain_ref_clear(&refs[i]);
    tv_domain_ref_clear(&tref);
    dt_env_clear(&env);
}

/* argv of a live process from /proc (NULL-terminated). */
static char **process_argv(pid_t pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", (int)pid);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    GPtrArray *argv = g_ptr_array_new();
    for (gsize off = 0; off < len; off += strlen(data + off) + 1)
        g_ptr_array_add(argv, g_strdup(data + off));
    g_ptr_array_add(argv, NULL);
    return (char **)g_ptr_array_free(argv, FALSE);
}

/* The status file names a QEMU that is gone while another QEMU of the domain
 * (a double, as earlier bugs made) runs: the file is stale, the double is
 * found by its command line and killed. */
static void test_stale_with_double(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = false; /* the monitor by path: a copy of the command line binds it too */
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "dbl", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    pid_t pid = dt_qemu_pid(&env, "dbl");
    g_auto(GStrv) argv = process_argv(pid);
    dt_close(&env);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0); /* we are its subreaper */
    GPid twin = 0;
    g_autoptr(GError) err = NULL;
    g_assert_true(g_spawn_async(NULL, argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &twin, &err));
    for (int i = 0; i < 500 && dt_qemu_count("dbl") == 0; i++)
        g_usleep(2000);
    g_assert_cmpint(dt_qemu_count("dbl"), ==, 1);

    dt_open(&env, false);
    g_assert_false(is_active(&env, "dbl"));
    g_assert_false(dt_pid_alive(twin));
    g_assert_cmpint(dt_qemu_count("dbl"), ==, 0);
    g_assert_true(log_says(&env, "dbl",
                           "found by its command line: killed (its status file "
                           "names another pid)"));
    dt_start_ok(&env, &ref);
    g_assert_cmpint(dt_qemu_count("dbl"), ==, 1);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

/* Every name that can be defined can start: 200 bytes (the longest name)
 * does not fit a socket path STATE/<name>.monitor. */
static void test_long_name(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = true; /* as tagvirtd: the monitor socket is passed to QEMU */
    dt_open(&env, false);
    g_autofree char *name = g_strnfill(200, 'n');
    g_autofree char *xml = dt_domain_xml(&env, name, NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_assert_true(is_active(&env, name));
    g_assert_cmpint(dt_qemu_count(name), ==, 1);
    g_assert_cmpint(tv_qemu_driver_suspend(env.drv, ref.uuid), ==, 0);
    dt_close(&env); /* and taken over again through the recorded socket */
    dt_open(&env, false);
    g_assert_true(is_active(&env, name));
    g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, 0);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    g_assert_cmpint(dt_qemu_count(name), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

#define DESCRIPTION "first line\n\n  indented after a blank line\n\n\n\tlast"

/* Status rewrites (suspend, resume, a reconnect) keep a multi-line
 * <description>: a transient domain's only copy is its status file. */
static void test_status_description(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = true; /* as tagvirtd: the monitor socket is passed to QEMU */
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "desc", NULL, NULL, NULL,
                                         "  <description>" DESCRIPTION "</description>\n");
    TvDomainRef ref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, xml, 0, &ref), ==, 0);
    for (int round = 0; round < 3; round++) {
        g_assert_cmpint(tv_qemu_driver_suspend(env.drv, ref.uuid), ==, 0);
        g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, 0);
        dt_close(&env);
        dt_open(&env, false);
    }
    g_autofree char *live = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_nonnull(live);
    if (!strstr(live, "<description>" DESCRIPTION "</description>"))
        g_error("the description changed:\n%s", live);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

typedef struct {
    DtEnv *env;
    gint done;
    gint calls, no_domain, other;
    GMutex lock;
    char *first_other;
} Racer;

static gpointer dumpxml_racer(gpointer data)
{
    Racer *r = data;
    while (!g_atomic_int_get(&r->done)) {
        TvDomainRef ref = { 0 };
        if (tv_qemu_driver_lookup_by_name(r->env->drv, "race", &ref) < 0) {
            tv_error_reset();
            continue;
        }
        g_autofree char *xml = tv_qemu_driver_get_xml(r->env->drv, ref.uuid, 0);
        g_atomic_int_inc(&r->calls);
        if (!xml && tv_error_code() == TV_ERR_NO_DOMAIN) {
            g_atomic_int_inc(&r->no_domain);
        } else if (!xml) {
            g_atomic_int_inc(&r->other);
            g_mutex_lock(&r->lock);
            if (!r->first_other)
                r->first_other = g_strdup_printf("%d: %s", tv_error_code(), tv_error_message());
            g_mutex_unlock(&r->lock);
        }
        tv_error_reset();
        tv_domain_ref_clear(&ref);
    }
    return NULL;
}

/* dumpxml of a transient domain while it starts answers its definition, and
 * once it went away (it stopped) NO_DOMAIN; never INTERNAL_ERROR "has no
 * definition to format". */
static void test_dumpxml_race(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.no_prefork = true; /* as tagvirtd: the monitor socket is passed to QEMU */
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "race", NULL, NULL, NULL, NULL);
    Racer r = { .env = &env };
    g_mutex_init(&r.lock);
    GThread *threads[2];
    for (int i = 0; i < 2; i++)
        threads[i] = g_thread_new("dumpxml", dumpxml_racer, &r);
    for (int i = 0; i < 40; i++) {
        TvDomainRef ref = { 0 };
        g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, xml, 0, &ref), ==, 0);
        g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
        tv_domain_ref_clear(&ref);
    }
    g_atomic_int_set(&r.done, 1);
    for (int i = 0; i < 2; i++)
        g_thread_join(threads[i]);
    g_test_message("%d dumpxml calls: %d NO_DOMAIN, %d other errors (%s)", r.calls, r.no_domain,
                   r.other, r.first_other ? r.first_other : "none");
    g_assert_cmpint(r.other, ==, 0);
    g_free(r.first_other);
    g_mutex_clear(&r.lock);
    dt_env_clear(&env);
}

static int run_tests(void)
{
    g_test_add_func("/driver/fault/interrupted-start", test_interrupted_start);
    g_test_add_func("/driver/fault/unreadable-status", test_unreadable_status);
    g_test_add_func("/driver/fault/stale-with-double", test_stale_with_double);
    g_test_add_func("/driver/fault/long-name", test_long_name);
    g_test_add_func("/driver/fault/status-description", test_status_description);
    g_test_add_func("/driver/fault/dumpxml-race", test_dumpxml_race);
    return g_test_run();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    return dt_run_guarded(run_tests);
}
