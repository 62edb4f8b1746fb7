/* Addresses on the buses behind controllers: USB ports of the USB
 * controller, virtio-serial ports (domain_bus_address.h). */
#include "domain_bus_address.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#define USB_PORTS_DEFAULT 4 /* qemu-xhci without ports='N': libvirt counts 4 */

typedef struct {
    TvDeviceAddress *addr;
    char *what;
} BusDevice;

static void clear_bus_device(gpointer p)
{
    g_free(((BusDevice *)p)->what);
}

static void add(GArray *list, TvDeviceAddress *addr, char *what)
{
    BusDevice d = { .addr = addr, .what = what };
    g_array_append_val(list, d);
}

/* USB devices in libvirt's order: disks, CCID controllers (usb-ccid),
 * input, sound, redirdev. */
static GArray *usb_devices(TvDomainDef *def)
{
    GArray *list = g_array_new(FALSE, TRUE, sizeof(BusDevice));
    g_array_set_clear_func(list, clear_bus_device);
    TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ndisks; i++) {
        if (d->disks[i]->bus == TV_DISK_BUS_USB)
            add(list, &d->disks[i]->address,
                g_strdup_printf("<disk> with target '%s'", d->disks[i]->target_dev));
    }
    for (size_t i = 0; i < d->ncontrollers; i++) {
        if (d->controllers[i]->type == TV_CONTROLLER_CCID)
            add(list, &d->controllers[i]->address,
                g_strdup_printf("<controller type='ccid' index='%d'>", d->controllers[i]->index));
    }
    for (size_t i = 0; i < d->ninputs; i++) {
        if (d->inputs[i]->bus == TV_INPUT_BUS_USB)
            add(list, &d->inputs[i]->address,
                g_strdup_printf("<input type='%s' bus='usb'>",
                                tv_input_type_to_string(d->inputs[i]->type)));
    }
    for (size_t i = 0; i < d->nsounds; i++) {
        if (d->sounds[i]->model == TV_SOUND_MODEL_USB)
            add(list, &d->sounds[i]->address, g_strdup("<sound model='usb'>"));
    }
    for (size_t i = 0; i < d->nredirdevs; i++)
        add(list, &d->redirdevs[i]->address, tv_domain_redirdev_describe(d->redirdevs[i]));
    return list;
}

const TvDomainController *tv_domain_controller_find(const TvDomainDef *def, TvControllerType type,
                                                    unsigned index)
{
    for (size_t i = 0; i < def->devices.ncontrollers; i++) {
        const TvDomainController *c = def->devices.controllers[i];
        if (c->type == type && (unsigned)c->index == index)
            return c;
    }
    return NULL;
}

char *tv_domain_controller_user(const TvDomainDef *def, const TvDomainController *c)
{
    const TvDomainDevices *d = &def->devices;
    unsigned index = (unsigned)c->index;
    if (c->type == TV_CONTROLLER_SCSI) {
        for (size_t i = 0; i < d->ndisks; i++) {
            const TvDomainDisk *disk = d->disks[i];
            if (disk->bus == TV_DISK_BUS_SCSI && disk->address.type == TV_ADDRESS_DRIVE &&
                disk->address.controller == index)
                return g_strdup_printf("<disk> '%s'", disk->target_dev);
        }
    } else if (c->type == TV_CONTROLLER_VIRTIO_SERIAL) {
        for (size_t i = 0; i < d->nchannels; i++) {
            const TvDomainChr *ch = d->channels[i];
            if (ch->address.type == TV_ADDRESS_VIRTIO_SERIAL && ch->address.controller == index)
                return g_strdup_printf("<channel> '%s'",
                                       ch->target_name ? ch->target_name : "(unnamed)");
        }
        for (size_t i = 0; i < d->nconsoles && index == 0; i++) {
            if (d->consoles[i]->target_type == TV_CHR_TARGET_VIRTIO)
                return g_strdup_printf("<console> (virtio, port %u)", d->consoles[i]->port);
        }
    }
    return NULL;
}

int tv_domain_controller_check_removal(const TvDomainDef *def, const TvDomainController *c)
{
    const char *type = tv_controller_type_to_string(c->type);
    if (c->type != TV_CONTROLLER_SCSI && c->type != TV_CONTROLLER_VIRTIO_SERIAL) {
        tv_error_report(TV_FROM_CONF, TV_ERR_OPERATION_UNSUPPORTED,
                        "'%s' controller cannot be hot unplugged or detached: only 'scsi' "
                        "(virtio-scsi) and 'virtio-serial' controllers can",
                        type);
        return -1;
    }
    g_autofree char *user = tv_domain_controller_user(def, c);
    if (user) {
        tv_error_report(TV_FROM_CONF, TV_ERR_OPERATION_FAILED,
                        "device cannot be detached: device is busy: <controller type='%s' "
                        "index='%d'> still has %s on it (detach that first)",
                        type, c->index, user);
        return -1;
    }
    return 0;
}

unsigned tv_domain_usb_ports(const TvDomainController *ctrl)
{
    return ctrl->ports ? ctrl->ports : USB_PORTS_DEFAULT;
}

static int check_usb_controller(const TvDomainDef *def, const BusDevice *d, unsigned bus,
                                const TvDomainController **out)
{
    const TvDomainController *c = tv_domain_controller_find(def, TV_CONTROLLER_USB, bus);
    if (!c || c->model == TV_CONTROLLER_MODEL_NONE) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "%s needs a USB controller, but USB is disabled for this domain (%s): add "
                        "<controller type='usb' model='qemu-xhci'/>",
                        d->what,
                        c          ? "<controller type='usb' model='none'>"
                        : bus == 0 ? "no <controller type='usb'>"
                                   : "no USB controller of that index");
        return -1;
    }
    *out = c;
    return 0;
}

int tv_domain_usb_assign(TvDomainDef *def)
{
    g_autoptr(GArray) list = usb_devices(def);
    /* owner of bus 0's ports (the only USB bus that devices are assigned to) */
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 0; i < list->len; i++) {
        BusDevice *d = &g_array_index(list, BusDevice, i);
        if (d->addr->type != TV_ADDRESS_USB)
            continue;
        const TvDomainController *c = NULL;
        if (check_usb_controller(def, d, d->addr->controller, &c) < 0)
            return -1;
        unsigned ports = tv_domain_usb_ports(c);
        if (d->addr->port < 1 || d->addr->port > ports) {
            tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                            "USB port %u of %s is outside the topology: USB controller %u has "
                            "ports 1 to %u",
                            d->addr->port, d->what, d->addr->controller, ports);
            return -1;
        }
        gpointer key = GUINT_TO_POINTER(d->addr->controller << 8 | d->addr->port);
        const char *other = g_hash_table_lookup(used, key);
        if (other) {
            tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                            "USB bus %u port %u is given to two devices: %s and %s",
                            d->addr->controller, d->addr->port, other, d->what);
            return -1;
        }
        g_hash_table_insert(used, key, d->what);
    }
    for (guint i = 0; i < list->len; i++) {
        BusDevice *d = &g_array_index(list, BusDevice, i);
        if (d->addr->type == TV_ADDRESS_USB)
            continue;
        const TvDomainController *c = NULL;
        if (check_usb_controller(def, d, 0, &c) < 0)
            return -1;
        unsigned ports = tv_domain_usb_ports(c), port = 1;
        while (port <= ports && g_hash_table_contains(used, GUINT_TO_POINTER(port)))
            port++;
        if (port > ports) {
            tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                            "no free USB port for %s: all %u ports of USB controller 0 are used "
                            "(more with <controller type='usb' ports='N'/>, up to %d)",
                            d->what, ports, TV_USB_PORTS_MAX);
            return -1;
        }
        *d->addr = (TvDeviceAddress){ .type = TV_ADDRESS_USB, .port = port };
        g_hash_table_insert(used, GUINT_TO_POINTER(port), d->what);
    }
    return 0;
}

/* Channels and virtio consoles need a virtio-serial controller: libvirt adds
 * index 0 when there is none.  Before the PCI assignment, which places it. */
void tv_domain_virtio_serial_prepare(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    bool needed = d->nchannels > 0;
    for (size_t i = 0; i < d->nconsoles; i++)
        needed = needed || d->consoles[i]->target_type == TV_CHR_TARGET_VIRTIO;
    if (!needed)
        return;
    for (size_t i = 0; i < d->ncontrollers; i++) {
        if (d->controllers[i]->type == TV_CONTROLLER_VIRTIO_SERIAL)
            return;
    }
    TvDomainController *c = g_new0(TvDomainController, 1);
    c->type = TV_CONTROLLER_VIRTIO_SERIAL;
    c->chassis = c->port = -1;
    TV_APPEND(d->controllers, d->ncontrollers, c);
}

#define VSERIAL_PORTS_DEFAULT 31 /* QEMU's max_ports */

/* Channel ports: 1 up (port 0 is the console's, and virtio consoles take
 * the lowest ports QEMU gives them), on a controller that exists. */
int tv_domain_virtio_serial_assign(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    unsigned consoles = 0;
    for (size_t i = 0; i < d->nconsoles; i++)
        consoles += d->consoles[i]->target_type == TV_CHR_TARGET_VIRTIO;
    unsigned first = MAX(consoles, 1u);
    g_autoptr(GHashTable) used = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < d->nchannels; i++) {
            TvDomainChr *ch = d->channels[i];
            TvDeviceAddress *a = &ch->address;
            if ((pass == 0) != (a->type == TV_ADDRESS_VIRTIO_SERIAL))
                continue;
            unsigned controller = pass == 0 ? a->controller : 0;
            const TvDomainController *c =
                tv_domain_controller_find(def, TV_CONTROLLER_VIRTIO_SERIAL, controller);
            if (!c) {
                tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                                "<channel> '%s' is on virtio-serial controller %u, which "
                                "/domain/devices does not have",
                                ch->target_name, controller);
                return -1;
            }
            unsigned ports = c->ports ? c->ports : VSERIAL_PORTS_DEFAULT;
            unsigned port = first;
            if (pass == 0) {
                port = a->port;
                if (port < first || port >= ports) {
                    tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                                    "virtio-serial port %u of <channel> '%s' is outside the "
                                    "topology: controller %u takes channels on ports %u to %u",
                                    port, ch->target_name, controller, first, ports - 1);
                    return -1;
                }
            } else {
                while (port < ports &&
                       g_hash_table_contains(used, GUINT_TO_POINTER(controller << 8 | port)))
                    port++;
                if (port >= ports) {
                    tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                                    "no free virtio-serial port for <channel> '%s': controller "
                                    "%u has %u ports",
                                    ch->target_name, controller, ports);
                    return -1;
                }
            }
            gpointer key = GUINT_TO_POINTER(controller << 8 | port);
            const char *other = g_hash_table_lookup(used, key);
            if (other) {
                tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                                "virtio-serial controller %u port %u is given to two channels: "
                                "'%s' and '%s'",
                                controller, port, other, ch->target_name);
                return -1;
            }
            g_hash_table_insert(used, key, ch->target_name);
            *a = (TvDeviceAddress){ .type = TV_ADDRESS_VIRTIO_SERIAL,
                                    .controller = controller,
                                    .port = port };
        }
    }
    return 0;
}

/* SCSI disks need a SCSI controller: libvirt adds index 0 when there is
 * none (before the PCI assignment, which places it). */
void tv_domain_scsi_prepare(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    bool needed = false;
    for (size_t i = 0; i < d->ndisks; i++)
        needed = needed || d->disks[i]->bus == TV_DISK_BUS_SCSI;
    if (!needed || tv_domain_controller_find(def, TV_CONTROLLER_SCSI, 0))
        return;
    for (size_t i = 0; i < d->ncontrollers; i++) {
        if (d->controllers[i]->type == TV_CONTROLLER_SCSI)
            return;
    }
    TvDomainController *c = g_new0(TvDomainController, 1);
    c->type = TV_CONTROLLER_SCSI;
    c->model = TV_CONTROLLER_MODEL_VIRTIO_SCSI;
    c->chassis = c->port = -1;
    TV_APPEND(d->controllers, d->ncontrollers, c);
}

/* A SCSI disk's drive address: controller 0, unit from its name (sda 0,
 * sdb 1, ...), as libvirt gives virtio-scsi disks. */
int tv_domain_drive_assign(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ndisks; i++) {
        TvDomainDisk *disk = d->disks[i];
        if (disk->bus != TV_DISK_BUS_SCSI)
            continue;
        TvDeviceAddress *a = &disk->address;
        if (a->type != TV_ADDRESS_DRIVE)
            *a = (TvDeviceAddress){ .type = TV_ADDRESS_DRIVE,
                                    .unit = (unsigned)tv_disk_name_index(disk->target_dev, "sd") };
        if (!tv_domain_controller_find(def, TV_CONTROLLER_SCSI, a->controller)) {
            tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                            "<disk> with target '%s' is on SCSI controller %u, which "
                            "/domain/devices does not have",
                            disk->target_dev, a->controller);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            const TvDeviceAddress *b = &d->disks[j]->address;
            if (d->disks[j]->bus == TV_DISK_BUS_SCSI && b->controller == a->controller &&
                b->bus == a->bus && b->target == a->target && b->unit == a->unit) {
                g_autofree char *where = tv_domain_address_string(a);
                tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                                "%s is given to two disks: '%s' and '%s'", where,
                                d->disks[j]->target_dev, disk->target_dev);
                return -1;
            }
        }
    }
    return 0;
}
