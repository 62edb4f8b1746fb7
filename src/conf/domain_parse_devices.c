/* Domain XML parser: <devices> (disks, interfaces, serial ports, consoles,
 * rng, memballoon, the usb controller). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

#define TV_CHR_PORT_MAX 31

static const char *const no_attrs[] = { NULL };
static const char *const no_children[] = { NULL };

/* A leaf element: only the listed attributes, nothing inside. */
static int check_leaf(xmlNodePtr node, const char *const *attrs)
{
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, no_children, false) < 0)
        return -1;
    return 0;
}

#define APPEND(array, count, item)                                                                 \
    do {                                                                                           \
        (array) = g_renew(__typeof__(*(array)), (array), (count) + 1);                             \
        (array)[(count)++] = (item);                                                               \
    } while (0)

static int parse_disk_target(xmlNodePtr node, TvDomainDisk *disk)
{
    static const char *const attrs[] = { "dev", "bus", NULL };
    if (check_leaf(node, attrs) < 0 || tv_conf_attr_fixed(node, "bus", false, "virtio") < 0 ||
        tv_conf_attr_required(node, "dev", &disk->target_dev) < 0)
        return -1;
    const char *dev = disk->target_dev;
    bool ok = g_str_has_prefix(dev, "vd") && dev[2] && strlen(dev) <= 4;
    for (const char *p = dev + 2; ok && *p; p++)
        ok = *p >= 'a' && *p <= 'z';
    if (!ok) {
        g_autofree char *shown = g_strescape(dev, NULL);
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'dev' of %s: expected 'vd' and one or "
                        "two letters (vda, vdb, ..., vdzz)",
                        shown, path);
        return -1;
    }
    return 0;
}

static int parse_disk(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "type", "device", NULL };
    static const char *const children[] = {
        "driver", "source", "target", "readonly", "boot", NULL
    };
    static const char *const driver_attrs[] = { "name", "type", NULL };
    static const char *const source_attrs[] = { "file", NULL };
    TvDomainDisk *disk = g_new0(TvDomainDisk, 1);
    APPEND(devs->disks, devs->ndisks, disk);

    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_fixed(node, "type", true, "file") < 0 ||
        tv_conf_attr_fixed(node, "device", false, "disk") < 0)
        return -1;

    xmlNodePtr child;
    if ((child = tv_xml_child(node, "driver"))) {
        int format = TV_DISK_FORMAT_DEFAULT;
        if (check_leaf(child, driver_attrs) < 0 ||
            tv_conf_attr_fixed(child, "name", false, "qemu") < 0 ||
            tv_conf_attr_enum(child, "type", false, tv_disk_format_from_string, tv_disk_format_list,
                              &format) < 0)
            return -1;
        disk->format = format;
    }
    if (!(child = tv_xml_child(node, "source"))) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element <source file='...'/> in %s",
                        path);
        return -1;
    }
    if (check_leaf(child, source_attrs) < 0 ||
        tv_conf_attr_required(child, "file", &disk->path) < 0 ||
        tv_conf_path_check(child, "file", disk->path) < 0)
        return -1;
    if (!(child = tv_xml_child(node, "target"))) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element <target dev='vdX'/> in %s",
                        path);
        return -1;
    }
    if (parse_disk_target(child, disk) < 0)
        return -1;
    if ((child = tv_xml_child(node, "readonly"))) {
        if (check_leaf(child, no_attrs) < 0)
            return -1;
        disk->readonly = true;
    }
    if ((child = tv_xml_child(node, "boot")) &&
        tv_domain_device_boot_parse(child, &disk->boot_order) < 0)
        return -1;
    for (size_t i = 0; i + 1 < devs->ndisks; i++) {
        if (strcmp(devs->disks[i]->target_dev, disk->target_dev) == 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two disks in /domain/devices have target dev='%s': each needs its "
                            "own",
                            disk->target_dev);
            return -1;
        }
    }
    return 0;
}

/* A tap device name: what the kernel accepts for an interface name. */
static int check_ifname(xmlNodePtr node, const char *name)
{
    bool ok = strlen(name) < 16 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
    for (const unsigned char *p = (const unsigned char *)name; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f && *p != '/' && *p != ':' && *p != ',';
    if (ok)
        return 0;
    g_autofree char *shown = g_strescape(name, NULL);
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute 'dev' of %s: expected a network interface "
                    "name of 1 to 15 printable characters without '/', ':', ',' or spaces",
                    shown, path);
    return -1;
}

static int parse_interface_children(xmlNodePtr node, TvDomainNet *net)
{
    static const char *const mac_attrs[] = { "address", NULL };
    static const char *const model_attrs[] = { "type", NULL };
    static const char *const target_attrs[] = { "dev", NULL };
    xmlNodePtr child;
    if ((child = tv_xml_child(node, "mac"))) {
        g_autofree char *address = NULL;
        if (check_leaf(child, mac_attrs) < 0 ||
            tv_conf_attr_required(child, "address", &address) < 0 ||
            tv_mac_parse(child, address, &net->mac) < 0)
            return -1;
        net->mac_written = true;
    } else {
        net->mac = tv_mac_generate();
    }
    if ((child = tv_xml_child(node, "model"))) {
        if (check_leaf(child, model_attrs) < 0 ||
            tv_conf_attr_fixed(child, "type", true, "virtio") < 0)
            return -1;
        net->model = g_strdup("virtio");
    }
    if ((child = tv_xml_child(node, "target"))) {
        if (net->type != TV_NET_TYPE_ETHERNET) {
            g_autofree char *path = tv_xml_node_path(child);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "%s is only valid for interface type 'ethernet' (type is '%s')", path,
                            tv_net_type_to_string(net->type));
            return -1;
        }
        if (check_leaf(child, target_attrs) < 0 ||
            tv_conf_attr_required(child, "dev", &net->ifname) < 0 ||
            check_ifname(child, net->ifname) < 0)
            return -1;
    }
    if ((child = tv_xml_child(node, "boot")) &&
        tv_domain_device_boot_parse(child, &net->boot_order) < 0)
        return -1;
    return 0;
}

static int parse_interface(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "type", NULL };
    static const char *const children[] = { "mac", "model", "target", "boot", NULL };
    int type = 0;
    TvDomainNet *net = g_new0(TvDomainNet, 1);
    APPEND(devs->nets, devs->nnets, net);

    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_net_type_from_string, tv_net_type_list, &type) <
            0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    net->type = type;
    if (parse_interface_children(node, net) < 0)
        return -1;
    for (size_t i = 0; i + 1 < devs->nnets; i++) {
        if (strcmp(devs->nets[i]->mac, net->mac) == 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two interfaces in /domain/devices have MAC address %s: each needs "
                            "its own",
                            net->mac);
            return -1;
        }
    }
    return 0;
}

static int parse_chr_source(xmlNodePtr node, TvDomainChr *chr, unsigned flags)
{
    static const char *const attrs_unix[] = { "path", "mode", NULL };
    static const char *const attrs_path[] = { "path", NULL };
    g_autofree char *path = tv_xml_node_path(node);
    if (chr->type == TV_CHR_TYPE_PTY && !(flags & TV_DOMAIN_PARSE_STATUS)) {
        /* the pty a start got, in a live dumpxml defined again: allocated
         * anew at the next start, as libvirt does */
        return check_leaf(node, attrs_path);
    }
    if (check_leaf(node, chr->type == TV_CHR_TYPE_UNIX ? attrs_unix : attrs_path) < 0 ||
        tv_conf_attr_required(node, "path", &chr->path) < 0 ||
        tv_conf_path_check(node, "path", chr->path) < 0)
        return -1;
    int mode = TV_CHR_UNIX_MODE_DEFAULT;
    if (tv_conf_attr_enum(node, "mode", false, tv_chr_unix_mode_from_string, tv_chr_unix_mode_list,
                          &mode) < 0)
        return -1;
    chr->unix_mode = mode;
    return 0;
}

/* Ports not written are numbered after the highest one written before. */
static int parse_chr_target(xmlNodePtr node, TvDomainChr *chr, bool console, unsigned *next)
{
    static const char *const attrs_serial[] = { "port", NULL };
    static const char *const attrs_console[] = { "type", "port", NULL };
    unsigned long long port = *next;
    g_autofree char *value = NULL;
    if (node) {
        if (check_leaf(node, console ? attrs_console : attrs_serial) < 0 ||
            (console && tv_conf_attr_fixed(node, "type", false, "serial") < 0))
            return -1;
        value = tv_xml_prop(node, "port");
        if (value && tv_conf_number(node, "port", value, 0, TV_CHR_PORT_MAX, &port) < 0)
            return -1;
    }
    if (port > TV_CHR_PORT_MAX) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "too many %s devices: ports go from 0 to %d",
                        console ? "console" : "serial", TV_CHR_PORT_MAX);
        return -1;
    }
    chr->port = (unsigned)port;
    *next = chr->port + 1;
    return 0;
}

static int parse_chr(xmlNodePtr node, TvDomainChr ***list, size_t *count, bool console,
                     unsigned flags)
{
    static const char *const attrs[] = { "type", NULL };
    static const char *const children[] = { "source", "target", NULL };
    int type = 0;
    TvDomainChr *chr = g_new0(TvDomainChr, 1);
    APPEND(*list, *count, chr);

    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_chr_type_from_string, tv_chr_type_list, &type) <
            0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    chr->type = type;

    xmlNodePtr source = tv_xml_child(node, "source");
    if (source && parse_chr_source(source, chr, flags) < 0)
        return -1;
    if (!source && chr->type != TV_CHR_TYPE_PTY) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source path='...'/> in %s (type '%s' needs a path)", path,
                        tv_chr_type_to_string(chr->type));
        return -1;
    }
    unsigned next = *count > 1 ? (*list)[*count - 2]->port + 1 : 0;
    if (parse_chr_target(tv_xml_child(node, "target"), chr, console, &next) < 0)
        return -1;
    for (size_t i = 0; i + 1 < *count; i++) {
        if ((*list)[i]->port == chr->port) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two <%s> devices in /domain/devices use port %u", node->name,
                            chr->port);
            return -1;
        }
    }
    return 0;
}

static int parse_rng(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "backend", NULL };
    static const char *const backend_attrs[] = { "model", NULL };
    TvDomainRng *rng = g_new0(TvDomainRng, 1);
    APPEND(devs->rngs, devs->nrngs, rng);

    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_fixed(node, "model", true, "virtio") < 0)
        return -1;
    xmlNodePtr backend = tv_xml_child(node, "backend");
    if (!backend) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <backend model='random'>/dev/urandom</backend> in %s",
                        path);
        return -1;
    }
    if (tv_xml_check_attrs(backend, backend_attrs) < 0 ||
        tv_xml_check_children(backend, no_children, true) < 0 ||
        tv_conf_attr_fixed(backend, "model", true, "random") < 0)
        return -1;
    rng->backend_path = tv_xml_text(backend);
    if (!rng->backend_path) {
        g_autofree char *path = tv_xml_node_path(backend);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing path in %s: expected a random source such as /dev/urandom", path);
        return -1;
    }
    return tv_conf_path_check(backend, NULL, rng->backend_path);
}

static int parse_controller(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "type", "index", "model", NULL };
    if (check_leaf(node, attrs) < 0 || tv_conf_attr_fixed(node, "type", true, "usb") < 0 ||
        tv_conf_attr_fixed(node, "index", false, "0") < 0 ||
        tv_conf_attr_fixed(node, "model", true, "none") < 0)
        return -1;
    if (devs->usb_none) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element <controller type='usb'> appears more than once in "
                        "/domain/devices: only one is allowed");
        return -1;
    }
    devs->usb_none = true;
    return 0;
}

static int parse_memballoon(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "model", NULL };
    int model = 0;
    if (check_leaf(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "model", true, tv_balloon_model_from_string, tv_balloon_model_list,
                          &model) < 0)
        return -1;
    devs->memballoon = model;
    return 0;
}

static int parse_device(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    const char *name = (const char *)node->name;
    if (strcmp(name, "emulator") == 0) {
        if (tv_conf_text(node, true, &devs->emulator) < 0 ||
            tv_conf_path_check(node, NULL, devs->emulator) < 0)
            return -1;
        return 0;
    }
    if (strcmp(name, "disk") == 0)
        return parse_disk(node, devs);
    if (strcmp(name, "interface") == 0)
        return parse_interface(node, devs);
    if (strcmp(name, "serial") == 0)
        return parse_chr(node, &devs->serials, &devs->nserials, false, flags);
    if (strcmp(name, "console") == 0)
        return parse_chr(node, &devs->consoles, &devs->nconsoles, true, flags);
    if (strcmp(name, "rng") == 0)
        return parse_rng(node, devs);
    if (strcmp(name, "memballoon") == 0)
        return parse_memballoon(node, devs);
    if (strcmp(name, "controller") == 0)
        return parse_controller(node, devs);
    return 0; /* unreachable: tv_xml_check_children refused it */
}

int tv_domain_parse_devices(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const children[] = { "emulator",   "disk",   "controller",
                                            "interface",  "serial", "console",
                                            "memballoon", "rng",    NULL };
    static const char *const once[] = { "emulator", "memballoon", NULL };
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, once) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && parse_device(c, devs, flags) < 0)
            return -1;
    }
    return 0;
}
