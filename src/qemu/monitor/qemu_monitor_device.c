/* Hot-plug and objects: device_add/del, netdev_add/del, blockdev-add/del,
 * chardev-add/remove, set-action,
 * object-add/del, qom-set/get. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

void tv_qmp_value_clear(TvQmpValue *v)
{
    if (v->type == TV_QMP_VALUE_STRING)
        g_clear_pointer(&v->s, g_free);
    memset(v, 0, sizeof(*v));
}

static json_object *value_to_json(const TvQmpValue *v)
{
    switch (v->type) {
    case TV_QMP_VALUE_STRING:
        return json_object_new_string(v->s ? v->s : "");
    case TV_QMP_VALUE_INT:
        return json_object_new_int64(v->i);
    case TV_QMP_VALUE_BOOL:
        return json_object_new_boolean(v->b);
    case TV_QMP_VALUE_DOUBLE:
        return json_object_new_double(v->d);
    case TV_QMP_VALUE_NONE:
        break;
    }
    return NULL;
}

/* obj[a][b]... = value for the dotted name "a.b.c". */
static void add_dotted(json_object *obj, const char *name, json_object *value)
{
    const char *dot;
    while ((dot = strchr(name, '.'))) {
        g_autofree char *key = g_strndup(name, (gsize)(dot - name));
        json_object *sub = NULL;
        if (!json_object_object_get_ex(obj, key, &sub) ||
            !json_object_is_type(sub, json_type_object)) {
            sub = json_object_new_object();
            json_object_object_add(obj, key, sub);
        }
        obj = sub;
        name = dot + 1;
    }
    json_object_object_add(obj, name, value);
}

/* {key1: value1, key2: value2, props...}; NULL with an error for a property
 * without a value. */
static json_object *object_args(const char *command, const char *key1, const char *value1,
                                const char *key2, const char *value2, const TvQmpProp *props,
                                size_t nprops, bool dotted)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, key1, json_object_new_string(value1));
    if (value2)
        json_object_object_add(args, key2, json_object_new_string(value2));
    for (size_t i = 0; i < nprops; i++) {
        json_object *v = value_to_json(&props[i].value);
        if (!v) {
            json_object_put(args);
            tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                            "QEMU command '%s': property '%s' has no value", command,
                            props[i].name);
            return NULL;
        }
        if (dotted)
            add_dotted(args, props[i].name, v);
        else
            json_object_object_add(args, props[i].name, v);
    }
    return args;
}

static int add_command(TvQemuMonitor *mon, const char *command, const char *key1,
                       const char *value1, const char *key2, const char *value2,
                       const TvQmpProp *props, size_t nprops, bool dotted)
{
    json_object *args = object_args(command, key1, value1, key2, value2, props, nprops, dotted);
    return args ? tv_qemu_monitor_command_void(mon, command, args) : -1;
}

int tv_qemu_monitor_device_add(TvQemuMonitor *mon, const char *driver, const char *id,
                               const TvQmpProp *props, size_t nprops)
{
    return add_command(mon, "device_add", "driver", driver, "id", id, props, nprops, false);
}

int tv_qemu_monitor_device_del(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "device_del", tv_qmp_args_str("id", id));
}

int tv_qemu_monitor_netdev_add(TvQemuMonitor *mon, const char *type, const char *id,
                               const TvQmpProp *props, size_t nprops)
{
    return add_command(mon, "netdev_add", "type", type, "id", id, props, nprops, false);
}

int tv_qemu_monitor_netdev_del(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "netdev_del", tv_qmp_args_str("id", id));
}

int tv_qemu_monitor_blockdev_add(TvQemuMonitor *mon, const char *driver, const char *node_name,
                                 const TvQmpProp *props, size_t nprops)
{
    return add_command(mon, "blockdev-add", "driver", driver, "node-name", node_name, props, nprops,
                       true);
}

int tv_qemu_monitor_blockdev_del(TvQemuMonitor *mon, const char *node_name)
{
    return tv_qemu_monitor_command_void(mon, "blockdev-del",
                                        tv_qmp_args_str("node-name", node_name));
}

int tv_qemu_monitor_object_add(TvQemuMonitor *mon, const char *qom_type, const char *id,
                               const TvQmpProp *props, size_t nprops)
{
    return add_command(mon, "object-add", "qom-type", qom_type, "id", id, props, nprops, false);
}

int tv_qemu_monitor_object_del(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "object-del", tv_qmp_args_str("id", id));
}

int tv_qemu_monitor_chardev_add(TvQemuMonitor *mon, const char *id, const TvQmpProp *backend,
                                size_t nprops, char **pty)
{
    if (pty)
        *pty = NULL;
    json_object *inner = object_args("chardev-add", "id", id, NULL, NULL, backend, nprops, true);
    if (!inner)
        return -1;
    /* the backend's properties, under "backend" */
    json_object *args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(id));
    json_object_object_del(inner, "id");
    if (!json_object_object_get_ex(inner, "data", NULL)) /* a pty's: {} */
        json_object_object_add(inner, "data", json_object_new_object());
    json_object_object_add(args, "backend", inner);
    json_object *reply = tv_qemu_monitor_command_object(mon, "chardev-add", args);
    if (!reply)
        return -1;
    const char *path = tv_qmp_str(reply, "pty");
    if (pty && path)
        *pty = g_strdup(path);
    json_object_put(reply);
    return 0;
}

int tv_qemu_monitor_chardev_remove(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "chardev-remove", tv_qmp_args_str("id", id));
}

int tv_qemu_monitor_set_watchdog_action(TvQemuMonitor *mon, const char *action)
{
    return tv_qemu_monitor_command_void(mon, "set-action", tv_qmp_args_str("watchdog", action));
}

static json_object *path_property(const char *path, const char *property)
{
    json_object *args = tv_qmp_args_str("path", path);
    json_object_object_add(args, "property", json_object_new_string(property));
    return args;
}

int tv_qemu_monitor_qom_set(TvQemuMonitor *mon, const char *path, const char *property,
                            const TvQmpValue *value)
{
    json_object *v = value_to_json(value);
    if (!v) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU command 'qom-set': no value for '%s' of '%s'", property, path);
        return -1;
    }
    json_object *args = path_property(path, property);
    json_object_object_add(args, "value", v);
    return tv_qemu_monitor_command_void(mon, "qom-set", args);
}

int tv_qemu_monitor_qom_get(TvQemuMonitor *mon, const char *path, const char *property,
                            TvQmpValue *out)
{
    json_object *v = tv_qemu_monitor_command(mon, "qom-get", path_property(path, property));
    if (!v)
        return -1;
    memset(out, 0, sizeof(*out));
    switch (json_object_get_type(v)) {
    case json_type_string:
        out->type = TV_QMP_VALUE_STRING;
        out->s = g_strdup(json_object_get_string(v));
        break;
    case json_type_int:
        out->type = TV_QMP_VALUE_INT;
        out->i = json_object_get_int64(v);
        break;
    case json_type_boolean:
        out->type = TV_QMP_VALUE_BOOL;
        out->b = json_object_get_boolean(v);
        break;
    case json_type_double:
        out->type = TV_QMP_VALUE_DOUBLE;
        out->d = json_object_get_double(v);
        break;
    case json_type_null:
    case json_type_object:
    case json_type_array:
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to 'qom-get' of '%s' of '%s' is not a scalar: '%.120s'",
                        property, path, json_object_to_json_string(v));
        json_object_put(v);
        return -1;
    }
    json_object_put(v);
    return 0;
}

void tv_qmp_block_list_clear(TvQmpBlockList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].device);
        g_free(l->items[i].qdev);
        g_free(l->items[i].node_name);
        g_free(l->items[i].file);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_block(json_object *b, const char *cmd, void *item)
{
    (void)cmd;
    TvQmpBlock *blk = item;
    blk->device = g_strdup(tv_qmp_str(b, "device"));
    blk->qdev = g_strdup(tv_qmp_str(b, "qdev"));
    blk->removable = tv_qmp_bool(b, "removable");
    blk->tray_open = tv_qmp_bool(b, "tray_open");
    json_object *inserted = NULL;
    if (json_object_object_get_ex(b, "inserted", &inserted) &&
        json_object_is_type(inserted, json_type_object)) {
        blk->node_name = g_strdup(tv_qmp_str(inserted, "node-name"));
        blk->file = g_strdup(tv_qmp_str(inserted, "file"));
        json_object *image = NULL;
        if (json_object_object_get_ex(inserted, "image", &image))
            blk->virtual_size = (guint64)tv_qmp_int(image, "virtual-size", 0);
    }
    return 0;
}

int tv_qemu_monitor_query_block(TvQemuMonitor *mon, TvQmpBlockList *out)
{
    if (tv_qmp_command_items(mon, "query-block", NULL, sizeof(*out->items), parse_block,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_block_list_clear(out);
    return -1;
}

/* Is qdev (query-block's or query-blockstats' name of a guest device) the
 * device of that id, or a QOM path inside it? */
static bool qdev_is(const char *qdev, const char *id)
{
    if (!qdev)
        return false;
    if (strcmp(qdev, id) == 0)
        return true;
    g_autofree char *inner = g_strdup_printf("/machine/peripheral/%s/", id);
    return g_str_has_prefix(qdev, inner);
}

const TvQmpBlock *tv_qmp_block_list_find(const TvQmpBlockList *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (qdev_is(l->items[i].qdev, id))
            return &l->items[i];
    return NULL;
}

void tv_qmp_block_stats_list_clear(TvQmpBlockStatsList *l)
{
    for (size_t i = 0; i < l->n; i++)
        g_free(l->items[i].qdev);
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_blockstats(json_object *b, const char *cmd, void *item)
{
    (void)cmd;
    TvQmpBlockStats *st = item;
    st->qdev = g_strdup(tv_qmp_str(b, "qdev"));
    json_object *s = NULL;
    if (!json_object_object_get_ex(b, "stats", &s) || !json_object_is_type(s, json_type_object))
        return 0;
#define U(field, key) st->field = (guint64)tv_qmp_int(s, key, 0)
    U(rd_bytes, "rd_bytes");
    U(wr_bytes, "wr_bytes");
    U(rd_operations, "rd_operations");
    U(wr_operations, "wr_operations");
    U(flush_operations, "flush_operations");
    U(rd_total_time_ns, "rd_total_time_ns");
    U(wr_total_time_ns, "wr_total_time_ns");
    U(flush_total_time_ns, "flush_total_time_ns");
    U(failed_rd_operations, "failed_rd_operations");
    U(failed_wr_operations, "failed_wr_operations");
    U(failed_flush_operations, "failed_flush_operations");
#undef U
    return 0;
}

int tv_qemu_monitor_query_blockstats(TvQemuMonitor *mon, TvQmpBlockStatsList *out)
{
    if (tv_qmp_command_items(mon, "query-blockstats", NULL, sizeof(*out->items), parse_blockstats,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_block_stats_list_clear(out);
    return -1;
}

const TvQmpBlockStats *tv_qmp_block_stats_find(const TvQmpBlockStatsList *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (qdev_is(l->items[i].qdev, id))
            return &l->items[i];
    return NULL;
}

static json_object *id_args(const char *id)
{
    return tv_qmp_args_str("id", id);
}

int tv_qemu_monitor_blockdev_open_tray(TvQemuMonitor *mon, const char *id, bool force)
{
    json_object *args = id_args(id);
    json_object_object_add(args, "force", json_object_new_boolean(force));
    return tv_qemu_monitor_command_void(mon, "blockdev-open-tray", args);
}

int tv_qemu_monitor_blockdev_close_tray(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "blockdev-close-tray", id_args(id));
}

int tv_qemu_monitor_blockdev_remove_medium(TvQemuMonitor *mon, const char *id)
{
    return tv_qemu_monitor_command_void(mon, "blockdev-remove-medium", id_args(id));
}

int tv_qemu_monitor_blockdev_insert_medium(TvQemuMonitor *mon, const char *id,
                                           const char *node_name)
{
    json_object *args = id_args(id);
    json_object_object_add(args, "node-name", json_object_new_string(node_name));
    return tv_qemu_monitor_command_void(mon, "blockdev-insert-medium", args);
}

int tv_qemu_monitor_set_link(TvQemuMonitor *mon, const char *name, bool up)
{
    json_object *args = tv_qmp_args_str("name", name);
    json_object_object_add(args, "up", json_object_new_boolean(up));
    return tv_qemu_monitor_command_void(mon, "set_link", args);
}
