/* Lifecycle actions on the command line: see qemu_lifecycle.h. */
#include "qemu_lifecycle.h"
#include "tv_error.h"

bool tv_qemu_lifecycle_no_shutdown(const TvDomainDef *def)
{
    return def->on_poweroff == TV_LIFECYCLE_RESTART || def->on_poweroff == TV_LIFECYCLE_PRESERVE;
}

static bool panic_handled(const TvDomainDef *def)
{
    return def->on_crash != TV_LIFECYCLE_DEFAULT && def->on_crash != TV_LIFECYCLE_DESTROY;
}

int tv_qemu_lifecycle_validate(const TvDomainDef *def)
{
    const struct {
        const char *name;
        TvLifecycleAction action;
    } all[] = { { "on_poweroff", def->on_poweroff },
                { "on_reboot", def->on_reboot },
                { "on_crash", def->on_crash } };
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
        if (all[i].action == TV_LIFECYCLE_RENAME_RESTART) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "unsupported configuration: <%s>rename-restart</%s>: the QEMU driver "
                            "does not support the rename-restart action (use 'restart')",
                            all[i].name, all[i].name);
            return -1;
        }
    }
    if (def->on_reboot == TV_LIFECYCLE_PRESERVE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <on_reboot>preserve</on_reboot> is not "
                        "supported by the QEMU driver (accepted: 'restart', 'destroy')");
        return -1;
    }
    unsigned long long current =
        def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
    if (current < def->memory_kib && def->devices.memballoon != TV_BALLOON_MODEL_VIRTIO) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: /domain/currentMemory (%llu KiB) below "
                        "/domain/memory (%llu KiB) is set through the balloon: it needs "
                        "<memballoon model='virtio'/> in <devices>",
                        current, def->memory_kib);
        return -1;
    }
    return 0;
}

void tv_qemu_lifecycle_command(GPtrArray *argv, const TvDomainDef *def)
{
    if (def->on_reboot == TV_LIFECYCLE_DESTROY)
        g_ptr_array_add(argv, g_strdup("-no-reboot"));
    if (tv_qemu_lifecycle_no_shutdown(def))
        g_ptr_array_add(argv, g_strdup("-no-shutdown"));
    if (panic_handled(def)) {
        g_ptr_array_add(argv, g_strdup("-action"));
        g_ptr_array_add(argv, g_strdup("panic=pause"));
    }
}
