/* The QMP part of the capability probe: which commands are asked, in which
 * order, and how the replies become TvQemuCaps fields.  The same code runs
 * against a live QEMU and against a recording. */
#include "qemu_capabilities_priv.h"
#include "qemu_monitor.h"
#include "tv_error.h"

#include <string.h>

json_object *tv_caps_qmp_execute(TvCapsQmp *q, const char *command, json_object *args)
{
    q->error_reply = false;
    if (q->mon) {
        json_object *ret = tv_qemu_monitor_execute(q->mon, command, args, q->timeout_ms);
        q->error_reply = !ret && tv_qemu_monitor_last_error_class(q->mon) != NULL;
        return ret;
    }

    /* replay: the probe must ask exactly what was recorded, in that order */
    json_object *cmd = json_object_new_object();
    json_object_object_add(cmd, "execute", json_object_new_string(command));
    if (args)
        json_object_object_add(cmd, "arguments", args);
    const char *asked = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN);
    if (q->replay_pos >= q->replay->qmp->len) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "recording has no more commands, but the probe asks %s", asked);
        json_object_put(cmd);
        return NULL;
    }
    TvQemuCapsRecordedQmp *rec = q->replay->qmp->pdata[q->replay_pos];
    if (!json_object_equal(rec->command, cmd)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "recording has command %u = %s, but the probe asks %s", q->replay_pos + 1,
                        json_object_to_json_string_ext(rec->command, JSON_C_TO_STRING_PLAIN),
                        asked);
        json_object_put(cmd);
        return NULL;
    }
    json_object_put(cmd);
    q->replay_pos++;
    const char *err_class = NULL;
    json_object *ret = tv_qemu_monitor_reply_value(command, rec->reply, &err_class);
    q->error_reply = err_class != NULL;
    return ret;
}

static json_object *typename_args(const char *key, const char *value)
{
    json_object *args = json_object_new_object();
    json_object_object_add(args, key, json_object_new_string(value));
    return args;
}

static const char *get_str(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static bool get_bool(json_object *obj, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(obj, key, &v) && json_object_get_boolean(v);
}

static int64_t get_int(json_object *obj, const char *key, int64_t dflt)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return dflt;
    return json_object_get_int64(v);
}

static int expect_array(json_object *v, const char *command)
{
    if (v && json_object_is_type(v, json_type_array))
        return 0;
    tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                    "QEMU's reply to '%s' is not a list", command);
    return -1;
}

/* Does the QOM type have a property of that name? (*names gets them all) */
static int qom_properties(TvCapsQmp *q, const char *type_name, GHashTable **names)
{
    json_object *props =
        tv_caps_qmp_execute(q, "qom-list-properties", typename_args("typename", type_name));
    if (!props || expect_array(props, "qom-list-properties") < 0) {
        json_object_put(props);
        return -1;
    }
    *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < json_object_array_length(props); i++) {
        const char *name = get_str(json_object_array_get_idx(props, i), "name");
        if (name)
            g_hash_table_add(*names, g_strdup(name));
    }
    json_object_put(props);
    return 0;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The properties <cpu><feature> may set, sorted. */
static char **cpu_features(GHashTable *props)
{
    GPtrArray *out = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, props);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        if (tv_qemu_cpu_feature_name(key))
            g_ptr_array_add(out, g_strdup(key));
    }
    g_ptr_array_sort(out, cmp_str);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

static int cmp_cpu(const void *a, const void *b)
{
    return strcmp(((const TvQemuCpuModel *)a)->name, ((const TvQemuCpuModel *)b)->name);
}

static int probe_target(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *target = tv_caps_qmp_execute(q, "query-target", NULL);
    if (!target)
        return -1;
    caps->arch = g_strdup(get_str(target, "arch"));
    json_object_put(target);
    if (g_strcmp0(caps->arch, "aarch64") != 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_CONFIG_UNSUPPORTED,
                        "QEMU binary '%s' emulates '%s', not 'aarch64'", caps->binary,
                        caps->arch ? caps->arch : "(unknown)");
        return -1;
    }
    return 0;
}

static int probe_cpu_models(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *defs = tv_caps_qmp_execute(q, "query-cpu-definitions", NULL);
    if (!defs || expect_array(defs, "query-cpu-definitions") < 0) {
        json_object_put(defs);
        return -1;
    }
    size_t n = json_object_array_length(defs);
    caps->cpu_models = g_new0(TvQemuCpuModel, n);
    for (size_t i = 0; i < n; i++) {
        json_object *d = json_object_array_get_idx(defs, i);
        const char *name = get_str(d, "name"), *type = get_str(d, "typename");
        if (!name || !type)
            continue;
        TvQemuCpuModel *m = &caps->cpu_models[caps->ncpu_models++];
        m->name = g_strdup(name);
        m->type_name = g_strdup(type);
    }
    json_object_put(defs);
    qsort(caps->cpu_models, caps->ncpu_models, sizeof(TvQemuCpuModel), cmp_cpu);

    /* a 64-bit model is one whose QOM type has the 'aarch64' property */
    for (size_t i = 0; i < caps->ncpu_models; i++) {
        g_autoptr(GHashTable) props = NULL;
        if (qom_properties(q, caps->cpu_models[i].type_name, &props) < 0)
            return -1;
        caps->cpu_models[i].aarch64 = g_hash_table_contains(props, "aarch64");
        if (caps->cpu_models[i].aarch64)
            caps->cpu_models[i].features = cpu_features(props);
        /* boot it now: the boots overlap the rest of the conversation */
        if (caps->cpu_models[i].aarch64 && caps->accel_tcg &&
            !g_str_equal(caps->cpu_models[i].name, "host"))
            tv_guest_abi_queue_push_model(q->boots, caps->cpu_models[i].name, TV_ACCEL_TCG);
    }
    return 0;
}

/* Does the binary have this QOM type?  1 yes, 0 no (an error reply), -1 error.
 * (qom-list-types would do, but its first call loads every module: ~50 ms.) */
static int qom_type_exists(TvCapsQmp *q, const char *type_name)
{
    json_object *props =
        tv_caps_qmp_execute(q, "qom-list-properties", typename_args("typename", type_name));
    if (props) {
        json_object_put(props);
        return 1;
    }
    if (!q->error_reply)
        return -1;
    tv_error_reset();
    return 0;
}

/* TCG: the 'tcg-accel' type exists.  KVM: query-kvm says it is compiled in. */
static int probe_accels(TvCapsQmp *q, TvQemuCaps *caps)
{
    int tcg = qom_type_exists(q, "tcg-accel");
    if (tcg < 0)
        return -1;
    caps->accel_tcg = tcg;
    json_object *kvm = tv_caps_qmp_execute(q, "query-kvm", NULL);
    if (!kvm)
        return -1;
    caps->accel_kvm = get_bool(kvm, "present");
    json_object_put(kvm);
    return 0;
}

int tv_caps_qmp_probe_cpus(TvCapsQmp *q, TvQemuCaps *caps)
{
    int rc = -1;
    if (q->mon) {
        if (tv_qemu_monitor_handshake(q->mon, q->timeout_ms) < 0)
            goto out;
    } else {
        if (!q->replay->greeting) {
            tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                            "recording has no QMP greeting");
            goto out;
        }
        json_object *ret = tv_caps_qmp_execute(q, "qmp_capabilities", NULL);
        if (!ret)
            goto out;
        json_object_put(ret);
    }
    if (probe_target(q, caps) < 0 || probe_accels(q, caps) < 0 || probe_cpu_models(q, caps) < 0)
        goto out;
    if (q->kvm && caps->accel_kvm)
        tv_guest_abi_queue_push_model(q->boots, "host", TV_ACCEL_KVM);
    rc = 0;
out:
    tv_guest_abi_queue_close(q->boots);
    return rc;
}

static int probe_version(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *v = tv_caps_qmp_execute(q, "query-version", NULL);
    if (!v)
        return -1;
    json_object *qemu = NULL;
    json_object_object_get_ex(v, "qemu", &qemu);
    int64_t major = get_int(qemu, "major", -1), minor = get_int(qemu, "minor", -1),
            micro = get_int(qemu, "micro", -1);
    const char *package = get_str(v, "package");
    caps->package = package ? g_strstrip(g_strdup(package)) : NULL;
    json_object_put(v);
    if (major < 0 || minor < 0 || micro < 0 || minor > 999 || micro > 999) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to 'query-version' has no usable version numbers");
        return -1;
    }
    caps->version = (unsigned)(major * 1000000 + minor * 1000 + micro);
    return 0;
}

static int cmp_machine(const void *a, const void *b)
{
    return strcmp(((const TvQemuMachine *)a)->name, ((const TvQemuMachine *)b)->name);
}

static int probe_machines(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *list = tv_caps_qmp_execute(q, "query-machines", NULL);
    if (!list || expect_array(list, "query-machines") < 0) {
        json_object_put(list);
        return -1;
    }
    size_t n = json_object_array_length(list);
    caps->machines = g_new0(TvQemuMachine, n);
    for (size_t i = 0; i < n; i++) {
        json_object *m = json_object_array_get_idx(list, i);
        if (!get_str(m, "name"))
            continue;
        TvQemuMachine *out = &caps->machines[caps->nmachines++];
        out->name = g_strdup(get_str(m, "name"));
        out->alias = g_strdup(get_str(m, "alias"));
        out->is_default = get_bool(m, "is-default");
        out->deprecated = get_bool(m, "deprecated");
        out->max_cpus = (unsigned)get_int(m, "cpu-max", 0);
    }
    json_object_put(list);
    qsort(caps->machines, caps->nmachines, sizeof(TvQemuMachine), cmp_machine);
    return 0;
}

static int probe_virt_properties(TvCapsQmp *q, TvQemuCaps *caps)
{
    const TvQemuMachine *virt = tv_qemu_caps_machine(caps, "virt");
    if (!virt) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_CONFIG_UNSUPPORTED,
                        "QEMU binary '%s' has no 'virt' machine type", caps->binary);
        return -1;
    }
    /* QOM names machine types "<machine>-machine" */
    g_autofree char *type = g_strdup_printf("%s-machine", virt->name);
    g_autoptr(GHashTable) props = NULL;
    if (qom_properties(q, type, &props) < 0)
        return -1;
    caps->virt_mte = g_hash_table_contains(props, "mte");
    caps->virt_mte_version = g_hash_table_contains(props, "mte-version");
    caps->virt_gic_version = g_hash_table_contains(props, "gic-version");
    caps->virt_acpi = g_hash_table_contains(props, "acpi");
    return 0;
}

static int probe_gic(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *list = tv_caps_qmp_execute(q, "query-gic-capabilities", NULL);
    if (!list || expect_array(list, "query-gic-capabilities") < 0) {
        json_object_put(list);
        return -1;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *g = json_object_array_get_idx(list, i);
        int64_t version = get_int(g, "version", 0);
        if (version == 2) {
            caps->gic2_emulated = get_bool(g, "emulated");
            caps->gic2_kernel = get_bool(g, "kernel");
        } else if (version == 3) {
            caps->gic3_emulated = get_bool(g, "emulated");
            caps->gic3_kernel = get_bool(g, "kernel");
        }
    }
    json_object_put(list);
    return 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int probe_commands(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *list = tv_caps_qmp_execute(q, "query-commands", NULL);
    if (!list || expect_array(list, "query-commands") < 0) {
        json_object_put(list);
        return -1;
    }
    GPtrArray *names = g_ptr_array_new();
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *name = get_str(json_object_array_get_idx(list, i), "name");
        if (name)
            g_ptr_array_add(names, g_strdup(name));
    }
    json_object_put(list);
    g_ptr_array_sort(names, cmp_strp);
    g_ptr_array_add(names, NULL);
    caps->commands = (char **)g_ptr_array_free(names, FALSE);
    caps->query_mte_capabilities = tv_qemu_caps_has_command(caps, "query-mte-capabilities");
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The proposed command: [{"accelerator": "tcg", "versions": [2, 3]}, ...] */
static int probe_mte_caps(TvCapsQmp *q, TvQemuCaps *caps)
{
    json_object *list = tv_caps_qmp_execute(q, "query-mte-capabilities", NULL);
    if (!list || expect_array(list, "query-mte-capabilities") < 0) {
        json_object_put(list);
        return -1;
    }
    size_t n = json_object_array_length(list);
    caps->mte_caps = g_new0(TvQemuMteCaps, n);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i), *versions = NULL;
        int accel = tv_accel_from_string(get_str(e, "accelerator"));
        if (accel <= 0 || !json_object_object_get_ex(e, "versions", &versions) ||
            !json_object_is_type(versions, json_type_array))
            continue; /* an accelerator tagvirt does not drive */
        TvQemuMteCaps *mc = &caps->mte_caps[caps->nmte_caps++];
        mc->accel = (TvAccel)accel;
        mc->levels = g_new0(int, json_object_array_length(versions));
        for (size_t j = 0; j < json_object_array_length(versions); j++) {
            json_object *v = json_object_array_get_idx(versions, j);
            if (json_object_is_type(v, json_type_int))
                mc->levels[mc->nlevels++] = json_object_get_int(v);
        }
        qsort(mc->levels, mc->nlevels, sizeof(int), cmp_int);
    }
    json_object_put(list);
    return 0;
}

int tv_caps_qmp_probe_rest(TvCapsQmp *q, TvQemuCaps *caps)
{
    if (probe_version(q, caps) < 0 || probe_machines(q, caps) < 0 ||
        probe_virt_properties(q, caps) < 0 || probe_gic(q, caps) < 0 ||
        probe_commands(q, caps) < 0 || tv_caps_qmp_probe_devices(q, caps) < 0)
        return -1;
    if (caps->query_mte_capabilities && probe_mte_caps(q, caps) < 0)
        return -1;
    json_object *ret = tv_caps_qmp_execute(q, "quit", NULL);
    if (!ret)
        return -1;
    json_object_put(ret);
    return 0;
}
