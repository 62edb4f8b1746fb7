/* <address> of a device: parse, format, and the text used in messages.
 * Which address a device may have, and the assignment of missing ones, is
 * domain_pci_address.c's (PCI) and domain_bus_address.c's (USB, drive,
 * virtio-serial) business. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_address_type, TV_ADDRESS_LAST, "", "pci", "usb", "drive", "virtio-serial", "ccid")
TV_ENUM_IMPL(tv_multifunction, TV_MULTIFUNCTION_LAST, "", "on", "off")

typedef struct {
    const char *name;
    unsigned long long max;
    size_t offset;
    bool required;
} AddressField;

#define FIELD(name, max, member, required)                                                         \
    {                                                                                              \
        name, max, G_STRUCT_OFFSET(TvDeviceAddress, member), required                              \
    }

/* PCI numbers as libvirt writes them (hex with 0x) or decimal; one PCI
 * domain; bus, slot and function as the PCI specification allows. */
static const AddressField pci_fields[] = {
    FIELD("domain", 0, domain, false),
    FIELD("bus", 255, bus, true),
    FIELD("slot", 31, slot, true),
    FIELD("function", 7, function, false),
};
static const AddressField usb_fields[] = {
    FIELD("bus", 0, controller, false),
    FIELD("port", TV_USB_PORTS_MAX, port, true),
};
static const AddressField drive_fields[] = {
    FIELD("controller", 31, controller, false),
    FIELD("bus", 0, bus, false),
    FIELD("target", 255, target, false),
    FIELD("unit", TV_SCSI_UNIT_MAX, unit, true),
};
static const AddressField virtio_serial_fields[] = {
    FIELD("controller", 31, controller, false),
    FIELD("bus", 0, bus, false),
    FIELD("port", TV_VIRTIO_SERIAL_PORT_MAX, port, true),
};

/* QEMU has one CCID reader per controller with one card slot: the
 * numbers are checked against the definition by the QEMU driver. */
static const AddressField ccid_fields[] = {
    FIELD("controller", 31, controller, false),
    FIELD("slot", 31, slot, false),
};

static int parse_fields(xmlNodePtr node, const AddressField *fields, size_t n,
                        TvDeviceAddress *addr)
{
    g_autofree char *path = tv_xml_node_path(node);
    for (size_t i = 0; i < n; i++) {
        g_autofree char *value = tv_xml_prop(node, fields[i].name);
        unsigned long long v = 0;
        if (!value) {
            if (!fields[i].required)
                continue;
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "missing attribute '%s' on %s (expected a number from 0 to %llu)",
                            fields[i].name, path, fields[i].max);
            return -1;
        }
        g_autofree char *what = g_strdup_printf("attribute '%s' of %s", fields[i].name, path);
        if (tv_parse_ull(value, 0, fields[i].max, what, &v) < 0)
            return -1;
        *(unsigned *)((char *)addr + fields[i].offset) = (unsigned)v;
    }
    return 0;
}

int tv_domain_address_parse(xmlNodePtr node, unsigned types, TvDeviceAddress *addr)
{
    static const char *const attrs_pci[] = { "type",     "domain",        "bus", "slot",
                                             "function", "multifunction", NULL };
    static const char *const attrs_usb[] = { "type", "bus", "port", NULL };
    static const char *const attrs_drive[] = {
        "type", "controller", "bus", "target", "unit", NULL
    };
    static const char *const attrs_vserial[] = { "type", "controller", "bus", "port", NULL };
    static const char *const attrs_ccid[] = { "type", "controller", "slot", NULL };
    static const char *const none[] = { NULL };
    int type = 0;
    memset(addr, 0, sizeof(*addr));
    if (tv_conf_attr_enum(node, "type", true, tv_address_type_from_string, tv_address_type_list,
                          &type) < 0 ||
        tv_xml_check_children(node, none, false) < 0)
        return -1;
    if (!(types & (1u << type))) {
        g_autofree char *path = tv_xml_node_path(node);
        GString *ok = g_string_new(NULL);
        for (int t = 1; t < TV_ADDRESS_LAST; t++) {
            if (types & (1u << t))
                g_string_append_printf(ok, "%s'%s'", ok->len ? ", " : "",
                                       tv_address_type_to_string(t));
        }
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'type' of %s: this device takes %s",
                        tv_address_type_to_string(type), path, ok->len ? ok->str : "no address");
        g_string_free(ok, TRUE);
        return -1;
    }
    addr->type = type;
    switch (addr->type) {
    case TV_ADDRESS_PCI: {
        int mf = 0;
        if (tv_xml_check_attrs(node, attrs_pci) < 0 ||
            parse_fields(node, pci_fields, G_N_ELEMENTS(pci_fields), addr) < 0 ||
            tv_conf_attr_enum(node, "multifunction", false, tv_multifunction_from_string,
                              tv_multifunction_list, &mf) < 0)
            return -1;
        addr->multifunction = mf;
        return 0;
    }
    case TV_ADDRESS_USB:
        if (tv_xml_check_attrs(node, attrs_usb) < 0)
            return -1;
        return parse_fields(node, usb_fields, G_N_ELEMENTS(usb_fields), addr);
    case TV_ADDRESS_DRIVE:
        if (tv_xml_check_attrs(node, attrs_drive) < 0)
            return -1;
        return parse_fields(node, drive_fields, G_N_ELEMENTS(drive_fields), addr);
    case TV_ADDRESS_VIRTIO_SERIAL:
        if (tv_xml_check_attrs(node, attrs_vserial) < 0)
            return -1;
        return parse_fields(node, virtio_serial_fields, G_N_ELEMENTS(virtio_serial_fields), addr);
    case TV_ADDRESS_CCID:
        if (tv_xml_check_attrs(node, attrs_ccid) < 0)
            return -1;
        return parse_fields(node, ccid_fields, G_N_ELEMENTS(ccid_fields), addr);
    case TV_ADDRESS_NONE:
    case TV_ADDRESS_LAST:
        break;
    }
    return 0;
}

int tv_domain_address_parse_child(xmlNodePtr device, unsigned types, TvDeviceAddress *addr)
{
    xmlNodePtr node = tv_xml_child(device, "address");
    if (!node)
        return 0;
    return tv_domain_address_parse(node, types, addr);
}

void tv_domain_address_format(TvXmlWriter *w, const TvDeviceAddress *a)
{
    switch (a->type) {
    case TV_ADDRESS_PCI:
        tv_xml_line(w,
                    "<address type='pci' domain='0x%04x' bus='0x%02x' slot='0x%02x' "
                    "function='0x%x'%s/>",
                    a->domain, a->bus, a->slot, a->function,
                    a->multifunction == TV_MULTIFUNCTION_ON    ? " multifunction='on'"
                    : a->multifunction == TV_MULTIFUNCTION_OFF ? " multifunction='off'"
                                                               : "");
        break;
    case TV_ADDRESS_USB:
        tv_xml_line(w, "<address type='usb' bus='%u' port='%u'/>", a->controller, a->port);
        break;
    case TV_ADDRESS_DRIVE:
        tv_xml_line(w, "<address type='drive' controller='%u' bus='%u' target='%u' unit='%u'/>",
                    a->controller, a->bus, a->target, a->unit);
        break;
    case TV_ADDRESS_VIRTIO_SERIAL:
        tv_xml_line(w, "<address type='virtio-serial' controller='%u' bus='%u' port='%u'/>",
                    a->controller, a->bus, a->port);
        break;
    case TV_ADDRESS_CCID:
        tv_xml_line(w, "<address type='ccid' controller='%u' slot='%u'/>", a->controller, a->slot);
        break;
    case TV_ADDRESS_NONE:
    case TV_ADDRESS_LAST:
        break;
    }
}

char *tv_domain_address_string(const TvDeviceAddress *a)
{
    switch (a->type) {
    case TV_ADDRESS_PCI:
        return g_strdup_printf("%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->function);
    case TV_ADDRESS_USB:
        return g_strdup_printf("usb bus %u port %u", a->controller, a->port);
    case TV_ADDRESS_DRIVE:
        return g_strdup_printf("drive controller %u bus %u target %u unit %u", a->controller,
                               a->bus, a->target, a->unit);
    case TV_ADDRESS_VIRTIO_SERIAL:
        return g_strdup_printf("virtio-serial controller %u bus %u port %u", a->controller, a->bus,
                               a->port);
    case TV_ADDRESS_CCID:
        return g_strdup_printf("ccid controller %u slot %u", a->controller, a->slot);
    case TV_ADDRESS_NONE:
    case TV_ADDRESS_LAST:
        break;
    }
    return g_strdup("no address");
}

/* QEMU takes ids of letters, digits, '-', '.' and '_' (starting with a
 * letter); libvirt's aliases fit that. */
static bool alias_ok(const char *alias)
{
    if (!g_ascii_isalpha(alias[0]) || strlen(alias) > 64)
        return false;
    for (const char *p = alias; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p))
            return false;
    }
    return true;
}

int tv_domain_alias_parse_child(xmlNodePtr device, unsigned flags, char **alias)
{
    static const char *const attrs[] = { "name", NULL };
    static const char *const none[] = { NULL };
    xmlNodePtr node = tv_xml_child(device, "alias");
    if (!node)
        return 0;
    g_autofree char *name = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_required(node, "name", &name) < 0)
        return -1;
    if (!alias_ok(name)) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'name' of %s: expected a letter, then "
                        "up to 63 letters, digits, '-', '.' or '_'",
                        name, path);
        return -1;
    }
    if (flags & TV_DOMAIN_PARSE_STATUS)
        *alias = g_steal_pointer(&name);
    return 0;
}

void tv_domain_alias_format(TvXmlWriter *w, const char *alias, bool live)
{
    if (!live || !alias)
        return;
    g_autofree char *name = tv_xml_esc(alias);
    tv_xml_line(w, "<alias name='%s'/>", name);
}
