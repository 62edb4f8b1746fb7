/* <controller>: PCI (pcie-root, pcie-root-port, pcie-to-pci-bridge), USB
 * (qemu-xhci or none), SCSI (virtio-scsi) and virtio-serial controllers.
 * Parse and format only: the implicit controllers and the PCI topology are
 * added by post-parse (domain_pci_address.c). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_controller_type, TV_CONTROLLER_LAST, "", "pci", "usb", "scsi", "virtio-serial",
             "ccid")
TV_ENUM_IMPL(tv_controller_model, TV_CONTROLLER_MODEL_LAST, "", "pcie-root", "pcie-root-port",
             "pcie-to-pci-bridge", "qemu-xhci", "none", "virtio-scsi")

#define PCI_INDEX_MAX   255 /* a PCI controller's index is the bus number behind it */
#define OTHER_INDEX_MAX 31
#define VSERIAL_PORTS   31

void tv_domain_controller_free(TvDomainController *ctrl)
{
    if (!ctrl)
        return;
    g_free(ctrl->alias);
    g_free(ctrl);
}

/* The models each type takes (DEFAULT: not written). */
static bool model_fits(TvControllerType type, TvControllerModel model)
{
    switch (model) {
    case TV_CONTROLLER_MODEL_DEFAULT:
        return true;
    case TV_CONTROLLER_MODEL_PCIE_ROOT:
    case TV_CONTROLLER_MODEL_PCIE_ROOT_PORT:
    case TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE:
        return type == TV_CONTROLLER_PCI;
    case TV_CONTROLLER_MODEL_QEMU_XHCI:
    case TV_CONTROLLER_MODEL_NONE:
        return type == TV_CONTROLLER_USB;
    case TV_CONTROLLER_MODEL_VIRTIO_SCSI:
        return type == TV_CONTROLLER_SCSI;
    case TV_CONTROLLER_MODEL_LAST:
        break;
    }
    return false;
}

static const char *models_of(TvControllerType type)
{
    switch (type) {
    case TV_CONTROLLER_PCI:
        return "'pcie-root', 'pcie-root-port', 'pcie-to-pci-bridge'";
    case TV_CONTROLLER_USB:
        return "'qemu-xhci', 'none'";
    case TV_CONTROLLER_SCSI:
        return "'virtio-scsi'";
    case TV_CONTROLLER_VIRTIO_SERIAL:
        return "none (virtio-serial has no model attribute)";
    case TV_CONTROLLER_CCID:
        return "none (ccid has no model attribute)";
    case TV_CONTROLLER_NONE:
    case TV_CONTROLLER_LAST:
        break;
    }
    return "";
}

/* QEMU's device name, which libvirt writes as <model name='...'/>. */
const char *tv_controller_model_device(TvControllerModel model)
{
    switch (model) {
    case TV_CONTROLLER_MODEL_PCIE_ROOT_PORT:
        return "pcie-root-port";
    case TV_CONTROLLER_MODEL_PCIE_TO_PCI_BRIDGE:
        return "pcie-pci-bridge";
    case TV_CONTROLLER_MODEL_QEMU_XHCI:
        return "qemu-xhci";
    case TV_CONTROLLER_MODEL_VIRTIO_SCSI:
        return "virtio-scsi-pci";
    case TV_CONTROLLER_MODEL_PCIE_ROOT:
    case TV_CONTROLLER_MODEL_NONE:
    case TV_CONTROLLER_MODEL_DEFAULT:
    case TV_CONTROLLER_MODEL_LAST:
        break;
    }
    return NULL;
}

static int parse_model(xmlNodePtr node, TvDomainController *ctrl)
{
    int model = 0;
    g_autofree char *path = tv_xml_node_path(node);
    if (tv_conf_attr_enum(node, "model", false, tv_controller_model_from_string,
                          tv_controller_model_list, &model) < 0)
        return -1;
    if (!model_fits(ctrl->type, model)) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'model' of %s: a '%s' controller takes "
                        "%s",
                        tv_controller_model_to_string(model), path,
                        tv_controller_type_to_string(ctrl->type), models_of(ctrl->type));
        return -1;
    }
    ctrl->model = model;
    return 0;
}

/* <model name='pcie-root-port'/>: only ever the name of the model's device. */
static int parse_model_name(xmlNodePtr node, TvDomainController *ctrl)
{
    static const char *const attrs[] = { "name", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *path = tv_xml_node_path(node);
    const char *device = tv_controller_model_device(ctrl->model);
    if (ctrl->type != TV_CONTROLLER_PCI || !device) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element %s is only valid for a 'pcie-root-port' or "
                        "'pcie-to-pci-bridge' controller",
                        path);
        return -1;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_fixed(node, "name", true, device) < 0)
        return -1;
    ctrl->model_name = true;
    return 0;
}

static int parse_target(xmlNodePtr node, TvDomainController *ctrl)
{
    static const char *const attrs[] = { "chassis", "port", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *path = tv_xml_node_path(node);
    if (ctrl->model != TV_CONTROLLER_MODEL_PCIE_ROOT_PORT) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element %s is only valid for a 'pcie-root-port' controller", path);
        return -1;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0)
        return -1;
    const char *names[] = { "chassis", "port" };
    int *out[] = { &ctrl->chassis, &ctrl->port };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *value = tv_xml_prop(node, names[i]);
        g_autofree char *what = g_strdup_printf("attribute '%s' of %s", names[i], path);
        unsigned long long v = 0;
        if (value && tv_parse_ull(value, 0, 255, what, &v) < 0)
            return -1;
        if (value)
            *out[i] = (int)v;
    }
    return 0;
}

static int parse_ports(xmlNodePtr node, TvDomainController *ctrl)
{
    g_autofree char *value = tv_xml_prop(node, "ports");
    unsigned long long v = 0;
    if (!value)
        return 0;
    bool usb = ctrl->type == TV_CONTROLLER_USB && ctrl->model != TV_CONTROLLER_MODEL_NONE;
    if (!usb && ctrl->type != TV_CONTROLLER_VIRTIO_SERIAL) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "attribute 'ports' of %s is only valid for a USB controller (qemu-xhci) or "
                        "a virtio-serial controller",
                        path);
        return -1;
    }
    if (tv_conf_number(node, "ports", value, 1, usb ? TV_USB_PORTS_MAX : VSERIAL_PORTS, &v) < 0)
        return -1;
    ctrl->ports = (unsigned)v;
    return 0;
}

static int parse_index(xmlNodePtr node, TvDomainController *ctrl)
{
    g_autofree char *value = tv_xml_prop(node, "index");
    unsigned long long v = 0;
    if (!value)
        return 0;
    unsigned max = ctrl->type == TV_CONTROLLER_PCI ? PCI_INDEX_MAX : OTHER_INDEX_MAX;
    if (tv_conf_number(node, "index", value, 0, max, &v) < 0)
        return -1;
    ctrl->index = (int)v;
    return 0;
}

static unsigned address_types(const TvDomainController *ctrl)
{
    if (ctrl->type == TV_CONTROLLER_CCID) /* a USB device: usb-ccid */
        return TV_ADDR_MASK(TV_ADDRESS_USB);
    if (ctrl->model == TV_CONTROLLER_MODEL_PCIE_ROOT ||
        (ctrl->type == TV_CONTROLLER_USB && ctrl->model == TV_CONTROLLER_MODEL_NONE))
        return 0;
    return TV_ADDR_MASK(TV_ADDRESS_PCI);
}

static int parse_children(xmlNodePtr node, TvDomainController *ctrl, unsigned flags)
{
    xmlNodePtr child;
    if ((child = tv_xml_child(node, "model")) && parse_model_name(child, ctrl) < 0)
        return -1;
    if ((child = tv_xml_child(node, "target")) && parse_target(child, ctrl) < 0)
        return -1;
    if (tv_domain_alias_parse_child(node, flags, &ctrl->alias) < 0)
        return -1;
    return tv_domain_address_parse_child(node, address_types(ctrl), &ctrl->address);
}

int tv_domain_parse_controller(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", "index", "model", "ports", NULL };
    static const char *const children[] = { "model", "target", "alias", "address", NULL };
    int type = 0;
    TvDomainController *ctrl = g_new0(TvDomainController, 1);
    ctrl->index = ctrl->chassis = ctrl->port = -1;
    TV_APPEND(devs->controllers, devs->ncontrollers, ctrl);

    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_controller_type_from_string,
                          tv_controller_type_list, &type) < 0)
        return -1;
    ctrl->type = type;
    if (parse_index(node, ctrl) < 0 || parse_model(node, ctrl) < 0 || parse_ports(node, ctrl) < 0)
        return -1;
    if (ctrl->model == TV_CONTROLLER_MODEL_PCIE_ROOT && ctrl->index > 0) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "a 'pcie-root' controller (%s) must have index 0, not %d", path,
                        ctrl->index);
        return -1;
    }
    return parse_children(node, ctrl, flags);
}

static bool index_used(const TvDomainDevices *devs, TvControllerType type, int index)
{
    for (size_t i = 0; i < devs->ncontrollers; i++) {
        if (devs->controllers[i]->type == type && devs->controllers[i]->index == index)
            return true;
    }
    return false;
}

/* After all controllers are read: number those without an index (the
 * lowest free one of their type, as libvirt), then check what spans them. */
int tv_domain_controllers_finish(TvDomainDevices *devs)
{
    for (size_t i = 0; i < devs->ncontrollers; i++) {
        TvDomainController *c = devs->controllers[i];
        if (c->index >= 0)
            continue;
        int index = 0;
        while (index_used(devs, c->type, index))
            index++;
        c->index = index;
    }
    const TvDomainController *usb_none = NULL;
    size_t nusb = 0;
    for (size_t i = 0; i < devs->ncontrollers; i++) {
        const TvDomainController *c = devs->controllers[i];
        for (size_t j = 0; j < i; j++) {
            if (devs->controllers[j]->type == c->type && devs->controllers[j]->index == c->index) {
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                                "two <controller type='%s'> in /domain/devices have index %d: "
                                "each needs its own",
                                tv_controller_type_to_string(c->type), c->index);
                return -1;
            }
        }
        if (c->type == TV_CONTROLLER_USB) {
            nusb++;
            if (c->model == TV_CONTROLLER_MODEL_NONE)
                usb_none = c;
        }
        if (c->type == TV_CONTROLLER_PCI && c->model == TV_CONTROLLER_MODEL_DEFAULT)
            devs->controllers[i]->model =
                c->index == 0 ? TV_CONTROLLER_MODEL_PCIE_ROOT : TV_CONTROLLER_MODEL_PCIE_ROOT_PORT;
        if (c->type == TV_CONTROLLER_PCI && c->index == 0 &&
            c->model != TV_CONTROLLER_MODEL_PCIE_ROOT) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "<controller type='pci' index='0'> is the root bus: its model must be "
                            "'pcie-root', not '%s'",
                            tv_controller_model_to_string(c->model));
            return -1;
        }
    }
    if (usb_none && nusb > 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "<controller type='usb' model='none'> says the guest has no USB "
                        "controller, but /domain/devices has %zu USB controllers",
                        nusb);
        return -1;
    }
    return 0;
}

void tv_domain_format_controller(TvXmlWriter *w, const TvDomainController *c, bool live)
{
    GString *attrs = g_string_new(NULL);
    g_string_append_printf(attrs, " type='%s' index='%d'", tv_controller_type_to_string(c->type),
                           c->index);
    if (c->model != TV_CONTROLLER_MODEL_DEFAULT)
        g_string_append_printf(attrs, " model='%s'", tv_controller_model_to_string(c->model));
    if (c->ports)
        g_string_append_printf(attrs, " ports='%u'", c->ports);
    bool target = c->chassis >= 0 || c->port >= 0;
    bool alias = live && c->alias;
    if (!c->model_name && !target && !alias && c->address.type == TV_ADDRESS_NONE) {
        tv_xml_line(w, "<controller%s/>", attrs->str);
        g_string_free(attrs, TRUE);
        return;
    }
    tv_xml_line(w, "<controller%s>", attrs->str);
    g_string_free(attrs, TRUE);
    w->indent++;
    if (c->model_name)
        tv_xml_line(w, "<model name='%s'/>", tv_controller_model_device(c->model));
    if (target) {
        GString *t = g_string_new(NULL);
        if (c->chassis >= 0)
            g_string_append_printf(t, " chassis='%d'", c->chassis);
        if (c->port >= 0)
            g_string_append_printf(t, " port='0x%x'", (unsigned)c->port);
        tv_xml_line(w, "<target%s/>", t->str);
        g_string_free(t, TRUE);
    }
    tv_domain_alias_format(w, c->alias, live);
    tv_domain_address_format(w, &c->address);
    w->indent--;
    tv_xml_line(w, "</controller>");
}
