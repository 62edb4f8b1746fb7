/* Command line of the device topology: PCI controllers (root ports, the
 * PCIe-to-PCI bridge), USB, SCSI and virtio-serial controllers, input
 * devices, the VNC display, video and audio; and the bus/addr options every
 * addressed device carries.  Device ids follow libvirt's aliases (pci.N,
 * usb, scsi0, virtio-serial0, input0, video0), which QMP commands and
 * hot-plug name. */
#include "qemu_command_priv.h"

#include <string.h>

void tv_qemu_argv_add(GPtrArray *argv, const char *arg)
{
    g_ptr_array_add(argv, g_strdup(arg));
}

void tv_qemu_argv_addf(GPtrArray *argv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(argv, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void tv_qemu_append_address(GString *out, const TvDeviceAddress *a)
{
    g_autoptr(TvQemuObject) o = tv_qemu_object_new(NULL);
    tv_qemu_object_add_address(o, a);
    if (!o->props->len)
        return;
    g_autofree char *text = tv_qemu_object_format(o);
    g_string_append_printf(out, ",%s", text);
}

/* "-device DRIVER,REST" plus the address. */
static void add_device(GPtrArray *argv, const TvDeviceAddress *addr, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void add_device(GPtrArray *argv, const TvDeviceAddress *addr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    GString *dev = g_string_new(NULL);
    g_string_append_vprintf(dev, fmt, ap);
    va_end(ap);
    tv_qemu_append_address(dev, addr);
    tv_qemu_argv_add(argv, "-device");
    g_ptr_array_add(argv, g_string_free(dev, FALSE));
}

void tv_qemu_argv_add_device(GPtrArray *argv, const TvDeviceAddress *addr, const char *device)
{
    add_device(argv, addr, "%s", device);
}

void tv_qemu_argv_add_device_boot(GPtrArray *argv, const TvDeviceAddress *addr, const char *device,
                                  unsigned bootindex)
{
    if (!bootindex) {
        add_device(argv, addr, "%s", device);
        return;
    }
    add_device(argv, addr, "%s,bootindex=%u", device, bootindex);
}

const char *tv_qemu_usb_id(unsigned index)
{
    static const char *const ids[] = { "usb", "usb1", "usb2", "usb3" };
    return index < G_N_ELEMENTS(ids) ? ids[index] : "usb";
}

char *tv_qemu_controller_alias(const TvDomainController *c)
{
    if (c->alias)
        return g_strdup(c->alias);
    switch (c->type) {
    case TV_CONTROLLER_PCI:
        if (c->model == TV_CONTROLLER_MODEL_PCIE_ROOT)
            return g_strdup("pcie.0");
        return g_strdup_printf("pci.%d", c->index);
    case TV_CONTROLLER_USB:
        return c->model == TV_CONTROLLER_MODEL_NONE ? NULL
                                                    : g_strdup(tv_qemu_usb_id((unsigned)c->index));
    case TV_CONTROLLER_SCSI:
        return g_strdup_printf("scsi%d", c->index);
    case TV_CONTROLLER_VIRTIO_SERIAL:
        return g_strdup_printf("virtio-serial%d", c->index);
    case TV_CONTROLLER_CCID:
        return g_strdup_printf("ccid%d", c->index);
    case TV_CONTROLLER_NONE:
    case TV_CONTROLLER_LAST:
        break;
    }
    return NULL;
}

TvQemuObject *tv_qemu_controller_device(const TvDomainController *c, const char *alias)
{
    bool scsi = c->type == TV_CONTROLLER_SCSI;
    TvQemuObject *o = tv_qemu_object_new(scsi ? "virtio-scsi-pci" : "virtio-serial-pci");
    tv_qemu_object_str(o, "id", alias);
    if (!scsi && c->ports)
        tv_qemu_object_int(o, "max_ports", c->ports);
    tv_qemu_object_add_address(o, &c->address);
    return o;
}

static int cmp_index(gconstpointer a, gconstpointer b)
{
    const TvDomainController *x = *(const TvDomainController *const *)a;
    const TvDomainController *y = *(const TvDomainController *const *)b;
    return x->index - y->index;
}

/* Controllers in index order, PCI first: a bus exists before what plugs in. */
static void build_controllers(GPtrArray *argv, const TvDomainDevices *d)
{
    g_autoptr(GPtrArray) pci = g_ptr_array_new();
    for (size_t i = 0; i < d->ncontrollers; i++) {
        if (d->controllers[i]->type == TV_CONTROLLER_PCI)
            g_ptr_array_add(pci, d->controllers[i]);
    }
    g_ptr_array_sort(pci, cmp_index);
    for (guint i = 0; i < pci->len; i++) {
        const TvDomainController *c = g_ptr_array_index(pci, i);
        switch (c->model) {
        case TV_CONTROLLER_MODEL_PCIE_ROOT_PORT:
            add_device(argv, &c->address, "pcie-root-port,port=0x%x,chassis=%d,id=pci.%d",
                       (unsigned)c->port, c->chassis, c->index);
            break;
        case TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE:
            add_device(argv, &c->address, "pcie-pci-bridge,id=pci.%d", c->index);
            break;
        case TV_CONTROLLER_MODEL_PCIE_ROOT: /* the virt machine's own */
        case TV_CONTROLLER_MODEL_DEFAULT:
        case TV_CONTROLLER_MODEL_QEMU_XHCI:
        case TV_CONTROLLER_MODEL_NONE:
        case TV_CONTROLLER_MODEL_VIRTIO_SCSI:
        case TV_CONTROLLER_MODEL_LAST:
            break;
        }
    }
    for (size_t i = 0; i < d->ncontrollers; i++) {
        const TvDomainController *c = d->controllers[i];
        switch (c->type) {
        case TV_CONTROLLER_USB:
            if (c->model != TV_CONTROLLER_MODEL_QEMU_XHCI)
                break;
            if (c->ports)
                add_device(argv, &c->address, "qemu-xhci,p2=%u,p3=%u,id=%s", c->ports, c->ports,
                           tv_qemu_usb_id((unsigned)c->index));
            else
                add_device(argv, &c->address, "qemu-xhci,id=%s",
                           tv_qemu_usb_id((unsigned)c->index));
            break;
        case TV_CONTROLLER_SCSI:
        case TV_CONTROLLER_VIRTIO_SERIAL: {
            g_autofree char *alias = tv_qemu_controller_alias(c);
            g_autoptr(TvQemuObject) o = tv_qemu_controller_device(c, alias);
            tv_qemu_argv_add_object(argv, "-device", o);
            break;
        }
        case TV_CONTROLLER_CCID: /* with its smartcard (qemu_command_smartcard.c) */
        case TV_CONTROLLER_PCI:
        case TV_CONTROLLER_NONE:
        case TV_CONTROLLER_LAST:
            break;
        }
    }
}

const char *tv_qemu_input_device(const TvDomainInput *input)
{
    bool usb = input->bus != TV_INPUT_BUS_VIRTIO;
    switch (input->type) {
    case TV_INPUT_TYPE_TABLET:
        return usb ? "usb-tablet" : "virtio-tablet-pci";
    case TV_INPUT_TYPE_KEYBOARD:
        return usb ? "usb-kbd" : "virtio-keyboard-pci";
    case TV_INPUT_TYPE_MOUSE:
        return usb ? "usb-mouse" : "virtio-mouse-pci";
    case TV_INPUT_TYPE_NONE:
    case TV_INPUT_TYPE_LAST:
        break;
    }
    return NULL;
}

static void build_inputs(GPtrArray *argv, const TvDomainDevices *d)
{
    for (size_t i = 0; i < d->ninputs; i++) {
        g_autofree char *alias = tv_qemu_input_alias(d->inputs[i], i);
        g_autoptr(TvQemuObject) dev = tv_qemu_input_object(d->inputs[i], alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
}

/* -vnc HOST:DISPLAY; autoport lets QEMU take the first free display from
 * 5900 on (to=), and the runtime reads the port it got (query-vnc). */
static void build_graphics(GPtrArray *argv, const TvDomainDevices *d)
{
    for (size_t i = 0; i < d->naudios; i++) {
        tv_qemu_argv_add(argv, "-audiodev");
        tv_qemu_argv_addf(argv, "none,id=audio%u", d->audios[i]->id);
    }
    for (size_t i = 0; i < d->ngraphics; i++) {
        const TvDomainGraphics *g = d->graphics[i];
        const char *host = g->listen ? g->listen : TV_QEMU_VNC_LISTEN_DEFAULT;
        bool v6 = strchr(host, ':') != NULL;
        GString *vnc = g_string_new(NULL);
        g_string_append_printf(vnc, v6 ? "[%s]" : "%s", host);
        if (g->autoport)
            g_string_append_printf(vnc, ":0,to=%d", TV_VNC_PORT_MAX - TV_VNC_PORT_MIN);
        else
            g_string_append_printf(vnc, ":%d", g->port - TV_VNC_PORT_MIN);
        if (d->naudios)
            g_string_append_printf(vnc, ",audiodev=audio%u", d->audios[0]->id);
        tv_qemu_argv_add(argv, "-vnc");
        g_ptr_array_add(argv, g_string_free(vnc, FALSE));
    }
    for (size_t i = 0; i < d->nvideos; i++) {
        const TvDomainVideo *v = d->videos[i];
        switch (v->model) {
        case TV_VIDEO_MODEL_VIRTIO:
            add_device(argv, &v->address, "virtio-gpu-pci,id=video%zu,max_outputs=%u", i,
                       v->heads ? v->heads : 1);
            break;
        case TV_VIDEO_MODEL_RAMFB:
            add_device(argv, &v->address, "ramfb,id=video%zu", i);
            break;
        case TV_VIDEO_MODEL_NO_DEVICE:
        case TV_VIDEO_MODEL_NONE:
        case TV_VIDEO_MODEL_LAST:
            break;
        }
    }
}

void tv_qemu_build_topology(GPtrArray *argv, const TvDomainDef *def)
{
    build_controllers(argv, &def->devices);
}

void tv_qemu_build_display(GPtrArray *argv, const TvDomainDef *def)
{
    build_inputs(argv, &def->devices);
    build_graphics(argv, &def->devices);
}

/* The balloon (stats polling is set over QMP at start: qemu_process_devices.c),
 * pvpanic and the watchdog with its action. */
void tv_qemu_build_misc(GPtrArray *argv, const TvDomainDef *def)
{
    const TvDomainDevices *d = &def->devices;
    if (d->memballoon == TV_BALLOON_MODEL_VIRTIO) {
        GString *dev = g_string_new("virtio-balloon-pci,id=balloon0");
        if (d->memballoon_autodeflate)
            g_string_append_printf(dev, ",deflate-on-oom=%s",
                                   tv_feature_state_to_string(d->memballoon_autodeflate));
        if (d->memballoon_free_page_reporting)
            g_string_append_printf(dev, ",free-page-reporting=%s",
                                   tv_feature_state_to_string(d->memballoon_free_page_reporting));
        add_device(argv, &d->memballoon_address, "%s", dev->str);
        g_string_free(dev, TRUE);
    }
    for (size_t i = 0; i < d->npanics; i++)
        add_device(argv, &d->panics[i]->address, "pvpanic-pci,id=panic%zu", i);
    for (size_t i = 0; i < d->nwatchdogs; i++) {
        const TvDomainWatchdog *wd = d->watchdogs[i];
        g_autofree char *alias = tv_qemu_watchdog_alias(wd, i);
        g_autoptr(TvQemuObject) dev = tv_qemu_watchdog_device(wd, alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
        tv_qemu_argv_add(argv, "-action");
        tv_qemu_argv_addf(argv, "watchdog=%s", tv_qemu_watchdog_action(wd));
    }
}
