/* The QMP part of the capability probe: which commands are asked, in which
 * order, and how the replies become TvQemuCaps fields.  The same code runs
 * against a live QEMU and against a recording. */
#include "qemu_capabilities_priv.h"
#include "qemu_monitor.h"
#include "tv_error.h"

#include <string.h>

/* The QOM type's property names (*names gets them all). */
static int qom_properties(TvCapsQmp *q, const char *type_name, GHashTable **names)
{
    g_auto(TvQmpPropertyList) props = { 0 };
    if (tv_qemu_monitor_qom_list_properties(q->mon, type_name, &props) < 0)
        return -1;
    *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < props.n; i++)
        g_hash_table_add(*names, g_strdup(props.items[i].name));
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
    g_auto(TvQmpTarget) target = { 0 };
    if (tv_qemu_monitor_query_target(q->mon, &target) < 0)
        return -1;
    caps->arch = g_steal_pointer(&target.arch);
    if (g_strcmp0(caps->arch, "aarch64") != 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_CONFIG_UNSUPPORTED,
                        "QEMU binary '%s' emulates '%s', not 'aarch64'", caps->binary, caps->arch);
        return -1;
    }
    return 0;
}

static int probe_cpu_models(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpCpuDefinitionList) defs = { 0 };
    if (tv_qemu_monitor_query_cpu_definitions(q->mon, &defs) < 0)
        return -1;
    caps->cpu_models = g_new0(TvQemuCpuModel, defs.n);
    for (size_t i = 0; i < defs.n; i++) {
        TvQemuCpuModel *m = &caps->cpu_models[caps->ncpu_models++];
        m->name = g_steal_pointer(&defs.items[i].name);
        m->type_name = g_steal_pointer(&defs.items[i].type_name);
    }
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
        if (caps->cpu_models[i].aarch64 && tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_TCG) &&
            !g_str_equal(caps->cpu_models[i].name, "host"))
            tv_guest_abi_queue_push_model(q->boots, caps->cpu_models[i].name, TV_ACCEL_TCG);
    }
    return 0;
}

/* Does the binary have this QOM type?  1 yes, 0 no (an error reply), -1 error.
 * (qom-list-types would do, but its first call loads every module: ~50 ms.) */
static int qom_type_exists(TvCapsQmp *q, const char *type_name)
{
    g_auto(TvQmpPropertyList) props = { 0 };
    if (tv_qemu_monitor_qom_list_properties(q->mon, type_name, &props) == 0)
        return 1;
    if (tv_qemu_monitor_error_class() == TV_QMP_ERROR_NONE)
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
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_ACCEL_TCG, tcg);
    TvQmpKvm kvm;
    if (tv_qemu_monitor_query_kvm(q->mon, &kvm) < 0)
        return -1;
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_ACCEL_KVM, kvm.present);
    return 0;
}

int tv_caps_qmp_probe_cpus(TvCapsQmp *q, TvQemuCaps *caps)
{
    int rc = -1;
    if (tv_qemu_monitor_handshake(q->mon, q->timeout_ms) < 0)
        goto out;
    tv_qemu_monitor_set_timeout(q->mon, q->timeout_ms);
    if (probe_target(q, caps) < 0 || probe_accels(q, caps) < 0 || probe_cpu_models(q, caps) < 0)
        goto out;
    if (q->kvm && tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_KVM))
        tv_guest_abi_queue_push_model(q->boots, "host", TV_ACCEL_KVM);
    rc = 0;
out:
    tv_guest_abi_queue_close(q->boots);
    return rc;
}

static int probe_version(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpVersion) v = { 0 };
    if (tv_qemu_monitor_query_version(q->mon, &v) < 0)
        return -1;
    caps->package = v.package ? g_strstrip(g_strdup(v.package)) : NULL;
    if (v.minor > 999 || v.micro > 999 || v.major > 4000) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                        "QEMU's reply to 'query-version' has no usable version numbers "
                        "(%u.%u.%u)",
                        v.major, v.minor, v.micro);
        return -1;
    }
    caps->version = v.major * 1000000 + v.minor * 1000 + v.micro;
    return 0;
}

static int cmp_machine(const void *a, const void *b)
{
    return strcmp(((const TvQemuMachine *)a)->name, ((const TvQemuMachine *)b)->name);
}

static int probe_machines(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpMachineList) list = { 0 };
    if (tv_qemu_monitor_query_machines(q->mon, &list) < 0)
        return -1;
    caps->machines = g_new0(TvQemuMachine, list.n);
    for (size_t i = 0; i < list.n; i++) {
        TvQmpMachine *m = &list.items[i];
        TvQemuMachine *out = &caps->machines[caps->nmachines++];
        out->name = g_steal_pointer(&m->name);
        out->alias = g_steal_pointer(&m->alias);
        out->is_default = m->is_default;
        out->deprecated = m->deprecated;
        out->max_cpus = m->cpu_max;
    }
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
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_VIRT_MTE, g_hash_table_contains(props, "mte"));
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_VIRT_MTE_VERSION,
                     g_hash_table_contains(props, "mte-version"));
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_VIRT_GIC_VERSION,
                     g_hash_table_contains(props, "gic-version"));
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_VIRT_ACPI, g_hash_table_contains(props, "acpi"));
    return 0;
}

static int probe_gic(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpGicCapabilityList) list = { 0 };
    if (tv_qemu_monitor_query_gic_capabilities(q->mon, &list) < 0)
        return -1;
    for (size_t i = 0; i < list.n; i++) {
        const TvQmpGicCapability *g = &list.items[i];
        if (g->version == 2) {
            tv_qemu_caps_set(caps, TV_QEMU_CAPS_GIC2_EMULATED, g->emulated);
            tv_qemu_caps_set(caps, TV_QEMU_CAPS_GIC2_KERNEL, g->kernel);
        } else if (g->version == 3) {
            tv_qemu_caps_set(caps, TV_QEMU_CAPS_GIC3_EMULATED, g->emulated);
            tv_qemu_caps_set(caps, TV_QEMU_CAPS_GIC3_KERNEL, g->kernel);
        }
    }
    return 0;
}

static int probe_commands(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpCommandList) list = { 0 };
    if (tv_qemu_monitor_query_commands(q->mon, &list) < 0)
        return -1;
    caps->commands = g_steal_pointer(&list.names);
    tv_qemu_caps_set(caps, TV_QEMU_CAPS_QUERY_MTE_CAPABILITIES,
                     tv_qemu_caps_has_command(caps, "query-mte-capabilities"));
    return 0;
}

/* The proposed command: [{"accelerator": "tcg", "versions": [2, 3]}, ...] */
static int probe_mte_caps(TvCapsQmp *q, TvQemuCaps *caps)
{
    g_auto(TvQmpMteCapabilityList) list = { 0 };
    if (tv_qemu_monitor_query_mte_capabilities(q->mon, &list) < 0)
        return -1;
    caps->mte_caps = g_new0(TvQemuMteCaps, list.n);
    for (size_t i = 0; i < list.n; i++) {
        int accel = tv_accel_from_string(list.items[i].accelerator);
        if (accel <= 0)
            continue; /* an accelerator tagvirt does not drive */
        TvQemuMteCaps *mc = &caps->mte_caps[caps->nmte_caps++];
        mc->accel = (TvAccel)accel;
        mc->levels = g_steal_pointer(&list.items[i].versions);
        mc->nlevels = list.items[i].nversions;
        for (size_t j = 0; j < mc->nlevels; j++) {
            if (mc->levels[j] < TV_MTE_LEVEL_MIN || mc->levels[j] > TV_MTE_LEVEL_MAX) {
                tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INTERNAL_ERROR,
                                "QEMU's reply to 'query-mte-capabilities' lists version '%d' for "
                                "accelerator '%s': expected a level from %d to %d",
                                mc->levels[j], tv_accel_to_string(mc->accel), TV_MTE_LEVEL_MIN,
                                TV_MTE_LEVEL_MAX);
                return -1;
            }
        }
    }
    return 0;
}

int tv_caps_qmp_probe_rest(TvCapsQmp *q, TvQemuCaps *caps)
{
    if (probe_version(q, caps) < 0 || probe_machines(q, caps) < 0 ||
        probe_virt_properties(q, caps) < 0 || probe_gic(q, caps) < 0 ||
        probe_commands(q, caps) < 0 || tv_caps_qmp_probe_devices(q, caps) < 0)
        return -1;
    if (tv_qemu_caps_get(caps, TV_QEMU_CAPS_QUERY_MTE_CAPABILITIES) && probe_mte_caps(q, caps) < 0)
        return -1;
    return tv_qemu_monitor_quit(q->mon);
}
