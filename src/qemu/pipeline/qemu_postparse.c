#include "qemu_boot.h"
#include "qemu_domain.h"
#include "tv_error.h"

#include <string.h>

static bool gic_available(const TvQemuCaps *caps, TvAccel accel, int version)
{
    if (accel == TV_ACCEL_KVM)
        return version == 3 ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_KERNEL)
                            : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_KERNEL);
    return version == 3 ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_EMULATED)
                        : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_EMULATED);
}

int tv_qemu_domain_post_parse(TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host)
{
    TvAccel accel = tv_qemu_accel(def);

    if (!def->devices.emulator)
        def->devices.emulator = g_strdup(caps->binary);
    if (!def->os.type)
        def->os.type = g_strdup("hvm");
    if (!def->os.arch)
        def->os.arch = g_strdup(caps->arch ? caps->arch : "aarch64");
    if (!def->os.machine)
        def->os.machine = g_strdup("virt");

    /* an alias ("virt") becomes the versioned type it stands for today */
    const TvQemuMachine *machine = tv_qemu_caps_machine(caps, def->os.machine);
    if (machine && strcmp(machine->name, def->os.machine) != 0) {
        g_free(def->os.machine);
        def->os.machine = g_strdup(machine->name);
    }

    if (def->features.gic == TV_GIC_VERSION_DEFAULT &&
        tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_GIC_VERSION) &&
        g_str_has_prefix(def->os.machine, "virt")) {
        if (gic_available(caps, accel, 3))
            def->features.gic = TV_GIC_VERSION_3;
        else if (gic_available(caps, accel, 2))
            def->features.gic = TV_GIC_VERSION_2;
        if (def->features.gic != TV_GIC_VERSION_DEFAULT)
            def->features.gic_present = true;
    }

    if (def->cpu.mode == TV_CPU_MODE_DEFAULT)
        def->cpu.mode = accel == TV_ACCEL_KVM ? TV_CPU_MODE_HOST_PASSTHROUGH : TV_CPU_MODE_MAXIMUM;

    if (tv_qemu_firmware_post_parse(def, host) < 0)
        return -1;

    if (!def->current_memory_kib)
        def->current_memory_kib = def->memory_kib;
    return tv_qemu_domain_post_parse_devices(def);
}
