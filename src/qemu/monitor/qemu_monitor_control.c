/* Commands on a running guest: status, run control, power, character
 * devices. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *const run_state_names[TV_QMP_RUN_STATE_LAST] = {
    [TV_QMP_RUN_STATE_UNKNOWN] = "",
    [TV_QMP_RUN_STATE_DEBUG] = "debug",
    [TV_QMP_RUN_STATE_INMIGRATE] = "inmigrate",
    [TV_QMP_RUN_STATE_INTERNAL_ERROR] = "internal-error",
    [TV_QMP_RUN_STATE_IO_ERROR] = "io-error",
    [TV_QMP_RUN_STATE_PAUSED] = "paused",
    [TV_QMP_RUN_STATE_POSTMIGRATE] = "postmigrate",
    [TV_QMP_RUN_STATE_PRELAUNCH] = "prelaunch",
    [TV_QMP_RUN_STATE_FINISH_MIGRATE] = "finish-migrate",
    [TV_QMP_RUN_STATE_RESTORE_VM] = "restore-vm",
    [TV_QMP_RUN_STATE_RUNNING] = "running",
    [TV_QMP_RUN_STATE_SAVE_VM] = "save-vm",
    [TV_QMP_RUN_STATE_SHUTDOWN] = "shutdown",
    [TV_QMP_RUN_STATE_SUSPENDED] = "suspended",
    [TV_QMP_RUN_STATE_WATCHDOG] = "watchdog",
    [TV_QMP_RUN_STATE_GUEST_PANICKED] = "guest-panicked",
    [TV_QMP_RUN_STATE_COLO] = "colo",
};

const char *tv_qmp_run_state_to_string(TvQmpRunState s)
{
    return s < TV_QMP_RUN_STATE_LAST ? run_state_names[s] : "";
}

TvQmpRunState tv_qmp_run_state_from_string(const char *s)
{
    return (TvQmpRunState)tv_qmp_enum_lookup(run_state_names, TV_QMP_RUN_STATE_LAST, s);
}

int tv_qemu_monitor_query_status(TvQemuMonitor *mon, TvQmpStatus *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-status", NULL);
    if (!v)
        return -1;
    g_autofree char *status = NULL;
    json_object *running = NULL;
    int rc = tv_qmp_need_str(v, "status", "query-status", &status);
    if (rc == 0) {
        json_object_object_get_ex(v, "running", &running);
        rc = tv_qmp_expect(running, json_type_boolean, "query-status", "'running'");
    }
    if (rc == 0) {
        out->running = json_object_get_boolean(running);
        out->status = tv_qmp_run_state_from_string(status);
    }
    json_object_put(v);
    return rc;
}

int tv_qemu_monitor_cont(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "cont", NULL);
}

int tv_qemu_monitor_stop(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "stop", NULL);
}

int tv_qemu_monitor_system_powerdown(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "system_powerdown", NULL);
}

int tv_qemu_monitor_system_reset(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "system_reset", NULL);
}

int tv_qemu_monitor_quit(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "quit", NULL);
}

void tv_qmp_chardev_list_clear(TvQmpChardevList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].label);
        g_free(l->items[i].filename);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_chardev(json_object *c, const char *cmd, void *item)
{
    TvQmpChardev *dev = item;
    if (tv_qmp_need_str(c, "label", cmd, &dev->label) < 0)
        return -1;
    if (tv_qmp_need_str(c, "filename", cmd, &dev->filename) < 0) {
        g_clear_pointer(&dev->label, g_free);
        return -1;
    }
    dev->frontend_open = tv_qmp_bool(c, "frontend-open");
    return 0;
}

int tv_qemu_monitor_query_chardev(TvQemuMonitor *mon, TvQmpChardevList *out)
{
    if (tv_qmp_command_items(mon, "query-chardev", NULL, sizeof(*out->items), parse_chardev,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_chardev_list_clear(out);
    return -1;
}

const char *tv_qmp_chardev_list_pty(const TvQmpChardevList *l, const char *label)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].label, label) == 0 && g_str_has_prefix(l->items[i].filename, "pty:"))
            return l->items[i].filename + strlen("pty:");
    }
    return NULL;
}

void tv_qmp_vnc_clear(TvQmpVnc *v)
{
    g_free(v->host);
    g_free(v->service);
    g_free(v->family);
    g_free(v->auth);
    memset(v, 0, sizeof(*v));
}

int tv_qemu_monitor_query_vnc(TvQemuMonitor *mon, TvQmpVnc *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-vnc", NULL);
    if (!v)
        return -1;
    memset(out, 0, sizeof(*out));
    out->enabled = tv_qmp_bool(v, "enabled");
    out->host = g_strdup(tv_qmp_str(v, "host"));
    out->service = g_strdup(tv_qmp_str(v, "service"));
    out->family = g_strdup(tv_qmp_str(v, "family"));
    out->auth = g_strdup(tv_qmp_str(v, "auth"));
    json_object_put(v);
    return 0;
}

int tv_qemu_monitor_balloon(TvQemuMonitor *mon, guint64 bytes)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "value", json_object_new_int64((gint64)MIN(bytes, G_MAXINT64)));
    return tv_qemu_monitor_command_void(mon, "balloon", args);
}

int tv_qemu_monitor_dump_guest_memory(TvQemuMonitor *mon, const char *protocol, unsigned timeout_ms)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "paging", json_object_new_boolean(0));
    json_object_object_add(args, "protocol", json_object_new_string(protocol));
    json_object *r = tv_qemu_monitor_command_timeout(mon, "dump-guest-memory", args, timeout_ms);
    json_object_put(r);
    return r ? 0 : -1;
}

int tv_qemu_monitor_getfd(TvQemuMonitor *mon, const char *fdname, int fd)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "fdname", json_object_new_string(fdname));
    json_object *r = tv_qemu_monitor_command_fd(mon, "getfd", args, fd);
    json_object_put(r);
    return r ? 0 : -1;
}

int tv_qemu_monitor_add_fd(TvQemuMonitor *mon, int fd, const char *opaque, int *fdset_id)
{
    json_object *args = json_object_new_object();
    if (opaque)
        json_object_object_add(args, "opaque", json_object_new_string(opaque));
    json_object *r = tv_qemu_monitor_command_fd(mon, "add-fd", args, fd);
    if (!r)
        return -1;
    gint64 id = -1;
    int rc = json_object_is_type(r, json_type_object)
                 ? tv_qmp_need_int(r, "fdset-id", "add-fd", &id)
                 : tv_qmp_expect(r, json_type_object, "add-fd", "the reply");
    json_object_put(r);
    if (rc < 0)
        return -1;
    *fdset_id = (int)id;
    return 0;
}

int tv_qemu_monitor_remove_fdset(TvQemuMonitor *mon, int fdset_id)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "fdset-id", json_object_new_int(fdset_id));
    return tv_qemu_monitor_command_void(mon, "remove-fd", args);
}

int tv_qemu_monitor_closefd(TvQemuMonitor *mon, const char *fdname)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "fdname", json_object_new_string(fdname));
    return tv_qemu_monitor_command_void(mon, "closefd", args);
}

int tv_qemu_monitor_add_client(TvQemuMonitor *mon, const char *protocol, const char *fdname,
                               bool skipauth)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, "protocol", json_object_new_string(protocol));
    json_object_object_add(args, "fdname", json_object_new_string(fdname));
    json_object_object_add(args, "skipauth", json_object_new_boolean(skipauth));
    json_object_object_add(args, "tls", json_object_new_boolean(0));
    return tv_qemu_monitor_command_void(mon, "add_client", args);
}

int tv_qemu_monitor_query_balloon(TvQemuMonitor *mon, TvQmpBalloon *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-balloon", NULL);
    if (!v)
        return -1;
    gint64 actual = 0;
    int rc = tv_qmp_need_int(v, "actual", "query-balloon", &actual);
    if (rc == 0)
        out->actual = (guint64)MAX(actual, 0);
    json_object_put(v);
    return rc;
}

void tv_qmp_cpu_list_clear(TvQmpCpuList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].qom_path);
        g_free(l->items[i].target);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_cpu(json_object *c, const char *cmd, void *item)
{
    TvQmpCpu *cpu = item;
    gint64 index = 0, thread = 0;
    if (tv_qmp_need_int(c, "cpu-index", cmd, &index) < 0 ||
        tv_qmp_need_int(c, "thread-id", cmd, &thread) < 0 ||
        tv_qmp_need_str(c, "qom-path", cmd, &cpu->qom_path) < 0)
        return -1;
    cpu->cpu_index = (int)CLAMP(index, 0, G_MAXINT);
    cpu->thread_id = thread;
    cpu->target = g_strdup(tv_qmp_str(c, "target"));
    return 0;
}

int tv_qemu_monitor_query_cpus_fast(TvQemuMonitor *mon, TvQmpCpuList *out)
{
    if (tv_qmp_command_items(mon, "query-cpus-fast", NULL, sizeof(*out->items), parse_cpu,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_cpu_list_clear(out);
    return -1;
}
