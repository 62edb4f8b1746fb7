#include "qemu_mte.h"
#include "qemu_mte_levels.h"
#include "tv_error.h"

#include <string.h>

const char *tv_qemu_cpu_model_name(const TvDomainDef *def)
{
    switch (def->cpu.mode) {
    case TV_CPU_MODE_CUSTOM:
        return def->cpu.model;
    case TV_CPU_MODE_HOST_PASSTHROUGH:
        return "host";
    case TV_CPU_MODE_MAXIMUM:
        return "max";
    case TV_CPU_MODE_DEFAULT:
    case TV_CPU_MODE_LAST:
        break;
    }
    return def->virt_type == TV_VIRT_KVM ? "host" : "max";
}

TvAccel tv_qemu_accel(const TvDomainDef *def)
{
    return def->virt_type == TV_VIRT_KVM ? TV_ACCEL_KVM : TV_ACCEL_TCG;
}

static char *qemu_label(const TvQemuCaps *caps)
{
    return g_strdup_printf("%s (QEMU %u.%u.%u)", caps->binary, caps->version / 1000000,
                           (caps->version / 1000) % 1000, caps->version % 1000);
}

/* "cortex-a710, neoverse-n2": TCG models whose mte=on probe satisfies level
 * (level 0: any level with tag storage). */
static char *models_providing(const TvQemuCaps *caps, int level)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < caps->nprobes; i++) {
        const TvGuestAbiProbe *p = &caps->probes[i];
        if (p->accel != TV_ACCEL_TCG || !p->mte_on.ran || p->mte_on.refused)
            continue;
        bool ok = (level ? tv_mte_abi_satisfies(&p->mte_on.abi, level)
                         : tv_mte_abi_level(&p->mte_on.abi) >= TV_MTE_LEVEL_MIN) &&
                  tv_qemu_mte_tag_storage_usable(&p->mte_on);
        if (ok)
            g_string_append_printf(out, "%s%s", out->len ? ", " : "", p->cpu_model);
    }
    return g_string_free(out, FALSE);
}

/* What would give the level when this binary cannot: measured QEMU releases
 * (docs/capabilities.rst, "What each QEMU gives"). */
static const char *other_qemu_hint(int level)
{
    switch (level) {
    case 2:
        return " (QEMU 8.2 and later provide it with CPU models cortex-a710 and neoverse-n2)";
    case 3:
        return " (QEMU 10.0 provides it with CPU model max)";
    case 4:
        return " (QEMU 11.1 provides it with CPU model max)";
    default:
        return "";
    }
}

static void report_no_level(const TvQemuCaps *caps, const char *model, const char *provides,
                            int level)
{
    g_autofree char *label = qemu_label(caps);
    g_autofree char *models = models_providing(caps, level);
    g_autofree char *wanted = level ? g_strdup_printf("MTE version %d", level) : g_strdup("MTE");
    if (*models)
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s is not available with CPU model '%s' (%s); CPU models that provide "
                        "%s with %s: %s",
                        wanted, model, provides, wanted, label, models);
    else
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s is not available with CPU model '%s' (%s); no CPU model of %s "
                        "provides %s%s",
                        wanted, model, provides, label, wanted, other_qemu_hint(level));
}

static bool level_listed(const TvQemuMteCaps *mc, int level)
{
    for (size_t i = 0; mc && i < mc->nlevels; i++) {
        if (mc->levels[i] == level)
            return true;
    }
    return false;
}

static char *levels_string(const TvQemuMteCaps *mc)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; mc && i < mc->nlevels; i++)
        g_string_append_printf(out, "%s%d", out->len ? ", " : "", mc->levels[i]);
    if (!out->len)
        g_string_append(out, "none");
    return g_string_free(out, FALSE);
}

static int refuse_host_on_tcg(void)
{
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "<mte version='host'/> needs KVM (domain type='kvm'); with TCG use "
                    "version='max' or a number");
    return -1;
}

/* Route 1: the proposed mte-version property. */
/* The highest level a TCG CPU model has with mte=on (its probe), or 0 with
 * why in *why (QEMU's refusal, or MTE without tag storage). */
static int model_level(const TvQemuCaps *caps, const char *model, char **why)
{
    const TvGuestAbiProbe *p = tv_qemu_caps_guest_abi(caps, model, TV_ACCEL_TCG);
    if (!p || !p->mte_on.ran) {
        *why = g_strdup("it was not probed: not a 64-bit CPU model of this emulator");
        return 0;
    }
    if (p->mte_on.refused) {
        *why = g_strdup_printf("QEMU refuses MTE with it: '%s'",
                               p->mte_on.error ? p->mte_on.error : "?");
        return 0;
    }
    int level = tv_mte_abi_level(&p->mte_on.abi);
    if (level < TV_MTE_LEVEL_MIN)
        level = p->mte_on.abi.mte >= TV_MTE_LEVEL_MIN ? p->mte_on.abi.mte : 0;
    if (!level)
        *why = g_strdup_printf("it has MTE %u, without tag storage", p->mte_on.abi.mte);
    return level;
}

/* Route 1: the proposed mte-version property.  It validates the CPU model as
 * the proposed QEMU interface does: mte-version=N needs a model that has MTE
 * at level N or above (the property lowers a model's level, it cannot raise
 * it), so cortex-a57 gets no MTE and cortex-a710 no level 3. */
static int plan_mte_version(const TvDomainDef *def, const TvQemuCaps *caps, TvQemuMtePlan *plan)
{
    TvAccel accel = tv_qemu_accel(def);
    TvMteRequest req = def->features.mte.request;
    const TvQemuMteCaps *mc = tv_qemu_caps_mte_caps(caps, accel);
    g_autofree char *label = qemu_label(caps);
    g_autofree char *listed = levels_string(mc);
    const char *model = tv_qemu_cpu_model_name(def);
    int best = 0;
    for (size_t i = 0; mc && i < mc->nlevels; i++)
        best = MAX(best, mc->levels[i]);

    if (req == TV_MTE_REQUEST_HOST && accel != TV_ACCEL_KVM)
        return refuse_host_on_tcg();
    int model_max = best;
    if (accel == TV_ACCEL_TCG) {
        g_autofree char *why = NULL;
        model_max = model_level(caps, model, &why);
        if (!model_max) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: CPU model '%s' cannot have MTE with %s (%s): mte-version needs a "
                            "CPU model with MTE",
                            tv_mte_request_describe(req), model, label, why);
            return -1;
        }
    }
    int level = tv_mte_request_level(req);
    if (!level) { /* max, host, bare: the highest level QEMU lists and the model has */
        if (!best) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: MTE is not available with accelerator '%s' on %s "
                            "(query-mte-capabilities lists no level)",
                            tv_mte_request_describe(req), tv_accel_to_string(accel), label);
            return -1;
        }
        level = 0;
        for (size_t i = 0; mc && i < mc->nlevels; i++) {
            if (mc->levels[i] <= model_max)
                level = MAX(level, mc->levels[i]);
        }
        if (!level) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "%s: CPU model '%s' has MTE level %d, and mte-version on %s accepts "
                            "only %s",
                            tv_mte_request_describe(req), model, model_max, label, listed);
            return -1;
        }
    } else if (!level_listed(mc, level)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE version %d is not available with accelerator '%s' on %s (its "
                        "mte-version accepts: %s)",
                        level, tv_accel_to_string(accel), label, listed);
        return -1;
    } else if (level > model_max) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE version %d is not available with CPU model '%s' on %s: its highest "
                        "MTE level is %d, and mte-version can lower a CPU model's level but not "
                        "raise it",
                        level, model, label, model_max);
        return -1;
    }
    plan->route = TV_MTE_ROUTE_MTE_VERSION;
    plan->level = level;
    return 0;
}

/* The probe's tag-storage self-test failed: refuse, or (when explicitly
 * allowed) keep a warning for every start. */
static int check_tag_storage(const TvQemuCaps *caps, const char *model, int level,
                             const TvTagTest *tags, TvQemuMtePlan *plan)
{
    g_autofree char *label = qemu_label(caps);
    g_autofree char *what = tv_tag_test_describe(tags);
    if (!tv_qemu_mte_allow_broken_tag_storage()) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE version %d with CPU model '%s' is not offered by %s: its tag "
                        "storage is broken (%s). This is QEMU gitlab issue 1416 (\"target/arm: "
                        "Fix physical address resolution for MTE\"), fixed in QEMU 8.0: use "
                        "QEMU 8.0 or later (Debian bookworm-backports has 10.0), or allow it "
                        "explicitly (allow_broken_tag_storage = 1 in tagvirtd.conf, tagvirt "
                        "--allow-broken-tag-storage)",
                        level, model, label, what);
        return -1;
    }
    g_snprintf(plan->warning, sizeof(plan->warning),
               "MTE version %d with CPU model '%s' on %s, whose tag storage is broken (%s; QEMU "
               "gitlab issue 1416, fixed in QEMU 8.0): started because "
               "allow_broken_tag_storage is set",
               level, model, label, what);
    return 0;
}

static int plan_tcg(const TvDomainDef *def, const TvQemuCaps *caps, TvQemuMtePlan *plan)
{
    TvMteRequest req = def->features.mte.request;
    const char *model = tv_qemu_cpu_model_name(def);
    const TvGuestAbiProbe *probe = tv_qemu_caps_guest_abi(caps, model, TV_ACCEL_TCG);
    g_autofree char *label = qemu_label(caps);

    if (req == TV_MTE_REQUEST_HOST)
        return refuse_host_on_tcg();
    if (!probe || !probe->mte_on.ran) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "CPU model '%s' was not probed for MTE with %s: it is not a 64-bit CPU "
                        "model of this emulator",
                        model, label);
        return -1;
    }
    if (tv_mte_request_is_off(req)) {
        plan->route = TV_MTE_ROUTE_NONE;
        plan->level = 0;
        if (probe->mte_off.ran && !probe->mte_off.refused)
            plan->abi = probe->mte_off.abi;
        return 0;
    }
    int level = tv_mte_request_level(req);
    if (probe->mte_on.refused) {
        g_autofree char *why = g_strdup_printf("QEMU refuses mte=on: '%s'",
                                               probe->mte_on.error ? probe->mte_on.error : "?");
        report_no_level(caps, model, why, level);
        return -1;
    }
    int got = tv_mte_abi_level(&probe->mte_on.abi);
    g_autofree char *summary = tv_mte_abi_summary(&probe->mte_on.abi);
    if (!tv_mte_abi_has_tag_storage(&probe->mte_on.abi)) {
        g_autofree char *why = g_strdup_printf("it provides MTE %s, without tag storage", summary);
        report_no_level(caps, model, why, level);
        return -1;
    }
    if (level && !tv_mte_abi_satisfies(&probe->mte_on.abi, level)) {
        g_autofree char *why = g_strdup_printf("it provides %s", summary);
        report_no_level(caps, model, why, level);
        return -1;
    }
    if (!level && got < TV_MTE_LEVEL_MIN) {
        g_autofree char *fields = tv_mte_abi_describe(&probe->mte_on.abi);
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s: CPU model '%s' with %s gives the guest %s, which is none of the MTE "
                        "levels 2, 3 or 4 field by field, so no level can be promised",
                        tv_mte_request_describe(req), model, label, fields);
        return -1;
    }
    if (probe->mte_on.tags.result == TV_TAG_TEST_FAILED &&
        check_tag_storage(caps, model, level ? level : got, &probe->mte_on.tags, plan) < 0)
        return -1;
    plan->route = TV_MTE_ROUTE_MTE_ON;
    plan->level = level ? level : got;
    plan->abi = probe->mte_on.abi;
    return 0;
}

static int plan_kvm(const TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                    TvQemuMtePlan *plan)
{
    TvMteRequest req = def->features.mte.request;
    g_autofree char *label = qemu_label(caps);
    const TvGuestAbiProbe *probe = tv_qemu_caps_guest_abi(caps, "host", TV_ACCEL_KVM);

    if (tv_mte_request_is_off(req)) {
        plan->route = TV_MTE_ROUTE_NONE;
        plan->level = 0;
        if (probe && probe->mte_off.ran && !probe->mte_off.refused)
            plan->abi = probe->mte_off.abi;
        return 0;
    }
    if (!tv_qemu_kvm_mte_supported(caps)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE with KVM needs QEMU 9.2 or later; %s rejects mte=on with KVM", label);
        return -1;
    }
    int host_level = host ? tv_host_mte_level(host) : 0;
    if (probe && probe->mte_on.ran && !probe->mte_on.refused)
        host_level = tv_mte_abi_level(&probe->mte_on.abi);
    if (host_level < 0) {
        g_autofree char *fields = tv_mte_abi_describe(&probe->mte_on.abi);
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE with KVM on this host: the guest would see %s, which is none of the "
                        "MTE levels 2, 3 or 4 field by field",
                        fields);
        return -1;
    }
    if (host_level < 2) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE is not available with KVM on this host: the host CPU has no MTE "
                        "(no 'mte' in its features)");
        return -1;
    }
    if (!host || !host->kvm_cap_arm_mte) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE is not available with KVM on this host: the host CPU has MTE %d but "
                        "the kernel lacks KVM_CAP_ARM_MTE",
                        host_level);
        return -1;
    }
    int level = tv_mte_request_level(req);
    if (level && level != host_level) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE version %d is not available with KVM on this host (the host CPU "
                        "provides %d, and KVM cannot change the level a guest sees); use "
                        "version='%d', or TCG (domain type='qemu') with a CPU model that "
                        "provides %d",
                        level, host_level, host_level, level);
        return -1;
    }
    plan->route = TV_MTE_ROUTE_MTE_ON;
    plan->level = host_level;
    if (probe && probe->mte_on.ran && !probe->mte_on.refused)
        plan->abi = probe->mte_on.abi;
    return 0;
}

int tv_qemu_mte_plan(const TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                     TvQemuMtePlan *plan)
{
    memset(plan, 0, sizeof(*plan));
    TvMteRequest req = def->features.mte.request;
    TvAccel accel = tv_qemu_accel(def);

    if (!tv_mte_request_is_off(req) && tv_qemu_caps_has_mte_version(caps))
        return plan_mte_version(def, caps, plan);
    if (!tv_mte_request_is_off(req) && !tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_MTE)) {
        g_autofree char *label = qemu_label(caps);
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "MTE is not supported by %s: its virt machine has no 'mte' property",
                        label);
        return -1;
    }
    switch (accel) {
    case TV_ACCEL_KVM:
        return plan_kvm(def, caps, host, plan);
    case TV_ACCEL_TCG:
        return plan_tcg(def, caps, plan);
    case TV_ACCEL_NONE:
    case TV_ACCEL_LAST:
        break;
    }
    tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "no accelerator for the domain");
    return -1;
}
