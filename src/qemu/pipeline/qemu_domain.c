#include "qemu_boot.h"
#include "qemu_domain.h"
#include "tv_error.h"

int tv_qemu_domain_resolve(TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host,
                           TvQemuMtePlan *plan)
{
    if (tv_qemu_mte_plan(def, caps, host, plan) < 0)
        return -1;
    def->features.mte.level = plan->level;
    def->features.mte.abi = plan->abi;
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
