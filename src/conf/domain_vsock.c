/* <vsock model='virtio'><cid auto='yes|no' address='N'/></vsock>: one
 * virtio socket device per guest.  auto='yes' (or no <cid>) takes a free
 * CID at start (the running domain's XML shows it); auto='no' needs the
 * address.  CIDs 0 to 2 belong to the hypervisor, loopback and the host. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *const no_children[] = { NULL };

static int parse_cid(xmlNodePtr node, TvDomainVsock *v, unsigned flags)
{
    static const char *const attrs[] = { "auto", "address", NULL };
    TvFeatureState autostate = TV_FEATURE_STATE_ABSENT;
    g_autofree char *address = tv_xml_prop(node, "address");
    unsigned long long cid = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_yesno(node, "auto", &autostate) < 0 ||
        (address &&
         tv_conf_number(node, "address", address, TV_VSOCK_CID_MIN, TV_VSOCK_CID_MAX, &cid) < 0))
        return -1;
    v->cid_written = true;
    v->auto_written = autostate != TV_FEATURE_STATE_ABSENT;
    v->auto_cid = autostate == TV_FEATURE_STATE_ON;
    v->cid = (unsigned)cid;
    if (!v->auto_cid && !v->cid) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing attribute 'address' of %s: without auto='yes' the guest's CID "
                        "must be given (%u to %u)",
                        path, TV_VSOCK_CID_MIN, TV_VSOCK_CID_MAX);
        return -1;
    }
    (void)flags;
    return 0;
}

int tv_domain_parse_vsock(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "cid", "address", "alias", NULL };
    g_autofree char *alias = NULL;
    if (devs->vsock) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element <vsock> appears twice in /domain/devices: a guest has at most "
                        "one vsock device");
        return -1;
    }
    TvDomainVsock *v = g_new0(TvDomainVsock, 1);
    devs->vsock = v;
    v->auto_cid = true;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_fixed(node, "model", false, "virtio") < 0)
        return -1;
    xmlNodePtr cid = tv_xml_child(node, "cid");
    if (cid && parse_cid(cid, v, flags) < 0)
        return -1;
    if (tv_domain_alias_parse_child(node, flags & ~TV_DOMAIN_PARSE_STATUS, &alias) < 0)
        return -1;
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &v->address);
}

void tv_domain_format_vsock(TvXmlWriter *w, const TvDomainVsock *v)
{
    if (!v->cid_written && !v->cid && v->address.type == TV_ADDRESS_NONE) {
        tv_xml_line(w, "<vsock model='virtio'/>");
        return;
    }
    tv_xml_line(w, "<vsock model='virtio'>");
    w->indent++;
    if (v->cid_written || v->cid) {
        GString *cid = g_string_new("<cid");
        if (v->auto_written || (v->auto_cid && v->cid))
            g_string_append_printf(cid, " auto='%s'", v->auto_cid ? "yes" : "no");
        if (v->cid)
            g_string_append_printf(cid, " address='%u'", v->cid);
        g_string_append(cid, "/>");
        tv_xml_line(w, "%s", cid->str);
        g_string_free(cid, TRUE);
    }
    tv_domain_address_format(w, &v->address);
    w->indent--;
    tv_xml_line(w, "</vsock>");
}
