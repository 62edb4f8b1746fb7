/* Domain XML parser: <devices> (disks, interfaces, serial ports, consoles,
 * rng, memballoon); controllers, input, graphics, video and audio have files
 * of their own (domain_controller.c, domain_input.c, domain_graphics.c). */
#include "domain_parse_priv.h"
#include "domain_redirdev_priv.h"
#include "storage_conf.h"
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

static int parse_target(xmlNodePtr node, TvDomainNet *net, unsigned flags)
{
    static const char *const attrs[] = { "dev", "managed", NULL };
    static const char *const attrs_status[] = { "dev", "managed", "generated", NULL };
    if (net->type == TV_NET_TYPE_USER) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s is only valid for interface types 'ethernet' and 'bridge' (type is "
                        "'user')",
                        path);
        return -1;
    }
    TvFeatureState managed = TV_FEATURE_STATE_ABSENT, generated = TV_FEATURE_STATE_ABSENT;
    if (check_leaf(node, (flags & TV_DOMAIN_PARSE_STATUS) ? attrs_status : attrs) < 0 ||
        tv_conf_attr_required(node, "dev", &net->ifname) < 0 ||
        check_ifname(node, net->ifname) < 0 || tv_conf_attr_yesno(node, "managed", &managed) < 0 ||
        tv_conf_attr_yesno(node, "generated", &generated) < 0)
        return -1;
    if (managed != TV_FEATURE_STATE_ABSENT && net->type != TV_NET_TYPE_ETHERNET) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "attribute 'managed' of %s is only valid for interface type 'ethernet'",
                        path);
        return -1;
    }
    net->unmanaged = managed == TV_FEATURE_STATE_OFF;
    net->ifname_generated = generated == TV_FEATURE_STATE_ON;
    return 0;
}

/* A network or portgroup name as the network driver takes it. */
static int check_name_attr(xmlNodePtr node, const char *attr, const char *value)
{
    if (tv_storage_name_check(attr, value) == 0)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_prefix("attribute '%s' of %s", attr, path);
    return -1;
}

/* type='network': <source network='NAME' portgroup='GROUP'/>; live XML adds
 * bridge='...' (the network's bridge when the guest started), kept only in a
 * status file: a definition made from live XML takes the bridge from the
 * network again. */
static int parse_source_network(xmlNodePtr node, TvDomainNet *net, unsigned flags)
{
    static const char *const attrs[] = { "network", "portgroup", "bridge", NULL };
    g_autofree char *bridge = NULL;
    if (check_leaf(node, attrs) < 0 || tv_conf_attr_required(node, "network", &net->network) < 0 ||
        check_name_attr(node, "network", net->network) < 0)
        return -1;
    net->portgroup = tv_xml_prop(node, "portgroup");
    if (net->portgroup && check_name_attr(node, "portgroup", net->portgroup) < 0)
        return -1;
    bridge = tv_xml_prop(node, "bridge");
    if (bridge && check_ifname(node, bridge) < 0)
        return -1;
    if (flags & TV_DOMAIN_PARSE_STATUS)
        net->bridge = g_steal_pointer(&bridge);
    return 0;
}

static int parse_source(xmlNodePtr node, TvDomainNet *net, unsigned flags)
{
    static const char *const attrs[] = { "bridge", NULL };
    g_autofree char *path = tv_xml_node_path(node);
    if (net->type == TV_NET_TYPE_NETWORK)
        return parse_source_network(node, net, flags);
    if (net->type != TV_NET_TYPE_BRIDGE) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s is only valid for interface types 'bridge' and 'network' (type is "
                        "'%s')",
                        path, tv_net_type_to_string(net->type));
        return -1;
    }
    if (check_leaf(node, attrs) < 0 || tv_conf_attr_required(node, "bridge", &net->bridge) < 0 ||
        check_ifname(node, net->bridge) < 0)
        return -1;
    return 0;
}

static int parse_mtu(xmlNodePtr node, TvDomainNet *net)
{
    static const char *const attrs[] = { "size", NULL };
    g_autofree char *size = tv_xml_prop(node, "size");
    unsigned long long v = 0;
    if (check_leaf(node, attrs) < 0 || tv_conf_number(node, "size", size, 68, 65535, &v) < 0)
        return -1;
    net->mtu = (unsigned)v;
    return 0;
}

static int parse_link(xmlNodePtr node, TvDomainNet *net)
{
    static const char *const attrs[] = { "state", NULL };
    int state = 0;
    if (check_leaf(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "state", true, tv_net_link_state_from_string,
                          tv_net_link_state_list, &state) < 0)
        return -1;
    net->link = state;
    return 0;
}

static int parse_interface_children(xmlNodePtr node, TvDomainNet *net, unsigned flags)
{
    static const char *const mac_attrs[] = { "address", NULL };
    static const char *const model_attrs[] = { "type", NULL };
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
    /* the virtio-net backend: QEMU's own is the one tagvirt runs (Nova
     * writes name='qemu' for TCG guests); vhost-net is not used */
    static const char *const driver_attrs[] = { "name", NULL };
    if ((child = tv_xml_child(node, "driver"))) {
        if (check_leaf(child, driver_attrs) < 0 ||
            tv_conf_attr_fixed(child, "name", true, "qemu") < 0)
            return -1;
        net->driver_qemu = true;
    }
    if ((child = tv_xml_child(node, "target")) && parse_target(child, net, flags) < 0)
        return -1;
    if ((child = tv_xml_child(node, "source")) && parse_source(child, net, flags) < 0)
        return -1;
    if (!child && net->type == TV_NET_TYPE_BRIDGE) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source bridge='...'/> in %s: a bridge interface names "
                        "the host bridge it joins",
                        path);
        return -1;
    }
    if (!child && net->type == TV_NET_TYPE_NETWORK) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source network='...'/> in %s: a network interface "
                        "names the virtual network it joins",
                        path);
        return -1;
    }
    if (net->unmanaged && !net->ifname) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s has <target managed='no'> without dev: an unmanaged tap must be named",
                        path);
        return -1;
    }
    if ((child = tv_xml_child(node, "mtu")) && parse_mtu(child, net) < 0)
        return -1;
    if ((child = tv_xml_child(node, "link")) && parse_link(child, net) < 0)
        return -1;
    if (net->mtu && net->type == TV_NET_TYPE_USER) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "<mtu> of %s: a 'user' interface has no host device to set it on", path);
        return -1;
    }
    if ((child = tv_xml_child(node, "boot")) &&
        tv_domain_device_boot_parse(child, &net->boot_order) < 0)
        return -1;
    return 0;
}

/* type='direct' (macvtap) is not offered: say what works. */
static int refuse_direct(xmlNodePtr node)
{
    g_autofree char *type = tv_xml_prop(node, "type");
    if (!type || strcmp(type, "direct") != 0)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported interface type '%s' in %s: tagvirt has no macvtap interfaces; "
                    "use type 'network' (<source network='default'/>, a virtual network), "
                    "'bridge' (<source bridge='br0'/>, a tap on an existing host bridge), "
                    "'ethernet' (a tap device) or 'user' (QEMU's user-mode network)",
                    type, path);
    return -1;
}

static int parse_interface(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", NULL };
    static const char *const children[] = { "mac",  "model",   "driver", "target", "source", "mtu",
                                            "link", "address", "boot",   "alias",  NULL };
    int type = 0;
    TvDomainNet *net = g_new0(TvDomainNet, 1);
    TV_APPEND(devs->nets, devs->nnets, net);

    if (tv_xml_check_attrs(node, attrs) < 0 || refuse_direct(node) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_net_type_from_string, tv_net_type_list, &type) <
            0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    net->type = type;
    if (parse_interface_children(node, net, flags) < 0 ||
        tv_domain_alias_parse_child(node, flags, &net->alias) < 0 ||
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

static int parse_rng(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "backend", "alias", "address", NULL };
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
    if (tv_conf_path_check(backend, NULL, rng->backend_path) < 0 ||
        tv_domain_alias_parse_child(node, flags, &rng->alias) < 0)
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
        return tv_domain_parse_disk(node, devs, flags);
    if (strcmp(name, "interface") == 0)
        return parse_interface(node, devs, flags);
    if (strcmp(name, "serial") == 0)
        return tv_domain_parse_chr(node, TV_CHR_KIND_SERIAL, devs, flags);
    if (strcmp(name, "console") == 0)
        return tv_domain_parse_chr(node, TV_CHR_KIND_CONSOLE, devs, flags);
    if (strcmp(name, "channel") == 0)
        return tv_domain_parse_chr(node, TV_CHR_KIND_CHANNEL, devs, flags);
    if (strcmp(name, "rng") == 0)
        return parse_rng(node, devs, flags);
    if (strcmp(name, "memballoon") == 0)
        return tv_domain_parse_memballoon(node, devs);
    if (strcmp(name, "controller") == 0)
        return tv_domain_parse_controller(node, devs, flags);
    if (strcmp(name, "input") == 0)
        return tv_domain_parse_input(node, devs, flags);
    if (strcmp(name, "graphics") == 0)
        return tv_domain_parse_graphics(node, devs, flags);
    if (strcmp(name, "video") == 0)
        return tv_domain_parse_video(node, devs);
    if (strcmp(name, "audio") == 0)
        return tv_domain_parse_audio(node, devs);
    if (strcmp(name, "panic") == 0)
        return tv_domain_parse_panic(node, devs);
    if (strcmp(name, "watchdog") == 0)
        return tv_domain_parse_watchdog(node, devs, flags);
    if (strcmp(name, "sound") == 0)
        return tv_domain_parse_sound(node, devs, flags);
    if (strcmp(name, "filesystem") == 0)
        return tv_domain_parse_filesystem(node, devs, flags);
    if (strcmp(name, "vsock") == 0)
        return tv_domain_parse_vsock(node, devs, flags);
    if (strcmp(name, "tpm") == 0)
        return tv_domain_parse_tpm(node, devs, flags);
    if (strcmp(name, "smartcard") == 0)
        return tv_domain_parse_smartcard(node, devs, flags);
    if (strcmp(name, "redirdev") == 0)
        return tv_domain_parse_redirdev(node, devs, flags);
    if (strcmp(name, "redirfilter") == 0)
        return tv_domain_parse_redirfilter(node, devs);
    return 0; /* unreachable: tv_xml_check_children refused it */
}

int tv_domain_parse_devices(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const children[] = {
        "emulator", "disk",      "controller", "interface",   "serial",     "console",
        "channel",  "input",     "graphics",   "audio",       "video",      "memballoon",
        "rng",      "panic",     "watchdog",   "sound",       "filesystem", "vsock",
        "tpm",      "smartcard", "redirdev",   "redirfilter", NULL,
    };
    static const char *const once[] = { "emulator", "memballoon", NULL };
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, once) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && parse_device(c, devs, flags) < 0)
            return -1;
    }
    if (tv_domain_sound_check(devs) < 0)
        return -1;
    return tv_domain_controllers_finish(devs);
}
