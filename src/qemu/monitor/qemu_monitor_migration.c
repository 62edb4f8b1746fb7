/* Migration: start, listen, cancel, follow, capabilities, parameters. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *const cap_names[TV_QMP_MIGRATION_CAP_LAST] = {
    [TV_QMP_MIGRATION_CAP_UNKNOWN] = "",
    [TV_QMP_MIGRATION_CAP_XBZRLE] = "xbzrle",
    [TV_QMP_MIGRATION_CAP_AUTO_CONVERGE] = "auto-converge",
    [TV_QMP_MIGRATION_CAP_EVENTS] = "events",
    [TV_QMP_MIGRATION_CAP_POSTCOPY_RAM] = "postcopy-ram",
    [TV_QMP_MIGRATION_CAP_PAUSE_BEFORE_SWITCHOVER] = "pause-before-switchover",
    [TV_QMP_MIGRATION_CAP_MULTIFD] = "multifd",
    [TV_QMP_MIGRATION_CAP_RETURN_PATH] = "return-path",
    [TV_QMP_MIGRATION_CAP_ZERO_COPY_SEND] = "zero-copy-send",
    [TV_QMP_MIGRATION_CAP_DIRTY_BITMAPS] = "dirty-bitmaps",
    [TV_QMP_MIGRATION_CAP_LATE_BLOCK_ACTIVATE] = "late-block-activate",
};

const char *tv_qmp_migration_cap_to_string(TvQmpMigrationCap cap)
{
    return cap < TV_QMP_MIGRATION_CAP_LAST ? cap_names[cap] : "";
}

TvQmpMigrationCap tv_qmp_migration_cap_from_string(const char *name)
{
    return (TvQmpMigrationCap)tv_qmp_enum_lookup(cap_names, TV_QMP_MIGRATION_CAP_LAST, name);
}

int tv_qemu_monitor_migrate(TvQemuMonitor *mon, const char *uri)
{
    return tv_qemu_monitor_command_void(mon, "migrate", tv_qmp_args_str("uri", uri));
}

int tv_qemu_monitor_migrate_incoming(TvQemuMonitor *mon, const char *uri)
{
    return tv_qemu_monitor_command_void(mon, "migrate-incoming", tv_qmp_args_str("uri", uri));
}

int tv_qemu_monitor_migrate_cancel(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "migrate_cancel", NULL);
}

int tv_qemu_monitor_migrate_start_postcopy(TvQemuMonitor *mon)
{
    return tv_qemu_monitor_command_void(mon, "migrate-start-postcopy", NULL);
}

void tv_qmp_migration_info_clear(TvQmpMigrationInfo *info)
{
    g_free(info->error_desc);
    memset(info, 0, sizeof(*info));
}

static guint64 uint_member(json_object *obj, const char *key)
{
    return (guint64)MAX(tv_qmp_int(obj, key, 0), 0);
}

int tv_qemu_monitor_query_migrate(TvQemuMonitor *mon, TvQmpMigrationInfo *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-migrate", NULL), *ram = NULL;
    if (!v)
        return -1;
    memset(out, 0, sizeof(*out));
    /* before the first migration QEMU sends {} (7.2, 10.0, 11.1) */
    const char *status = tv_qmp_str(v, "status");
    out->status =
        status ? tv_qmp_migration_status_from_string(status) : TV_QMP_MIGRATION_STATUS_NONE;
    out->total_time_ms = tv_qmp_int(v, "total-time", 0);
    out->setup_time_ms = tv_qmp_int(v, "setup-time", 0);
    out->expected_downtime_ms = tv_qmp_int(v, "expected-downtime", 0);
    out->downtime_ms = tv_qmp_int(v, "downtime", 0);
    out->cpu_throttle_percentage = (int)CLAMP(tv_qmp_int(v, "cpu-throttle-percentage", 0), 0, 100);
    out->error_desc = g_strdup(tv_qmp_str(v, "error-desc"));
    if (json_object_object_get_ex(v, "ram", &ram) && json_object_is_type(ram, json_type_object)) {
        json_object *mbps = NULL;
        out->has_ram = true;
        out->ram.transferred = uint_member(ram, "transferred");
        out->ram.remaining = uint_member(ram, "remaining");
        out->ram.total = uint_member(ram, "total");
        out->ram.duplicate = uint_member(ram, "duplicate");
        out->ram.normal = uint_member(ram, "normal");
        out->ram.normal_bytes = uint_member(ram, "normal-bytes");
        out->ram.dirty_pages_rate = uint_member(ram, "dirty-pages-rate");
        out->ram.dirty_sync_count = uint_member(ram, "dirty-sync-count");
        out->ram.postcopy_requests = uint_member(ram, "postcopy-requests");
        out->ram.page_size = uint_member(ram, "page-size");
        if (json_object_object_get_ex(ram, "mbps", &mbps))
            out->ram.mbps = json_object_get_double(mbps);
    }
    json_object_put(v);
    return 0;
}

int tv_qemu_monitor_migrate_set_capabilities(TvQemuMonitor *mon, const TvQmpMigrationCapState *caps,
                                             size_t n)
{
    json_object *list = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        if (caps[i].cap <= TV_QMP_MIGRATION_CAP_UNKNOWN ||
            caps[i].cap >= TV_QMP_MIGRATION_CAP_LAST) {
            json_object_put(list);
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "QEMU command 'migrate-set-capabilities': no capability %d",
                            (int)caps[i].cap);
            return -1;
        }
        json_object *c = tv_qmp_args_str("capability", cap_names[caps[i].cap]);
        json_object_object_add(c, "state", json_object_new_boolean(caps[i].state));
        json_object_array_add(list, c);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "capabilities", list);
    return tv_qemu_monitor_command_void(mon, "migrate-set-capabilities", args);
}

void tv_qmp_migration_cap_list_clear(TvQmpMigrationCapList *l)
{
    for (size_t i = 0; i < l->n; i++)
        g_free(l->items[i].name);
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_cap(json_object *c, const char *cmd, void *item)
{
    TvQmpMigrationCapInfo *info = item;
    json_object *state = NULL;
    json_object_object_get_ex(c, "state", &state);
    if (tv_qmp_expect(state, json_type_boolean, cmd, "'state'") < 0 ||
        tv_qmp_need_str(c, "capability", cmd, &info->name) < 0)
        return -1;
    info->cap = tv_qmp_migration_cap_from_string(info->name);
    info->state = json_object_get_boolean(state);
    return 0;
}

int tv_qemu_monitor_query_migrate_capabilities(TvQemuMonitor *mon, TvQmpMigrationCapList *out)
{
    if (tv_qmp_command_items(mon, "query-migrate-capabilities", NULL, sizeof(*out->items),
                             parse_cap, (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_migration_cap_list_clear(out);
    return -1;
}

bool tv_qmp_migration_cap_list_get(const TvQmpMigrationCapList *l, TvQmpMigrationCap cap,
                                   bool *present)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->items[i].cap == cap) {
            if (present)
                *present = true;
            return l->items[i].state;
        }
    }
    if (present)
        *present = false;
    return false;
}

void tv_qmp_migration_params_clear(TvQmpMigrationParams *p)
{
    g_free(p->tls_creds);
    g_free(p->tls_hostname);
    memset(p, 0, sizeof(*p));
}

/* The numeric parameters, in one table for both directions. */
#define NUM_PARAM(key, field)                                                                      \
    {                                                                                              \
        key, offsetof(TvQmpMigrationParams, has_##field), offsetof(TvQmpMigrationParams, field)    \
    }
static const struct {
    const char *key;
    size_t has, value;
} num_params[] = {
    NUM_PARAM("max-bandwidth", max_bandwidth),
    NUM_PARAM("downtime-limit", downtime_limit),
    NUM_PARAM("max-postcopy-bandwidth", max_postcopy_bandwidth),
    NUM_PARAM("multifd-channels", multifd_channels),
    NUM_PARAM("cpu-throttle-initial", cpu_throttle_initial),
    NUM_PARAM("cpu-throttle-increment", cpu_throttle_increment),
};

int tv_qemu_monitor_migrate_set_parameters(TvQemuMonitor *mon, const TvQmpMigrationParams *p)
{
    json_object *args = json_object_new_object();
    for (size_t i = 0; i < G_N_ELEMENTS(num_params); i++) {
        const char *base = (const char *)p;
        if (*(const bool *)(base + num_params[i].has))
            json_object_object_add(
                args, num_params[i].key,
                json_object_new_int64((gint64)MIN(*(const guint64 *)(base + num_params[i].value),
                                                  (guint64)G_MAXINT64)));
    }
    if (p->tls_creds)
        json_object_object_add(args, "tls-creds", json_object_new_string(p->tls_creds));
    if (p->tls_hostname)
        json_object_object_add(args, "tls-hostname", json_object_new_string(p->tls_hostname));
    return tv_qemu_monitor_command_void(mon, "migrate-set-parameters", args);
}

int tv_qemu_monitor_query_migrate_parameters(TvQemuMonitor *mon, TvQmpMigrationParams *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-migrate-parameters", NULL);
    if (!v)
        return -1;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < G_N_ELEMENTS(num_params); i++) {
        json_object *n = NULL;
        if (!json_object_object_get_ex(v, num_params[i].key, &n) ||
            !json_object_is_type(n, json_type_int))
            continue;
        char *base = (char *)out;
        *(bool *)(base + num_params[i].has) = true;
        *(guint64 *)(base + num_params[i].value) = (guint64)MAX(json_object_get_int64(n), 0);
    }
    out->tls_creds = g_strdup(tv_qmp_str(v, "tls-creds"));
    out->tls_hostname = g_strdup(tv_qmp_str(v, "tls-hostname"));
    json_object_put(v);
    return 0;
}
