/* The per-domain UEFI variable store (<nvram>): copied from its template
 * before the first start, never overwritten afterwards (the guest's boot
 * entries and variables live there).  Removed only by undefine with the
 * nvram flag (qemu_driver_define.c). */
#include "qemu_process_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <unistd.h>

/* AAVMF's variable store is a 64 MiB flash image; allow some room. */
#define NVRAM_TEMPLATE_MAX (256 * 1024 * 1024)

int tv_qemu_process_prepare_nvram(const TvDomainDef *def)
{
    const TvDomainFirmware *fw = &def->os.boot.fw;
    if (!fw->nvram || fw->loader_type == TV_LOADER_TYPE_ROM || access(fw->nvram, F_OK) == 0)
        return 0;
    if (!fw->nvram_template) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "the UEFI variable store '%s' of /domain/os/nvram does not exist and there "
                        "is no template to create it from (attribute 'template')",
                        fw->nvram);
        return -1;
    }
    g_autofree char *data = NULL;
    size_t len = 0;
    if (tv_file_read_all(fw->nvram_template, NVRAM_TEMPLATE_MAX, &data, &len) < 0) {
        tv_error_prefix("cannot create the UEFI variable store '%s' from the template of "
                        "/domain/os/nvram",
                        fw->nvram);
        return -1;
    }
    g_autofree char *dir = g_path_get_dirname(fw->nvram);
    if (tv_dir_ensure(dir, 0755) < 0 || tv_file_write_atomic(fw->nvram, data, len, 0600) < 0) {
        tv_error_prefix("cannot create the UEFI variable store of /domain/os/nvram");
        return -1;
    }
    return 0;
}
