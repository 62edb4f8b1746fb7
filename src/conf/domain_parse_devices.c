/* Domain XML parser: <devices> (disks, interfaces, serial ports, consoles,
 * rng, memballoon); controllers, input, graphics, video and audio have files
 * of their own (domain_controller.c, domain_input.c, domain_graphics.c). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *const no_attrs[] = { NULL };
static const char *const no_children[] = { NULL };

/* A leaf element: only the listed attributes, nothing inside. */
static int check_leaf(xmlNodePtr node, const char *const *attrs)
{
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, no_children, false) < 0)
        return -1;
    return 0;
}

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
    static const char *const children[] = { "driver",  "source", "target", "readonly",
                                            "address", "boot",   NULL };
    static const char *const driver_attrs[] = { "name", "type", NULL };
    static const char *const source_attrs[] = { "file", NULL };
    TvDomainDisk *disk = g_new0(TvDomainDisk, 1);
    TV_APPEND(devs->disks, devs->ndisks, disk);

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
    if (tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &disk->address) < 0)
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
    static const char *const children[] = { "mac", "model", "target", "address", "boot", NULL };
    int type = 0;
    TvDomainNet *net = g_new0(TvDomainNet, 1);
    TV_APPEND(devs->nets, devs->nnets, net);

    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_net_type_from_string, tv_net_type_list, &type) <
            0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    net->type = type;
    if (parse_interface_children(node, net) < 0 ||
        tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &net->address) < 0)
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

static int parse_rng(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "backend", "address", NULL };
    static const char *const backend_attrs[] = { "model", NULL };
    TvDomainRng *rng = g_new0(TvDomainRng, 1);
    TV_APPEND(devs->rngs, devs->nrngs, rng);

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
    if (tv_conf_path_check(backend, NULL, rng->backend_path) < 0)
        return -1;
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &rng->address);
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
        return tv_domain_parse_chr(node, TV_CHR_KIND_SERIAL, devs, flags);
    if (strcmp(name, "console") == 0)
        return tv_domain_parse_chr(node, TV_CHR_KIND_CONSOLE, devs, flags);
    if (strcmp(name, "channel") == 0)
        return tv_domain_parse_chr(node, TV_CHR_KIND_CHANNEL, devs, flags);
    if (strcmp(name, "rng") == 0)
        return parse_rng(node, devs);
    if (strcmp(name, "memballoon") == 0)
        return tv_domain_parse_memballoon(node, devs);
    if (strcmp(name, "controller") == 0)
        return tv_domain_parse_controller(node, devs);
    if (strcmp(name, "input") == 0)
        return tv_domain_parse_input(node, devs);
    if (strcmp(name, "graphics") == 0)
        return tv_domain_parse_graphics(node, devs, flags);
    if (strcmp(name, "video") == 0)
        return tv_domain_parse_video(node, devs);
    if (strcmp(name, "audio") == 0)
        return tv_domain_parse_audio(node, devs);
    if (strcmp(name, "panic") == 0)
        return tv_domain_parse_panic(node, devs);
    if (strcmp(name, "watchdog") == 0)
        return tv_domain_parse_watchdog(node, devs);
    return 0; /* unreachable: tv_xml_check_children refused it */
}

int tv_domain_parse_devices(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const children[] = {
        "emulator", "disk",  "controller", "interface",  "serial", "console", "channel",  "input",
        "graphics", "audio", "video",      "memballoon", "rng",    "panic",   "watchdog", NULL,
    };
    static const char *const once[] = { "emulator", "memballoon", NULL };
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, once) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && parse_device(c, devs, flags) < 0)
            return -1;
    }
    return tv_domain_controllers_finish(devs);
}
