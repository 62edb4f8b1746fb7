#include "qemu_boot.h"
#include "qemu_cpu.h"
#include "qemu_domain.h"
#include "qemu_lifecycle.h"
#include "tv_error.h"

#include <stdio.h>
#include <string.h>

static bool is_virt_machine(const char *machine)
{
    return machine && (strcmp(machine, "virt") == 0 || g_str_has_prefix(machine, "virt-"));
}

static int machine_version(const char *name)
{
    unsigned major = 0, minor = 0;
    if (sscanf(name, "virt-%u.%u", &major, &minor) != 2)
        return -1;
    return (int)(major * 1000 + minor);
}

static int compare_newest_first(gconstpointer a, gconstpointer b)
{
    const TvQemuMachine *const *x = a, *const *y = b;
    return machine_version((*y)->name) - machine_version((*x)->name);
}

/* "virt (= virt-7.2), virt-7.1, virt-7.0, ... (20 more)": newest first */
static char *virt_machine_list(const TvQemuCaps *caps)
{
    g_autoptr(GPtrArray) virt = g_ptr_array_new();
    for (size_t i = 0; i < caps->nmachines; i++) {
        if (is_virt_machine(caps->machines[i].name))
            g_ptr_array_add(virt, &caps->machines[i]);
    }
    g_ptr_array_sort(virt, compare_newest_first);
    GString *out = g_string_new(NULL);
    guint shown = MIN(virt->len, 6);
    for (guint i = 0; i < shown; i++) {
        const TvQemuMachine *m = g_ptr_array_index(virt, i);
        if (out->len)
            g_string_append(out, ", ");
        if (m->alias)
            g_string_append_printf(out, "%s (= %s)", m->alias, m->name);
        else
            g_string_append(out, m->name);
    }
    if (virt->len > shown)
        g_string_append_printf(out, " and %u older", virt->len - shown);
    return g_string_free(out, FALSE);
}

static int validate_arch_machine(const TvDomainDef *def, const TvQemuCaps *caps)
{
    bool aarch64 = def->os.arch && strcmp(def->os.arch, "aarch64") == 0;
    bool virt = is_virt_machine(def->os.machine);
    TvMteRequest mte = def->features.mte.request;

    if (mte != TV_MTE_REQUEST_ABSENT && (!aarch64 || !virt)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <mte> is only valid for arch 'aarch64' on a "
                        "'virt' machine type, not arch '%s' with machine '%s'",
                        def->os.arch, def->os.machine);
        return -1;
    }
    if (!aarch64) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: architecture '%s' is not supported "
                        "(tagvirt runs 'aarch64' guests)",
                        def->os.arch);
        return -1;
    }
    if (caps->arch && strcmp(caps->arch, def->os.arch) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "emulator '%s' runs '%s' guests, not '%s'", caps->binary, caps->arch,
                        def->os.arch);
        return -1;
    }
    const TvQemuMachine *machine = tv_qemu_caps_machine(caps, def->os.machine);
    if (!virt || !machine) {
        g_autofree char *list = virt_machine_list(caps);
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: machine type '%s' is not supported with "
                        "emulator '%s' (supported: %s)",
                        def->os.machine, caps->binary, list);
        return -1;
    }
    if (machine->max_cpus && def->vcpus > machine->max_cpus) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "%u vCPUs requested but machine type '%s' allows at most %u", def->vcpus,
                        machine->name, machine->max_cpus);
        return -1;
    }
    return 0;
}

static int validate_accel(const TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host)
{
    if (def->virt_type == TV_VIRT_KVM) {
        if (!tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_KVM)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "domain type 'kvm' is not supported by emulator '%s' (it has no KVM "
                            "accelerator); use type='qemu'",
                            caps->binary);
            return -1;
        }
        if (!host || !tv_host_kvm_usable(host)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "domain type 'kvm' is not usable on this host (%s, %s); use "
                            "type='qemu' (TCG)",
                            host && host->arch ? host->arch : "unknown arch",
                            host && host->kvm_present ? "/dev/kvm present" : "no /dev/kvm");
            return -1;
        }
    } else if (!tv_qemu_caps_get(caps, TV_QEMU_CAPS_ACCEL_TCG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "domain type 'qemu' (TCG) is not supported by emulator '%s'", caps->binary);
        return -1;
    }
    return 0;
}

static int validate_cpu(const TvDomainDef *def, const TvQemuCaps *caps)
{
    bool kvm = def->virt_type == TV_VIRT_KVM;
    switch (def->cpu.mode) {
    case TV_CPU_MODE_HOST_PASSTHROUGH:
        if (!kvm) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "CPU mode 'host-passthrough' needs KVM (domain type='kvm'); with "
                            "TCG use mode 'maximum' or 'custom'");
            return -1;
        }
        return 0;
    case TV_CPU_MODE_CUSTOM: {
        const TvQemuCpuModel *model = tv_qemu_caps_cpu_model(caps, def->cpu.model);
        if (kvm) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "CPU model '%s' cannot be used with KVM on aarch64: use mode "
                            "'host-passthrough' or 'maximum'",
                            def->cpu.model);
            return -1;
        }
        if (!model || !model->aarch64) {
            GString *list = g_string_new(NULL);
            for (size_t i = 0; i < caps->ncpu_models; i++) {
                if (caps->cpu_models[i].aarch64 && strcmp(caps->cpu_models[i].name, "host"))
                    g_string_append_printf(list, "%s%s", list->len ? ", " : "",
                                           caps->cpu_models[i].name);
            }
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "CPU model '%s' is %s of emulator '%s' (64-bit models: %s)",
                            def->cpu.model, model ? "not a 64-bit model" : "not a CPU model",
                            caps->binary, list->str);
            g_string_free(list, TRUE);
            return -1;
        }
        const char *refusal = tv_qemu_caps_model_refusal(caps, def->cpu.model, TV_ACCEL_TCG);
        if (refusal) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "CPU model '%s' cannot run on the virt machine of '%s': QEMU refuses "
                            "it with MTE on and off alike ('%s')",
                            def->cpu.model, caps->binary, refusal);
            return -1;
        }
        return 0;
    }
    case TV_CPU_MODE_MAXIMUM:
    case TV_CPU_MODE_DEFAULT:
    case TV_CPU_MODE_LAST:
        break;
    }
    return 0;
}

static int validate_gic(const TvDomainDef *def, const TvQemuCaps *caps)
{
    bool kvm = def->virt_type == TV_VIRT_KVM;
    TvGicVersion gic = def->features.gic;
    if (gic == TV_GIC_VERSION_DEFAULT)
        return 0;
    if (!tv_qemu_caps_get(caps, TV_QEMU_CAPS_VIRT_GIC_VERSION)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "the virt machine of '%s' cannot set the GIC version", caps->binary);
        return -1;
    }
    bool ok = false;
    switch (gic) {
    case TV_GIC_VERSION_2:
        ok = kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_KERNEL)
                 : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_EMULATED);
        break;
    case TV_GIC_VERSION_3:
        ok = kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_KERNEL)
                 : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_EMULATED);
        break;
    case TV_GIC_VERSION_HOST:
        ok = kvm;
        break;
    case TV_GIC_VERSION_DEFAULT:
    case TV_GIC_VERSION_LAST:
        break;
    }
    if (!ok) {
        GString *avail = g_string_new(NULL);
        if (kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_KERNEL)
                : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC2_EMULATED))
            g_string_append(avail, "'2'");
        if (kvm ? tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_KERNEL)
                : tv_qemu_caps_get(caps, TV_QEMU_CAPS_GIC3_EMULATED))
            g_string_append_printf(avail, "%s'3'", avail->len ? ", " : "");
        if (kvm)
            g_string_append_printf(avail, "%s'host'", avail->len ? ", " : "");
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "GIC version '%s' is not available with %s on '%s' (available: %s)",
                        tv_gic_version_to_string(gic), kvm ? "KVM" : "TCG", caps->binary,
                        avail->len ? avail->str : "none");
        g_string_free(avail, TRUE);
        return -1;
    }
    return 0;
}

static int validate_devices(const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ndisks; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(d->disks[i]->target_dev, d->disks[j]->target_dev) == 0) {
                tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                                "two disks have the target dev '%s'", d->disks[i]->target_dev);
                return -1;
            }
        }
    }
    for (size_t i = 0; i < d->nserials; i++) {
        for (size_t j = 0; j < i; j++) {
            if (d->serials[i]->port == d->serials[j]->port) {
                tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                                "two serial devices use target port %u", d->serials[i]->port);
                return -1;
            }
        }
    }
    if (!def->os.boot.kernel && (def->os.boot.initrd || def->os.boot.cmdline || def->os.boot.dtb)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "<initrd>, <cmdline> and <dtb> need a <kernel> in <os>");
        return -1;
    }
    return 0;
}

int tv_qemu_domain_validate(const TvDomainDef *def, const TvQemuCaps *caps, const TvHostFacts *host)
{
    if (validate_arch_machine(def, caps) < 0 || validate_accel(def, caps, host) < 0 ||
        validate_cpu(def, caps) < 0 || validate_gic(def, caps) < 0 || validate_devices(def) < 0 ||
        tv_qemu_firmware_validate(def, host) < 0 || tv_qemu_lifecycle_validate(def) < 0 ||
        tv_qemu_cpu_validate_features(def, caps) < 0 || tv_qemu_validate_devices(def, caps) < 0)
        return -1;
    TvQemuMtePlan plan;
    return tv_qemu_mte_plan(def, caps, host, &plan);
}
