/* <apic/>, <pae/>, <hap/>, <vmcoreinfo/>: see domain_features_compat.h. */
#include "domain_conf.h"
#include "domain_parse_priv.h"

static const char *const no_children[] = { NULL };

static int parse_presence(xmlNodePtr node, int *out)
{
    static const char *const no_attrs[] = { NULL };
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0)
        return -1;
    *out = TV_FEATURE_STATE_ON;
    return 0;
}

/* state='on|off'; the bare element means on. */
static int parse_state(xmlNodePtr node, int *out)
{
    static const char *const attrs[] = { "state", NULL };
    int state = TV_FEATURE_STATE_ON;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_enum(node, "state", false, tv_feature_state_from_string, tv_feature_state_list,
                          &state) < 0)
        return -1;
    *out = state;
    return 0;
}

int tv_domain_features_compat_parse(xmlNodePtr features, TvDomainFeaturesCompat *out)
{
    xmlNodePtr child;
    if ((child = tv_xml_child(features, "apic")) && parse_presence(child, &out->apic) < 0)
        return -1;
    if ((child = tv_xml_child(features, "pae")) && parse_presence(child, &out->pae) < 0)
        return -1;
    if ((child = tv_xml_child(features, "hap")) && parse_state(child, &out->hap) < 0)
        return -1;
    if ((child = tv_xml_child(features, "vmcoreinfo")) && parse_state(child, &out->vmcoreinfo) < 0)
        return -1;
    return 0;
}

bool tv_domain_features_compat_any(const TvDomainFeaturesCompat *f)
{
    return f->apic || f->pae || f->hap || f->vmcoreinfo;
}

void tv_domain_features_compat_format_x86(TvXmlWriter *w, const TvDomainFeaturesCompat *f)
{
    if (f->apic)
        tv_xml_line(w, "<apic/>");
    if (f->pae)
        tv_xml_line(w, "<pae/>");
    if (f->hap)
        tv_xml_line(w, "<hap state='%s'/>", tv_feature_state_to_string(f->hap));
}

void tv_domain_features_compat_format_vmcoreinfo(TvXmlWriter *w, const TvDomainFeaturesCompat *f)
{
    if (f->vmcoreinfo)
        tv_xml_line(w, "<vmcoreinfo state='%s'/>", tv_feature_state_to_string(f->vmcoreinfo));
}
