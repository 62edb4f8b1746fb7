/* The capabilities struct: freeing and the queries other modules use. */
#include "qemu_capabilities.h"

#include <inttypes.h>
#include <string.h>

TV_ENUM_IMPL(tv_accel, TV_ACCEL_LAST, "", "tcg", "kvm")

TV_ENUM_IMPL(tv_qemu_caps_flag, TV_QEMU_CAPS_LAST, "", "accel-tcg", "accel-kvm", "virt-mte",
             "virt-mte-version", "virt-gic-version", "virt-acpi", "gic2-emulated", "gic3-emulated",
             "gic2-kernel", "gic3-kernel", "query-mte-capabilities")
G_STATIC_ASSERT(TV_QEMU_CAPS_LAST <= 32);

bool tv_qemu_caps_get(const TvQemuCaps *caps, TvQemuCapsFlag flag)
{
    return (caps->flags >> flag) & 1u;
}

void tv_qemu_caps_set(TvQemuCaps *caps, TvQemuCapsFlag flag, bool on)
{
    if (on)
        caps->flags |= 1u << flag;
    else
        caps->flags &= ~(1u << flag);
}

static void guest_abi_result_clear(TvGuestAbiResult *r)
{
    g_free(r->error);
}

TvQemuCaps *tv_qemu_caps_new(void)
{
    TvQemuCaps *caps = g_new0(TvQemuCaps, 1);
    caps->refs = 1;
    return caps;
}

TvQemuCaps *tv_qemu_caps_ref(TvQemuCaps *caps)
{
    g_atomic_int_inc(&caps->refs);
    return caps;
}

void tv_qemu_caps_unref(TvQemuCaps *caps)
{
    if (!caps || !g_atomic_int_dec_and_test(&caps->refs))
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
    tv_qemu_caps_fingerprint_clear(&caps->fingerprint);
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

char *tv_tag_test_describe(const TvTagTest *t)
{
    GString *s = g_string_new(NULL);
    if (strcmp(t->read, "1234") != 0)
        g_string_append_printf(s,
                               "tags 1 2 3 4 stored in neighbouring granules read back as %c %c "
                               "%c %c",
                               t->read[0], t->read[1], t->read[2], t->read[3]);
    if (t->fault)
        g_string_append_printf(s, "%sa correctly tagged load faulted (ESR 0x%" PRIx64 ")",
                               s->len ? ", and " : "", t->esr);
    if (!s->len)
        g_string_append(s, "the tag storage works");
    return g_string_free(s, FALSE);
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
    return tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE_VERSION) &&
           tv_qemu_caps_get(caps, TV_QEMU_CAPS_QUERY_MTE_CAPABILITIES);
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
