/* The typed QMP layer (src/qemu/monitor/) against what real QEMUs sent:
 *
 * - tests/qemumonitordata/ (*.replies): the scripted sessions of
 *   qemumonitorsession.c recorded from QEMU 7.2, 10.0 and 11.1 with real
 *   guests (qemucapsrecord --qmp-sessions), replayed through the typed
 *   commands and events, with the values checked;
 * - tests/qemucapabilitiesdata/ (*.replies): every command of every probe
 *   recording through its typed function, the result compared member by
 *   member with the recorded JSON;
 * - errors: QMP error replies (from the recordings), and a peer that sends
 *   garbage, no greeting, a reply that is neither, or closes the socket in
 *   the middle of a command (a socketpair: no QEMU sends such bytes), a
 *   replay asked out of order, a callback that would wait for itself. */
#include "qemu_monitor.h"
#include "qemumonitorsession.h"
#include "tagvirt-config.h"
#include "tv_error.h"

#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *srcdir(void)
{
    const char *d = g_getenv("TAGVIRT_TESTS_SRCDIR");
    return d ? d : TAGVIRT_SRCDIR "/tests";
}

static char *read_data(const char *dir, const char *name, size_t *len)
{
    g_autofree char *path = g_build_filename(srcdir(), dir, name, NULL);
    gchar *data = NULL;
    gsize l = 0;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, &l, &err))
        g_error("%s", err->message);
    if (len)
        *len = l;
    return data;
}

static int cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *list_data(const char *dir)
{
    g_autofree char *path = g_build_filename(srcdir(), dir, NULL);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    g_assert_nonnull(d);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d))) {
        if (g_str_has_suffix(n, ".replies"))
            g_ptr_array_add(names, g_strdup(n));
    }
    g_ptr_array_sort(names, cmp_names);
    return names;
}

/* ---- recorded sessions ---- */

static const TvQemuEvent *event_at(const TvMonSession *s, guint i)
{
    g_assert_cmpuint(i, <, s->events->len);
    const TvQemuEvent *ev = s->events->pdata[i];
    g_assert_cmpint(ev->timestamp_us, >, 0);
    g_assert_cmpstr(ev->name, ==, tv_qemu_event_type_to_string(ev->type));
    return ev;
}

static void check_run(const TvMonSession *s)
{
    g_assert_false(s->prelaunch.running);
    g_assert_cmpint(s->prelaunch.status, ==, TV_QMP_RUN_STATE_PRELAUNCH);
    g_assert_true(s->running.running);
    g_assert_cmpint(s->running.status, ==, TV_QMP_RUN_STATE_RUNNING);
    g_assert_false(s->paused.running);
    g_assert_cmpint(s->paused.status, ==, TV_QMP_RUN_STATE_PAUSED);
    g_assert_true(g_str_has_prefix(s->pty, "/dev/pts/"));
    g_assert_cmpuint(s->nchardevs, ==, 2); /* the monitor's and serial 0 */

    TvQemuEventType expect[] = { TV_QEMU_EVENT_RESUME, TV_QEMU_EVENT_STOP,
                                 TV_QEMU_EVENT_RESUME, TV_QEMU_EVENT_POWERDOWN,
                                 TV_QEMU_EVENT_RESET,  TV_QEMU_EVENT_SHUTDOWN };
    g_assert_cmpuint(s->events->len, ==, G_N_ELEMENTS(expect));
    for (guint i = 0; i < G_N_ELEMENTS(expect); i++)
        g_assert_cmpint(event_at(s, i)->type, ==, expect[i]);
    const TvQemuEvent *reset = event_at(s, 4), *quit = event_at(s, 5);
    g_assert_false(reset->shutdown.guest);
    g_assert_cmpint(reset->shutdown.reason, ==, TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET);
    g_assert_false(quit->shutdown.guest);
    g_assert_cmpint(quit->shutdown.reason, ==, TV_QMP_SHUTDOWN_CAUSE_HOST_QMP_QUIT);
    g_assert_true(tv_qmp_shutdown_cause_is_host(quit->shutdown.reason));

    g_assert_cmpint(s->no_command_class, ==, TV_QMP_ERROR_COMMAND_NOT_FOUND);
    g_assert_cmpstr(s->no_command_error, ==,
                    "QEMU command 'query-mte-capabilities' failed: The command "
                    "query-mte-capabilities has not been found");
    g_assert_cmpint(s->no_type_class, ==, TV_QMP_ERROR_DEVICE_NOT_FOUND);
    g_assert_cmpstr(s->no_type_error, ==,
                    "QEMU command 'qom-list-properties' failed: Class 'no-such-type' not found");
    g_assert_true(s->eof);
}

static void check_guest_shutdown(const TvMonSession *s)
{
    g_assert_cmpuint(s->events->len, ==, 2);
    g_assert_cmpint(event_at(s, 0)->type, ==, TV_QEMU_EVENT_RESUME);
    const TvQemuEvent *off = event_at(s, 1);
    g_assert_cmpint(off->type, ==, TV_QEMU_EVENT_SHUTDOWN);
    g_assert_true(off->shutdown.guest);
    g_assert_cmpint(off->shutdown.reason, ==, TV_QMP_SHUTDOWN_CAUSE_GUEST_SHUTDOWN);
    g_assert_false(tv_qmp_shutdown_cause_is_host(off->shutdown.reason));
    g_assert_true(s->eof);
}

/* The types of the events, in order, as one string ("RESUME STOP ..."),
 * MIGRATION with its status. */
static char *event_types(const TvMonSession *s)
{
    GString *out = g_string_new(NULL);
    for (guint i = 0; i < s->events->len; i++) {
        const TvQemuEvent *ev = event_at(s, i);
        g_string_append_printf(out, "%s%s", i ? " " : "", ev->name);
        if (ev->type == TV_QEMU_EVENT_MIGRATION)
            g_string_append_printf(out, ":%s",
                                   tv_qmp_migration_status_to_string(ev->migration_status));
    }
    return g_string_free(out, FALSE);
}

#define MIB (1024 * 1024)

static void check_devices(const TvMonSession *s)
{
    g_assert_cmpuint(s->balloon.actual, ==, 128 * MIB);
    g_assert_cmpuint(s->cpus.n, ==, 1);
    g_assert_cmpint(s->cpus.items[0].cpu_index, ==, 0);
    g_assert_cmpint(s->cpus.items[0].thread_id, >, 0);
    g_assert_cmpstr(s->cpus.items[0].target, ==, "aarch64");
    g_assert_true(g_str_has_prefix(s->cpus.items[0].qom_path, "/machine/"));
    g_autofree char *types = event_types(s);
    g_assert_cmpstr(types, ==, "RESUME STOP DEVICE_DELETED RESUME SHUTDOWN");
    const TvQemuEvent *deleted = event_at(s, 2);
    g_assert_cmpstr(deleted->device_deleted.device, ==, "kbd0");
    g_assert_cmpstr(deleted->device_deleted.path, ==, "/machine/peripheral/kbd0");
    g_assert_cmpint(s->no_device_class, ==, TV_QMP_ERROR_DEVICE_NOT_FOUND);
    g_assert_cmpstr(s->no_device_error, ==,
                    "QEMU command 'device_del' failed: Device 'kbd0' not found");
    g_assert_cmpint(s->qom_type.type, ==, TV_QMP_VALUE_STRING);
    g_assert_true(g_str_has_prefix(s->qom_type.s, "virt-") &&
                  g_str_has_suffix(s->qom_type.s, "-machine"));
    g_assert_cmpint(s->qom_before.type, ==, TV_QMP_VALUE_INT);
    g_assert_cmpint(s->qom_before.i, ==, 0);
    g_assert_cmpint(s->qom_after.type, ==, TV_QMP_VALUE_INT);
    g_assert_cmpint(s->qom_after.i, ==, 2);
    g_assert_nonnull(strstr(s->qom_object_error, "'guest-stats' of '/machine/peripheral/balloon0' "
                                                 "is not a scalar"));
    g_assert_true(s->eof);
}

static void check_migrate_source(const TvMonSession *s, unsigned qemu_major)
{
    g_assert_cmpint(s->idle.status, ==, TV_QMP_MIGRATION_STATUS_NONE);
    bool present = false;
    g_assert_false(tv_qmp_migration_cap_list_get(&s->caps, TV_QMP_MIGRATION_CAP_EVENTS, &present));
    g_assert_true(present);
    tv_qmp_migration_cap_list_get(&s->caps, TV_QMP_MIGRATION_CAP_POSTCOPY_RAM, &present);
    g_assert_true(present);
    g_assert_true(s->params_before.has_max_bandwidth && s->params_before.has_downtime_limit);
    g_assert_cmpuint(s->params_before.downtime_limit, ==, 300); /* QEMU's default */
    g_assert_cmpuint(s->params_after.max_bandwidth, ==, MIB);
    g_assert_cmpuint(s->params_after.downtime_limit, ==, 400);
    g_assert_nonnull(s->params_after.tls_creds);

    /* the slow one, cancelled while it copied */
    g_assert_cmpint(s->cancelling.status, ==, TV_QMP_MIGRATION_STATUS_ACTIVE);
    g_assert_true(s->cancelling.has_ram);
    g_assert_cmpuint(s->cancelling.ram.total, >, 128 * MIB);
    g_assert_cmpuint(s->cancelling.ram.transferred, >, 0);
    g_assert_cmpuint(s->cancelling.ram.page_size, ==, 4096);
    g_assert_cmpint(s->cancelling.expected_downtime_ms, >, 0);
    /* the real one */
    g_assert_true(s->active.status == TV_QMP_MIGRATION_STATUS_ACTIVE ||
                  s->active.status == TV_QMP_MIGRATION_STATUS_COMPLETED);
    g_assert_cmpint(s->completed.status, ==, TV_QMP_MIGRATION_STATUS_COMPLETED);
    g_assert_cmpint(s->completed.total_time_ms, >, 0);
    g_assert_cmpint(s->completed.downtime_ms, >=, 0);
    g_assert_cmpuint(s->completed.ram.transferred, >, 0);
    g_assert_cmpuint(s->completed.ram.total, ==, s->cancelling.ram.total);
    g_assert_null(s->completed.error_desc);
    g_assert_cmpint(s->polls, >=, 3);
    g_assert_false(s->after.running);
    g_assert_cmpint(s->after.status, ==, TV_QMP_RUN_STATE_POSTMIGRATE);

    /* the events, without the passes (how many depends on the guest) */
    g_autofree char *types = event_types(s);
    g_auto(GStrv) words = g_strsplit(types, " ", -1);
    GString *main = g_string_new(NULL);
    int passes = 0;
    for (char **w = words; *w; w++) {
        if (g_str_equal(*w, "MIGRATION_PASS"))
            passes++;
        else
            g_string_append_printf(main, "%s%s", main->len ? " " : "", *w);
    }
    g_autofree char *seq = g_string_free(main, FALSE);
    /* QEMU 10.0 and 11.1 report the device state's copy after the stop (7.2 not) */
    g_assert_cmpstr(seq, ==,
                    qemu_major >= 10
                        ? "RESUME MIGRATION:setup MIGRATION:active MIGRATION:cancelling "
                          "MIGRATION:cancelled MIGRATION:setup MIGRATION:active STOP "
                          "MIGRATION:device MIGRATION:completed SHUTDOWN"
                        : "RESUME MIGRATION:setup MIGRATION:active MIGRATION:cancelling "
                          "MIGRATION:cancelled MIGRATION:setup MIGRATION:active STOP "
                          "MIGRATION:completed SHUTDOWN");
    g_assert_cmpint(passes, >=, 1);
    for (guint i = 0; i < s->events->len; i++) {
        const TvQemuEvent *ev = s->events->pdata[i];
        if (ev->type == TV_QEMU_EVENT_MIGRATION_PASS)
            g_assert_cmpint(ev->migration_pass, >=, 1);
    }
    g_assert_true(s->eof);
}

static void check_migrate_dest(const TvMonSession *s)
{
    g_assert_cmpint(s->before.status, ==, TV_QMP_RUN_STATE_INMIGRATE);
    g_assert_cmpint(s->completed.status, ==, TV_QMP_MIGRATION_STATUS_COMPLETED);
    g_assert_true(s->after.running);
    g_assert_cmpint(s->after.status, ==, TV_QMP_RUN_STATE_RUNNING);
    g_autofree char *types = event_types(s);
    g_assert_cmpstr(types, ==,
                    "MIGRATION:setup MIGRATION:active MIGRATION:completed RESUME SHUTDOWN");
    g_assert_true(s->eof);
}

static TvQemuMonitor *replay(GHashTable *sessions, const char *file, const char *name)
{
    const TvQemuMonitorScript *script = g_hash_table_lookup(sessions, name);
    if (!script)
        g_error("%s has no session '%s': record it again (qemucapsrecord --qmp-sessions)", file,
                name);
    return tv_qemu_monitor_open_replay(script, "the session");
}

static void replay_done(TvQemuMonitor *mon, const char *file)
{
    if (tv_qemu_monitor_replay_check_done(mon) < 0)
        g_error("%s: %s", file, tv_error_message());
    const TvQmpGreeting *g = tv_qemu_monitor_greeting(mon);
    g_assert_true(g->major >= 7 && g->oob && g_str_has_prefix(g->package, "Debian"));
}

static void test_sessions(gconstpointer data)
{
    const char *file = data;
    size_t len = 0;
    g_autofree char *text = read_data("qemumonitordata", file, &len);
    g_autoptr(GHashTable) sessions = tv_qemu_monitor_sessions_parse(text, len);
    if (!sessions)
        g_error("%s: %s", file, tv_error_message());
    const char *single[] = { "run", "guest-shutdown", "devices" };
    for (size_t i = 0; i < G_N_ELEMENTS(single); i++) {
        g_autoptr(TvQemuMonitor) mon = replay(sessions, file, single[i]);
        g_auto(TvMonSession) s = { 0 };
        if (tv_mon_session_run(single[i], mon, &s) < 0)
            g_error("%s: %s", file, tv_error_message());
        replay_done(mon, file);
        if (i == 0)
            check_run(&s);
        else if (i == 1)
            check_guest_shutdown(&s);
        else
            check_devices(&s);
    }
    g_autoptr(TvQemuMonitor) src = replay(sessions, file, "migrate-source");
    g_autoptr(TvQemuMonitor) dst = replay(sessions, file, "migrate-dest");
    g_auto(TvMonSession) so = { 0 };
    g_auto(TvMonSession) d = { 0 };
    if (tv_mon_session_run_migrate(src, dst, &so, &d) < 0)
        g_error("%s: %s", file, tv_error_message());
    replay_done(src, file);
    replay_done(dst, file);
    check_migrate_source(&so, tv_qemu_monitor_greeting(src)->major);
    check_migrate_dest(&d);
    g_assert_cmpuint(g_hash_table_size(sessions), ==, g_strv_length((char **)tv_mon_session_files));
}

/* ---- every command of the probe recordings, typed ---- */

/* The recorded value of the reply to command i (borrowed), NULL for an error. */
static json_object *recorded_return(json_object *reply)
{
    json_object *ret = NULL;
    return json_object_object_get_ex(reply, "return", &ret) ? ret : NULL;
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static gint64 jint(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : -1;
}

static bool jbool(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* Run command cmd through its typed function and compare with ret. */
static void typed_matches(TvQemuMonitor *mon, const char *name, json_object *args, json_object *ret)
{
    const char *type_arg = jstr(args, "typename");
    if (!ret) { /* an error reply: the typed function fails with its class */
        g_auto(TvQmpPropertyList) props = { 0 };
        if (g_str_equal(name, "qom-list-properties"))
            g_assert_cmpint(tv_qemu_monitor_qom_list_properties(mon, type_arg, &props), ==, -1);
        else if (g_str_equal(name, "device-list-properties"))
            g_assert_cmpint(tv_qemu_monitor_device_list_properties(mon, type_arg, &props), ==, -1);
        else
            g_error("an error reply to '%s' in a probe recording", name);
        g_assert_cmpint(tv_qemu_monitor_error_class(), !=, TV_QMP_ERROR_NONE);
        tv_error_reset();
        return;
    }
    size_t n = json_object_is_type(ret, json_type_array) ? json_object_array_length(ret) : 0;
    if (g_str_equal(name, "query-target")) {
        g_auto(TvQmpTarget) t = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_target(mon, &t), ==, 0);
        g_assert_cmpstr(t.arch, ==, jstr(ret, "arch"));
    } else if (g_str_equal(name, "qom-list-properties") ||
               g_str_equal(name, "device-list-properties")) {
        g_auto(TvQmpPropertyList) l = { 0 };
        if (g_str_equal(name, "qom-list-properties"))
            g_assert_cmpint(tv_qemu_monitor_qom_list_properties(mon, type_arg, &l), ==, 0);
        else
            g_assert_cmpint(tv_qemu_monitor_device_list_properties(mon, type_arg, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        for (size_t i = 0; i < n; i++) {
            json_object *p = json_object_array_get_idx(ret, i);
            g_assert_cmpstr(l.items[i].name, ==, jstr(p, "name"));
            g_assert_cmpstr(l.items[i].type, ==, jstr(p, "type"));
            g_assert_cmpstr(l.items[i].description, ==, jstr(p, "description"));
            g_assert_true(tv_qmp_property_list_has(&l, jstr(p, "name")));
        }
    } else if (g_str_equal(name, "query-kvm")) {
        TvQmpKvm k;
        g_assert_cmpint(tv_qemu_monitor_query_kvm(mon, &k), ==, 0);
        g_assert_cmpint(k.present, ==, jbool(ret, "present"));
        g_assert_cmpint(k.enabled, ==, jbool(ret, "enabled"));
    } else if (g_str_equal(name, "query-cpu-definitions")) {
        g_auto(TvQmpCpuDefinitionList) l = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_cpu_definitions(mon, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        for (size_t i = 0; i < n; i++) {
            json_object *d = json_object_array_get_idx(ret, i);
            g_assert_cmpstr(l.items[i].name, ==, jstr(d, "name"));
            g_assert_cmpstr(l.items[i].type_name, ==, jstr(d, "typename"));
            g_assert_cmpint(l.items[i].is_static, ==, jbool(d, "static"));
            g_assert_cmpint(l.items[i].deprecated, ==, jbool(d, "deprecated"));
        }
    } else if (g_str_equal(name, "query-version")) {
        g_auto(TvQmpVersion) v = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_version(mon, &v), ==, 0);
        const TvQmpGreeting *g = tv_qemu_monitor_greeting(mon);
        g_assert_cmpuint(v.major, ==, g->major);
        g_assert_cmpuint(v.minor, ==, g->minor);
        g_assert_cmpuint(v.micro, ==, g->micro);
        g_assert_cmpstr(v.package, ==, jstr(ret, "package"));
    } else if (g_str_equal(name, "query-machines")) {
        g_auto(TvQmpMachineList) l = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_machines(mon, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        for (size_t i = 0; i < n; i++) {
            json_object *m = json_object_array_get_idx(ret, i);
            g_assert_cmpstr(l.items[i].name, ==, jstr(m, "name"));
            g_assert_cmpstr(l.items[i].alias, ==, jstr(m, "alias"));
            g_assert_cmpstr(l.items[i].default_cpu_type, ==, jstr(m, "default-cpu-type"));
            g_assert_cmpint(l.items[i].is_default, ==, jbool(m, "is-default"));
            g_assert_cmpint(l.items[i].deprecated, ==, jbool(m, "deprecated"));
            g_assert_cmpint(l.items[i].hotpluggable_cpus, ==, jbool(m, "hotpluggable-cpus"));
            g_assert_cmpint(l.items[i].cpu_max, ==, jint(m, "cpu-max"));
        }
    } else if (g_str_equal(name, "query-gic-capabilities")) {
        g_auto(TvQmpGicCapabilityList) l = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_gic_capabilities(mon, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        for (size_t i = 0; i < n; i++) {
            json_object *c = json_object_array_get_idx(ret, i);
            g_assert_cmpint(l.items[i].version, ==, jint(c, "version"));
            g_assert_cmpint(l.items[i].emulated, ==, jbool(c, "emulated"));
            g_assert_cmpint(l.items[i].kernel, ==, jbool(c, "kernel"));
        }
    } else if (g_str_equal(name, "query-commands")) {
        g_auto(TvQmpCommandList) l = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_commands(mon, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        g_assert_null(l.names[l.n]);
        for (size_t i = 1; i < l.n; i++)
            g_assert_cmpint(strcmp(l.names[i - 1], l.names[i]), <, 0);
        for (size_t i = 0; i < n; i++)
            g_assert_true(g_strv_contains((const char *const *)l.names,
                                          jstr(json_object_array_get_idx(ret, i), "name")));
    } else if (g_str_equal(name, "query-mte-capabilities")) {
        g_auto(TvQmpMteCapabilityList) l = { 0 };
        g_assert_cmpint(tv_qemu_monitor_query_mte_capabilities(mon, &l), ==, 0);
        g_assert_cmpuint(l.n, ==, n);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(ret, i), *versions = NULL;
            g_assert_cmpstr(l.items[i].accelerator, ==, jstr(e, "accelerator"));
            g_assert_true(json_object_object_get_ex(e, "versions", &versions));
            g_assert_cmpuint(l.items[i].nversions, ==, json_object_array_length(versions));
        }
    } else if (g_str_equal(name, "quit")) {
        g_assert_cmpint(tv_qemu_monitor_quit(mon), ==, 0);
    } else {
        g_error("the probe sends '%s', which has no typed function in this test", name);
    }
}

static void json_put(gpointer obj)
{
    json_object_put(obj);
}

static void test_caps_recording(gconstpointer data)
{
    const char *file = data;
    g_autofree char *text = read_data("qemucapabilitiesdata", file, NULL);
    /* the recording's QMP sections: a script for the replay, and the JSON
     * of each command and reply to compare with */
    g_autoptr(TvQemuMonitorScript) script = tv_qemu_monitor_script_new();
    g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func(json_put);
    g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func(json_put);
    g_auto(GStrv) sections = g_strsplit(text, "\n@", -1);
    for (char **sec = sections + 1; *sec; sec++) {
        char *nl = strchr(*sec, '\n');
        g_assert_nonnull(nl);
        g_autofree char *kind = g_strndup(*sec, (gsize)(nl - *sec));
        if (!g_str_equal(kind, "greeting") && !g_str_equal(kind, "command") &&
            !g_str_equal(kind, "reply"))
            continue; /* the guest-ABI boots */
        g_assert_cmpint(tv_qemu_monitor_script_add(script, kind, nl + 1, 0), ==, 0);
        if (g_str_equal(kind, "command"))
            g_ptr_array_add(commands, json_tokener_parse(nl + 1));
        else if (g_str_equal(kind, "reply"))
            g_ptr_array_add(replies, json_tokener_parse(nl + 1));
    }
    g_assert_cmpuint(commands->len, >, 10);
    g_assert_cmpuint(commands->len, ==, replies->len);

    g_autoptr(TvQemuMonitor) mon = tv_qemu_monitor_open_replay(script, "the test");
    if (tv_qemu_monitor_handshake(mon, 1000) < 0) /* sends commands[0], qmp_capabilities */
        g_error("%s: %s", file, tv_error_message());
    g_assert_cmpstr(jstr(commands->pdata[0], "execute"), ==, "qmp_capabilities");
    for (guint i = 1; i < commands->len; i++) {
        json_object *args = NULL;
        json_object_object_get_ex(commands->pdata[i], "arguments", &args);
        typed_matches(mon, jstr(commands->pdata[i], "execute"), args,
                      recorded_return(replies->pdata[i]));
    }
    g_assert_cmpint(tv_qemu_monitor_replay_check_done(mon), ==, 0);
}

/* ---- errors ---- */

/* A peer on the other end of a socketpair: after each command line it
 * receives it writes the next answer given with peer_answer() ("" writes
 * nothing, "CLOSE" closes its end), with @ID replaced by the id of that
 * command and @PREV by the id of the one before. */
typedef struct {
    int fd;
    TvQemuMonitor *mon;
    GAsyncQueue *answers;
    GThread *thread;
} Peer;

static gpointer peer_thread(gpointer data)
{
    Peer *p = data;
    g_autoptr(GString) in = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    g_autofree char *prev = g_strdup("0");
    while ((n = read(p->fd, buf, sizeof(buf))) > 0) {
        g_string_append_len(in, buf, n);
        char *nl;
        while ((nl = memchr(in->str, '\n', in->len))) {
            g_autofree char *line = g_strndup(in->str, nl - in->str);
            g_string_erase(in, 0, nl - in->str + 1);
            json_object *cmd = json_tokener_parse(line), *id = NULL;
            g_autofree char *id_text = g_strdup(
                json_object_object_get_ex(cmd, "id", &id) ? json_object_get_string(id) : "0");
            json_object_put(cmd);
            g_autofree char *answer = g_async_queue_pop(p->answers);
            if (g_str_equal(answer, "CLOSE")) {
                shutdown(p->fd, SHUT_RDWR);
                return NULL;
            }
            g_autoptr(GString) out = g_string_new(answer);
            g_string_replace(out, "@ID", id_text, 0);
            g_string_replace(out, "@PREV", prev, 0);
            g_free(prev);
            prev = g_strdup(id_text);
            if (write(p->fd, out->str, out->len) != (ssize_t)out->len)
                return NULL;
        }
    }
    return NULL;
}

static void peer_open(Peer *p)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    p->fd = sv[1];
    p->mon = tv_qemu_monitor_open_fds(sv[0], sv[0]);
    p->answers = g_async_queue_new_full(g_free);
    p->thread = g_thread_new("peer", peer_thread, p);
}

/* Written at once, before any command. */
static void peer_say(Peer *p, const char *text)
{
    g_assert_cmpint(write(p->fd, text, strlen(text)), ==, (ssize_t)strlen(text));
}

static void peer_answer(Peer *p, const char *text)
{
    g_async_queue_push(p->answers, g_strdup(text));
}

static void peer_close(Peer *p)
{
    g_clear_pointer(&p->mon, tv_qemu_monitor_free); /* the peer's read ends */
    peer_answer(p, "CLOSE");                        /* or its wait for an answer */
    g_thread_join(p->thread);
    close(p->fd);
    g_async_queue_unref(p->answers);
}

#define GREETING                                                                                   \
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, \"major\": 9}}}}\n"

static void expect_error(const char *needle)
{
    if (!strstr(tv_error_message(), needle))
        g_error("expected an error with '%s', got '%s'", needle, tv_error_message());
    tv_error_reset();
}

static void peer_handshake(Peer *p)
{
    peer_say(p, GREETING);
    peer_answer(p, "{\"return\": {}, \"id\": @ID}\n");
    g_assert_cmpint(tv_qemu_monitor_handshake(p->mon, 1000), ==, 0);
}

static void test_errors_peer(void)
{
    Peer p;

    /* not JSON: a protocol error that closes the monitor */
    peer_open(&p);
    peer_say(&p, "this is not json\n");
    g_assert_cmpint(tv_qemu_monitor_handshake(p.mon, 1000), ==, -1);
    expect_error("not a JSON object while waiting for the QMP greeting: 'this is not json'");
    g_assert_true(tv_qemu_monitor_is_closed(p.mon));
    peer_close(&p);

    /* something else first */
    peer_open(&p);
    peer_say(&p, "{\"return\": {}}\n");
    g_assert_cmpint(tv_qemu_monitor_handshake(p.mon, 1000), ==, -1);
    expect_error("did not start with a QMP greeting (it sent '{ \"return\": { } }')");
    peer_close(&p);

    /* a reply with neither return nor error */
    peer_open(&p);
    peer_handshake(&p);
    peer_answer(&p, "{\"id\": @ID, \"answer\": 42}\n");
    TvQmpStatus st;
    g_assert_cmpint(tv_qemu_monitor_query_status(p.mon, &st), ==, -1);
    expect_error("QEMU reply to 'query-status' has neither 'return' nor 'error'");
    /* a reply of the wrong shape */
    peer_answer(&p, "{\"id\": @ID, \"return\": {\"running\": \"yes\", \"status\": \"running\"}}\n");
    g_assert_cmpint(tv_qemu_monitor_query_status(p.mon, &st), ==, -1);
    expect_error("QEMU's reply to 'query-status': 'running' is not a boolean");
    peer_answer(&p, "{\"id\": @ID, \"return\": [{\"filename\": \"pty:/dev/pts/1\"}]}\n");
    g_auto(TvQmpChardevList) chardevs = { 0 };
    g_assert_cmpint(tv_qemu_monitor_query_chardev(p.mon, &chardevs), ==, -1);
    expect_error("QEMU's reply to 'query-chardev' has no string 'label'");
    /* an error reply without a class is a generic one */
    peer_answer(&p, "{\"id\": @ID, \"error\": {\"desc\": \"no\"}}\n");
    g_assert_cmpint(tv_qemu_monitor_stop(p.mon), ==, -1);
    g_assert_cmpint(tv_qemu_monitor_error_class(), ==, TV_QMP_ERROR_GENERIC);
    expect_error("QEMU command 'stop' failed: no");

    /* nothing comes: a timeout, and the monitor stays usable */
    tv_qemu_monitor_set_timeout(p.mon, 100);
    peer_answer(&p, "");
    g_assert_cmpint(tv_qemu_monitor_cont(p.mon), ==, -1);
    g_assert_cmpint(tv_error_code(), ==, TV_ERR_OPERATION_TIMEOUT);
    g_assert_cmpint(tv_qemu_monitor_error_class(), ==, TV_QMP_ERROR_NONE);
    expect_error("timed out waiting for the reply to 'cont' from QEMU monitor");
    /* its late answer is dropped; the next command gets its own */
    tv_qemu_monitor_set_timeout(p.mon, 2000);
    peer_answer(
        &p, "{\"id\": @PREV, \"error\": {\"desc\": \"late\"}}\n{\"id\": @ID, \"return\": {}}\n");
    g_assert_cmpint(tv_qemu_monitor_cont(p.mon), ==, 0);
    /* so is the answer to a command another client sent on this socket
     * before us (a killed manager's: QEMU answers on the new connection) */
    peer_answer(&p, "{\"id\": 3, \"return\": {}}\n{\"id\": @ID, \"return\": {}}\n");
    g_assert_cmpint(tv_qemu_monitor_cont(p.mon), ==, 0);

    /* the peer closes in the middle of a command: EOF, said as such */
    peer_answer(&p, "CLOSE");
    g_assert_cmpint(tv_qemu_monitor_cont(p.mon), ==, -1);
    expect_error("QEMU closed the monitor while waiting for the reply to 'cont'");
    g_assert_true(tv_qemu_monitor_is_closed(p.mon));
    g_assert_cmpint(tv_qemu_monitor_fd(p.mon), ==, -1);
    /* and every later command says so at once */
    g_assert_cmpint(tv_qemu_monitor_stop(p.mon), ==, -1);
    expect_error("QEMU closed the monitor while waiting for the reply to 'stop'");
    peer_close(&p);
}

static gpointer write_forever(gpointer data)
{
    int fd = GPOINTER_TO_INT(data);
    char chunk[65536];
    memset(chunk, 'x', sizeof(chunk));
    /* until the monitor gives up and closes its end */
    while (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
        ;
    return NULL;
}

static void test_errors_line_too_long(void)
{
    Peer p;
    peer_open(&p);
    peer_handshake(&p);
    /* a peer that never ends its line: refused once past the limit */
    GThread *writer = g_thread_new("writer", write_forever, GINT_TO_POINTER(p.fd));
    tv_qemu_monitor_set_timeout(p.mon, 20000);
    peer_answer(&p, "");
    g_assert_cmpint(tv_qemu_monitor_cont(p.mon), ==, -1);
    expect_error("QEMU monitor message longer than 16777216 bytes while waiting for the reply "
                 "to 'cont'");
    g_assert_true(tv_qemu_monitor_is_closed(p.mon));
    peer_close(&p);
    g_thread_join(writer);
}

static void waits_in_callback(TvQemuMonitor *mon, const TvQemuEvent *ev, void *opaque)
{
    *(int *)opaque = tv_qemu_monitor_cont(mon);
    g_assert_nonnull(strstr(tv_error_message(), "it would wait for itself"));
    tv_error_reset();
}

static void test_errors_callback(void)
{
    Peer p;
    peer_open(&p);
    peer_handshake(&p);
    int rc = 0;
    tv_qemu_monitor_set_event_callback(p.mon, waits_in_callback, &rc);
    peer_say(&p, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n");
    g_assert_cmpint(tv_qemu_monitor_wait_input(p.mon, 1000), ==, 1);
    g_assert_cmpint(rc, ==, -1);
    peer_close(&p);
}

static void test_errors_replay(void)
{
    size_t len = 0;
    g_autofree char *text = read_data("qemumonitordata", "qmp_7.2.22.replies", &len);
    g_autoptr(GHashTable) sessions = tv_qemu_monitor_sessions_parse(text, len);
    g_assert_nonnull(sessions);
    g_autoptr(TvQemuMonitor) mon =
        tv_qemu_monitor_open_replay(g_hash_table_lookup(sessions, "run"), "the test");
    g_assert_cmpint(tv_qemu_monitor_handshake(mon, 1000), ==, 0);
    g_assert_cmpint(tv_qemu_monitor_cont(mon), ==, -1);
    expect_error("recording has command 2 = {\"execute\":\"query-status\"}, but the test asks "
                 "{\"execute\":\"cont\"}");
    TvQmpStatus st;
    g_assert_cmpint(tv_qemu_monitor_query_status(mon, &st), ==, 0);
    g_assert_cmpint(tv_qemu_monitor_replay_check_done(mon), ==, -1);
    expect_error("from {\"execute\":\"query-chardev\"} on");

    const char *bad[][2] = {
        { "# tagvirt QMP recording, format 1\n@greeting\n{}\n", "before the first '@session'" },
        { "# tagvirt QMP recording, format 1\n@session a\n@reply\n{}\n",
          "a reply without a command" },
        { "# tagvirt QMP recording, format 1\n@session a\n@command\n{}\n",
          "ends with a command that has no reply" },
        { "# tagvirt QMP recording, format 1\n@session a\n@command\nnot json\n",
          "not followed by a JSON object" },
        { "# tagvirt QMP recording, format 1\n@session a\n@answer\n{}\n",
          "unknown section '@answer'" },
        { "hello\n", "not a tagvirt QMP recording" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_null(tv_qemu_monitor_sessions_parse(bad[i][0], strlen(bad[i][0])));
        expect_error(bad[i][1]);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_autoptr(GPtrArray) sessions = list_data("qemumonitordata");
    g_assert_cmpuint(sessions->len, >=, 3); /* 7.2, 10.0, 11.1 */
    for (guint i = 0; i < sessions->len; i++) {
        g_autofree char *path = g_strdup_printf("/monitor/sessions/%s", (char *)sessions->pdata[i]);
        g_test_add_data_func(path, sessions->pdata[i], test_sessions);
    }
    g_autoptr(GPtrArray) caps = list_data("qemucapabilitiesdata");
    for (guint i = 0; i < caps->len; i++) {
        g_autofree char *path = g_strdup_printf("/monitor/probe/%s", (char *)caps->pdata[i]);
        g_test_add_data_func(path, caps->pdata[i], test_caps_recording);
    }
    g_test_add_func("/monitor/errors/peer", test_errors_peer);
    g_test_add_func("/monitor/errors/line-too-long", test_errors_line_too_long);
    g_test_add_func("/monitor/errors/callback", test_errors_callback);
    g_test_add_func("/monitor/errors/replay", test_errors_replay);
    return g_test_run();
}
