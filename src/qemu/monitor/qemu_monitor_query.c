/* What the capabilities probe asks: target, version, accelerators, CPU
 * models, QOM types and properties, machines, GIC, commands. */
#include "qemu_monitor_priv.h"
#include "tv_error.h"

#include <string.h>

void tv_qmp_target_clear(TvQmpTarget *t)
{
    g_clear_pointer(&t->arch, g_free);
}

int tv_qemu_monitor_query_target(TvQemuMonitor *mon, TvQmpTarget *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-target", NULL);
    if (!v)
        return -1;
    int rc = tv_qmp_need_str(v, "arch", "query-target", &out->arch);
    json_object_put(v);
    return rc;
}

void tv_qmp_version_clear(TvQmpVersion *v)
{
    g_clear_pointer(&v->package, g_free);
}

int tv_qemu_monitor_query_version(TvQemuMonitor *mon, TvQmpVersion *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-version", NULL), *qemu = NULL;
    if (!v)
        return -1;
    json_object_object_get_ex(v, "qemu", &qemu);
    gint64 major = tv_qmp_int(qemu, "major", -1), minor = tv_qmp_int(qemu, "minor", -1),
           micro = tv_qmp_int(qemu, "micro", -1);
    if (major < 0 || minor < 0 || micro < 0 || major > G_MAXINT || minor > G_MAXINT ||
        micro > G_MAXINT) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to 'query-version' has no usable version numbers: '%.120s'",
                        json_object_to_json_string(v));
        json_object_put(v);
        return -1;
    }
    out->major = (unsigned)major;
    out->minor = (unsigned)minor;
    out->micro = (unsigned)micro;
    out->package = g_strdup(tv_qmp_str(v, "package"));
    json_object_put(v);
    return 0;
}

int tv_qemu_monitor_query_kvm(TvQemuMonitor *mon, TvQmpKvm *out)
{
    json_object *v = tv_qemu_monitor_command_object(mon, "query-kvm", NULL);
    if (!v)
        return -1;
    out->enabled = tv_qmp_bool(v, "enabled");
    out->present = tv_qmp_bool(v, "present");
    json_object_put(v);
    return 0;
}

void tv_qmp_cpu_definition_list_clear(TvQmpCpuDefinitionList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].name);
        g_free(l->items[i].type_name);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_cpu_definition(json_object *d, const char *cmd, void *item)
{
    TvQmpCpuDefinition *m = item;
    if (tv_qmp_need_str(d, "name", cmd, &m->name) < 0)
        return -1;
    if (tv_qmp_need_str(d, "typename", cmd, &m->type_name) < 0) {
        g_clear_pointer(&m->name, g_free);
        return -1;
    }
    m->is_static = tv_qmp_bool(d, "static");
    m->deprecated = tv_qmp_bool(d, "deprecated");
    return 0;
}

int tv_qemu_monitor_query_cpu_definitions(TvQemuMonitor *mon, TvQmpCpuDefinitionList *out)
{
    if (tv_qmp_command_items(mon, "query-cpu-definitions", NULL, sizeof(*out->items),
                             parse_cpu_definition, (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_cpu_definition_list_clear(out);
    return -1;
}

void tv_qmp_property_list_clear(TvQmpPropertyList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].name);
        g_free(l->items[i].type);
        g_free(l->items[i].description);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

bool tv_qmp_property_list_has(const TvQmpPropertyList *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].name, name) == 0)
            return true;
    }
    return false;
}

static int parse_property(json_object *p, const char *cmd, void *item)
{
    TvQmpProperty *prop = item;
    if (tv_qmp_need_str(p, "name", cmd, &prop->name) < 0)
        return -1;
    prop->type = g_strdup(tv_qmp_str(p, "type"));
    prop->description = g_strdup(tv_qmp_str(p, "description"));
    return 0;
}

static int property_list(TvQemuMonitor *mon, const char *cmd, const char *type_name,
                         TvQmpPropertyList *out)
{
    if (tv_qmp_command_items(mon, cmd, tv_qmp_args_str("typename", type_name), sizeof(*out->items),
                             parse_property, (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_property_list_clear(out);
    return -1;
}

int tv_qemu_monitor_qom_list_properties(TvQemuMonitor *mon, const char *type_name,
                                        TvQmpPropertyList *out)
{
    return property_list(mon, "qom-list-properties", type_name, out);
}

int tv_qemu_monitor_device_list_properties(TvQemuMonitor *mon, const char *type_name,
                                           TvQmpPropertyList *out)
{
    return property_list(mon, "device-list-properties", type_name, out);
}

void tv_qmp_object_type_list_clear(TvQmpObjectTypeList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].name);
        g_free(l->items[i].parent);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_object_type(json_object *t, const char *cmd, void *item)
{
    TvQmpObjectType *type = item;
    if (tv_qmp_need_str(t, "name", cmd, &type->name) < 0)
        return -1;
    type->parent = g_strdup(tv_qmp_str(t, "parent"));
    type->abstract = tv_qmp_bool(t, "abstract");
    return 0;
}

int tv_qemu_monitor_qom_list_types(TvQemuMonitor *mon, const char *implements, bool abstract,
                                   TvQmpObjectTypeList *out)
{
    json_object *args = json_object_new_object();
    if (implements)
        json_object_object_add(args, "implements", json_object_new_string(implements));
    if (abstract)
        json_object_object_add(args, "abstract", json_object_new_boolean(1));
    if (tv_qmp_command_items(mon, "qom-list-types", args, sizeof(*out->items), parse_object_type,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_object_type_list_clear(out);
    return -1;
}

void tv_qmp_machine_list_clear(TvQmpMachineList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].name);
        g_free(l->items[i].alias);
        g_free(l->items[i].default_cpu_type);
        g_free(l->items[i].default_ram_id);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_machine(json_object *m, const char *cmd, void *item)
{
    TvQmpMachine *out = item;
    if (tv_qmp_need_str(m, "name", cmd, &out->name) < 0)
        return -1;
    out->alias = g_strdup(tv_qmp_str(m, "alias"));
    out->is_default = tv_qmp_bool(m, "is-default");
    out->deprecated = tv_qmp_bool(m, "deprecated");
    out->hotpluggable_cpus = tv_qmp_bool(m, "hotpluggable-cpus");
    gint64 cpu_max = tv_qmp_int(m, "cpu-max", 0);
    out->cpu_max = cpu_max > 0 && cpu_max <= G_MAXUINT ? (unsigned)cpu_max : 0;
    out->default_cpu_type = g_strdup(tv_qmp_str(m, "default-cpu-type"));
    out->default_ram_id = g_strdup(tv_qmp_str(m, "default-ram-id"));
    return 0;
}

int tv_qemu_monitor_query_machines(TvQemuMonitor *mon, TvQmpMachineList *out)
{
    if (tv_qmp_command_items(mon, "query-machines", NULL, sizeof(*out->items), parse_machine,
                             (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_machine_list_clear(out);
    return -1;
}

void tv_qmp_gic_capability_list_clear(TvQmpGicCapabilityList *l)
{
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int parse_gic_capability(json_object *g, const char *cmd, void *item)
{
    TvQmpGicCapability *c = item;
    gint64 version = 0;
    if (tv_qmp_need_int(g, "version", cmd, &version) < 0)
        return -1;
    c->version = (int)CLAMP(version, 0, G_MAXINT);
    c->emulated = tv_qmp_bool(g, "emulated");
    c->kernel = tv_qmp_bool(g, "kernel");
    return 0;
}

int tv_qemu_monitor_query_gic_capabilities(TvQemuMonitor *mon, TvQmpGicCapabilityList *out)
{
    if (tv_qmp_command_items(mon, "query-gic-capabilities", NULL, sizeof(*out->items),
                             parse_gic_capability, (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_gic_capability_list_clear(out);
    return -1;
}

void tv_qmp_command_list_clear(TvQmpCommandList *l)
{
    g_clear_pointer(&l->names, g_strfreev);
    l->n = 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int parse_command_name(json_object *c, const char *cmd, void *item)
{
    return tv_qmp_need_str(c, "name", cmd, item);
}

int tv_qemu_monitor_query_commands(TvQemuMonitor *mon, TvQmpCommandList *out)
{
    char **names = NULL;
    size_t n = 0;
    int rc = tv_qmp_command_items(mon, "query-commands", NULL, sizeof(char *), parse_command_name,
                                  (void **)&names, &n);
    /* one more for the NULL at the end: a GStrv */
    names = g_renew(char *, names, n + 1);
    names[n] = NULL;
    if (rc < 0) {
        g_strfreev(names);
        return -1;
    }
    qsort(names, n, sizeof(char *), cmp_strp);
    out->names = names;
    out->n = n;
    return 0;
}

void tv_qmp_mte_capability_list_clear(TvQmpMteCapabilityList *l)
{
    for (size_t i = 0; i < l->n; i++) {
        g_free(l->items[i].accelerator);
        g_free(l->items[i].versions);
    }
    g_clear_pointer(&l->items, g_free);
    l->n = 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static int parse_mte_capability(json_object *e, const char *cmd, void *item)
{
    TvQmpMteCapability *c = item;
    json_object *versions = NULL;
    json_object_object_get_ex(e, "versions", &versions);
    if (tv_qmp_expect(versions, json_type_array, cmd, "'versions'") < 0 ||
        tv_qmp_need_str(e, "accelerator", cmd, &c->accelerator) < 0)
        return -1;
    c->versions = g_new0(int, json_object_array_length(versions));
    for (size_t j = 0; j < json_object_array_length(versions); j++) {
        json_object *v = json_object_array_get_idx(versions, j);
        if (json_object_is_type(v, json_type_int))
            c->versions[c->nversions++] = json_object_get_int(v);
    }
    qsort(c->versions, c->nversions, sizeof(int), cmp_int);
    return 0;
}

/* [{"accelerator": "tcg", "versions": [2, 3]}, ...] */
int tv_qemu_monitor_query_mte_capabilities(TvQemuMonitor *mon, TvQmpMteCapabilityList *out)
{
    if (tv_qmp_command_items(mon, "query-mte-capabilities", NULL, sizeof(*out->items),
                             parse_mte_capability, (void **)&out->items, &out->n) == 0)
        return 0;
    tv_qmp_mte_capability_list_clear(out);
    return -1;
}
