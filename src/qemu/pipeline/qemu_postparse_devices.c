/* Device defaults that libvirt fills in for an aarch64 'virt' guest, then
 * the addresses (PCI topology, USB ports), written into the definition so
 * they stay across redefinition, restart and migration. */
#include "domain_bus_address.h"
#include "domain_pci_address.h"
#include "qemu_domain.h"
#include "tv_error.h"

static void controller_defaults(TvDomainDevices *d)
{
    for (size_t i = 0; i < d->ncontrollers; i++) {
        TvDomainController *c = d->controllers[i];
        if (c->model != TV_CONTROLLER_MODEL_DEFAULT)
            continue;
        /* libvirt's aarch64 default for a USB controller without a model (Nova
         * writes one); tagvirt's only SCSI controller (libvirt 9.0 would pick
         * lsilogic, a conventional PCI device) */
        if (c->type == TV_CONTROLLER_USB)
            c->model = TV_CONTROLLER_MODEL_QEMU_XHCI;
        else if (c->type == TV_CONTROLLER_SCSI)
            c->model = TV_CONTROLLER_MODEL_VIRTIO_SCSI;
    }
}

/* VNC and sound devices get a silent audio backend, as libvirt adds
 * <audio type='none'/>: without one QEMU would open the host's sound system
 * (for the VNC audio extension, or to play the guest's sound). */
static void audio_default(TvDomainDevices *d)
{
    if ((!d->ngraphics && !d->nsounds) || d->naudios)
        return;
    TvDomainAudio *audio = g_new0(TvDomainAudio, 1);
    audio->id = 1;
    audio->type = TV_AUDIO_TYPE_NO_BACKEND;
    d->audios = g_new0(TvDomainAudio *, 1);
    d->audios[0] = audio;
    d->naudios = 1;
}

/* libvirt writes the aarch64 serial port's target out: the PL011. */
static void serial_defaults(TvDomainDevices *d)
{
    for (size_t i = 0; i < d->nserials; i++) {
        TvDomainChr *s = d->serials[i];
        if (s->target_type == TV_CHR_TARGET_DEFAULT)
            s->target_type = TV_CHR_TARGET_SYSTEM_SERIAL;
        s->model_name = true;
    }
}

int tv_qemu_domain_post_parse_devices(TvDomainDef *def)
{
    controller_defaults(&def->devices);
    audio_default(&def->devices);
    serial_defaults(&def->devices);
    tv_domain_virtio_serial_prepare(def);
    tv_domain_scsi_prepare(def);
    if (tv_domain_smartcard_prepare(def) < 0 ||
        tv_domain_pci_assign(def, TV_PCI_ASSIGN_DEFAULT) < 0 || tv_domain_usb_assign(def) < 0 ||
        tv_domain_virtio_serial_assign(def) < 0 || tv_domain_drive_assign(def) < 0)
        return -1;
    return 0;
}

int tv_qemu_domain_post_parse_hotplug(TvDomainDef *def, const char *what)
{
    size_t controllers = def->devices.ncontrollers;
    controller_defaults(&def->devices);
    serial_defaults(&def->devices);
    tv_domain_virtio_serial_prepare(def);
    tv_domain_scsi_prepare(def);
    if (def->devices.ncontrollers != controllers) {
        const TvDomainController *c = def->devices.controllers[def->devices.ncontrollers - 1];
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "%s needs a <controller type='%s'> that the running guest does not have: "
                        "attach the controller first (a 'scsi' or 'virtio-serial' controller "
                        "can be hot-plugged)",
                        what, tv_controller_type_to_string(c->type));
        return -1;
    }
    if (tv_domain_pci_assign(def, TV_PCI_ASSIGN_NO_NEW_CONTROLLERS) < 0 ||
        tv_domain_usb_assign(def) < 0 || tv_domain_virtio_serial_assign(def) < 0 ||
        tv_domain_drive_assign(def) < 0)
        return -1;
    return 0;
}
