/* Addresses on the buses behind controllers: USB ports of the USB
 * controller (domain_bus_address.h). */
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

/* USB devices in libvirt's order: disks, then input. */
static GArray *usb_devices(TvDomainDef *def)
{
    GArray *list = g_array_new(FALSE, TRUE, sizeof(BusDevice));
    g_array_set_clear_func(list, clear_bus_device);
    TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->ninputs; i++) {
        if (d->inputs[i]->bus == TV_INPUT_BUS_USB)
            add(list, &d->inputs[i]->address,
                g_strdup_printf("<input type='%s' bus='usb'>",
                                tv_input_type_to_string(d->inputs[i]->type)));
    }
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
