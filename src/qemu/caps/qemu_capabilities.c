/* The capabilities struct: freeing and the queries other modules use. */
#include "qemu_capabilities.h"

#include <string.h>

TV_ENUM_IMPL(tv_accel, TV_ACCEL_LAST, "", "tcg", "kvm")

static void guest_abi_result_clear(TvGuestAbiResult *r)
{
    g_free(r->error);
}

void tv_qemu_caps_free(TvQemuCaps *caps)
{
    if (!caps)
        return;
    g_free(caps->binary);
    g_free(caps->package);
    g_free(caps->arch);
    for (size_t i = 0; i < caps->nmachines; i++) {
        g_free(caps->machines[i].name);
        g_free(caps->machines[i].alias);
    }
    g_free(caps->machines);
    for (size_t i = 0; i < caps->ncpu_models; i++) {
        g_free(caps->cpu_models[i].name);
        g_free(caps->cpu_models[i].type_name);
        g_strfreev(caps->cpu_models[i].features);
    }
    g_free(caps->cpu_models);
    g_strfreev(caps->commands);
    g_strfreev(caps->device_types);
    for (size_t i = 0; i < caps->nmte_caps; i++)
        g_free(caps->mte_caps[i].levels);
    g_free(caps->mte_caps);
    for (size_t i = 0; i < caps->nprobes; i++) {
        g_free(caps->probes[i].cpu_model);
        guest_abi_result_clear(&caps->probes[i].mte_on);
        guest_abi_result_clear(&caps->probes[i].mte_off);
    }
    g_free(caps->probes);
    g_free(caps->fingerprint.binary_path);
    g_free(caps->fingerprint.tagvirt_version);
    g_free(caps->fingerprint.kernel_release);
    g_free(caps);
}

const TvQemuMachine *tv_qemu_caps_machine(const TvQemuCaps *caps, const char *name_or_alias)
{
    for (size_t i = 0; i < caps->nmachines; i++) {
        const TvQemuMachine *m = &caps->machines[i];
        if (g_strcmp0(m->name, name_or_alias) == 0 || g_strcmp0(m->alias, name_or_alias) == 0)
            return m;
    }
    return NULL;
}

const TvQemuCpuModel *tv_qemu_caps_cpu_model(const TvQemuCaps *caps, const char *name)
{
    for (size_t i = 0; i < caps->ncpu_models; i++) {
        if (g_strcmp0(caps->cpu_models[i].name, name) == 0)
            return &caps->cpu_models[i];
    }
    return NULL;
}

const TvGuestAbiProbe *tv_qemu_caps_guest_abi(const TvQemuCaps *caps, const char *cpu_model,
                                              TvAccel accel)
{
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiProbe *p = &caps->probes[i];
        if (p->accel == accel && g_strcmp0(p->cpu_model, cpu_model) == 0)
            return p;
    }
    return NULL;
}

const TvQemuMteCaps *tv_qemu_caps_mte_caps(const TvQemuCaps *caps, TvAccel accel)
{
    for (size_t i = 0; i < caps->nmte_caps; i++) {
        if (caps->mte_caps[i].accel == accel)
            return &caps->mte_caps[i];
    }
    return NULL;
}

const char *tv_qemu_caps_model_refusal(const TvQemuCaps *caps, const char *cpu_model, TvAccel accel)
{
    const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(caps, cpu_model, accel);
    if (!p || !p->mte_off.ran || !p->mte_off.refused)
        return NULL;
    return p->mte_off.error ? p->mte_off.error : "(no message)";
}

bool tv_qemu_caps_has_mte_version(const TvQemuCaps *caps)
{
    return caps->virt_mte_version && caps->query_mte_capabilities;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

bool tv_qemu_caps_has_command(const TvQemuCaps *caps, const char *command)
{
    if (!caps->commands)
        return false;
    size_t n = g_strv_length(caps->commands);
    return bsearch(&command, caps->commands, n, sizeof(char *), cmp_str) != NULL;
}

bool tv_qemu_cpu_feature_name(const char *p)
{
    if (g_str_has_prefix(p, "sve")) {
        for (const char *c = p + 3; *c; c++) {
            if (!g_ascii_isdigit(*c))
                return false;
        }
        return true;
    }
    return g_str_has_prefix(p, "pauth") || g_str_equal(p, "lpa2");
}

bool tv_qemu_cpu_model_has_feature(const TvQemuCpuModel *model, const char *name)
{
    for (char **f = model ? model->features : NULL; f && *f; f++) {
        if (g_str_equal(*f, name))
            return true;
    }
    return false;
}
