/* <serial>, <console> and <channel>: a host side (pty, file, unix socket;
 * <source>, <log>) and a guest side (<target>): the PL011 or a pci-serial
 * port, a virtio console, a virtio-serial port such as the guest agent's. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_chr_target_type, TV_CHR_TARGET_LAST, "", "system-serial", "pci-serial", "serial",
             "virtio")

#define CHR_PORT_MAX     31
#define CHANNEL_NAME_MAX 64

static const char *const no_children[] = { NULL };

static const char *kind_element(TvChrKind kind)
{
    switch (kind) {
    case TV_CHR_KIND_SERIAL:
        return "serial";
    case TV_CHR_KIND_CONSOLE:
        return "console";
    case TV_CHR_KIND_CHANNEL:
        return "channel";
    }
    return "";
}

void tv_domain_chr_free(TvDomainChr *chr)
{
    if (!chr)
        return;
    g_free(chr->path);
    g_free(chr->target_name);
    g_free(chr->log_file);
    g_free(chr->alias);
    g_free(chr);
}

/* The guest-visible model of a serial target type, as libvirt names it. */
const char *tv_chr_target_model(TvChrTargetType type)
{
    switch (type) {
    case TV_CHR_TARGET_SYSTEM_SERIAL:
        return "pl011";
    case TV_CHR_TARGET_PCI_SERIAL:
        return "pci-serial";
    case TV_CHR_TARGET_DEFAULT:
    case TV_CHR_TARGET_SERIAL:
    case TV_CHR_TARGET_VIRTIO:
    case TV_CHR_TARGET_LAST:
        break;
    }
    return NULL;
}

/* virt-manager 4.1's Add Hardware keeps its spicevmc default's <clipboard
 * copypaste='yes'/> in <source> whatever type is chosen (a pty console or
 * serial, the guest agent's unix channel); libvirt reads it for
 * qemu-vdagent only and ignores it elsewhere, and tagvirt, which has no
 * qemu-vdagent, does the same */
static const char *const source_children[] = { "clipboard", NULL };

static int parse_source(xmlNodePtr node, TvDomainChr *chr, TvChrKind kind, unsigned flags)
{
    static const char *const attrs_unix[] = { "path", "mode", NULL };
    static const char *const attrs_unix_status[] = { "path", "mode", "generated", NULL };
    static const char *const attrs_path[] = { "path", NULL };
    g_autofree char *path = tv_xml_node_path(node);
    bool status = (flags & TV_DOMAIN_PARSE_STATUS) != 0;
    if (chr->type == TV_CHR_TYPE_PTY && !status) {
        /* the pty a start got, in a live dumpxml defined again: ignored (a
         * new one is allocated at the next start), as libvirt does */
        return tv_xml_check_attrs(node, attrs_path) < 0 ||
                       tv_xml_check_children(node, source_children, false) < 0
                   ? -1
                   : 0;
    }
    const char *const *attrs = chr->type != TV_CHR_TYPE_UNIX ? attrs_path
                               : status                      ? attrs_unix_status
                                                             : attrs_unix;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, source_children, false) < 0)
        return -1;
    /* a channel's socket may be left to the runtime: it makes one in its
     * state folder; a pty has its path once QEMU gave it one (a device
     * being hot-plugged is parsed with the live XML, and has none yet) */
    bool optional = (kind == TV_CHR_KIND_CHANNEL && chr->type == TV_CHR_TYPE_UNIX) ||
                    chr->type == TV_CHR_TYPE_PTY;
    chr->path = tv_xml_prop(node, "path");
    if (!chr->path && !optional)
        return tv_conf_attr_required(node, "path", &chr->path);
    if (chr->path && tv_conf_path_check(node, "path", chr->path) < 0)
        return -1;
    TvFeatureState generated = TV_FEATURE_STATE_ABSENT;
    if (tv_conf_attr_yesno(node, "generated", &generated) < 0)
        return -1;
    chr->path_generated = generated == TV_FEATURE_STATE_ON;
    int mode = TV_CHR_UNIX_MODE_DEFAULT;
    if (tv_conf_attr_enum(node, "mode", false, tv_chr_unix_mode_from_string, tv_chr_unix_mode_list,
                          &mode) < 0)
        return -1;
    chr->unix_mode = mode;
    if (!chr->path && chr->unix_mode == TV_CHR_UNIX_MODE_CONNECT) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s has mode='connect' but no path: the socket to connect to must be "
                        "named",
                        path);
        return -1;
    }
    return 0;
}

static int parse_log(xmlNodePtr node, TvDomainChr *chr)
{
    static const char *const attrs[] = { "file", "append", NULL };
    g_autofree char *append = tv_xml_prop(node, "append");
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, "file", &chr->log_file) < 0 ||
        tv_conf_path_check(node, "file", chr->log_file) < 0)
        return -1;
    if (append && strcmp(append, "on") == 0)
        chr->log_append = TV_FEATURE_STATE_ON;
    else if (append && strcmp(append, "off") == 0)
        chr->log_append = TV_FEATURE_STATE_OFF;
    else if (append) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'append' of %s: expected 'on', 'off'",
                        append, path);
        return -1;
    }
    return 0;
}

static int parse_target_model(xmlNodePtr node, TvDomainChr *chr)
{
    static const char *const attrs[] = { "name", NULL };
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *name = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, "name", &name) < 0)
        return -1;
    TvChrTargetType by_model = strcmp(name, "pl011") == 0        ? TV_CHR_TARGET_SYSTEM_SERIAL
                               : strcmp(name, "pci-serial") == 0 ? TV_CHR_TARGET_PCI_SERIAL
                                                                 : TV_CHR_TARGET_DEFAULT;
    if (by_model == TV_CHR_TARGET_DEFAULT ||
        (chr->target_type != TV_CHR_TARGET_DEFAULT && chr->target_type != by_model)) {
        g_autofree char *shown = g_strescape(name, NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'name' of %s: expected %s", shown, path,
                        chr->target_type == TV_CHR_TARGET_PCI_SERIAL ? "'pci-serial'"
                        : chr->target_type == TV_CHR_TARGET_SYSTEM_SERIAL
                            ? "'pl011'"
                            : "'pl011', 'pci-serial'");
        return -1;
    }
    chr->target_type = by_model;
    chr->model_name = true;
    return 0;
}

/* <target type port> of a serial port or console; ports not written are
 * numbered after the previous device of the same element. */
static int parse_port_target(xmlNodePtr node, TvDomainChr *chr, TvChrKind kind, unsigned *next)
{
    static const char *const attrs[] = { "type", "port", NULL };
    static const char *const children_serial[] = { "model", NULL };
    unsigned long long port = *next;
    g_autofree char *path = node ? tv_xml_node_path(node) : NULL;
    if (node) {
        g_autofree char *type = tv_xml_prop(node, "type");
        if (tv_xml_check_attrs(node, attrs) < 0 ||
            tv_xml_check_children(node, kind == TV_CHR_KIND_SERIAL ? children_serial : no_children,
                                  false) < 0)
            return -1;
        int t = type ? tv_chr_target_type_from_string(type) : TV_CHR_TARGET_DEFAULT;
        bool ok = kind == TV_CHR_KIND_SERIAL
                      ? t == TV_CHR_TARGET_DEFAULT || t == TV_CHR_TARGET_SYSTEM_SERIAL ||
                            t == TV_CHR_TARGET_PCI_SERIAL
                      : t == TV_CHR_TARGET_DEFAULT || t == TV_CHR_TARGET_SERIAL ||
                            t == TV_CHR_TARGET_VIRTIO;
        if (!ok) {
            g_autofree char *shown = g_strescape(type, NULL);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "invalid value '%s' for attribute 'type' of %s: expected %s", shown,
                            path,
                            kind == TV_CHR_KIND_SERIAL ? "'system-serial', 'pci-serial'"
                                                       : "'serial', 'virtio'");
            return -1;
        }
        chr->target_type = t;
        g_autofree char *value = tv_xml_prop(node, "port");
        if (value && tv_conf_number(node, "port", value, 0, CHR_PORT_MAX, &port) < 0)
            return -1;
        xmlNodePtr model = tv_xml_child(node, "model");
        if (model && parse_target_model(model, chr) < 0)
            return -1;
    }
    if (kind == TV_CHR_KIND_CONSOLE && chr->target_type == TV_CHR_TARGET_DEFAULT)
        chr->target_type = TV_CHR_TARGET_SERIAL;
    if (port > CHR_PORT_MAX) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "too many <%s> devices: ports go from 0 to %d", kind_element(kind),
                        CHR_PORT_MAX);
        return -1;
    }
    chr->port = (unsigned)port;
    *next = chr->port + 1;
    return 0;
}

static int parse_channel_target(xmlNodePtr node, xmlNodePtr parent, TvDomainChr *chr)
{
    static const char *const attrs[] = { "type", "name", NULL };
    if (!node) {
        g_autofree char *path = tv_xml_node_path(parent);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <target type='virtio' name='...'/> in %s", path);
        return -1;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_fixed(node, "type", true, "virtio") < 0 ||
        tv_conf_attr_required(node, "name", &chr->target_name) < 0)
        return -1;
    bool ok = strlen(chr->target_name) <= CHANNEL_NAME_MAX;
    for (const char *p = chr->target_name; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-';
    if (!ok) {
        g_autofree char *path = tv_xml_node_path(node);
        g_autofree char *shown = g_strescape(chr->target_name, NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'name' of %s: expected 1 to %d letters, "
                        "digits, '.', '_' or '-' (the guest agent's is org.qemu.guest_agent.0)",
                        shown, path, CHANNEL_NAME_MAX);
        return -1;
    }
    chr->target_type = TV_CHR_TARGET_VIRTIO;
    return 0;
}

static int check_unique(const TvDomainDevices *devs, TvChrKind kind, const TvDomainChr *chr)
{
    TvDomainChr *const *list = kind == TV_CHR_KIND_SERIAL    ? devs->serials
                               : kind == TV_CHR_KIND_CONSOLE ? devs->consoles
                                                             : devs->channels;
    size_t count = kind == TV_CHR_KIND_SERIAL    ? devs->nserials
                   : kind == TV_CHR_KIND_CONSOLE ? devs->nconsoles
                                                 : devs->nchannels;
    for (size_t i = 0; i + 1 < count; i++) {
        if (kind == TV_CHR_KIND_CHANNEL && strcmp(list[i]->target_name, chr->target_name) == 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two <channel> devices in /domain/devices have target name '%s'",
                            chr->target_name);
            return -1;
        }
        if (kind != TV_CHR_KIND_CHANNEL && list[i]->port == chr->port) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two <%s> devices in /domain/devices use port %u", kind_element(kind),
                            chr->port);
            return -1;
        }
    }
    return 0;
}

static int parse_body(xmlNodePtr node, TvDomainChr *chr, TvChrKind kind, TvDomainDevices *devs,
                      unsigned flags)
{
    xmlNodePtr source = tv_xml_child(node, "source");
    if (source && parse_source(source, chr, kind, flags) < 0)
        return -1;
    bool needs_source = chr->type != TV_CHR_TYPE_PTY &&
                        !(kind == TV_CHR_KIND_CHANNEL && chr->type == TV_CHR_TYPE_UNIX);
    if (!source && needs_source) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source path='...'/> in %s (type '%s' needs a path)", path,
                        tv_chr_type_to_string(chr->type));
        return -1;
    }
    xmlNodePtr target = tv_xml_child(node, "target");
    if (kind == TV_CHR_KIND_CHANNEL) {
        if (parse_channel_target(target, node, chr) < 0)
            return -1;
    } else {
        TvDomainChr *const *list = kind == TV_CHR_KIND_SERIAL ? devs->serials : devs->consoles;
        size_t count = kind == TV_CHR_KIND_SERIAL ? devs->nserials : devs->nconsoles;
        unsigned next = count > 1 ? list[count - 2]->port + 1 : 0;
        if (parse_port_target(target, chr, kind, &next) < 0)
            return -1;
    }
    xmlNodePtr log = tv_xml_child(node, "log");
    if ((log && parse_log(log, chr) < 0) ||
        tv_domain_alias_parse_child(node, flags, &chr->alias) < 0)
        return -1;
    unsigned types = kind == TV_CHR_KIND_CHANNEL ? TV_ADDR_MASK(TV_ADDRESS_VIRTIO_SERIAL)
                     : chr->target_type == TV_CHR_TARGET_PCI_SERIAL ? TV_ADDR_MASK(TV_ADDRESS_PCI)
                                                                    : 0;
    if (tv_domain_address_parse_child(node, types, &chr->address) < 0)
        return -1;
    return check_unique(devs, kind, chr);
}

int tv_domain_parse_chr(xmlNodePtr node, TvChrKind kind, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", NULL };
    static const char *const children[] = { "source", "target", "log", "alias", "address", NULL };
    int type = 0;
    TvDomainChr *chr = g_new0(TvDomainChr, 1);
    switch (kind) {
    case TV_CHR_KIND_SERIAL:
        TV_APPEND(devs->serials, devs->nserials, chr);
        break;
    case TV_CHR_KIND_CONSOLE:
        TV_APPEND(devs->consoles, devs->nconsoles, chr);
        break;
    case TV_CHR_KIND_CHANNEL:
        TV_APPEND(devs->channels, devs->nchannels, chr);
        break;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_conf_attr_enum(node, "type", true, tv_chr_type_from_string, tv_chr_type_list, &type) <
            0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    chr->type = type;
    if (kind == TV_CHR_KIND_CHANNEL && chr->type == TV_CHR_TYPE_FILE) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported type 'file' for %s: a channel is 'unix' or 'pty'", path);
        return -1;
    }
    return parse_body(node, chr, kind, devs, flags);
}

static void format_source(TvXmlWriter *w, const TvDomainChr *chr, bool live, bool status)
{
    /* a pty's path, and a socket path tagvirt chose, are the running domain's */
    bool show = chr->path && (live || (chr->type != TV_CHR_TYPE_PTY && !chr->path_generated));
    if (!show) {
        if (chr->type == TV_CHR_TYPE_UNIX && chr->unix_mode != TV_CHR_UNIX_MODE_DEFAULT)
            tv_xml_line(w, "<source mode='%s'/>", tv_chr_unix_mode_to_string(chr->unix_mode));
        return;
    }
    g_autofree char *path = tv_xml_esc(chr->path);
    const char *gen = status && chr->path_generated ? " generated='yes'" : "";
    if (chr->type == TV_CHR_TYPE_UNIX && chr->unix_mode != TV_CHR_UNIX_MODE_DEFAULT)
        tv_xml_line(w, "<source mode='%s' path='%s'%s/>",
                    tv_chr_unix_mode_to_string(chr->unix_mode), path, gen);
    else
        tv_xml_line(w, "<source path='%s'%s/>", path, gen);
}

static void format_target(TvXmlWriter *w, TvChrKind kind, const TvDomainChr *chr)
{
    if (kind == TV_CHR_KIND_CHANNEL) {
        g_autofree char *name = tv_xml_esc(chr->target_name);
        tv_xml_line(w, "<target type='virtio' name='%s'/>", name);
        return;
    }
    g_autofree char *type =
        chr->target_type != TV_CHR_TARGET_DEFAULT
            ? g_strdup_printf(" type='%s'", tv_chr_target_type_to_string(chr->target_type))
            : g_strdup("");
    if (!chr->model_name) {
        tv_xml_line(w, "<target%s port='%u'/>", type, chr->port);
        return;
    }
    tv_xml_line(w, "<target%s port='%u'>", type, chr->port);
    w->indent++;
    tv_xml_line(w, "<model name='%s'/>", tv_chr_target_model(chr->target_type));
    w->indent--;
    tv_xml_line(w, "</target>");
}

void tv_domain_format_chr(TvXmlWriter *w, TvChrKind kind, const TvDomainChr *chr, bool live,
                          bool status)
{
    const char *element = kind_element(kind);
    tv_xml_line(w, "<%s type='%s'>", element, tv_chr_type_to_string(chr->type));
    w->indent++;
    format_source(w, chr, live, status);
    format_target(w, kind, chr);
    if (chr->log_file) {
        g_autofree char *file = tv_xml_esc(chr->log_file);
        const char *append = chr->log_append == TV_FEATURE_STATE_ON    ? " append='on'"
                             : chr->log_append == TV_FEATURE_STATE_OFF ? " append='off'"
                                                                       : "";
        tv_xml_line(w, "<log file='%s'%s/>", file, append);
    }
    tv_domain_alias_format(w, chr->alias, live);
    tv_domain_address_format(w, &chr->address);
    w->indent--;
    tv_xml_line(w, "</%s>", element);
}
