#include "qemu_boot.h"
#include "qemu_domain.h"
#include "tv_error.h"

#include <string.h>

void tv_qemu_guest_abi_record(const TvDomainDef *def, const TvQemuCaps *caps, TvDomainGuestAbi *out)
{
    tv_domain_guest_abi_clear(out);
    TvAccel accel = tv_qemu_accel(def);
    const char *model = tv_qemu_cpu_model_name(def);
    const TvGuestAbiProbe *probe = model ? tv_qemu_caps_guest_abi(caps, model, accel) : NULL;
    if (!probe)
        return;
    bool mte_on = def->features.mte.level >= TV_MTE_LEVEL_MIN;
    const TvGuestAbiResult *r = mte_on ? &probe->mte_on : &probe->mte_off;
    if (!r->ran || r->refused)
        return;
    out->valid = true;
    out->accel = g_strdup(tv_accel_to_string(accel));
    out->cpu_model = g_strdup(model);
    out->machine = g_strdup(def->os.machine);
    out->pfr1 = r->pfr1;
    out->pfr2 = r->pfr2;
    unsigned v = caps->version;
    out->emulator = g_strdup_printf("QEMU %u.%u.%u%s%s%s", v / 1000000, v / 1000 % 1000, v % 1000,
                                    caps->package && *caps->package ? " (" : "",
                                    caps->package && *caps->package ? caps->package : "",
                                    caps->package && *caps->package ? ")" : "");
}

int tv_qemu_domain_resolve(TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                           TvQemuMtePlan *plan)
{
    if (tv_qemu_mte_plan(def, caps, host, plan) < 0)
        return -1;
    def->features.mte.level = plan->level;
    def->features.mte.abi = plan->abi;
    tv_qemu_guest_abi_record(def, caps, &def->guest_abi);
    /* the live XML names the address VNC listens on, as libvirt's does */
    for (size_t i = 0; i < def->devices.ngraphics; i++) {
        if (!def->devices.graphics[i]->listen)
            def->devices.graphics[i]->listen = g_strdup(TV_QEMU_VNC_LISTEN_DEFAULT);
    }
    if (def->features.gic == TV_GIC_VERSION_HOST) /* the live XML shows what the guest got */
        def->features.gic =
            tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_KERNEL) ? TV_GIC_VERSION_3 : TV_GIC_VERSION_2;
    return 0;
}

TvDomainDef *tv_qemu_domain_load(const TvQemuPipeline *pipe, const char *xml, size_t len,
                                 unsigned parse_flags, TvQemuCaps **caps_out)
{
    g_autoptr(TvDomainDef) def = tv_domain_def_parse(xml, len, parse_flags);
    if (!def)
        return NULL;
    const char *emulator = def->devices.emulator    ? def->devices.emulator
                           : pipe->default_emulator ? pipe->default_emulator
                                                    : TV_QEMU_DEFAULT_EMULATOR;
    g_autoptr(TvQemuCaps) caps = pipe->caps_lookup(emulator, pipe->caps_opaque);
    if (!caps)
        return NULL;
    if (tv_qemu_domain_post_parse(def, caps, pipe->host) < 0)
        return NULL;
    tv_qemu_firmware_fill_nvram(def, pipe->nvram_dir);
    if (tv_qemu_domain_validate(def, caps, pipe->host) < 0)
        return NULL;
    if (caps_out)
        *caps_out = g_steal_pointer(&caps);
    return g_steal_pointer(&def);
}
