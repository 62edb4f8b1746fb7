/* The <source> and <protocol> of a socket character device that a
 * <smartcard mode='passthrough'> or a <redirdev> carries: type 'unix'
 * (a path) or 'tcp' (host and port), connect (libvirt's default) or bind. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

#define HOST_MAX 255

static const char *const no_children[] = { NULL };

/* A host name, an IPv4 or an IPv6 address (with a '%' zone): what QEMU's
 * host= takes without quoting. */
static int check_host(xmlNodePtr source, const char *host)
{
    bool ok = *host && strlen(host) <= HOST_MAX;
    for (const char *p = host; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || strchr(".-_:%", *p);
    if (ok)
        return 0;
    g_autofree char *path = tv_xml_node_path(source);
    g_autofree char *shown = g_strescape(host, NULL);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute 'host' of %s: expected a host name or an "
                    "IPv4 or IPv6 address (letters, digits, '.', '-', '_', ':', '%%')",
                    shown, path);
    return -1;
}

static int parse_mode(xmlNodePtr source, bool *bind)
{
    g_autofree char *mode = tv_xml_prop(source, "mode");
    *bind = false;
    if (!mode || strcmp(mode, "connect") == 0)
        return 0;
    if (strcmp(mode, "bind") == 0) {
        *bind = true;
        return 0;
    }
    g_autofree char *path = tv_xml_node_path(source);
    g_autofree char *shown = g_strescape(mode, NULL);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute 'mode' of %s: expected 'connect', 'bind'",
                    shown, path);
    return -1;
}

int tv_conf_socket_source(xmlNodePtr source, bool tcp, TvConfSocketSource *out)
{
    static const char *const tcp_attrs[] = { "mode", "host", "service", NULL };
    static const char *const unix_attrs[] = { "mode", "path", NULL };
    if (tv_xml_check_attrs(source, tcp ? tcp_attrs : unix_attrs) < 0 ||
        tv_xml_check_children(source, no_children, false) < 0 || parse_mode(source, out->bind) < 0)
        return -1;
    if (!tcp)
        return tv_conf_attr_required(source, "path", out->path) < 0 ||
                       tv_conf_path_check(source, "path", *out->path) < 0
                   ? -1
                   : 0;
    unsigned long long port = 0;
    if (tv_conf_attr_required(source, "host", out->host) < 0 ||
        check_host(source, *out->host) < 0 ||
        tv_conf_attr_required(source, "service", out->service) < 0 ||
        tv_conf_number(source, "service", *out->service, 1, 65535, &port) < 0)
        return -1;
    g_free(*out->service); /* "04000" is port 4000 */
    *out->service = g_strdup_printf("%llu", port);
    return 0;
}

int tv_conf_socket_protocol(xmlNodePtr node, bool tcp, const char *owner)
{
    static const char *const attrs[] = { "type", NULL };
    if (!tcp) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "unexpected element %s: only a %s of type 'tcp' has a <protocol>", path,
                        owner);
        return -1;
    }
    return tv_xml_check_attrs(node, attrs) < 0 ||
                   tv_xml_check_children(node, no_children, false) < 0 ||
                   tv_conf_attr_fixed(node, "type", false, "raw") < 0
               ? -1
               : 0;
}
