/* attachDevice(Flags) and detachDevice(Flags) (docs/formatdomain.rst,
 * "Attaching and detaching devices").  The persistent definition
 * (AFFECT_CONFIG) is changed by editing its XML and defining it again, so
 * every check of define applies to the result and it is written atomically
 * as a define writes it.  A running QEMU is not changed: AFFECT_LIVE is
 * refused with OPERATION_UNSUPPORTED. */
#include "qemu_driver_priv.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <libxml/tree.h>
#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* libvirt's virDomainDeviceModifyFlags */
enum {
    AFFECT_LIVE = 1 << 0,
    AFFECT_CONFIG = 1 << 1,
};

/* AFFECT_CURRENT (0) resolved as libvirt does: live when running, else
 * config; then what each part needs. */
static int resolve_flags(TvQemuDriver *drv, const unsigned char *uuid, const char *what,
                         unsigned *flags)
{
    if (*flags & ~(unsigned)(AFFECT_LIVE | AFFECT_CONFIG)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "%s flags 0x%x are not supported; accepted: 0x1 (live), 0x2 (config)", what,
                        *flags);
        return -1;
    }
    int active = tv_qemu_driver_is_active(drv, uuid);
    int persistent = active < 0 ? -1 : tv_qemu_driver_is_persistent(drv, uuid);
    if (persistent < 0)
        return -1;
    if (*flags == 0)
        *flags = active ? AFFECT_LIVE : AFFECT_CONFIG;
    if ((*flags & AFFECT_LIVE) && !active) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "domain is not running: %s with the live flag needs a running domain "
                        "(use --config to change its definition)",
                        what);
        return -1;
    }
    if ((*flags & AFFECT_CONFIG) && !persistent) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID,
                        "cannot modify device on transient domain: it has no persistent "
                        "definition for --config");
        return -1;
    }
    if (*flags & AFFECT_LIVE) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "%s on a running guest (live) is not supported by tagvirt yet: only the "
                        "persistent definition can be changed (--config, used from the next "
                        "start); nothing was changed",
                        what);
        return -1;
    }
    return 0;
}

/* The device element of xml (its root) in a document of its own. */
static xmlDocPtr parse_device(const char *xml, xmlNodePtr *dev)
{
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "device XML");
    if (!doc)
        return NULL;
    *dev = xmlDocGetRootElement(doc);
    if (!*dev) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR, "device XML has no element");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

/* The persistent definition (secure, inactive) and its <devices>. */
static xmlDocPtr load_definition(TvQemuDriver *drv, const unsigned char *uuid, xmlNodePtr *devices)
{
    g_autofree char *xml = tv_qemu_driver_get_xml(drv, uuid, TV_XML_INACTIVE | TV_XML_SECURE);
    if (!xml)
        return NULL;
    xmlDocPtr doc = tv_xml_parse(xml, strlen(xml), "domain XML");
    if (!doc)
        return NULL;
    *devices = tv_xml_child(xmlDocGetRootElement(doc), "devices");
    if (!*devices)
        *devices = xmlNewChild(xmlDocGetRootElement(doc), NULL, BAD_CAST "devices", NULL);
    return doc;
}

static int define_doc(TvQemuDriver *drv, xmlDocPtr doc)
{
    xmlChar *buf = NULL;
    int len = 0;
    xmlDocDumpMemory(doc, &buf, &len);
    if (!buf) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR, "cannot format the new definition");
        return -1;
    }
    TvDomainRef ref = { 0 };
    int rc = tv_qemu_driver_define(drv, (const char *)buf, 0, &ref);
    xmlFree(buf);
    tv_domain_ref_clear(&ref);
    return rc;
}

int tv_qemu_driver_attach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags)
{
    xmlNodePtr dev = NULL, devices = NULL;
    if (resolve_flags(drv, uuid, "attaching a device", &flags) < 0)
        return -1;
    g_autoptr(xmlDoc) devdoc = parse_device(xml, &dev);
    if (!devdoc)
        return -1;
    g_autoptr(xmlDoc) doc = load_definition(drv, uuid, &devices);
    if (!doc)
        return -1;
    /* the definition's own checks decide (duplicate targets or MACs,
     * addresses, unknown elements), naming the new device's element */
    xmlAddChild(devices, xmlDocCopyNode(dev, doc, 1));
    if (define_doc(drv, doc) < 0) {
        tv_error_prefix("cannot attach <%s>", (const char *)dev->name);
        return -1;
    }
    return 0;
}

static char *target_dev(xmlNodePtr disk)
{
    xmlNodePtr target = tv_xml_child(disk, "target");
    return target ? tv_xml_prop(target, "dev") : NULL;
}

static char *mac_of(xmlNodePtr iface)
{
    xmlNodePtr mac = tv_xml_child(iface, "mac");
    char *addr = mac ? tv_xml_prop(mac, "address") : NULL;
    return addr ? g_ascii_strdown(addr, -1) : NULL;
}

/* As libvirt: a disk by its target; an interface by its MAC, or the only
 * interface when no MAC is given. */
static xmlNodePtr find_device(xmlNodePtr devices, xmlNodePtr dev)
{
    const char *kind = (const char *)dev->name;
    g_autofree char *want = NULL;
    if (strcmp(kind, "disk") == 0) {
        want = target_dev(dev);
        if (!want) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_XML_ERROR,
                            "missing <target dev='...'/> in <disk>: a disk to detach is found by "
                            "its target");
            return NULL;
        }
    } else if (strcmp(kind, "interface") == 0) {
        want = mac_of(dev);
    } else {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "detaching <%s> is not supported; accepted: <disk> (by its target), "
                        "<interface> (by its MAC)",
                        kind);
        return NULL;
    }
    xmlNodePtr found = NULL;
    unsigned matches = 0;
    for (xmlNodePtr n = devices->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, kind) != 0)
            continue;
        g_autofree char *have = strcmp(kind, "disk") == 0 ? target_dev(n) : mac_of(n);
        if (want && (!have || strcmp(have, want) != 0))
            continue;
        found = n;
        matches++;
    }
    if (matches == 1)
        return found;
    if (matches > 1) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "multiple matching <interface> devices found: give the <mac address> "
                        "of the one to detach");
        return NULL;
    }
    if (strcmp(kind, "disk") == 0)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no target device %s", want);
    else if (want)
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "no device matching MAC address %s found", want);
    else
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no <interface> found to detach");
    return NULL;
}

int tv_qemu_driver_detach_device(TvQemuDriver *drv, const unsigned char *uuid, const char *xml,
                                 unsigned flags)
{
    xmlNodePtr dev = NULL, devices = NULL;
    if (resolve_flags(drv, uuid, "detaching a device", &flags) < 0)
        return -1;
    g_autoptr(xmlDoc) devdoc = parse_device(xml, &dev);
    if (!devdoc)
        return -1;
    g_autoptr(xmlDoc) doc = load_definition(drv, uuid, &devices);
    if (!doc)
        return -1;
    xmlNodePtr old = find_device(devices, dev);
    if (!old)
        return -1;
    xmlUnlinkNode(old);
    xmlFreeNode(old);
    return define_doc(drv, doc);
}
