/* <network>: parse and check (docs/networks.rst). */
#include "domain_parse_priv.h"
#include "network_conf.h"
#include "storage_conf.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_net_forward_mode, TV_NET_FORWARD_LAST, "", "nat", "route", "open", "bridge")

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

static const char *const no_names[] = { NULL };

void tv_network_def_free(TvNetworkDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->forward_dev);
    g_free(def->bridge);
    g_free(def->mac);
    g_free(def->domain);
    for (size_t i = 0; i < def->nhosts; i++) {
        g_free(def->hosts[i].mac);
        g_free(def->hosts[i].name);
    }
    g_free(def->hosts);
    for (size_t i = 0; i < def->ndns_hosts; i++)
        g_strfreev(def->dns_hosts[i].hostnames);
    g_free(def->dns_hosts);
    g_free(def->forwarders);
    for (size_t i = 0; i < def->nportgroups; i++)
        g_free(def->portgroups[i].name);
    g_free(def->portgroups);
    g_free(def);
}

int tv_network_name_check(const char *name)
{
    return tv_storage_name_check("network", name);
}

static int bad(xmlNodePtr node, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int bad(xmlNodePtr node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_NETWORK, TV_ERR_XML_ERROR, "%s: %s", path, msg);
    return -1;
}

static int check_node(xmlNodePtr node, const char *const *attrs, const char *const *children)
{
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, children ? children : no_names, false) < 0)
        return -1;
    return children ? tv_conf_check_once(node, children) : 0;
}

static int parse_ipv4_attr(xmlNodePtr node, const char *attr, bool required, TvIPv4 *out,
                           bool *present)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    if (present)
        *present = v != NULL;
    if (!v)
        return required ? bad(node, "missing attribute '%s' (an IPv4 address)", attr) : 0;
    if (!tv_ipv4_parse(v, out))
        return bad(node,
                   "invalid value '%s' for attribute '%s': expected an IPv4 address such "
                   "as 192.168.122.1",
                   v, attr);
    return 0;
}

static int parse_uint_attr(xmlNodePtr node, const char *attr, unsigned long long min,
                           unsigned long long max, unsigned *out)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    if (!v)
        return 0;
    unsigned long long n = 0;
    if (tv_conf_number(node, attr, v, min, max, &n) < 0)
        return -1;
    *out = (unsigned)n;
    return 0;
}

static int parse_forward(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const attrs[] = { "mode", "dev", NULL };
    static const char *const children[] = { "nat", NULL };
    if (check_node(node, attrs, children) < 0)
        return -1;
    int mode = TV_NET_FORWARD_NAT; /* libvirt: <forward/> is nat */
    g_autofree char *m = tv_xml_prop(node, "mode");
    if (m) {
        mode = tv_net_forward_mode_from_string(m);
        if (mode <= 0) {
            g_autofree char *ok = tv_net_forward_mode_list();
            return bad(node,
                       "forward mode '%s' is not supported; accepted: %s (no <forward>: "
                       "an isolated network)",
                       m, ok);
        }
    }
    def->forward = mode;
    def->forward_dev = tv_xml_prop(node, "dev");
    if (def->forward_dev && tv_conf_word_check(node, "dev", def->forward_dev) < 0)
        return -1;
    xmlNodePtr nat = tv_xml_child(node, "nat");
    if (nat) {
        static const char *const nat_children[] = { "port", NULL };
        if (mode != TV_NET_FORWARD_NAT)
            return bad(nat, "<nat> is only for forward mode 'nat'");
        if (check_node(nat, no_names, nat_children) < 0)
            return -1;
        xmlNodePtr port = tv_xml_child(nat, "port");
        static const char *const port_attrs[] = { "start", "end", NULL };
        if (port && (check_node(port, port_attrs, NULL) < 0 ||
                     parse_uint_attr(port, "start", 1, 65535, &def->nat_port_start) < 0 ||
                     parse_uint_attr(port, "end", 1, 65535, &def->nat_port_end) < 0))
            return -1;
        if (port &&
            (!def->nat_port_start || !def->nat_port_end || def->nat_port_start > def->nat_port_end))
            return bad(port, "expected start and end with start <= end");
    }
    return 0;
}

static int parse_bridge(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const attrs[] = { "name", "stp", "delay", NULL };
    if (check_node(node, attrs, NULL) < 0)
        return -1;
    def->bridge = tv_xml_prop(node, "name");
    if (def->bridge && (strlen(def->bridge) > 15 || !*def->bridge))
        return bad(node, "bridge name '%s' must have 1 to 15 characters", def->bridge);
    if (def->bridge && tv_conf_word_check(node, "name", def->bridge) < 0)
        return -1;
    g_autofree char *stp = tv_xml_prop(node, "stp");
    if (stp && strcmp(stp, "on") != 0 && strcmp(stp, "off") != 0)
        return bad(node, "invalid value '%s' for attribute 'stp': expected 'on' or 'off'", stp);
    def->stp = !stp || strcmp(stp, "on") == 0;
    return parse_uint_attr(node, "delay", 0, 30, &def->delay);
}

static int parse_dhcp(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const children[] = { "range", "host", NULL };
    if (tv_xml_check_attrs(node, no_names) < 0 || tv_xml_check_children(node, children, false) < 0)
        return -1;
    if (tv_xml_child_count(node, "range") > 1)
        return bad(node, "only one <range> is supported");
    def->dhcp = true;
    xmlNodePtr range = tv_xml_child(node, "range");
    static const char *const range_attrs[] = { "start", "end", NULL };
    if (range) {
        if (check_node(range, range_attrs, NULL) < 0 ||
            parse_ipv4_attr(range, "start", true, &def->range_start, NULL) < 0 ||
            parse_ipv4_attr(range, "end", true, &def->range_end, NULL) < 0)
            return -1;
        if (def->range_start > def->range_end)
            return bad(range, "start is after end");
        TvIPv4 mask = tv_ipv4_prefix_mask(def->prefix);
        if (!tv_ipv4_in_subnet(def->range_start, def->ip, def->prefix) ||
            !tv_ipv4_in_subnet(def->range_end, def->ip, def->prefix) ||
            def->range_start == (def->ip & mask) || def->range_end == (def->ip | ~mask)) {
            g_autofree char *net = tv_ipv4_format(def->ip & mask);
            return bad(range, "the range is not within the usable addresses of %s/%u", net,
                       def->prefix);
        }
        if (def->ip >= def->range_start && def->ip <= def->range_end)
            return bad(range, "the range includes the network's own address");
    }
    static const char *const host_attrs[] = { "mac", "name", "ip", NULL };
    for (xmlNodePtr h = node->children; h; h = h->next) {
        if (h->type != XML_ELEMENT_NODE || strcmp((const char *)h->name, "host") != 0)
            continue;
        if (check_node(h, host_attrs, NULL) < 0)
            return -1;
        TvNetDhcpHost host = { 0 };
        g_autofree char *mac = tv_xml_prop(h, "mac");
        host.name = tv_xml_prop(h, "name");
        if ((mac && tv_mac_parse(h, mac, &host.mac) < 0) ||
            (host.name && tv_conf_word_check(h, "name", host.name) < 0) ||
            parse_ipv4_attr(h, "ip", true, &host.ip, NULL) < 0) {
            g_free(host.mac);
            g_free(host.name);
            return -1;
        }
        def->hosts = g_renew(TvNetDhcpHost, def->hosts, def->nhosts + 1);
        def->hosts[def->nhosts++] = host;
        if (!host.mac && !host.name)
            return bad(h, "a host needs a 'mac' or a 'name'");
        if (!tv_ipv4_in_subnet(host.ip, def->ip, def->prefix) || host.ip == def->ip)
            return bad(h, "address outside the network or the network's own");
    }
    return 0;
}

static int parse_ip(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const attrs[] = { "address", "netmask", "prefix", "family", NULL };
    static const char *const children[] = { "dhcp", NULL };
    if (check_node(node, attrs, children) < 0)
        return -1;
    g_autofree char *family = tv_xml_prop(node, "family");
    if (family && strcmp(family, "ipv4") != 0)
        return bad(node, "address family '%s' is not supported; accepted: 'ipv4'", family);
    if (parse_ipv4_attr(node, "address", true, &def->ip, NULL) < 0)
        return -1;
    g_autofree char *netmask = tv_xml_prop(node, "netmask");
    g_autofree char *prefix = tv_xml_prop(node, "prefix");
    if (netmask && prefix)
        return bad(node, "give 'netmask' or 'prefix', not both");
    if (netmask) {
        TvIPv4 mask = 0;
        int p = tv_ipv4_parse(netmask, &mask) ? tv_ipv4_netmask_prefix(mask) : -1;
        if (p < 0)
            return bad(node, "invalid netmask '%s'", netmask);
        def->prefix = (unsigned)p;
    } else if (prefix) {
        unsigned p = 0;
        if (parse_uint_attr(node, "prefix", 0, 32, &p) < 0)
            return -1;
        def->prefix = p;
    } else {
        def->prefix = 24;
    }
    if (def->prefix < 8 || def->prefix > 30)
        return bad(node, "prefix /%u: expected /8 to /30", def->prefix);
    TvIPv4 mask = tv_ipv4_prefix_mask(def->prefix);
    if (def->ip == (def->ip & mask) || def->ip == (def->ip | ~mask))
        return bad(node, "address is the network's own or its broadcast address");
    def->has_ip = true;
    xmlNodePtr dhcp = tv_xml_child(node, "dhcp");
    return dhcp ? parse_dhcp(dhcp, def) : 0;
}

static int parse_dns(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const attrs[] = { "enable", NULL };
    static const char *const children[] = { "host", "forwarder", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0)
        return -1;
    g_autofree char *enable = tv_xml_prop(node, "enable");
    if (enable && strcmp(enable, "yes") != 0 && strcmp(enable, "no") != 0)
        return bad(node, "invalid value '%s' for attribute 'enable': expected 'yes' or 'no'",
                   enable);
    def->dns_disabled = enable && strcmp(enable, "no") == 0;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (def->dns_disabled)
            return bad(c, "DNS is disabled (enable='no'): no hosts or forwarders");
        if (strcmp((const char *)c->name, "forwarder") == 0) {
            static const char *const fattrs[] = { "addr", NULL };
            TvIPv4 addr = 0;
            if (check_node(c, fattrs, NULL) < 0 ||
                parse_ipv4_attr(c, "addr", true, &addr, NULL) < 0)
                return -1;
            def->forwarders = g_renew(TvIPv4, def->forwarders, def->nforwarders + 1);
            def->forwarders[def->nforwarders++] = addr;
            continue;
        }
        static const char *const hattrs[] = { "ip", NULL };
        static const char *const hchildren[] = { "hostname", NULL };
        TvNetDnsHost host = { 0 };
        if (tv_xml_check_attrs(c, hattrs) < 0 || tv_xml_check_children(c, hchildren, false) < 0 ||
            parse_ipv4_attr(c, "ip", true, &host.ip, NULL) < 0)
            return -1;
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (xmlNodePtr n = c->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            char *name = NULL;
            if (tv_conf_text(n, true, &name) < 0)
                return -1;
            g_ptr_array_add(names, name);
            if (tv_conf_word_check(n, NULL, name) < 0)
                return -1;
        }
        if (names->len == 0)
            return bad(c, "a DNS host needs at least one <hostname>");
        g_ptr_array_add(names, NULL);
        host.hostnames = (char **)g_ptr_array_steal(names, NULL);
        def->dns_hosts = g_renew(TvNetDnsHost, def->dns_hosts, def->ndns_hosts + 1);
        def->dns_hosts[def->ndns_hosts++] = host;
    }
    return 0;
}

/* <portgroup>: a unique name, at most one default; no settings (none of
 * libvirt's is implemented, and a setting silently dropped would be a lie). */
static int parse_portgroup(xmlNodePtr node, TvNetworkDef *def)
{
    static const char *const attrs[] = { "name", "default", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            return bad(c,
                       "<%s> in a <portgroup> is not supported: tagvirt's portgroups carry no "
                       "VLAN, bandwidth or virtual port settings (only name and default)",
                       (const char *)c->name);
    }
    g_autofree char *name = NULL;
    TvFeatureState dflt = TV_FEATURE_STATE_ABSENT;
    if (tv_conf_attr_required(node, "name", &name) < 0 ||
        tv_storage_name_check("portgroup", name) < 0 ||
        tv_conf_attr_yesno(node, "default", &dflt) < 0)
        return -1;
    for (size_t i = 0; i < def->nportgroups; i++) {
        const TvNetPortgroup *pg = &def->portgroups[i];
        if (strcmp(pg->name, name) == 0)
            return bad(node, "portgroup '%s' is defined twice; portgroup names must be unique",
                       name);
        if (pg->is_default && dflt == TV_FEATURE_STATE_ON)
            return bad(node, "portgroups '%s' and '%s' both have default='yes'; at most one may",
                       pg->name, name);
    }
    def->portgroups = g_renew(TvNetPortgroup, def->portgroups, def->nportgroups + 1);
    def->portgroups[def->nportgroups++] =
        (TvNetPortgroup){ .name = g_steal_pointer(&name),
                          .is_default = dflt == TV_FEATURE_STATE_ON };
    return 0;
}

static int check_consistent(xmlNodePtr root, TvNetworkDef *def)
{
    if (def->forward == TV_NET_FORWARD_BRIDGE) {
        if (!def->bridge)
            return bad(root, "forward mode 'bridge' needs <bridge name='...'/>, the host bridge "
                             "to attach to");
        if (def->has_ip || def->mac || def->mtu || def->domain || def->ndns_hosts ||
            def->nforwarders || def->forward_dev)
            return bad(root, "forward mode 'bridge' uses a host bridge as it is: no <ip>, <mac>, "
                             "<mtu>, <domain>, <dns> or forward 'dev'");
    }
    if (def->forward_dev && def->forward != TV_NET_FORWARD_NAT &&
        def->forward != TV_NET_FORWARD_ROUTE)
        return bad(root, "forward 'dev' is only for modes 'nat' and 'route'");
    if ((def->forward == TV_NET_FORWARD_NAT || def->forward == TV_NET_FORWARD_ROUTE) &&
        !def->has_ip)
        return bad(root, "forward mode '%s' needs an <ip> to %s",
                   tv_net_forward_mode_to_string(def->forward),
                   def->forward == TV_NET_FORWARD_NAT ? "translate" : "route");
    return 0;
}

TvNetworkDef *tv_network_def_parse(const char *xml, size_t len)
{
    g_autoptr(xmlDoc) doc = tv_xml_parse(xml, len, "network XML");
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "network") != 0) {
        tv_error_report(TV_FROM_NETWORK, TV_ERR_XML_ERROR,
                        "network XML must have <network> as its root element, not <%s>",
                        root ? (const char *)root->name : "");
        return NULL;
    }
    static const char *const attrs[] = { "connections", NULL }; /* output of libvirt: ignored */
    static const char *const children[] = { "name",   "uuid", "forward", "bridge",    "mac", "mtu",
                                            "domain", "dns",  "ip",      "portgroup", NULL };
    static const char *const once[] = { "name", "uuid",   "forward", "bridge", "mac",
                                        "mtu",  "domain", "dns",     NULL };
    if (tv_xml_check_attrs(root, attrs) < 0 || tv_xml_check_children(root, children, false) < 0 ||
        tv_conf_check_once(root, once) < 0)
        return NULL;
    if (tv_xml_child_count(root, "ip") > 1) {
        bad(root, "only one <ip> (IPv4) is supported");
        return NULL;
    }

    g_autoptr(TvNetworkDef) def = g_new0(TvNetworkDef, 1);
    def->stp = true;
    xmlNodePtr n = tv_xml_child(root, "name");
    if (!n) {
        bad(root, "missing element <name>");
        return NULL;
    }
    if (tv_conf_text(n, true, &def->name) < 0 || tv_network_name_check(def->name) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "uuid"))) {
        g_autofree char *text = NULL;
        if (tv_conf_text(n, true, &text) < 0)
            return NULL;
        if (tv_uuid_parse(text, def->uuid) < 0) {
            bad(n, "invalid UUID '%s'", text);
            return NULL;
        }
    } else {
        tv_uuid_generate(def->uuid);
    }
    if ((n = tv_xml_child(root, "forward")) && parse_forward(n, def) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "bridge")) && parse_bridge(n, def) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "mac"))) {
        static const char *const mac_attrs[] = { "address", NULL };
        g_autofree char *mac = NULL;
        if (check_node(n, mac_attrs, NULL) < 0 || tv_conf_attr_required(n, "address", &mac) < 0 ||
            tv_mac_parse(n, mac, &def->mac) < 0)
            return NULL;
    }
    if ((n = tv_xml_child(root, "mtu"))) {
        static const char *const mtu_attrs[] = { "size", NULL };
        if (check_node(n, mtu_attrs, NULL) < 0 ||
            parse_uint_attr(n, "size", 68, 65535, &def->mtu) < 0)
            return NULL;
    }
    if ((n = tv_xml_child(root, "domain"))) {
        static const char *const domain_attrs[] = { "name", NULL };
        if (check_node(n, domain_attrs, NULL) < 0 ||
            tv_conf_attr_required(n, "name", &def->domain) < 0 ||
            tv_conf_word_check(n, "name", def->domain) < 0)
            return NULL;
    }
    if ((n = tv_xml_child(root, "ip")) && parse_ip(n, def) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "dns")) && parse_dns(n, def) < 0)
        return NULL;
    for (n = root->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, "portgroup") == 0 &&
            parse_portgroup(n, def) < 0)
            return NULL;
    }
    if (check_consistent(root, def) < 0)
        return NULL;
    return g_steal_pointer(&def);
}

char *tv_network_def_format(const TvNetworkDef *def)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(def->uuid, uuid);
    g_autofree char *name = tv_xml_esc(def->name);
    tv_xml_line(&w, "<network>");
    w.indent++;
    tv_xml_line(&w, "<name>%s</name>", name);
    tv_xml_line(&w, "<uuid>%s</uuid>", uuid);
    if (def->forward) {
        GString *attrs = g_string_new(NULL);
        g_string_append_printf(attrs, " mode='%s'", tv_net_forward_mode_to_string(def->forward));
        if (def->forward_dev)
            g_string_append_printf(attrs, " dev='%s'", def->forward_dev);
        if (def->nat_port_start) {
            tv_xml_line(&w, "<forward%s>", attrs->str);
            tv_xml_line(&w, "  <nat>");
            tv_xml_line(&w, "    <port start='%u' end='%u'/>", def->nat_port_start,
                        def->nat_port_end);
            tv_xml_line(&w, "  </nat>");
            tv_xml_line(&w, "</forward>");
        } else {
            tv_xml_line(&w, "<forward%s/>", attrs->str);
        }
        g_string_free(attrs, TRUE);
    }
    if (def->bridge && def->forward == TV_NET_FORWARD_BRIDGE)
        tv_xml_line(&w, "<bridge name='%s'/>", def->bridge);
    else if (def->bridge)
        tv_xml_line(&w, "<bridge name='%s' stp='%s' delay='%u'/>", def->bridge,
                    def->stp ? "on" : "off", def->delay);
    if (def->mtu)
        tv_xml_line(&w, "<mtu size='%u'/>", def->mtu);
    if (def->mac)
        tv_xml_line(&w, "<mac address='%s'/>", def->mac);
    if (def->domain)
        tv_xml_line(&w, "<domain name='%s'/>", def->domain);
    if (def->dns_disabled) {
        tv_xml_line(&w, "<dns enable='no'/>");
    } else if (def->ndns_hosts || def->nforwarders) {
        tv_xml_line(&w, "<dns>");
        w.indent++;
        for (size_t i = 0; i < def->nforwarders; i++) {
            g_autofree char *a = tv_ipv4_format(def->forwarders[i]);
            tv_xml_line(&w, "<forwarder addr='%s'/>", a);
        }
        for (size_t i = 0; i < def->ndns_hosts; i++) {
            g_autofree char *a = tv_ipv4_format(def->dns_hosts[i].ip);
            tv_xml_line(&w, "<host ip='%s'>", a);
            for (char **h = def->dns_hosts[i].hostnames; *h; h++)
                tv_xml_line(&w, "  <hostname>%s</hostname>", *h);
            tv_xml_line(&w, "</host>");
        }
        w.indent--;
        tv_xml_line(&w, "</dns>");
    }
    if (def->has_ip) {
        g_autofree char *ip = tv_ipv4_format(def->ip);
        g_autofree char *mask = tv_ipv4_format(tv_ipv4_prefix_mask(def->prefix));
        if (!def->dhcp) {
            tv_xml_line(&w, "<ip address='%s' netmask='%s'/>", ip, mask);
        } else {
            tv_xml_line(&w, "<ip address='%s' netmask='%s'>", ip, mask);
            w.indent++;
            tv_xml_line(&w, "<dhcp>");
            w.indent++;
            if (def->range_start) {
                g_autofree char *a = tv_ipv4_format(def->range_start);
                g_autofree char *b = tv_ipv4_format(def->range_end);
                tv_xml_line(&w, "<range start='%s' end='%s'/>", a, b);
            }
            for (size_t i = 0; i < def->nhosts; i++) {
                const TvNetDhcpHost *h = &def->hosts[i];
                g_autofree char *a = tv_ipv4_format(h->ip);
                g_autofree char *mac = h->mac ? g_strdup_printf(" mac='%s'", h->mac) : g_strdup("");
                g_autofree char *hn =
                    h->name ? g_strdup_printf(" name='%s'", h->name) : g_strdup("");
                tv_xml_line(&w, "<host%s%s ip='%s'/>", mac, hn, a);
            }
            w.indent--;
            tv_xml_line(&w, "</dhcp>");
            w.indent--;
            tv_xml_line(&w, "</ip>");
        }
    }
    for (size_t i = 0; i < def->nportgroups; i++) {
        g_autofree char *pg = tv_xml_esc(def->portgroups[i].name);
        tv_xml_line(&w, "<portgroup name='%s'%s/>", pg,
                    def->portgroups[i].is_default ? " default='yes'" : "");
    }
    w.indent--;
    tv_xml_line(&w, "</network>");
    return tv_xml_writer_finish(&w);
}
