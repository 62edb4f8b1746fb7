/* <cpu> on QEMU's command line: see qemu_cpu.h. */
#include "qemu_cpu.h"
#include "qemu_mte.h"
#include "tv_error.h"

#include <string.h>

int tv_qemu_cpu_validate_features(const TvDomainDef *def, const TvQemuCaps *caps)
{
    if (!def->cpu.nfeatures)
        return 0;
    const char *name = tv_qemu_cpu_model_name(def);
    const TvQemuCpuModel *model = tv_qemu_caps_cpu_model(caps, name);
    for (size_t i = 0; i < def->cpu.nfeatures; i++) {
        const char *f = def->cpu.features[i].name;
        if (g_str_equal(f, "pmu")) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "unsupported configuration: CPU feature 'pmu' in /domain/cpu: the "
                            "PMU is set with <features><pmu state='on|off'/></features>");
            return -1;
        }
        if (tv_qemu_cpu_model_has_feature(model, f))
            continue;
        g_autofree char *list =
            model && model->features ? g_strjoinv(", ", model->features) : g_strdup("none");
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: CPU feature '%s' in /domain/cpu is not a "
                        "property of CPU model '%s' of emulator '%s' (its features: %s)",
                        f, name, caps->binary, list);
        return -1;
    }
    return 0;
}

char *tv_qemu_cpu_arg(const TvDomainDef *def)
{
    GString *arg = g_string_new(tv_qemu_cpu_model_name(def));
    if (def->features.pmu == TV_FEATURE_STATE_ON)
        g_string_append(arg, ",pmu=on");
    else if (def->features.pmu == TV_FEATURE_STATE_OFF)
        g_string_append(arg, ",pmu=off");
    for (size_t i = 0; i < def->cpu.nfeatures; i++) {
        const TvDomainCpuFeature *f = &def->cpu.features[i];
        g_string_append_printf(arg, ",%s=%s", f->name,
                               tv_cpu_feature_policy_on(f->policy) ? "on" : "off");
    }
    return g_string_free(arg, FALSE);
}

char *tv_qemu_smp_arg(const TvDomainDef *def)
{
    unsigned vcpus = def->vcpus ? def->vcpus : 1;
    /* <vcpu current='N'>: N present at start, the rest hot-pluggable */
    unsigned present = tv_domain_def_vcpus_current(def);
    g_autofree char *max = present < vcpus ? g_strdup_printf(",maxcpus=%u", vcpus) : g_strdup("");
    if (def->cpu.sockets)
        return g_strdup_printf("%u%s,sockets=%u,dies=1,cores=%u,threads=%u", present, max,
                               def->cpu.sockets, def->cpu.cores, def->cpu.threads);
    return g_strdup_printf("%u%s,sockets=%u,dies=1,cores=1,threads=1", present, max, vcpus);
}
