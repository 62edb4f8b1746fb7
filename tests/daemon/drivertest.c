/* The QEMU driver's API on definitions (no guest runs here): define with
 * good and bad MTE XML, redefine, undefine, list filters, persistence across
 * close/open, broken files, host capabilities, concurrency. */
#include "domain_conf.h"
#include "drivertestutils.h"
#include "tv_error.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UUID_A "6ba7b810-9dad-41d1-80b4-00c04fd430c8"
#define UUID_B "6ba7b811-9dad-41d1-80b4-00c04fd430c8"

static char *config_file(DtEnv *env, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(env->root, "config", file, NULL);
}

static char *autostart_link(DtEnv *env, const char *name)
{
    g_autofree char *file = g_strdup_printf("%s.xml", name);
    return g_build_filename(env->root, "config", "autostart", file, NULL);
}

/* Only the given files (and the autostart folder) in CONFIG. */
static void assert_config_files(DtEnv *env, const char *expected)
{
    g_autofree char *dir = g_build_filename(env->root, "config", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *e;
    while ((e = g_dir_read_name(d))) {
        if (strcmp(e, "autostart") != 0)
            g_ptr_array_add(names, g_strdup(e));
    }
    g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
    g_ptr_array_add(names, NULL);
    g_autofree char *got = g_strjoinv(",", (char **)names->pdata);
    g_assert_cmpstr(got, ==, expected);
}

static void test_define_good(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "good", UUID_A, NULL, "<mte version='3'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpstr(ref.name, ==, "good");
    g_assert_cmpint(ref.id, ==, -1);
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(ref.uuid, uuid);
    g_assert_cmpstr(uuid, ==, UUID_A);
    g_assert_true(dt_wait_event(&env, "good", TV_DOMAIN_EVENT_DEFINED, 0, 2000));

    /* what the user wrote, post-parse normalised (versioned machine type) */
    g_autofree char *inactive = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_INACTIVE);
    g_assert_nonnull(inactive);
    g_assert_nonnull(strstr(inactive, "<mte version='3'/>"));
    g_assert_nonnull(strstr(inactive, "machine='virt-"));
    g_autofree char *plain = tv_qemu_driver_get_xml(env.drv, ref.uuid, TV_XML_SECURE);
    g_assert_cmpstr(plain, ==, inactive); /* not running: the same document */

    int state = -1, reason = -1;
    g_assert_cmpint(tv_qemu_driver_get_state(env.drv, ref.uuid, &state, &reason), ==, 0);
    g_assert_cmpint(state, ==, TV_DOMAIN_STATE_SHUTOFF);
    g_assert_cmpint(reason, ==, 0); /* never started: unknown */
    g_assert_cmpint(tv_qemu_driver_is_active(env.drv, ref.uuid), ==, 0);
    g_assert_cmpint(tv_qemu_driver_is_persistent(env.drv, ref.uuid), ==, 1);
    TvDomainInfo info = { 0 };
    g_assert_cmpint(tv_qemu_driver_get_info(env.drv, ref.uuid, &info), ==, 0);
    g_assert_cmpint(info.state, ==, TV_DOMAIN_STATE_SHUTOFF);
    g_assert_cmpuint(info.max_mem_kib, ==, 131072);
    g_assert_cmpuint(info.vcpus, ==, 1);
    g_assert_cmpuint(info.cpu_time_ns, ==, 0);

    TvDomainRef by_name = { 0 };
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "good", &by_name), ==, 0);
    g_assert_cmpmem(by_name.uuid, 16, ref.uuid, 16);
    tv_domain_ref_clear(&by_name);
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "nope", &by_name), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN);
    g_assert_cmpint(tv_qemu_driver_lookup_by_id(env.drv, 1, &by_name), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN);
    tv_error_reset();

    g_autofree char *file = config_file(&env, "good");
    g_autofree char *saved = NULL;
    g_assert_true(g_file_get_contents(file, &saved, NULL, NULL));
    g_assert_cmpstr(saved, ==, inactive);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

typedef struct {
    const char *name;
    const char *features;
    unsigned flags;
    int code;
    const char *message; /* a part of it */
} BadCase;

static void test_define_bad(void)
{
    static const BadCase cases[] = {
        { "bad1", "<mte version='1'/>", 0, TV_ERR_XML_ERROR,
          "invalid value '1' for attribute 'version' of <mte>" },
        { "bad2", "<mte version='banana'/>", 0, TV_ERR_XML_ERROR, "'banana'" },
        { "bad3", "<mte state='off' version='3'/>", 0, TV_ERR_XML_ERROR, "cannot have a version" },
        /* QEMU 7.2's 'max' gives MTE 3: level 2 cannot be had here */
        { "bad4", "<mte version='2'/>", 0, TV_ERR_CONFIG_UNSUPPORTED,
          "MTE version 2 is not available with CPU model 'max'" },
        { "bad5", "<mte version='3'/><bogus/>", TV_DEFINE_VALIDATE, TV_ERR_XML_INVALID_SCHEMA,
          NULL },
        { "bad6", "<mte version='3'/>", 0x100, TV_ERR_INVALID_ARG, "0x100" },
    };
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const BadCase *c = &cases[i];
        g_autofree char *xml = dt_domain_xml(&env, c->name, NULL, NULL, c->features, NULL);
        TvDomainRef ref = { 0 };
        g_assert_cmpint(tv_qemu_driver_define(env.drv, xml, c->flags, &ref), ==, -1);
        g_test_message("%s: %s", c->name, tv_error_message());
        g_assert_cmpint(tv_error_code(), ==, c->code);
        if (c->message)
            g_assert_nonnull(strstr(tv_error_message(), c->message));
        tv_error_reset();
    }
    /* names that would leave CONFIG */
    const char *names[] = { "../escape", ".hidden", "a/b" };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *xml = dt_domain_xml(&env, names[i], NULL, NULL, NULL, NULL);
        TvDomainRef ref = { 0 };
        g_assert_cmpint(tv_qemu_driver_define(env.drv, xml, 0, &ref), ==, -1);
        g_assert_cmpint(tv_error_code(), ==, TV_ERR_XML_ERROR);
        tv_error_reset();
    }
    g_assert_cmpint(tv_qemu_driver_define(env.drv, "<domain", 0, &(TvDomainRef){ 0 }), ==, -1);
    tv_error_reset();
    /* nothing behind: no list entry, no file (temporary ones included) */
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "");
    assert_config_files(&env, "");
    g_autofree char *escaped = g_build_filename(env.root, "escape.xml", NULL);
    g_assert_false(g_file_test(escaped, G_FILE_TEST_EXISTS));
    dt_env_clear(&env);
}

static void test_redefine(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "re", UUID_A, NULL, "<mte version='3'/>", NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    tv_domain_ref_clear(&ref);

    /* same uuid: an update (max instead of 3) */
    g_autofree char *xml2 = dt_domain_xml(&env, "re", UUID_A, NULL, "<mte version='max'/>", NULL);
    dt_define_ok(&env, xml2, &ref);
    g_assert_true(dt_wait_event(&env, "re", TV_DOMAIN_EVENT_DEFINED, 1, 2000));
    g_autofree char *now = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_nonnull(strstr(now, "<mte version='max'/>"));
    tv_domain_ref_clear(&ref);

    /* the name with another uuid: refused, the first one is untouched */
    g_autofree char *xml3 = dt_domain_xml(&env, "re", UUID_B, NULL, NULL, NULL);
    g_assert_cmpint(tv_qemu_driver_define(env.drv, xml3, 0, &ref), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_DOM_EXIST);
    g_assert_cmpstr(tv_error_message(), ==, "domain 're' already exists with uuid " UUID_A);
    tv_error_reset();
    /* the uuid under another name: no silent rename */
    g_autofree char *xml4 = dt_domain_xml(&env, "other", UUID_A, NULL, NULL, NULL);
    g_assert_cmpint(tv_qemu_driver_define(env.drv, xml4, 0, &ref), ==, -1);
    g_assert_nonnull(strstr(tv_error_message(), "already defined with uuid"));
    tv_error_reset();
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "re");
    assert_config_files(&env, "re.xml");
    g_autofree char *file = config_file(&env, "re");
    g_autofree char *saved = NULL;
    g_assert_true(g_file_get_contents(file, &saved, NULL, NULL));
    g_assert_nonnull(strstr(saved, "<mte version='max'/>"));
    dt_env_clear(&env);
}

static void test_undefine_and_autostart(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    g_autofree char *xml = dt_domain_xml(&env, "gone", NULL, NULL, NULL, NULL);
    TvDomainRef ref = { 0 };
    dt_define_ok(&env, xml, &ref);
    g_assert_cmpint(tv_qemu_driver_get_autostart(env.drv, ref.uuid), ==, 0);
    g_assert_cmpint(tv_qemu_driver_set_autostart(env.drv, ref.uuid, true), ==, 0);
    g_assert_cmpint(tv_qemu_driver_get_autostart(env.drv, ref.uuid), ==, 1);
    g_autofree char *link = autostart_link(&env, "gone");
    struct stat st;
    g_assert_cmpint(lstat(link, &st), ==, 0);
    g_autofree char *flagged = dt_list_names(env.drv, 1024 /* autostart */);
    g_assert_cmpstr(flagged, ==, "gone");

    g_assert_cmpint(tv_qemu_driver_undefine(env.drv, ref.uuid, 0x100 /* not an undefine flag */),
                    ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();
    g_assert_cmpint(tv_qemu_driver_undefine(env.drv, ref.uuid, 0), ==, 0);
    g_assert_true(dt_wait_event(&env, "gone", TV_DOMAIN_EVENT_UNDEFINED, 0, 2000));
    g_assert_cmpint(lstat(link, &st), ==, -1);
    assert_config_files(&env, "");
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "");
    g_assert_cmpint(tv_qemu_driver_undefine(env.drv, ref.uuid, 0), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_NO_DOMAIN);
    tv_error_reset();
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

static int skipped_files;

/* The skipped-file warnings are expected here: counted, not fatal. */
static void count_skips(const char *domain, GLogLevelFlags level, const char *message,
                        gpointer data)
{
    if (strstr(message, "QEMU driver: skipping "))
        skipped_files++;
    else
        g_log_default_handler(domain, level, message, data);
}

static void test_persistence(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    const char *names[] = { "p1", "p2", "p3" };
    TvDomainRef refs[3] = { 0 };
    for (size_t i = 0; i < 3; i++) {
        g_autofree char *xml =
            dt_domain_xml(&env, names[i], NULL, NULL, "<mte version='max'/>", NULL);
        dt_define_ok(&env, xml, &refs[i]);
    }
    g_assert_cmpint(tv_qemu_driver_set_autostart(env.drv, refs[1].uuid, true), ==, 0);
    g_autofree char *before = tv_qemu_driver_get_xml(env.drv, refs[2].uuid, 0);
    dt_close(&env);

    /* a broken file and one named for another domain are skipped, not fatal */
    g_autofree char *broken = config_file(&env, "broken");
    g_assert_true(g_file_set_contents(broken, "<domain type='qemu'><name>broken", -1, NULL));
    g_autofree char *misnamed = config_file(&env, "misnamed");
    g_autofree char *p1 = config_file(&env, "p1");
    g_autofree char *p1xml = NULL;
    g_assert_true(g_file_get_contents(p1, &p1xml, NULL, NULL));
    g_assert_true(g_file_set_contents(misnamed, p1xml, -1, NULL));

    GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);
    GLogFunc old = g_log_set_default_handler(count_skips, NULL);
    dt_open(&env, false);
    g_log_set_default_handler(old, NULL);
    g_log_set_always_fatal(fatal);
    g_assert_cmpint(skipped_files, ==, 2);
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "p1,p2,p3");
    g_assert_cmpint(tv_qemu_driver_get_autostart(env.drv, refs[1].uuid), ==, 1);
    g_assert_cmpint(tv_qemu_driver_get_autostart(env.drv, refs[0].uuid), ==, 0);
    g_autofree char *after = tv_qemu_driver_get_xml(env.drv, refs[2].uuid, 0);
    g_assert_cmpstr(after, ==, before);
    for (size_t i = 0; i < 3; i++)
        tv_domain_ref_clear(&refs[i]);
    dt_env_clear(&env);
}

/* A definition of n bytes of text in <description> (ch repeated). */
static char *described_xml(DtEnv *env, const char *name, char ch, size_t n)
{
    /* '"' is itself in text content; tagvirt stores it as &quot; */
    g_autofree char *text = g_strnfill(n, ch);
    g_autofree char *extra = g_strdup_printf("  <description>%s</description>\n", text);
    return dt_domain_xml(env, name, NULL, NULL, NULL, extra);
}

/* Define refuses what the loader could not read back (one limit for both,
 * TV_QEMU_STATE_FILE_MAX); what it accepts survives close/open unchanged. */
static void test_state_limits(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    TvDomainRef ref = { 0 };
    /* 1 MiB of '"' is 6 MiB as &quot;; 4 MiB of text is over the limit too */
    g_autofree char *quotes = described_xml(&env, "quotes", '"', 1024 * 1024);
    g_autofree char *big = described_xml(&env, "big", 'a', 4 * 1024 * 1024);
    const char *refused[] = { quotes, big };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        g_assert_cmpint(tv_qemu_driver_define(env.drv, refused[i], 0, &ref), ==, -1);
        g_test_message("%s", tv_error_message());
        g_assert_cmpint(tv_error_code(), ==, TV_ERR_CONFIG_UNSUPPORTED);
        g_assert_nonnull(strstr(tv_error_message(), "bytes are accepted"));
        tv_error_reset();
    }
    /* a transient domain's status file is its only copy: refused the same way */
    g_assert_cmpint(tv_qemu_driver_create_xml(env.drv, quotes, 0, &ref), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_CONFIG_UNSUPPORTED);
    tv_error_reset();
    assert_config_files(&env, "");

    /* just under the limit, and several lines with blank ones and indentation */
    g_autofree char *near = described_xml(&env, "near", 'b', 4 * 1024 * 1024 - 72 * 1024);
    dt_define_ok(&env, near, &ref);
    g_autofree char *near_before = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    tv_domain_ref_clear(&ref);
    g_autofree char *lines = dt_domain_xml(
        &env, "lines", NULL, NULL, NULL,
        "  <description>first line\n\n  indented after a blank line\n\n\nlast</description>\n");
    dt_define_ok(&env, lines, &ref);
    g_autofree char *lines_before = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_nonnull(strstr(lines_before,
                            "first line\n\n  indented after a blank line\n\n\nlast</description>"));
    tv_domain_ref_clear(&ref);
    dt_close(&env);
    dt_open(&env, false);
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_assert_cmpstr(list, ==, "lines,near");
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "near", &ref), ==, 0);
    g_autofree char *near_after = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_cmpstr(near_after, ==, near_before);
    tv_domain_ref_clear(&ref);
    g_assert_cmpint(tv_qemu_driver_lookup_by_name(env.drv, "lines", &ref), ==, 0);
    g_autofree char *lines_after = tv_qemu_driver_get_xml(env.drv, ref.uuid, 0);
    g_assert_cmpstr(lines_after, ==, lines_before);
    tv_domain_ref_clear(&ref);
    dt_env_clear(&env);
}

/* The temporary files of writes interrupted by a kill go at the next open;
 * nothing else does. */
static void test_temporaries(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    dt_close(&env);
    g_autofree char *tmp_config = g_build_filename(env.root, "config", "gone.xml.Ab12Cd", NULL);
    g_autofree char *keep_config = g_build_filename(env.root, "config", "keep.xml.bak", NULL);
    g_autofree char *tmp_state = g_build_filename(env.root, "state", "x.xml.zZ9990", NULL);
    const char *paths[] = { tmp_config, keep_config, tmp_state };
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
        g_assert_true(g_file_set_contents(paths[i], "<domain", -1, NULL));
    dt_open(&env, false);
    g_assert_false(g_file_test(tmp_config, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(tmp_state, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(keep_config, G_FILE_TEST_EXISTS));
    dt_env_clear(&env);
}

static void test_list_filters(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    for (int i = 0; i < 3; i++) {
        g_autofree char *name = g_strdup_printf("f%d", i);
        g_autofree char *xml = dt_domain_xml(&env, name, NULL, NULL, NULL, NULL);
        TvDomainRef ref = { 0 };
        dt_define_ok(&env, xml, &ref);
        tv_domain_ref_clear(&ref);
    }
    struct {
        unsigned flags;
        const char *names;
    } want[] = {
        { 0, "f0,f1,f2" },
        { TV_LIST_INACTIVE, "f0,f1,f2" },
        { TV_LIST_ACTIVE, "" },
        { TV_LIST_PERSISTENT, "f0,f1,f2" },
        { TV_LIST_TRANSIENT, "" },
        { TV_LIST_SHUTOFF, "f0,f1,f2" },
        { TV_LIST_RUNNING | TV_LIST_PAUSED, "" },
        { TV_LIST_ACTIVE | TV_LIST_INACTIVE, "f0,f1,f2" },
        { TV_LIST_INACTIVE | TV_LIST_TRANSIENT, "" },
        { 2048 /* no autostart */, "f0,f1,f2" },
        { 256 /* managed save */, "" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        g_autofree char *got = dt_list_names(env.drv, want[i].flags);
        g_test_message("flags 0x%x: %s", want[i].flags, got);
        g_assert_cmpstr(got, ==, want[i].names);
    }
    dt_env_clear(&env);
}

static void test_host(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    unsigned long long v = tv_qemu_driver_hypervisor_version(env.drv);
    g_assert_cmpuint(v, >=, 7000000);
    g_autofree char *caps = tv_qemu_driver_capabilities(env.drv);
    g_assert_nonnull(caps);
    g_assert_nonnull(strstr(caps, "<host>"));
    g_assert_nonnull(strstr(caps, "<uuid>"));
    g_assert_nonnull(strstr(caps, "<arch>x86_64</arch>"));
    g_assert_nonnull(strstr(caps, "<os_type>hvm</os_type>"));
    g_assert_nonnull(strstr(caps, "<arch name='aarch64'>"));
    g_assert_nonnull(strstr(caps, "<emulator>/usr/bin/qemu-system-aarch64</emulator>"));
    g_assert_nonnull(strstr(caps, "canonical='virt-"));
    g_assert_nonnull(strstr(caps, "<domain type='qemu'/>"));
    g_autofree char *again = tv_qemu_driver_capabilities(env.drv);
    g_assert_cmpstr(again, ==, caps);

    g_autofree char *dc =
        tv_qemu_driver_domain_capabilities(env.drv, NULL, "aarch64", "virt", "qemu");
    g_assert_nonnull(dc);
    g_assert_nonnull(strstr(dc, "<mte supported='yes'>"));
    g_assert_nonnull(strstr(dc, "<value>3</value>"));
    g_autofree char *dc2 =
        tv_qemu_driver_domain_capabilities(env.drv, NULL, "aarch64", "virt", "qemu");
    g_assert_cmpstr(dc2, ==, dc);
    g_assert_null(tv_qemu_driver_domain_capabilities(env.drv, NULL, "x86_64", NULL, NULL));
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_INVALID_ARG);
    tv_error_reset();
    g_assert_null(
        tv_qemu_driver_domain_capabilities(env.drv, "/nonexistent/qemu", NULL, NULL, NULL));
    tv_error_reset();

    TvNodeInfo ni;
    g_assert_cmpint(tv_qemu_driver_node_info(env.drv, &ni), ==, 0);
    g_assert_cmpstr(ni.model, ==, "x86_64");
    g_assert_cmpint(ni.cpus, ==, (int)sysconf(_SC_NPROCESSORS_ONLN));
    g_assert_cmpint(ni.sockets * ni.cores * ni.threads * ni.nodes, ==, ni.cpus);
    g_assert_cmpuint(ni.memory_kib, >, 100000);
    g_assert_cmpint(tv_qemu_driver_max_vcpus(env.drv, NULL), >=, 1);
    g_assert_cmpint(tv_qemu_driver_max_vcpus(env.drv, "xen"), ==, -1);
    tv_error_reset();
    dt_env_clear(&env);
}

typedef struct {
    DtEnv *env;
    int thread;
    int failures;
} Worker;

static gpointer define_worker(gpointer data)
{
    Worker *w = data;
    for (int i = 0; i < 40; i++) {
        g_autofree char *name = g_strdup_printf("t%d-%d", w->thread, i % 4);
        /* one uuid per name: a redefinition, not a clash */
        g_autofree char *uuid =
            g_strdup_printf("6ba7b8%02d-9dad-41d1-80b4-00c04fd430c8", w->thread * 10 + i % 4);
        g_autofree char *xml = dt_domain_xml(w->env, name, uuid, NULL, "<mte version='3'/>", NULL);
        TvDomainRef ref = { 0 };
        TvDomainRef *refs = NULL;
        size_t n = 0;
        if (tv_qemu_driver_define(w->env->drv, xml, 0, &ref) < 0 ||
            tv_qemu_driver_list_all(w->env->drv, 0, &refs, &n) < 0) {
            g_test_message("%s: %s", name, tv_error_message());
            tv_error_reset();
            w->failures++;
            continue;
        }
        for (size_t k = 0; k < n; k++)
            tv_domain_ref_clear(&refs[k]);
        g_free(refs);
        g_free(tv_qemu_driver_get_xml(w->env->drv, ref.uuid, 0));
        if (i % 4 == 3 && tv_qemu_driver_undefine(w->env->drv, ref.uuid, 0) < 0)
            w->failures++;
        tv_domain_ref_clear(&ref);
    }
    return NULL;
}

static void test_concurrency(void)
{
    DtEnv env;
    if (!dt_env_init(&env))
        return;
    dt_open(&env, false);
    Worker workers[4];
    GThread *threads[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (Worker){ .env = &env, .thread = i };
        threads[i] = g_thread_new("definer", define_worker, &workers[i]);
    }
    for (int i = 0; i < 4; i++) {
        g_thread_join(threads[i]);
        g_assert_cmpint(workers[i].failures, ==, 0);
    }
    /* each thread leaves t<i>-0..2 defined (the last round undefines -3 only when defined anew) */
    g_autofree char *list = dt_list_names(env.drv, 0);
    g_test_message("after the threads: %s", list);
    g_assert_cmpstr(list, ==, "t0-0,t0-1,t0-2,t1-0,t1-1,t1-2,t2-0,t2-1,t2-2,t3-0,t3-1,t3-2");
    dt_env_clear(&env);
}

static int run_tests(void)
{
    g_test_add_func("/driver/define-good", test_define_good);
    g_test_add_func("/driver/define-bad", test_define_bad);
    g_test_add_func("/driver/redefine", test_redefine);
    g_test_add_func("/driver/undefine-autostart", test_undefine_and_autostart);
    g_test_add_func("/driver/persistence", test_persistence);
    g_test_add_func("/driver/state-limits", test_state_limits);
    g_test_add_func("/driver/temporaries", test_temporaries);
    g_test_add_func("/driver/list-filters", test_list_filters);
    g_test_add_func("/driver/host", test_host);
    g_test_add_func("/driver/concurrency", test_concurrency);
    return g_test_run();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    return dt_run_guarded(run_tests);
}
