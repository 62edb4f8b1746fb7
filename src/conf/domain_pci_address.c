/* PCI address checks and assignment (domain_pci_address.h). */
#include "domain_pci_address.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

#define PCI_BUSES     256
#define PCI_SLOTS     32
#define PCI_FUNCTIONS 8

/* What a device plugs into. */
typedef enum {
    PLUG_PCIE_DEVICE, /* virtio devices, qemu-xhci: a root port (or bus 0, integrated) */
    PLUG_PCI_DEVICE,  /* conventional PCI: a pcie-to-pci-bridge slot (or bus 0) */
    PLUG_ROOT_PORT,   /* pcie-root-port: a function of a bus 0 slot */
    PLUG_BRIDGE,      /* pcie-to-pci-bridge: like a PCIe device */
} PlugKind;

typedef struct {
    TvDeviceAddress *addr;
    PlugKind kind;
    char *what; /* "<interface> with MAC 52:54:00:12:34:56" */
    TvDomainController *ctrl;
} PciDevice;

typedef struct {
    TvDomainDef *def;
    unsigned flags;
    GArray *devices;                  /* PciDevice */
    TvControllerModel bus[PCI_BUSES]; /* DEFAULT: no PCI controller of that index */
    const char *owner[PCI_BUSES][PCI_SLOTS][PCI_FUNCTIONS];
    unsigned ports_added;
} PciTopology;

static void add_device(PciTopology *t, TvDeviceAddress *addr, PlugKind kind,
                       TvDomainController *ctrl, char *what)
{
    PciDevice d = { .addr = addr, .kind = kind, .what = what, .ctrl = ctrl };
    g_array_append_val(t->devices, d);
}

static void clear_device(gpointer p)
{
    g_free(((PciDevice *)p)->what);
}

/* The model's XML name ("pcie-root-port") names the bus kind in messages. */
static const char *bus_kind(TvControllerModel model)
{
    return tv_controller_model_to_string(model);
}

/* The devices with a PCI address, in libvirt's assignment order: PCI
 * controllers, interfaces, other controllers, disks, memballoon, rng,
 * input, video; then the conventional PCI ones (pci-serial, pvpanic,
 * i6300esb). */
static void collect_devices(PciTopology *t)
{
    TvDomainDevices *d = &t->def->devices;
    for (size_t i = 0; i < d->ncontrollers; i++) {
        TvDomainController *c = d->controllers[i];
        if (c->type != TV_CONTROLLER_PCI || c->model == TV_CONTROLLER_MODEL_PCIE_ROOT)
            continue;
        add_device(
            t, &c->address,
            c->model == TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE ? PLUG_BRIDGE : PLUG_ROOT_PORT, c,
            g_strdup_printf("<controller type='pci' index='%d' model='%s'>", c->index,
                            tv_controller_model_to_string(c->model)));
    }
    for (size_t i = 0; i < d->nfilesystems; i++)
        add_device(t, &d->filesystems[i]->address, PLUG_PCIE_DEVICE, NULL,
                   g_strdup_printf("<filesystem> with target '%s'", d->filesystems[i]->target_dir));
    for (size_t i = 0; i < d->nnets; i++)
        add_device(t, &d->nets[i]->address, PLUG_PCIE_DEVICE, NULL,
                   g_strdup_printf("<interface> with MAC %s", d->nets[i]->mac));
    for (size_t i = 0; i < d->ncontrollers; i++) {
        TvDomainController *c = d->controllers[i];
        if (c->type == TV_CONTROLLER_PCI || c->type == TV_CONTROLLER_CCID ||
            (c->type == TV_CONTROLLER_USB && c->model == TV_CONTROLLER_MODEL_NONE))
            continue;
        add_device(t, &c->address, PLUG_PCIE_DEVICE, c,
                   g_strdup_printf("<controller type='%s' index='%d'>",
                                   tv_controller_type_to_string(c->type), c->index));
    }
    for (size_t i = 0; i < d->ndisks; i++) {
        if (d->disks[i]->bus == TV_DISK_BUS_VIRTIO)
            add_device(t, &d->disks[i]->address, PLUG_PCIE_DEVICE, NULL,
                       g_strdup_printf("<disk> with target '%s'", d->disks[i]->target_dev));
    }
    if (d->memballoon == TV_BALLOON_MODEL_VIRTIO)
        add_device(t, &d->memballoon_address, PLUG_PCIE_DEVICE, NULL, g_strdup("<memballoon>"));
    for (size_t i = 0; i < d->nrngs; i++)
        add_device(t, &d->rngs[i]->address, PLUG_PCIE_DEVICE, NULL,
                   g_strdup_printf("<rng> %zu", i + 1));
    for (size_t i = 0; i < d->ninputs; i++) {
        if (d->inputs[i]->bus == TV_INPUT_BUS_VIRTIO)
            add_device(t, &d->inputs[i]->address, PLUG_PCIE_DEVICE, NULL,
                       g_strdup_printf("<input type='%s' bus='virtio'>",
                                       tv_input_type_to_string(d->inputs[i]->type)));
    }
    for (size_t i = 0; i < d->nvideos; i++) {
        if (d->videos[i]->model == TV_VIDEO_MODEL_VIRTIO)
            add_device(t, &d->videos[i]->address, PLUG_PCIE_DEVICE, NULL,
                       g_strdup("<video> (virtio)"));
    }
    if (d->vsock)
        add_device(t, &d->vsock->address, PLUG_PCIE_DEVICE, NULL, g_strdup("<vsock>"));
    /* conventional PCI devices, on the PCIe-to-PCI bridge */
    for (size_t i = 0; i < d->nserials; i++) {
        if (d->serials[i]->target_type == TV_CHR_TARGET_PCI_SERIAL)
            add_device(t, &d->serials[i]->address, PLUG_PCI_DEVICE, NULL,
                       g_strdup_printf("<serial> port %u (pci-serial)", d->serials[i]->port));
    }
    for (size_t i = 0; i < d->nsounds; i++) {
        if (d->sounds[i]->model != TV_SOUND_MODEL_USB)
            add_device(t, &d->sounds[i]->address, PLUG_PCI_DEVICE, NULL,
                       g_strdup_printf("<sound model='%s'>",
                                       tv_sound_model_to_string(d->sounds[i]->model)));
    }
    for (size_t i = 0; i < d->npanics; i++)
        add_device(t, &d->panics[i]->address, PLUG_PCI_DEVICE, NULL,
                   g_strdup("<panic model='pvpanic'>"));
    for (size_t i = 0; i < d->nwatchdogs; i++)
        add_device(t, &d->watchdogs[i]->address, PLUG_PCI_DEVICE, NULL,
                   g_strdup("<watchdog model='i6300esb'>"));
}

static char *bus_list(const PciTopology *t)
{
    GString *out = g_string_new(NULL);
    for (unsigned b = 0; b < PCI_BUSES;) {
        if (t->bus[b] == TV_CONTROLLER_MODEL_DEFAULT) {
            b++;
            continue;
        }
        unsigned e = b;
        while (e + 1 < PCI_BUSES && t->bus[e + 1] == t->bus[b])
            e++;
        if (out->len)
            g_string_append(out, ", ");
        if (e == b)
            g_string_append_printf(out, "0x%02x (%s)", b, bus_kind(t->bus[b]));
        else
            g_string_append_printf(out, "0x%02x-0x%02x (%s)", b, e, bus_kind(t->bus[b]));
        b = e + 1;
    }
    return g_string_free(out, FALSE);
}

static void slot_range(TvControllerModel bus, unsigned *lo, unsigned *hi)
{
    *lo = bus == TV_CONTROLLER_MODEL_PCIE_ROOT_PORT ? 0 : 1;
    *hi = bus == TV_CONTROLLER_MODEL_PCIE_ROOT_PORT ? 0 : PCI_SLOTS - 1;
}

static bool plug_fits(PlugKind kind, TvControllerModel bus)
{
    switch (kind) {
    case PLUG_ROOT_PORT:
        return bus == TV_CONTROLLER_MODEL_PCIE_ROOT;
    case PLUG_BRIDGE:
        return bus == TV_CONTROLLER_MODEL_PCIE_ROOT || bus == TV_CONTROLLER_MODEL_PCIE_ROOT_PORT;
    case PLUG_PCIE_DEVICE:
    case PLUG_PCI_DEVICE:
        return true;
    }
    return false;
}

static const char *plug_places(PlugKind kind)
{
    switch (kind) {
    case PLUG_ROOT_PORT:
        return "a pcie-root-port plugs into pcie-root (bus 0x00)";
    case PLUG_BRIDGE:
        return "a pcie-to-pci-bridge plugs into pcie-root or a pcie-root-port";
    case PLUG_PCIE_DEVICE:
    case PLUG_PCI_DEVICE:
        break;
    }
    return "";
}

/* A written address: inside the topology, on a bus that takes it, free. */
static int check_written(PciTopology *t, const PciDevice *d)
{
    const TvDeviceAddress *a = d->addr;
    g_autofree char *where = tv_domain_address_string(a);
    if (a->bus >= PCI_BUSES || t->bus[a->bus] == TV_CONTROLLER_MODEL_DEFAULT) {
        g_autofree char *buses = bus_list(t);
        tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                        "PCI address %s of %s is outside the topology: bus 0x%02x is not a PCI "
                        "controller's index (PCI buses: %s)",
                        where, d->what, a->bus, buses);
        return -1;
    }
    TvControllerModel bus = t->bus[a->bus];
    unsigned lo, hi;
    slot_range(bus, &lo, &hi);
    if (a->slot < lo || a->slot > hi) {
        g_autofree char *slots = lo == hi ? g_strdup_printf("slot 0x%02x", lo)
                                          : g_strdup_printf("slots 0x%02x-0x%02x", lo, hi);
        tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                        "PCI address %s of %s is outside the topology: bus 0x%02x is a %s, whose "
                        "devices go in %s",
                        where, d->what, a->bus, bus_kind(bus), slots);
        return -1;
    }
    if (!plug_fits(d->kind, bus)) {
        tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                        "PCI address %s of %s is on bus 0x%02x, a %s: %s", where, d->what, a->bus,
                        bus_kind(bus), plug_places(d->kind));
        return -1;
    }
    if (d->ctrl && d->ctrl->type == TV_CONTROLLER_PCI && (unsigned)d->ctrl->index <= a->bus) {
        tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                        "%s is plugged into bus 0x%02x: a PCI controller's index must be larger "
                        "than the bus it plugs into",
                        d->what, a->bus);
        return -1;
    }
    const char **owner = &t->owner[a->bus][a->slot][a->function];
    if (*owner) {
        tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                        "PCI address %s is given to two devices: %s and %s", where, *owner,
                        d->what);
        return -1;
    }
    *owner = d->what;
    return 0;
}

static bool slot_free(const PciTopology *t, unsigned bus, unsigned slot)
{
    for (unsigned f = 0; f < PCI_FUNCTIONS; f++) {
        if (t->owner[bus][slot][f])
            return false;
    }
    return true;
}

/* A controller's index is above the bus it plugs into. */
static int lowest_free_index(const PciTopology *t, unsigned above)
{
    for (unsigned i = above + 1; i < PCI_BUSES; i++) {
        if (t->bus[i] == TV_CONTROLLER_MODEL_DEFAULT)
            return (int)i;
    }
    return -1;
}

/* Root ports share bus 0 slots, eight functions each: a slot whose
 * function 0 is a root port, or a free one. */
static int place_root_port(PciTopology *t, PciDevice *d)
{
    for (unsigned s = 1; s < PCI_SLOTS; s++) {
        const char *fn0 = t->owner[0][s][0];
        bool ports_slot = fn0 && g_str_has_prefix(fn0, "<controller type='pci'") &&
                          strstr(fn0, "model='pcie-root-port'");
        if (!ports_slot && !slot_free(t, 0, s))
            continue;
        for (unsigned f = 0; f < PCI_FUNCTIONS; f++) {
            if (t->owner[0][s][f])
                continue;
            *d->addr =
                (TvDeviceAddress){ .type = TV_ADDRESS_PCI, .bus = 0, .slot = s, .function = f };
            t->owner[0][s][f] = d->what;
            return 0;
        }
    }
    tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                    "no free function on pcie-root (bus 0x00) for %s: the topology is full",
                    d->what);
    return -1;
}

static TvDomainController *add_controller(PciTopology *t, TvControllerModel model, unsigned above)
{
    int index = lowest_free_index(t, above);
    if (index < 0) {
        tv_error_report(TV_FROM_CONF, TV_ERR_CONFIG_UNSUPPORTED,
                        "cannot add a %s: all %d PCI bus numbers are used", bus_kind(model),
                        PCI_BUSES);
        return NULL;
    }
    TvDomainController *c = g_new0(TvDomainController, 1);
    c->type = TV_CONTROLLER_PCI;
    c->index = index;
    c->model = model;
    c->chassis = c->port = -1;
    TvDomainDevices *devs = &t->def->devices;
    TV_APPEND(devs->controllers, devs->ncontrollers, c);
    t->bus[index] = model;
    return c;
}

/* d is never an element of t->devices: placing may grow that array. */
static int place_device(PciTopology *t, PciDevice *d);

/* A root port made for a device: it goes on bus 0 at once. */
static int new_root_port(PciTopology *t, unsigned *bus)
{
    if (t->flags & TV_PCI_ASSIGN_NO_NEW_CONTROLLERS) {
        tv_error_report(TV_FROM_CONF, TV_ERR_OPERATION_FAILED,
                        "no free pcie-root-port for the new device: PCIe root ports cannot be "
                        "hot-plugged, so add <controller type='pci' model='pcie-root-port'/> "
                        "elements to the persistent definition and restart the domain");
        return -1;
    }
    TvDomainController *c = add_controller(t, TV_CONTROLLER_MODEL_PCIE_ROOT_PORT, 0);
    if (!c)
        return -1;
    PciDevice port = { .addr = &c->address, .kind = PLUG_ROOT_PORT, .ctrl = c };
    port.what =
        g_strdup_printf("<controller type='pci' index='%d' model='pcie-root-port'>", c->index);
    int rc = place_root_port(t, &port);
    g_array_append_val(t->devices, port); /* keeps 'what' alive for owner[] */
    t->ports_added++;
    *bus = (unsigned)c->index;
    return rc;
}

/* A root port with nothing in it (bus number), or -1. */
static int free_root_port(const PciTopology *t)
{
    for (unsigned b = 1; b < PCI_BUSES; b++) {
        if (t->bus[b] == TV_CONTROLLER_MODEL_PCIE_ROOT_PORT && slot_free(t, b, 0))
            return (int)b;
    }
    return -1;
}

static int free_bridge_slot(const PciTopology *t, unsigned *bus, unsigned *slot)
{
    for (unsigned b = 1; b < PCI_BUSES; b++) {
        if (t->bus[b] != TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE)
            continue;
        for (unsigned s = 1; s < PCI_SLOTS; s++) {
            if (slot_free(t, b, s)) {
                *bus = b;
                *slot = s;
                return 0;
            }
        }
    }
    return -1;
}

static int place_on_bridge(PciTopology *t, PciDevice *d)
{
    unsigned bus = 0, slot = 0;
    if (free_bridge_slot(t, &bus, &slot) < 0) {
        if (t->flags & TV_PCI_ASSIGN_NO_NEW_CONTROLLERS) {
            tv_error_report(TV_FROM_CONF, TV_ERR_OPERATION_FAILED,
                            "no free pcie-to-pci-bridge slot for %s", d->what);
            return -1;
        }
        /* its root port first: the bridge's index must be above that bus */
        int found = free_root_port(t);
        unsigned port_bus = (unsigned)found;
        if (found < 0 && new_root_port(t, &port_bus) < 0)
            return -1;
        TvDomainController *c = add_controller(t, TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE, port_bus);
        if (!c)
            return -1;
        PciDevice bridge = { .addr = &c->address, .kind = PLUG_BRIDGE, .ctrl = c };
        bridge.what = g_strdup_printf(
            "<controller type='pci' index='%d' model='pcie-to-pci-bridge'>", c->index);
        g_array_append_val(t->devices, bridge); /* the array owns 'what' from here */
        c->address = (TvDeviceAddress){ .type = TV_ADDRESS_PCI, .bus = port_bus };
        t->owner[port_bus][0][0] = bridge.what;
        bus = (unsigned)c->index;
        slot = 1;
    }
    *d->addr = (TvDeviceAddress){ .type = TV_ADDRESS_PCI, .bus = bus, .slot = slot };
    t->owner[bus][slot][0] = d->what;
    return 0;
}

static int place_device(PciTopology *t, PciDevice *d)
{
    switch (d->kind) {
    case PLUG_ROOT_PORT:
        return place_root_port(t, d);
    case PLUG_PCI_DEVICE:
        return place_on_bridge(t, d);
    case PLUG_PCIE_DEVICE:
    case PLUG_BRIDGE:
        break;
    }
    int found = free_root_port(t);
    unsigned bus = (unsigned)found;
    if (found < 0 && new_root_port(t, &bus) < 0)
        return -1;
    *d->addr = (TvDeviceAddress){ .type = TV_ADDRESS_PCI, .bus = bus };
    t->owner[bus][0][0] = d->what;
    return 0;
}

/* Function 0 of a slot with other functions in use must say multifunction. */
static int fill_multifunction(PciTopology *t)
{
    for (guint i = 0; i < t->devices->len; i++) {
        PciDevice *d = &g_array_index(t->devices, PciDevice, i);
        TvDeviceAddress *a = d->addr;
        if (a->type != TV_ADDRESS_PCI)
            continue;
        bool others = false;
        for (unsigned f = 1; f < PCI_FUNCTIONS; f++)
            others = others || t->owner[a->bus][a->slot][f];
        g_autofree char *where = tv_domain_address_string(a);
        if (a->function != 0 && !t->owner[a->bus][a->slot][0]) {
            tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                            "PCI address %s of %s: function 0 of slot 0x%02x on bus 0x%02x is "
                            "empty, and the guest only finds a slot's other functions through "
                            "function 0",
                            where, d->what, a->slot, a->bus);
            return -1;
        }
        if (a->function != 0 || !others)
            continue;
        if (a->multifunction == TV_MULTIFUNCTION_OFF) {
            tv_error_report(TV_FROM_CONF, TV_ERR_XML_ERROR,
                            "PCI address %s of %s says multifunction='off', but other functions "
                            "of its slot are in use",
                            where, d->what);
            return -1;
        }
        a->multifunction = TV_MULTIFUNCTION_ON;
    }
    return 0;
}

static void fill_root_port_targets(TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.ncontrollers; i++) {
        TvDomainController *c = def->devices.controllers[i];
        if (c->model != TV_CONTROLLER_MODEL_PCIE_ROOT_PORT &&
            c->model != TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE)
            continue;
        c->model_name = true;
        if (c->model != TV_CONTROLLER_MODEL_PCIE_ROOT_PORT)
            continue;
        if (c->chassis < 0)
            c->chassis = c->index;
        if (c->port < 0)
            c->port = (int)(c->address.slot << 3 | c->address.function);
    }
}

static void ensure_pcie_root(TvDomainDef *def)
{
    TvDomainDevices *devs = &def->devices;
    for (size_t i = 0; i < devs->ncontrollers; i++) {
        if (devs->controllers[i]->type == TV_CONTROLLER_PCI && devs->controllers[i]->index == 0)
            return;
    }
    TvDomainController *root = g_new0(TvDomainController, 1);
    root->type = TV_CONTROLLER_PCI;
    root->model = TV_CONTROLLER_MODEL_PCIE_ROOT;
    root->chassis = root->port = -1;
    /* after the USB controllers, before the others: where libvirt writes it */
    size_t at = 0;
    while (at < devs->ncontrollers && devs->controllers[at]->type == TV_CONTROLLER_USB)
        at++;
    devs->controllers = g_renew(TvDomainController *, devs->controllers, devs->ncontrollers + 1);
    memmove(devs->controllers + at + 1, devs->controllers + at,
            (devs->ncontrollers - at) * sizeof(*devs->controllers));
    devs->controllers[at] = root;
    devs->ncontrollers++;
}

static int assign(PciTopology *t)
{
    TvDomainDevices *devs = &t->def->devices;
    for (size_t i = 0; i < devs->ncontrollers; i++) {
        const TvDomainController *c = devs->controllers[i];
        if (c->type == TV_CONTROLLER_PCI)
            t->bus[c->index] = c->model;
    }
    collect_devices(t);
    guint written = t->devices->len;
    for (guint i = 0; i < written; i++) {
        PciDevice *d = &g_array_index(t->devices, PciDevice, i);
        if (d->addr->type == TV_ADDRESS_PCI && check_written(t, d) < 0)
            return -1;
    }
    /* conventional PCI first: its bridge takes the first free root port, as in libvirt */
    for (int pass = 0; pass < 3; pass++) {
        for (guint i = 0; i < written; i++) {
            PciDevice *d = &g_array_index(t->devices, PciDevice, i);
            bool mine = pass == 0   ? d->kind == PLUG_ROOT_PORT
                        : pass == 1 ? d->kind == PLUG_PCI_DEVICE
                                    : d->kind == PLUG_PCIE_DEVICE || d->kind == PLUG_BRIDGE;
            if (!mine || d->addr->type == TV_ADDRESS_PCI)
                continue;
            /* place_device may grow the array: work on a copy of the entry */
            PciDevice copy = *d;
            if (place_device(t, &copy) < 0)
                return -1;
        }
    }
    if (t->ports_added > 0) { /* one free port for hot-plug, as libvirt leaves */
        unsigned bus = 0;
        if (new_root_port(t, &bus) < 0)
            return -1;
    }
    if (fill_multifunction(t) < 0)
        return -1;
    fill_root_port_targets(t->def);
    return 0;
}

int tv_domain_pci_assign(TvDomainDef *def, unsigned flags)
{
    if (!(flags & TV_PCI_ASSIGN_NO_NEW_CONTROLLERS))
        ensure_pcie_root(def);
    PciTopology *t = g_new0(PciTopology, 1);
    t->def = def;
    t->flags = flags;
    t->devices = g_array_new(FALSE, TRUE, sizeof(PciDevice));
    g_array_set_clear_func(t->devices, clear_device);
    int rc = assign(t);
    g_array_unref(t->devices);
    g_free(t);
    return rc;
}

const TvDomainController *tv_domain_pci_controller(const TvDomainDef *def, unsigned index)
{
    for (size_t i = 0; i < def->devices.ncontrollers; i++) {
        const TvDomainController *c = def->devices.controllers[i];
        if (c->type == TV_CONTROLLER_PCI && (unsigned)c->index == index)
            return c;
    }
    return NULL;
}

int tv_domain_pci_find_free_port(const TvDomainDef *def, TvDeviceAddress *addr)
{
    g_autoptr(TvDomainDef) copy = tv_domain_def_copy(def);
    if (!copy)
        return -1;
    PciTopology *t = g_new0(PciTopology, 1);
    t->def = copy;
    t->flags = TV_PCI_ASSIGN_NO_NEW_CONTROLLERS;
    t->devices = g_array_new(FALSE, TRUE, sizeof(PciDevice));
    g_array_set_clear_func(t->devices, clear_device);
    int rc = assign(t);
    int bus = rc < 0 ? -1 : free_root_port(t);
    g_array_unref(t->devices);
    g_free(t);
    if (rc < 0)
        return -1;
    if (bus < 0) {
        tv_error_report(TV_FROM_CONF, TV_ERR_OPERATION_FAILED,
                        "domain '%s' has no free pcie-root-port: PCIe root ports cannot be "
                        "hot-plugged, so add <controller type='pci' model='pcie-root-port'/> "
                        "elements to the persistent definition and restart the domain",
                        def->name);
        return -1;
    }
    *addr = (TvDeviceAddress){ .type = TV_ADDRESS_PCI, .bus = (unsigned)bus };
    return 0;
}
