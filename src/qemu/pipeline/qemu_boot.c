/* Boot order and the firmware's command line: see qemu_boot.h. */
#include "qemu_boot.h"
#include "qemu_command.h"
#include "qemu_command_redirdev.h"

unsigned tv_qemu_boot_index(const TvDomainDef *def, TvBootDev kind, bool first_of_kind,
                            unsigned device_order)
{
    if (device_order)
        return device_order;
    if (!first_of_kind)
        return 0;
    const TvDomainBootOrder *order = &def->os.boot.order;
    for (size_t i = 0; i < order->ndevs; i++) {
        if (order->devs[i] == kind)
            return (unsigned)i + 1;
    }
    return 0;
}

static bool has_boot_order(const TvDomainDef *def)
{
    if (def->os.boot.order.ndevs)
        return true;
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        if (def->devices.disks[i]->boot_order)
            return true;
    }
    for (size_t i = 0; i < def->devices.nnets; i++) {
        if (def->devices.nets[i]->boot_order)
            return true;
    }
    return tv_qemu_redirdevs_boot(def);
}

static bool uses_pflash(const TvDomainDef *def)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    return fw->loader && fw->loader_type != TV_LOADER_TYPE_ROM;
}

void tv_qemu_firmware_machine_opts(GString *machine, const TvDomainDef *def)
{
    if (!uses_pflash(def))
        return;
    g_string_append(machine, ",pflash0=tv-pflash0-format");
    if (def->os.boot.fw.nvram)
        g_string_append(machine, ",pflash1=tv-pflash1-format");
}

static void add_pflash(GPtrArray *argv, unsigned unit, const char *path, bool readonly)
{
    g_autofree char *file = tv_qemu_escape_opt(path);
    const char *ro = readonly ? "on" : "off";
    g_ptr_array_add(argv, g_strdup("-blockdev"));
    g_ptr_array_add(argv, g_strdup_printf("driver=file,filename=%s,node-name=tv-pflash%u-storage,"
                                          "read-only=%s",
                                          file, unit, ro));
    g_ptr_array_add(argv, g_strdup("-blockdev"));
    g_ptr_array_add(argv, g_strdup_printf("driver=raw,file=tv-pflash%u-storage,"
                                          "node-name=tv-pflash%u-format,read-only=%s",
                                          unit, unit, ro));
}

void tv_qemu_firmware_boot_command(GPtrArray *argv, const TvDomainDef *def)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    if (fw->loader && fw->loader_type == TV_LOADER_TYPE_ROM) {
        g_ptr_array_add(argv, g_strdup("-bios"));
        g_ptr_array_add(argv, g_strdup(fw->loader));
    } else if (fw->loader) {
        add_pflash(argv, 0, fw->loader, fw->loader_readonly != TV_FEATURE_STATE_OFF);
        if (fw->nvram)
            add_pflash(argv, 1, fw->nvram, false);
    }
    if (has_boot_order(def)) {
        g_ptr_array_add(argv, g_strdup("-boot"));
        g_ptr_array_add(argv, g_strdup("strict=on"));
    }
}
