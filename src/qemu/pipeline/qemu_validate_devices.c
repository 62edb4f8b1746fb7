/* Devices against what the emulator really has: every -device driver the
 * command line would use must be among the probed device types, and VNC
 * must be built in (query-vnc). */
#include "qemu_domain.h"
#include "qemu_command.h"
#include "qemu_command_redirdev.h"
#include "tv_error.h"

static int need(const TvQemuCaps *caps, const char *type, const char *what)
{
    if (tv_qemu_caps_has_device(caps, type))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: %s needs QEMU's '%s' device, which emulator '%s' "
                    "does not have",
                    what, type, caps->binary);
    return -1;
}

static const char *controller_device(const TvDomainController *c)
{
    switch (c->type) {
    case TV_CONTROLLER_VIRTIO_SERIAL:
        return "virtio-serial-pci";
    case TV_CONTROLLER_CCID:
        return "usb-ccid";
    case TV_CONTROLLER_PCI:
    case TV_CONTROLLER_USB:
    case TV_CONTROLLER_SCSI:
        return tv_controller_model_device(c->model);
    case TV_CONTROLLER_NONE:
    case TV_CONTROLLER_LAST:
        break;
    }
    return NULL;
}

static int validate_controllers(const TvDomainDevices *d, const TvQemuCaps *caps)
{
    for (size_t i = 0; i < d->ncontrollers; i++) {
        const TvDomainController *c = d->controllers[i];
        const char *dev = controller_device(c);
        g_autofree char *what = g_strdup_printf(
            "<controller type='%s' index='%d'%s%s%s>", tv_controller_type_to_string(c->type),
            c->index, c->model ? " model='" : "", tv_controller_model_to_string(c->model),
            c->model ? "'" : "");
        if (dev && need(caps, dev, what) < 0)
            return -1;
    }
    return 0;
}

static int validate_display(const TvDomainDevices *d, const TvQemuCaps *caps)
{
    for (size_t i = 0; i < d->ninputs; i++) {
        const TvDomainInput *in = d->inputs[i];
        g_autofree char *what =
            g_strdup_printf("<input type='%s' bus='%s'>", tv_input_type_to_string(in->type),
                            tv_input_bus_to_string(in->bus));
        if (need(caps, tv_qemu_input_device(in), what) < 0)
            return -1;
    }
    if (d->ngraphics && !tv_qemu_caps_has_command(caps, "query-vnc")) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <graphics type='vnc'> needs VNC, which "
                        "emulator '%s' is built without (it has no query-vnc command)",
                        caps->binary);
        return -1;
    }
    for (size_t i = 0; i < d->nvideos; i++) {
        if (d->videos[i]->model == TV_VIDEO_MODEL_VIRTIO &&
            need(caps, "virtio-gpu-pci", "<video><model type='virtio'/>") < 0)
            return -1;
        if (d->videos[i]->model == TV_VIDEO_MODEL_RAMFB &&
            need(caps, "ramfb", "<video><model type='ramfb'/>") < 0)
            return -1;
    }
    return 0;
}

static int validate_virtio(const TvDomainDevices *d, const TvQemuCaps *caps)
{
    if (d->nnets && need(caps, "virtio-net-pci", "<interface> model 'virtio'") < 0)
        return -1;
    if (d->nrngs && need(caps, "virtio-rng-pci", "<rng model='virtio'>") < 0)
        return -1;
    if (d->memballoon == TV_BALLOON_MODEL_VIRTIO &&
        need(caps, "virtio-balloon-pci", "<memballoon model='virtio'>") < 0)
        return -1;
    return 0;
}

static int validate_chr_misc(const TvDomainDevices *d, const TvQemuCaps *caps)
{
    for (size_t i = 0; i < d->nserials; i++) {
        if (d->serials[i]->target_type == TV_CHR_TARGET_PCI_SERIAL &&
            need(caps, "pci-serial", "<serial> with <target type='pci-serial'>") < 0)
            return -1;
    }
    for (size_t i = 0; i < d->nconsoles; i++) {
        if (d->consoles[i]->target_type == TV_CHR_TARGET_VIRTIO &&
            need(caps, "virtconsole", "<console> with <target type='virtio'>") < 0)
            return -1;
    }
    if (d->nchannels && need(caps, "virtserialport", "<channel> (virtio)") < 0)
        return -1;
    if (d->npanics && need(caps, "pvpanic-pci", "<panic model='pvpanic'>") < 0)
        return -1;
    if (d->nwatchdogs) {
        if (need(caps, "i6300esb", "<watchdog model='i6300esb'>") < 0)
            return -1;
        if (!tv_qemu_caps_has_command(caps, "set-action")) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                            "unsupported configuration: a <watchdog> action needs QEMU's -action "
                            "option (QEMU 6.0 and later), which emulator '%s' does not have",
                            caps->binary);
            return -1;
        }
    }
    return 0;
}

static int validate_disk(const TvDomainDisk *disk, const TvQemuCaps *caps)
{
    bool cdrom = disk->device == TV_DISK_DEVICE_CDROM;
    g_autofree char *what = g_strdup_printf("<disk device='%s'> with target '%s' on bus '%s'",
                                            tv_disk_device_to_string(disk->device),
                                            disk->target_dev, tv_disk_bus_to_string(disk->bus));
    const char *dev = disk->bus == TV_DISK_BUS_SCSI  ? (cdrom ? "scsi-cd" : "scsi-hd")
                      : disk->bus == TV_DISK_BUS_USB ? "usb-storage"
                                                     : "virtio-blk-pci";
    if (need(caps, dev, what) < 0)
        return -1;
    if (disk->bus == TV_DISK_BUS_USB && !disk->path) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: %s has no <source>: QEMU's usb-storage has no "
                        "empty tray; give it a medium, or put the empty cdrom on bus 'scsi'",
                        what);
        return -1;
    }
    if (disk->shareable && disk->format == TV_DISK_FORMAT_QCOW2) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: %s is <shareable/> with format 'qcow2': only "
                        "raw images can be written by two guests at once",
                        what);
        return -1;
    }
    if (disk->io == TV_DISK_IO_NATIVE && disk->cache != TV_DISK_CACHE_NONE &&
        disk->cache != TV_DISK_CACHE_DIRECTSYNC) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: %s has io='native', which needs "
                        "cache='none' or cache='directsync' (QEMU's native AIO bypasses the "
                        "host page cache)",
                        what);
        return -1;
    }
    return 0;
}

int tv_qemu_validate_devices(const TvDomainDef *def, const TvQemuCaps *caps)
{
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        if (validate_disk(def->devices.disks[i], caps) < 0)
            return -1;
    }
    const TvDomainDevices *d = &def->devices;
    if (validate_controllers(d, caps) < 0 || validate_display(d, caps) < 0 ||
        validate_virtio(d, caps) < 0 || validate_chr_misc(d, caps) < 0 ||
        tv_qemu_validate_sounds(def, caps) < 0 || tv_qemu_validate_filesystems(def, caps) < 0 ||
        tv_qemu_validate_vsock(def, caps) < 0 || tv_qemu_validate_tpm(def, caps) < 0 ||
        tv_qemu_validate_smartcards(def, caps) < 0 || tv_qemu_validate_redirdevs(def, caps) < 0)
        return -1;
    return 0;
}
