/* <filesystem type='mount'>: QEMU's local 9p backend (-fsdev local, id
 * fsdev-fsN) with the access mode as its security_model (passthrough,
 * mapped, squash -> none), and a virtio-9p-pci device carrying the mount
 * tag. */
#include "qemu_command_priv.h"
#include "qemu_domain.h"
#include "tv_error.h"

static const char *security_model(TvFsAccessMode mode)
{
    switch (mode) {
    case TV_FS_ACCESS_MAPPED:
        return "mapped";
    case TV_FS_ACCESS_SQUASH:
        return "none";
    case TV_FS_ACCESS_DEFAULT:
    case TV_FS_ACCESS_PASSTHROUGH:
    case TV_FS_ACCESS_LAST:
        break;
    }
    return "passthrough";
}

void tv_qemu_build_filesystems(GPtrArray *argv, const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->nfilesystems; i++) {
        const TvDomainFilesystem *fs = d->filesystems[i];
        g_autofree char *dir = tv_qemu_escape_opt(fs->source_dir);
        g_autofree char *tag = tv_qemu_escape_opt(fs->target_dir);
        tv_qemu_argv_add(argv, "-fsdev");
        tv_qemu_argv_addf(argv, "local,security_model=%s,id=fsdev-fs%zu,path=%s%s",
                          security_model(fs->accessmode), i, dir,
                          fs->readonly ? ",readonly=on" : "");
        g_autofree char *dev =
            g_strdup_printf("virtio-9p-pci,id=fs%zu,fsdev=fsdev-fs%zu,mount_tag=%s", i, i, tag);
        tv_qemu_argv_add_device(argv, &fs->address, dev);
    }
}

int tv_qemu_validate_filesystems(const TvDomainDef *def, const TvQemuCaps *caps)
{
    if (!def->devices.nfilesystems || tv_qemu_caps_has_device(caps, "virtio-9p-pci"))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: <filesystem> needs QEMU's 'virtio-9p-pci' device, "
                    "which emulator '%s' does not have (built without virtfs)",
                    caps->binary);
    return -1;
}
