/* The QEMU driver with guests that really run (the bundled demo guest under
 * the real QEMU): start, live XML, suspend/resume, destroy, a guest that
 * powers off by itself, a refused start, undefine while running, transient
 * domains, reconnect after close/open, autostart, starts through the QEMU
 * fork server (the default here, as in tagvirtd). */
#include "domain_conf.h"
#include "drivertestutils.h"
#include "tv_error.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EVENT_WAIT_MS 10000

static void assert_state(DtEnv *env, const unsigned char *uuid, int state, int reason)
{
    int s = -1, r = -1;
    g_assert_cmpint(tv_qemu_driver_get_state(env->drv, uuid, &s, &r), ==, 0);
    g_assert_cmpint(s, ==, state);
    g_assert_cmpint(r, ==, reason);
}

static void test_start_destroy(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "run3", NULL, NULL, "<mte version='3'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_assert_true(dt_wait_event(&env, "run3", TV_DOMAIN_EVENT_STARTED, 0, EVENT_WAIT_MS));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1 /* booted */);
    pid_t pid = dt_qemu_pid(&env, "run3");
    g_assert_true(dt_pid_alive(pid));
    g_assert_cmpint(tv_qemu_driver_is_active(env.drv, ref.uuid), ==, 1);

    TvDomainRef by_id = { 0 };
    g_assert_cmpint(tv_qemu_driver_lookup_by_id(env.drv, ref.id, &by_id), ==, 0);
    g_assert_cmpstr(by_id.name, ==, "run3");
    tv_domain_ref_clear(&by_id);

    g_autofree char *live = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_autofree char *id_attr = g_strdup_printf("<domain type='qemu' id='%d'>", ref.id);
    g_assert_nonnull(strstr(live, id_attr));
    g_assert_nonnull(strstr(live, "<mte version='3'/>"));
    g_autofree char *migratable = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_MIGRATABLE);
    g_assert_null(strstr(migratable, " id='"));
    g_assert_nonnull(strstr(migratable, "<mte version='3'/>"));

    /* a second start is refused and changes nothing */
    g_assert_cmpint(tv_qemu_driver_create(env.drv, ref.uuid, 0, NULL), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();
    g_assert_cmpint(dt_qemu_pid(&env, "run3"), ==, pid);

    /* QEMU's CPU time shows up in the info */
    TvDomainInfo info = { 0 };
    for (int i = 0; i < 100 && info.cpu_time_ns == 0; i++) {
        g_usleep(20000);
        g_assert_cmpint(tv_qemu_driver_get_info(env.drv, ref.uuid, &info), ==, 0);
    }
    g_assert_cmpint(info.state, ==, TV_DOMAIN_STATE_RUNNING);
    g_assert_cmpuint(info.cpu_time_ns, >, 0);
    g_assert_cmpuint(info.mem_kib, ==, 131072);

    g_assert_cmpint(tv_qemu_driver_suspend(env.drv, ref.uuid), ==, 0);
    g_assert_true(dt_wait_event(&env, "run3", TV_DOMAIN_EVENT_SUSPENDED, 0, EVENT_WAIT_MS));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_PAUSED, 1 /* user */);
    g_autofree char *paused = dt_list_names(env.drv, TV_LIST_PAUSED);
    g_assert_cmpstr(paused, ==, "run3");
    g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, 0);
    g_assert_true(dt_wait_event(&env, "run3", TV_DOMAIN_EVENT_RESUMED, 0, EVENT_WAIT_MS));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 5 /* unpaused */);

    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    g_assert_true(dt_wait_event(&env, "run3", TV_DOMAIN_EVENT_STOPPED, 1, EVENT_WAIT_MS));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_SHUTOFF, 2 /* destroyed */);
    g_assert_false(dt_pid_alive(pid));
    g_assert_cmpint(tv_qemu_driver_lookup_by_id(env.drv, ref.id, &by_id), ==, -1);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    tv_error_reset();

    /* it starts again, with a new id */
    int first = ref.id;
    dt_start_ok(&env, &ref);
    g_assert_cmpint(ref.id, >, first);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_live_resolution(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "runmax", NULL, NULL, "<mte version='max'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_autofree char *live = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_autofree char *inactive = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(live, "<mte version='3'/>")); /* QEMU 7.2 'max': MTE 3 */
    g_assert_nonnull(strstr(inactive, "<mte version='max'/>"));

    /* a redefinition while running applies at the next start */
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(ref.uuid, uuid);
    g_autofree char *xml3 = dt_domain_xml(&env, "runmax", uuid, NULL, "<mte version='3'/>", NULL);
    TvDomainRef again = { 0 };
    dt_define_ok(&env, xml3, &again);
    g_assert_cmpint(again.id, ==, ref.id);
    tv_domain_ref_clear(&again);
    g_autofree char *inactive2 = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(inactive2, "<mte version='3'/>"));
    g_autofree char *live2 = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_cmpstr(live2, ==, live);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_guest_powers_off(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    /* demo.elf runs its tag tests and powers off: the domain shuts off by itself */
    g_autofree char *xml =
        dt_domain_xml(&env, "byself", NULL, env.demo, "<mte version='3'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_assert_true(dt_wait_event(&env, "byself", TV_DOMAIN_EVENT_STOPPED, 0, 30000));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_SHUTOFF, 1 /* shutdown */);
    tv_domain_ref_clear(&ref);

    /* a transient domain leaves the list when it stops */
    g_autofree char *xml2 =
        dt_domain_xml(&env, "byself-t", NULL, env.demo, "<mte version='3'/>", NULL);
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, xml2, 0, &ref), ==, 0);
    g_assert_cmpint(tv_qemu_driver_is_persistent(env.drv, ref.uuid), ==, 0);
    g_assert_true(dt_wait_event(&env, "byself-t", TV_DOMAIN_EVENT_STOPPED, 0, 30000));
    g_assert_cmpint(tv_qemu_driver_is_active(env.drv, ref.uuid), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN);
    tv_error_reset();
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "byself");
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_start_refused(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    /* a definition the emulator cannot give (written before open, as after a
     * QEMU change): it is listed, and its start says why without a QEMU */
    g_autofree char *config = g_build_filename(env.root, "config", NULL);
    g_assert_cmpint(g_mkdir_with_parents(config, 0700), ==, 0);
    g_autofree char *xml = dt_domain_xml(&env, "refused", NULL, NULL, "<mte version='2'/>", NULL);
    g_autofree char *file = g_build_filename(config, "refused.xml", NULL);
    g_assert_true(g_file_set_contents(file, xml, -1, NULL));
    dt_open(&env, false);
    TvDomainRef ref = { 0 };
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "refused", &ref), ==, 0);
    g_assert_cmpint(tv_qemu_driver_create(env.drv, ref.uuid, 0, NULL), ==, -1);
    g_test_message("%s", tv_error_message());
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_CONFIG_UNSUPPORTED);
    g_assert_nonnull(strstr(tv_error_message(), "MTE version 2 is not available"));
    tv_error_reset();
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_SHUTOFF, 0);
    g_assert_false(dt_qemu_running("refused"));
    g_assert_cmpint(dt_qemu_pid(&env, "refused"), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_start_failed(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    /* QEMU itself refuses (no such kernel): the start fails after the spawn */
    g_autofree char *missing = g_build_filename(env.root, "no-such-kernel.elf", NULL);
    g_autofree char *xml = dt_domain_xml(&env, "failing", NULL, missing, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpint(tv_qemu_driver_create(env.drv, ref.uuid, 0, NULL), ==, -1);
    g_test_message("%s", tv_error_message());
    g_assert_nonnull(strstr(tv_error_message(), "no-such-kernel.elf"));
    tv_error_reset();
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_SHUTOFF, 6 /* failed */);
    g_assert_true(dt_wait_event(&env, "failing", TV_DOMAIN_EVENT_STOPPED, 5, EVENT_WAIT_MS));
    g_assert_false(dt_qemu_running("failing"));
    g_assert_cmpint(dt_qemu_pid(&env, "failing"), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_undefine_running(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "vanish", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_assert_cmpint(tv_qemu_driver_undefine(env.drv, ref.uuid, 0), ==, 0);
    g_assert_cmpint(tv_qemu_driver_is_persistent(env.drv, ref.uuid), ==, 0);
    g_assert_cmpint(tv_qemu_driver_is_active(env.drv, ref.uuid), ==, 1);
    g_autofree char *transient = dt_list_names(env.drv, TV_LIST_TRANSIENT);
    g_assert_cmpstr(transient, ==, "vanish");
    g_autofree char *inactive = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_INACTIVE);
    g_assert_nonnull(inactive);
    g_assert_cmpint(tv_qemu_driver_set_autostart(env.drv, ref.uuid, true), ==, -1);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "");
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static void test_reconnect(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "stay", NULL, NULL, "<mte version='max'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    g_autofree char *t_xml = dt_domain_xml(&env, "stay-t", NULL, NULL, NULL, NULL);
    TvDomainRef tref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, t_xml, 0, &tref), ==, 0);
    g_autofree char *live = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    pid_t pid = dt_qemu_pid(&env, "stay"), tpid = dt_qemu_pid(&env, "stay-t");
    dt_close(&env); /* as tagvirtd stopping: the guests keep running */
    g_assert_true(dt_pid_alive(pid));
    g_assert_true(dt_pid_alive(tpid));

    dt_open(&env, false);
    g_autofree char *running = dt_list_names(env.drv, TV_LIST_RUNNING);
    g_assert_cmpstr(running, ==, "stay,stay-t");
    g_autofree char *transient = dt_list_names(env.drv, TV_LIST_TRANSIENT);
    g_assert_cmpstr(transient, ==, "stay-t");
    TvDomainRef again = { 0 };
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "stay", &again), ==, 0);
    g_assert_cmpint(again.id, ==, ref.id);
    tv_domain_ref_clear(&again);
    g_assert_cmpint(dt_qemu_pid(&env, "stay"), ==, pid);
    g_autofree char *live2 = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_cmpstr(live2, ==, live);
    g_autofree char *inactive = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_INACTIVE);
    g_assert_nonnull(strstr(inactive, "<mte version='max'/>"));

    /* a new start gets an id no running domain has */
    g_autofree char *n_xml = dt_domain_xml(&env, "stay-n", NULL, NULL, NULL, NULL);
    TvDomainRef nref = { 0 };
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, n_xml, 0, &nref), ==, 0);
    g_assert_cmpint(nref.id, !=, ref.id);
    g_assert_cmpint(nref.id, !=, tref.id);

    /* the runtime watches the taken-over QEMU: destroy is seen */
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    g_assert_true(dt_wait_event(&env, "stay", TV_DOMAIN_EVENT_STOPPED, 1, EVENT_WAIT_MS));
    g_assert_false(dt_pid_alive(pid));
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, tref.uuid, 0), ==, 0);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, nref.uuid, 0), ==, 0);
    g_autofree char *left = dt_list_names(env.drv, 0);
    g_assert_cmpstr(left, ==, "stay");
    tv_domain_ref_clear(&ref);
    tv_domain_ref_clear(&tref);
    tv_domain_ref_clear(&nref);
    dt_env_clear(&env);
}

static void test_autostart(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "auto", NULL, NULL, "<mte version='3'/>", NULL);
    g_autofree char *xml2 = dt_domain_xml(&env, "manual", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 }, ref2 = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_define_ok(&env, xml2, &ref2);
    g_assert_cmpint(tv_qemu_driver_set_autostart(env.drv, ref.uuid, true), ==, 0);
    dt_close(&env);
    dt_open(&env, false); /* autostart off in the configuration: nothing starts */
    g_autofree char *none = dt_list_names(env.drv, TV_LIST_ACTIVE);
    g_assert_cmpstr(none, ==, "");
    dt_close(&env);
    dt_open(&env, true);
    g_autofree char *active = dt_list_names(env.drv, TV_LIST_ACTIVE);
    g_assert_cmpstr(active, ==, "auto");
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    tv_domain_ref_clear(&ref2);
    dt_env_clear(&env);
}

static void test_start_paused(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "held", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 }, out = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpint(tv_qemu_driver_create(env.drv, ref.uuid, 2 /* autodestroy */, &out), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_ARGUMENT_UNSUPPORTED);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_create(env.drv, ref.uuid, 1 /* paused */, &out), ==, 0);
    g_assert_true(dt_wait_event(&env, "held", TV_DOMAIN_EVENT_STARTED, 0, EVENT_WAIT_MS));
    g_assert_true(dt_wait_event(&env, "held", TV_DOMAIN_EVENT_SUSPENDED, 0, EVENT_WAIT_MS));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_PAUSED, 1 /* user */);
    g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, 0);
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 5);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    tv_domain_ref_clear(&out);
    dt_env_clear(&env);
}

typedef struct {
    DtEnv *env;
    const unsigned char *uuid;
    int rc;
    char *error;
} SuspendCall;

static gpointer suspend_thread(gpointer data)
{
    SuspendCall *c = data;
    c->rc = tv_qemu_driver_suspend(c->env->drv, c->uuid);
    c->error = c->rc < 0 ? g_strdup(tv_error_message()) : NULL;
    tv_error_reset();
    return NULL;
}

/* A call stuck on QEMU (stopped with SIGSTOP: its 'stop' gets no reply)
 * holds the domain's job: a second change fails after the job wait with
 * libvirt's "cannot acquire state change lock", naming the holder; queries
 * answer meanwhile; once QEMU goes on, both work. */
static void test_job_busy(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    env.job_wait_ms = 500;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "busy", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    dt_start_ok(&env, &ref);
    pid_t pid = dt_qemu_pid(&env, "busy");
    g_assert_cmpint(kill(pid, SIGSTOP), ==, 0);
    SuspendCall call = { &env, ref.uuid, 0, NULL };
    GThread *t = g_thread_new("suspend", suspend_thread, &call);
    g_usleep(200 * 1000); /* suspend has its job and waits for QEMU */

    gint64 t0 = g_get_monotonic_time();
    g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, -1);
    gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_TIMEOUT);
    if (!strstr(tv_error_message(), "domain 'busy': cannot acquire state change lock for "
                                    "'resume' (a modify job) within 0.5 s (held by 'suspend', "
                                    "a suspend job, for "))
        g_error("unexpected: %s", tv_error_message());
    g_test_message("%s (after %" G_GINT64_FORMAT " ms)", tv_error_message(), waited_ms);
    g_assert_cmpint(waited_ms, >=, 490);
    tv_error_reset();
    /* queries do not wait for it */
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1 /* booted */);
    int type = -1;
    unsigned long long values[11];
    g_assert_cmpint(tv_qemu_driver_job_info(env.drv, ref.uuid, 0, &type, values), ==, 0);
    g_assert_cmpint(type, ==, TV_JOB_NONE);
    /* no long-running job to abort: said at once */
    g_assert_cmpint(tv_qemu_driver_abort_job(env.drv, ref.uuid), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_INVALID);
    g_assert_nonnull(strstr(tv_error_message(), "no job is active on domain 'busy'"));
    tv_error_reset();

    g_assert_cmpint(kill(pid, SIGCONT), ==, 0);
    g_thread_join(t);
    if (call.rc < 0)
        g_error("suspend after SIGCONT: %s", call.error);
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_PAUSED, 1 /* user */);
    g_assert_cmpint(tv_qemu_driver_resume(env.drv, ref.uuid), ==, 0);
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 5 /* unpaused */);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

/* /proc/PID/FILE, NULL when unreadable */
static char *proc_file(pid_t pid, const char *file, gsize *len)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, file);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, len, NULL))
        return NULL;
    return text;
}

/* Does the NUL-separated list hold an entry starting with prefix? */
static bool nul_list_has(const char *list, gsize len, const char *prefix)
{
    for (gsize off = 0; off < len; off += strlen(list + off) + 1) {
        if (g_str_has_prefix(list + off, prefix))
            return true;
    }
    return false;
}

static bool forked_from_server(pid_t pid)
{
    g_autofree char *maps = proc_file(pid, "maps", NULL);
    return maps && strstr(maps, "tagvirt-zygote.so") != NULL;
}

/* Field n (1-based, n >= 3) of /proc/PID/stat. */
static long long stat_field(pid_t pid, int n)
{
    g_autofree char *st = proc_file(pid, "stat", NULL);
    g_assert_nonnull(st);
    char *p = strrchr(st, ')') + 1;
    g_auto(GStrv) f = g_strsplit(g_strstrip(p), " ", -1);
    g_assert_cmpuint(g_strv_length(f), >, (guint)(n - 3));
    return g_ascii_strtoll(f[n - 3], NULL, 10);
}

static int cmp_str_ptr(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What QEMU has open, inode numbers dropped, sorted. */
static char *fd_summary(pid_t pid)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)pid);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        g_autofree char *link = g_build_filename(dir, e, NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        if (!target)
            continue;
        char *bracket = strchr(target, '[');
        if (bracket && g_str_has_prefix(target, "socket:"))
            *bracket = '\0';
        /* what is open, not its number: the plain start passes the monitor's
         * listening socket as fd 3, the forked one has QEMU make its own */
        g_ptr_array_add(items, g_strdup(target));
    }
    g_ptr_array_sort(items, cmp_str_ptr);
    g_ptr_array_add(items, NULL);
    return g_strjoinv(",", (char **)items->pdata);
}

/* The fork server of this test process (a child running "... -version"). */
static pid_t find_server(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        pid_t pid = (pid_t)g_ascii_strtoll(e, NULL, 10);
        gsize len = 0;
        g_autofree char *cmd = pid > 0 ? proc_file(pid, "cmdline", &len) : NULL;
        if (cmd && nul_list_has(cmd, len, "-version") && stat_field(pid, 4) == getpid())
            return pid;
    }
    return 0;
}

/* Start until the start went through the fork server (it loads beside the
 * driver; a start before it answered spawns QEMU). */
static pid_t start_forked(DtEnv *env, TvDomainRef *ref)
{
    for (int i = 0; i < 100; i++) {
        dt_start_ok(env, ref);
        pid_t pid = dt_qemu_pid(env, ref->name);
        if (forked_from_server(pid))
            return pid;
        g_assert_cmpint(tv_qemu_driver_destroy(env->drv, ref->uuid, 0), ==, 0);
        g_usleep(50000);
    }
    g_error("no start went through the fork server");
}

static void test_prefork(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "pf", NULL, NULL, "<mte version='3'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    pid_t pid = start_forked(&env, &ref);

    /* as if executed: our child, its own group, the domain's command line
     * and environment, not the server's */
    g_assert_cmpint(stat_field(pid, 4), ==, getpid());
    g_assert_cmpint(stat_field(pid, 5), ==, pid);
    gsize len = 0;
    g_autofree char *cmdline = proc_file(pid, "cmdline", &len);
    g_assert_nonnull(cmdline);
    g_assert_true(g_str_has_suffix(cmdline, "qemu-system-aarch64"));
    g_assert_true(nul_list_has(cmdline, len, "guest=pf,"));
    g_assert_false(nul_list_has(cmdline, len, "-version"));
    g_autofree char *environ_ = proc_file(pid, "environ", &len);
    g_assert_nonnull(environ_);
    g_assert_true(nul_list_has(environ_, len, "GLIBC_TUNABLES="));
    g_assert_false(nul_list_has(environ_, len, "TAGVIRT_ZYGOTE_"));
    if (!g_getenv("LD_PRELOAD"))
        g_assert_false(nul_list_has(environ_, len, "LD_PRELOAD="));
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1 /* booted */);
    TvDomainInfo info = { 0 };
    for (int i = 0; i < 100 && info.cpu_time_ns == 0; i++) {
        g_usleep(20000);
        g_assert_cmpint(tv_qemu_driver_get_info(env.drv, ref.uuid, &info), ==, 0);
    }
    g_assert_cmpuint(info.cpu_time_ns, >, 0);
    g_autofree char *fds_forked = fd_summary(pid);

    /* it survives the driver closing, and is taken over again */
    dt_close(&env);
    g_assert_true(dt_pid_alive(pid));
    dt_open(&env, false);
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1);
    g_assert_cmpint(dt_qemu_pid(&env, "pf"), ==, pid);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    assert_state(&env, ref.uuid, TV_DOMAIN_STATE_SHUTOFF, 2 /* destroyed */);
    g_assert_false(dt_pid_alive(pid)); /* reaped by us */

    /* the server dies: the next start spawns QEMU, a later one has a new server */
    pid_t server = find_server();
    g_assert_cmpint(server, >, 0);
    kill(server, SIGKILL);
    g_usleep(50000);
    dt_start_ok(&env, &ref);
    pid = dt_qemu_pid(&env, "pf");
    g_assert_false(forked_from_server(pid));
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    pid = start_forked(&env, &ref);
    g_assert_cmpint(find_server(), !=, server);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);

    /* the same domain executed: the same open files */
    dt_close(&env);
    env.no_prefork = true;
    dt_open(&env, false);
    g_assert_cmpint(find_server(), ==, 0);
    dt_start_ok(&env, &ref);
    pid = dt_qemu_pid(&env, "pf");
    g_assert_false(forked_from_server(pid));
    info.cpu_time_ns = 0;
    for (int i = 0; i < 100 && info.cpu_time_ns == 0; i++) {
        g_usleep(20000);
        g_assert_cmpint(tv_qemu_driver_get_info(env.drv, ref.uuid, &info), ==, 0);
    }
    g_autofree char *fds_plain = fd_summary(pid);
    g_assert_cmpstr(fds_forked, ==, fds_plain);
    g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

/* An emulator that is a wrapper script cannot host the fork server: its
 * domains' QEMUs are executed, and the server is not tried again at every
 * start (each try would cost a QEMU start beside the real one). */
static void test_prefork_wrapper(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    g_autofree char *wrapper = g_build_filename(env.root, "qemu-wrapper", NULL);
    g_autofree char *tries = g_build_filename(env.root, "version-calls", NULL);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\n"
                                              "[ \"$1\" = -version ] && echo >> '%s'\n"
                                              "exec /usr/bin/qemu-system-aarch64 \"$@\"\n",
                                              tries);
    g_assert_true(g_file_set_contents(wrapper, script, -1, NULL));
    g_assert_cmpint(chmod(wrapper, 0755), ==, 0);
    dt_open(&env, false);
    g_autofree char *plain = dt_domain_xml(&env, "wr", NULL, NULL, NULL, NULL);
    g_autofree char *emu = g_strdup_printf("<devices>\n    <emulator>%s</emulator>\n", wrapper);
    g_auto(GStrv) parts = g_strsplit(plain, "<devices>\n", 2);
    g_autofree char *xml = g_strjoin(emu, parts[0], parts[1], NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref); /* probes the wrapper's QEMU */
    g_autofree char *before = NULL;
    g_file_get_contents(tries, &before, NULL, NULL);
    for (int i = 0; i < 4; i++) {
        dt_start_ok(&env, &ref);
        pid_t pid = dt_qemu_pid(&env, "wr");
        g_assert_cmpint(stat_field(pid, 4), ==, getpid());
        g_assert_false(forked_from_server(pid));
        assert_state(&env, ref.uuid, TV_DOMAIN_STATE_RUNNING, 1);
        g_assert_cmpint(tv_qemu_driver_destroy(env.drv, ref.uuid, 0), ==, 0);
        g_usleep(100000); /* time for a server to fail its handshake */
    }
    g_autofree char *after = NULL;
    g_file_get_contents(tries, &after, NULL, NULL);
    /* one try at the first start, none after */
    g_assert_cmpuint(strlen(after ? after : ""), ==, strlen(before ? before : "") + 1);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static int run_tests(void)
{
    g_test_add_func("/driver/run/start-destroy", test_start_destroy);
    g_test_add_func("/driver/run/live-resolution", test_live_resolution);
    g_test_add_func("/driver/run/guest-powers-off", test_guest_powers_off);
    g_test_add_func("/driver/run/start-refused", test_start_refused);
    g_test_add_func("/driver/run/start-failed", test_start_failed);
    g_test_add_func("/driver/run/undefine-running", test_undefine_running);
    g_test_add_func("/driver/run/reconnect", test_reconnect);
    g_test_add_func("/driver/run/autostart", test_autostart);
    g_test_add_func("/driver/run/start-paused", test_start_paused);
    g_test_add_func("/driver/run/job-busy", test_job_busy);
    g_test_add_func("/driver/run/prefork", test_prefork);
    g_test_add_func("/driver/run/prefork-wrapper", test_prefork_wrapper);
    return g_test_run();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    return dt_run_guarded(run_tests);
}
