/* Reading QMP replies: members by name and type, with errors that name the
 * command and the member. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *type_word(json_type type)
{
    switch (type) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a number";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "a list";
    case json_type_string:
        return "a string";
    }
    return "a JSON value";
}

int tv_qmp_expect(json_object *v, json_type type, const char *command, const char *what)
{
    if (v && json_object_is_type(v, type))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "QEMU's reply to '%s': %s is not %s",
                    command, what, type_word(type));
    return -1;
}

const char *tv_qmp_str(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

bool tv_qmp_bool(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

gint64 tv_qmp_int(json_object *obj, const char *key, gint64 dflt)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    return json_object_get_int64(v);
}

int tv_qmp_need_str(json_object *obj, const char *key, const char *command, char **out)
{
    const char *s = tv_qmp_str(obj, key);
    if (!s) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to '%s' has no string '%s' in '%.120s'", command, key,
                        json_object_to_json_string(obj));
        return -1;
    }
    *out = g_strdup(s);
    return 0;
}

int tv_qmp_need_int(json_object *obj, const char *key, const char *command, gint64 *out)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to '%s' has no integer '%s' in '%.120s'", command, key,
                        json_object_to_json_string(obj));
        return -1;
    }
    *out = json_object_get_int64(v);
    return 0;
}

json_object *tv_qmp_args_str(const char *key, const char *value)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, key, json_object_new_string(value));
    return args;
}

char *tv_qmp_to_line(json_object *obj)
{
    return g_strdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

int tv_qmp_command_items(TvQemuMonitor *mon, const char *command, json_object *args,
                         size_t item_size, TvQmpItemParser parse, void **items, size_t *n)
{
    *items = NULL;
    *n = 0;
    json_object *list = tv_qemu_monitor_command(mon, command, args);
    if (!list || tv_qmp_expect(list, json_type_array, command, "the reply") < 0) {
        json_object_put(list);
        return -1;
    }
    size_t len = json_object_array_length(list);
    char *out = g_malloc0_n(MAX(len, 1), item_size);
    *items = out;
    int rc = 0;
    for (size_t i = 0; i < len && rc == 0; i++) {
        rc = parse(json_object_array_get_idx(list, i), command, out + *n * item_size);
        if (rc == 0)
            (*n)++;
    }
    json_object_put(list);
    return rc;
}

json_object *tv_qemu_monitor_command_object(TvQemuMonitor *mon, const char *command,
                                            json_object *args)
{
    json_object *v = tv_qemu_monitor_command(mon, command, args);
    if (v && tv_qmp_expect(v, json_type_object, command, "the reply") < 0)
        g_clear_pointer(&v, json_object_put);
    return v;
}

int tv_qmp_enum_lookup(const char *const *table, int n, const char *name)
{
    for (int i = 1; name && i < n; i++) {
        if (strcmp(table[i], name) == 0)
            return i;
    }
    return 0;
}
