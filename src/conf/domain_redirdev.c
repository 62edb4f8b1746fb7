/* <redirdev> and <redirfilter>: see domain_redirdev.h.  What QEMU is asked
 * for is the QEMU driver's (pipeline/qemu_command_redirdev.c). */
#include "domain_redirdev_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_redirdev_type, TV_REDIRDEV_TYPE_LAST, "", "tcp", "unix")

static const char *const no_children[] = { NULL };

void tv_domain_redirdev_free(TvDomainRedirdev *r)
{
    if (!r)
        return;
    g_free(r->host);
    g_free(r->service);
    g_free(r->path);
    g_free(r->alias);
    g_free(r);
}

void tv_domain_redirfilter_free(TvDomainRedirFilter *f)
{
    if (!f)
        return;
    g_free(f->rules);
    g_free(f);
}

char *tv_domain_redirdev_describe(const TvDomainRedirdev *r)
{
    const char *type = tv_redirdev_type_to_string(r->type);
    if (r->type == TV_REDIRDEV_TYPE_TCP)
        return g_strdup_printf("<redirdev type='tcp'> %s %s:%s", r->listen ? "listening on" : "to",
                               r->host, r->service);
    return g_strdup_printf("<redirdev type='%s'> %s %s", type, r->listen ? "listening on" : "to",
                           r->path);
}

/* Types libvirt knows for a redirdev that tagvirt does not take, and why. */
static int refuse_type(xmlNodePtr node, const char *type)
{
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(type, NULL);
    if (strcmp(type, "spicevmc") == 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported type 'spicevmc' for %s: it tunnels USB through a SPICE "
                        "graphics session, and tagvirt has no SPICE (its graphics are VNC and the "
                        "QEMUs it runs have no spicevmc character device); accepted: 'tcp' (a "
                        "usbredir server or client such as usbredirect), 'unix'",
                        path);
        return -1;
    }
    if (tv_redirdev_type_from_string(type) > TV_REDIRDEV_TYPE_NONE)
        return 0;
    tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported type '%s' for %s: accepted: 'tcp', 'unix'", shown, path);
    return -1;
}

int tv_domain_parse_redirdev(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "bus", "type", NULL };
    static const char *const children[] = {
        "source", "protocol", "boot", "alias", "address", NULL
    };
    TvDomainRedirdev *r = g_new0(TvDomainRedirdev, 1);
    TV_APPEND(devs->redirdevs, devs->nredirdevs, r);
    g_autofree char *type = NULL;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_conf_attr_fixed(node, "bus", false, "usb") < 0 ||
        tv_conf_attr_required(node, "type", &type) < 0 || refuse_type(node, type) < 0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;
    r->type = tv_redirdev_type_from_string(type);
    xmlNodePtr source = tv_xml_child(node, "source");
    if (!source) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element <source %s/> in %s",
                        r->type == TV_REDIRDEV_TYPE_TCP ? "mode='connect|bind' host='...' "
                                                          "service='PORT'"
                                                        : "mode='connect|bind' path='...'",
                        path);
        return -1;
    }
    bool tcp = r->type == TV_REDIRDEV_TYPE_TCP;
    TvConfSocketSource out = { &r->listen, &r->path, &r->host, &r->service };
    xmlNodePtr child;
    if (tv_conf_socket_source(source, tcp, &out) < 0 ||
        ((child = tv_xml_child(node, "protocol")) &&
         tv_conf_socket_protocol(child, tcp, "<redirdev>") < 0) ||
        ((child = tv_xml_child(node, "boot")) &&
         tv_domain_device_boot_parse(child, &r->boot_order) < 0) ||
        tv_domain_alias_parse_child(node, flags, &r->alias) < 0)
        return -1;
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_USB), &r->address);
}

/* -1 ("any", also when absent) or a number up to max, in hex ("0x08") or
 * decimal, as libvirt reads them. */
static int parse_any_number(xmlNodePtr node, const char *attr, unsigned max, int *out)
{
    g_autofree char *value = tv_xml_prop(node, attr);
    *out = -1;
    if (!value || strcmp(value, "-1") == 0)
        return 0;
    char *end = NULL;
    guint64 v = g_ascii_isdigit(value[0]) ? g_ascii_strtoull(value, &end, 0) : G_MAXUINT64;
    if (end && !*end && v <= max) {
        *out = (int)v;
        return 0;
    }
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(value, NULL);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute '%s' of %s: expected -1 (any) or a number "
                    "from 0x0 to 0x%x",
                    shown, attr, path, max);
    return -1;
}

/* version='M.m' (bcdDevice: 2.56 is 0x0256, 2.5 is 0x0250), or -1. */
static int parse_version(xmlNodePtr node, int *out)
{
    g_autofree char *value = tv_xml_prop(node, "version");
    *out = -1;
    if (!value || strcmp(value, "-1") == 0)
        return 0;
    const char *dot = strchr(value, '.');
    size_t major_len = dot ? (size_t)(dot - value) : 0;
    size_t minor_len = dot ? strlen(dot + 1) : 0;
    bool ok = major_len >= 1 && major_len <= 2 && minor_len >= 1 && minor_len <= 2;
    for (const char *p = value; ok && *p; p++)
        ok = g_ascii_isdigit(*p) || p == dot;
    if (!ok) {
        g_autofree char *path = tv_xml_node_path(node);
        g_autofree char *shown = g_strescape(value, NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'version' of %s: expected -1 (any) or "
                        "the device's release as 'M.m' (0 to 99 each, as 2.56)",
                        shown, path);
        return -1;
    }
    unsigned major = (unsigned)atoi(value), minor = (unsigned)atoi(dot + 1);
    if (minor_len == 1)
        minor *= 10; /* 2.5 is 2.50 */
    *out = (int)((major / 10) << 12 | (major % 10) << 8 | (minor / 10) << 4 | (minor % 10));
    return 0;
}

static int parse_usbdev(xmlNodePtr node, TvRedirFilterRule *rule)
{
    static const char *const attrs[] = { "class", "vendor", "product", "version", "allow", NULL };
    TvFeatureState allow = TV_FEATURE_STATE_ABSENT;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        parse_any_number(node, "class", 0xff, &rule->usb_class) < 0 ||
        parse_any_number(node, "vendor", 0xffff, &rule->vendor) < 0 ||
        parse_any_number(node, "product", 0xffff, &rule->product) < 0 ||
        parse_version(node, &rule->version) < 0 || tv_conf_attr_yesno(node, "allow", &allow) < 0)
        return -1;
    if (allow == TV_FEATURE_STATE_ABSENT) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing attribute 'allow' on %s (expected 'yes' or 'no')", path);
        return -1;
    }
    rule->allow = allow == TV_FEATURE_STATE_ON;
    return 0;
}

int tv_domain_parse_redirfilter(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const children[] = { "usbdev", NULL };
    if (devs->redirfilter) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element <redirfilter> appears twice in /domain/devices: one set of "
                        "<usbdev> rules applies to every <redirdev>");
        return -1;
    }
    TvDomainRedirFilter *f = g_new0(TvDomainRedirFilter, 1);
    devs->redirfilter = f;
    if (tv_xml_check_attrs(node, no_children) < 0 ||
        tv_xml_check_children(node, children, false) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        f->rules = g_renew(TvRedirFilterRule, f->rules, f->nrules + 1);
        if (parse_usbdev(c, &f->rules[f->nrules++]) < 0)
            return -1;
    }
    return 0;
}

void tv_domain_format_redirdev(TvXmlWriter *w, const TvDomainRedirdev *r, bool live)
{
    const char *mode = r->listen ? "bind" : "connect";
    tv_xml_line(w, "<redirdev bus='usb' type='%s'>", tv_redirdev_type_to_string(r->type));
    w->indent++;
    if (r->type == TV_REDIRDEV_TYPE_TCP) {
        g_autofree char *host = tv_xml_esc(r->host);
        tv_xml_line(w, "<source mode='%s' host='%s' service='%s'/>", mode, host, r->service);
        tv_xml_line(w, "<protocol type='raw'/>");
    } else {
        g_autofree char *path = tv_xml_esc(r->path);
        tv_xml_line(w, "<source mode='%s' path='%s'/>", mode, path);
    }
    tv_domain_device_boot_format(w, r->boot_order);
    tv_domain_alias_format(w, r->alias, live);
    tv_domain_address_format(w, &r->address);
    w->indent--;
    tv_xml_line(w, "</redirdev>");
}

static void format_number(GString *s, const char *attr, int v, int width)
{
    if (v >= 0)
        g_string_append_printf(s, " %s='0x%0*X'", attr, width, v);
}

void tv_domain_format_redirfilter(TvXmlWriter *w, const TvDomainRedirFilter *f)
{
    if (!f->nrules) /* no rule filters nothing: not written, as libvirt */
        return;
    tv_xml_line(w, "<redirfilter>");
    w->indent++;
    for (size_t i = 0; i < f->nrules; i++) {
        const TvRedirFilterRule *r = &f->rules[i];
        g_autoptr(GString) s = g_string_new("<usbdev");
        format_number(s, "class", r->usb_class, 2);
        format_number(s, "vendor", r->vendor, 4);
        format_number(s, "product", r->product, 4);
        if (r->version >= 0)
            g_string_append_printf(s, " version='%d.%02d'",
                                   ((r->version >> 12) & 0xf) * 10 + ((r->version >> 8) & 0xf),
                                   ((r->version >> 4) & 0xf) * 10 + (r->version & 0xf));
        tv_xml_line(w, "%s allow='%s'/>", s->str, r->allow ? "yes" : "no");
    }
    w->indent--;
    tv_xml_line(w, "</redirfilter>");
}

static void filter_number(GString *s, int v, int width)
{
    if (v < 0)
        g_string_append(s, "-1:");
    else
        g_string_append_printf(s, "0x%0*X:", width, v);
}

char *tv_domain_redirfilter_string(const TvDomainRedirFilter *f)
{
    if (!f || !f->nrules)
        return NULL;
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < f->nrules; i++) {
        const TvRedirFilterRule *r = &f->rules[i];
        if (i)
            g_string_append_c(s, '|');
        filter_number(s, r->usb_class, 2);
        filter_number(s, r->vendor, 4);
        filter_number(s, r->product, 4);
        filter_number(s, r->version, 4);
        g_string_append_c(s, r->allow ? '1' : '0');
    }
    return g_string_free(s, FALSE);
}
