#include "qemu_domaincaps.h"
#include "qemu_firmware.h"
#include "qemu_mte_levels.h"
#include "tv_error.h"

#include <string.h>

TvDomainCaps *tv_qemu_domain_caps(const TvQemuCaps *caps, const TvHostFacts *host,
                                  const char *machine, const char *arch, const char *virttype)
{
    TvAccel accel = TV_ACCEL_TCG;
    if (virttype && strcmp(virttype, "kvm") == 0) {
        accel = TV_ACCEL_KVM;
    } else if (virttype && strcmp(virttype, "qemu") != 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "unknown virttype '%s': expected 'qemu' or 'kvm'", virttype);
        return NULL;
    }
    if (arch && caps->arch && strcmp(arch, caps->arch) != 0) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "emulator '%s' does not support arch '%s' (it runs '%s')", caps->binary,
                        arch, caps->arch);
        return NULL;
    }
    const TvQemuMachine *m = tv_qemu_caps_machine(caps, machine ? machine : "virt");
    if (!m) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "emulator '%s' does not support machine type '%s'", caps->binary,
                        machine ? machine : "virt");
        return NULL;
    }
    if (accel == TV_ACCEL_KVM &&
        (!tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_KVM) || !host || !tv_host_kvm_usable(host))) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "KVM is not available with emulator '%s' on this host", caps->binary);
        return NULL;
    }
    if (accel == TV_ACCEL_TCG && !tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_TCG)) {
        tv_error_report(TV_FROM_CAPABILITIES, TV_ERR_INVALID_ARG,
                        "TCG is not available with emulator '%s'", caps->binary);
        return NULL;
    }

    g_autoptr(TvDomainCaps) dc = g_new0(TvDomainCaps, 1);
    dc->path = g_strdup(caps->binary);
    dc->domain = g_strdup(accel == TV_ACCEL_KVM ? "kvm" : "qemu");
    dc->machine = g_strdup(m->name);
    dc->arch = g_strdup(caps->arch ? caps->arch : "aarch64");
    dc->max_vcpus = m->max_cpus;
    dc->loader_supported = true;
    g_autoptr(TvQemuFirmwareList) firmware = tv_qemu_firmware_list(host);
    GPtrArray *loaders = g_ptr_array_new();
    for (size_t i = 0; i < firmware->n; i++) {
        const TvQemuFirmware *fw = &firmware->items[i];
        if (fw->usable && tv_qemu_firmware_matches_machine(fw, m->name))
            g_ptr_array_add(loaders, g_strdup(fw->executable));
    }
    dc->firmware_efi = loaders->len > 0;
    g_ptr_array_add(loaders, NULL);
    dc->loader_values = (char **)g_ptr_array_free(loaders, FALSE);
    dc->host_passthrough = accel == TV_ACCEL_KVM;
    dc->maximum = true;
    GPtrArray *models = g_ptr_array_new();
    dc->cpu_usable = g_new0(bool, caps->ncpu_models + 1);
    if (accel == TV_ACCEL_TCG) {
        for (size_t i = 0; i < caps->ncpu_models; i++) {
            const char *name = caps->cpu_models[i].name;
            if (!caps->cpu_models[i].aarch64 || strcmp(name, "host") == 0)
                continue;
            /* QEMU refuses some listed models on virt whatever MTE says */
            dc->cpu_usable[models->len] = !tv_qemu_caps_model_refusal(caps, name, TV_ACCEL_TCG);
            g_ptr_array_add(models, g_strdup(name));
        }
    }
    g_ptr_array_add(models, NULL);
    dc->cpu_models = (char **)g_ptr_array_free(models, FALSE);
    dc->disk_supported = true;
    dc->rng_supported = true;
    /* 9p shares; virtiofs is not offered (no virtiofsd: domain_filesystem.c) */
    dc->filesystem_supported = tv_qemu_caps_has_device(caps, "virtio-9p-pci");
    dc->tpm_supported = tv_qemu_caps_has_device(caps, "tpm-tis-device");
    dc->redirdev_supported = tv_qemu_caps_has_device(caps, "usb-redir");
    dc->gic_supported = tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_GIC_VERSION);
    bool kvm = accel == TV_ACCEL_KVM;
    if (kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_KERNEL)
            : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_EMULATED))
        dc->gic_versions |= 1u << 2;
    if (kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_KERNEL)
            : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_EMULATED))
        dc->gic_versions |= 1u << 3;
    dc->mte_versions = tv_qemu_mte_levels(caps, host, accel);
    dc->mte_supported = dc->mte_versions != 0;
    return g_steal_pointer(&dc);
}
