#include "domain_mte.h"
#include "tv_error.h"

#include <string.h>

int tv_mte_request_level(TvMteRequest request)
{
    switch (request) {
    case TV_MTE_REQUEST_2:
        return 2;
    case TV_MTE_REQUEST_3:
        return 3;
    case TV_MTE_REQUEST_4:
        return 4;
    case TV_MTE_REQUEST_ABSENT:
    case TV_MTE_REQUEST_OFF:
    case TV_MTE_REQUEST_DEFAULT:
    case TV_MTE_REQUEST_HOST:
    case TV_MTE_REQUEST_MAX:
    case TV_MTE_REQUEST_LAST:
        break;
    }
    return 0;
}

const char *tv_mte_request_describe(TvMteRequest request)
{
    switch (request) {
    case TV_MTE_REQUEST_ABSENT:
        return "no <mte>";
    case TV_MTE_REQUEST_OFF:
        return "<mte state='off'/>";
    case TV_MTE_REQUEST_DEFAULT:
        return "<mte/>";
    case TV_MTE_REQUEST_2:
        return "<mte version='2'/>";
    case TV_MTE_REQUEST_3:
        return "<mte version='3'/>";
    case TV_MTE_REQUEST_4:
        return "<mte version='4'/>";
    case TV_MTE_REQUEST_HOST:
        return "<mte version='host'/>";
    case TV_MTE_REQUEST_MAX:
        return "<mte version='max'/>";
    case TV_MTE_REQUEST_LAST:
        break;
    }
    return "?";
}

int tv_mte_abi_level(const TvMteAbi *abi)
{
    if (abi->mte >= 3 && abi->mtex >= 1 && abi->mtefar >= 1 && abi->mtestoreonly >= 1)
        return 4;
    return abi->mte;
}

bool tv_mte_abi_satisfies(const TvMteAbi *abi, int level)
{
    if (!abi->valid)
        return false;
    if (level == 4)
        return tv_mte_abi_level(abi) == 4;
    return abi->mte == level;
}

void tv_mte_abi_from_regs(uint64_t pfr1, uint64_t pfr2, TvMteAbi *abi)
{
    abi->valid = true;
    abi->mte = (pfr1 >> 8) & 0xf;
    abi->mte_frac = (pfr1 >> 40) & 0xf;
    abi->mtex = (pfr1 >> 52) & 0xf;
    abi->mtefar = (pfr2 >> 8) & 0xf;
    abi->mtestoreonly = (pfr2 >> 4) & 0xf;
    abi->mteperm = pfr2 & 0xf;
}

bool tv_mte_abi_equal(const TvMteAbi *a, const TvMteAbi *b)
{
    return a->valid == b->valid && a->mte == b->mte && a->mte_frac == b->mte_frac &&
           a->mtex == b->mtex && a->mtefar == b->mtefar && a->mtestoreonly == b->mtestoreonly &&
           a->mteperm == b->mteperm;
}

char *tv_mte_abi_describe(const TvMteAbi *abi)
{
    if (!abi->valid)
        return g_strdup("(not probed)");
    return g_strdup_printf("MTE=%u MTE_frac=%u MTEX=%u MTEFAR=%u MTESTOREONLY=%u MTEPERM=%u",
                           abi->mte, abi->mte_frac, abi->mtex, abi->mtefar, abi->mtestoreonly,
                           abi->mteperm);
}

static int parse_version(xmlNodePtr node, const char *version, TvMteRequest *out)
{
    static const struct {
        const char *name;
        TvMteRequest request;
    } versions[] = {
        { "2", TV_MTE_REQUEST_2 },       { "3", TV_MTE_REQUEST_3 },     { "4", TV_MTE_REQUEST_4 },
        { "host", TV_MTE_REQUEST_HOST }, { "max", TV_MTE_REQUEST_MAX },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(versions); i++) {
        if (strcmp(versions[i].name, version) == 0) {
            *out = versions[i].request;
            return 0;
        }
    }
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute 'version' of <mte>: expected '2', '3', "
                    "'4', 'host' or 'max'",
                    version);
    return -1;
}

static int parse_u8_field(xmlNodePtr node, const char *attr, uint8_t *out)
{
    g_autofree char *s = tv_xml_prop(node, attr);
    unsigned long long v = 0;
    g_autofree char *what = g_strdup_printf("attribute '%s' of <abi> in <mte>", attr);
    if (!s) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing %s", what);
        return -1;
    }
    if (tv_parse_ull(s, 0, 15, what, &v) < 0)
        return -1;
    *out = (uint8_t)v;
    return 0;
}

/* Status XML only: the recorded guest ABI, <abi mte='3' .../>. */
static int parse_abi(xmlNodePtr node, TvMteAbi *abi)
{
    static const char *const attrs[] = { "mte",          "mte_frac", "mtex", "mtefar",
                                         "mtestoreonly", "mteperm",  NULL };
    if (tv_xml_check_attrs(node, attrs) < 0)
        return -1;
    if (parse_u8_field(node, "mte", &abi->mte) < 0 ||
        parse_u8_field(node, "mte_frac", &abi->mte_frac) < 0 ||
        parse_u8_field(node, "mtex", &abi->mtex) < 0 ||
        parse_u8_field(node, "mtefar", &abi->mtefar) < 0 ||
        parse_u8_field(node, "mtestoreonly", &abi->mtestoreonly) < 0 ||
        parse_u8_field(node, "mteperm", &abi->mteperm) < 0)
        return -1;
    abi->valid = true;
    return 0;
}

int tv_domain_mte_parse(xmlNodePtr node, TvDomainMte *mte, bool status)
{
    static const char *const attrs_user[] = { "state", "version", NULL };
    static const char *const attrs_status[] = { "state", "version", "level", NULL };
    static const char *const children_status[] = { "abi", NULL };
    static const char *const children_none[] = { NULL };

    if (tv_xml_check_attrs(node, status ? attrs_status : attrs_user) < 0 ||
        tv_xml_check_children(node, status ? children_status : children_none, false) < 0)
        return -1;

    g_autofree char *state = tv_xml_prop(node, "state");
    g_autofree char *version = tv_xml_prop(node, "version");
    mte->level = -1;

    if (state && strcmp(state, "on") != 0 && strcmp(state, "off") != 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'state' of <mte>: expected 'on' or "
                        "'off'",
                        state);
        return -1;
    }
    if (state && strcmp(state, "off") == 0) {
        if (version) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "<mte state='off'/> cannot have a version (version='%s'): remove "
                            "'version' or use state='on'",
                            version);
            return -1;
        }
        mte->request = TV_MTE_REQUEST_OFF;
    } else if (version) {
        if (parse_version(node, version, &mte->request) < 0)
            return -1;
    } else {
        mte->request = TV_MTE_REQUEST_DEFAULT;
    }

    if (status) {
        g_autofree char *level = tv_xml_prop(node, "level");
        unsigned long long v = 0;
        if (level) {
            if (tv_parse_ull(level, 0, 4, "attribute 'level' of <mte>", &v) < 0)
                return -1;
            if (v == 1) { /* level 1 has no tag storage: it is never a resolved level */
                tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                                "invalid value '1' for attribute 'level' of <mte>: expected 0, "
                                "2, 3 or 4");
                return -1;
            }
            mte->level = (int)v;
        }
        xmlNodePtr abi = tv_xml_child(node, "abi");
        if (abi && parse_abi(abi, &mte->abi) < 0)
            return -1;
    }
    return 0;
}

static const char *request_version_string(TvMteRequest request)
{
    switch (request) {
    case TV_MTE_REQUEST_2:
        return "2";
    case TV_MTE_REQUEST_3:
        return "3";
    case TV_MTE_REQUEST_4:
        return "4";
    case TV_MTE_REQUEST_HOST:
        return "host";
    case TV_MTE_REQUEST_MAX:
        return "max";
    case TV_MTE_REQUEST_ABSENT:
    case TV_MTE_REQUEST_OFF:
    case TV_MTE_REQUEST_DEFAULT:
    case TV_MTE_REQUEST_LAST:
        break;
    }
    return NULL;
}

void tv_domain_mte_format(TvXmlWriter *w, const TvDomainMte *mte, bool live, bool status)
{
    if (mte->request == TV_MTE_REQUEST_ABSENT)
        return;
    if (mte->request == TV_MTE_REQUEST_OFF) {
        tv_xml_line(w, "<mte state='off'/>");
        return;
    }
    if (status) {
        /* what the user wrote, the resolved level and the recorded ABI */
        const char *v = request_version_string(mte->request);
        g_autofree char *version = v ? g_strdup_printf(" version='%s'", v) : g_strdup("");
        g_autofree char *level =
            mte->level >= 0 ? g_strdup_printf(" level='%d'", mte->level) : g_strdup("");
        if (!mte->abi.valid) {
            tv_xml_line(w, "<mte%s%s/>", version, level);
            return;
        }
        tv_xml_line(w, "<mte%s%s>", version, level);
        w->indent++;
        tv_xml_line(w,
                    "<abi mte='%u' mte_frac='%u' mtex='%u' mtefar='%u' mtestoreonly='%u' "
                    "mteperm='%u'/>",
                    mte->abi.mte, mte->abi.mte_frac, mte->abi.mtex, mte->abi.mtefar,
                    mte->abi.mtestoreonly, mte->abi.mteperm);
        w->indent--;
        tv_xml_line(w, "</mte>");
        return;
    }
    if (live && mte->level >= 0) {
        if (mte->level == 0)
            tv_xml_line(w, "<mte state='off'/>");
        else
            tv_xml_line(w, "<mte version='%d'/>", mte->level);
        return;
    }
    const char *v = request_version_string(mte->request);
    if (v)
        tv_xml_line(w, "<mte version='%s'/>", v);
    else
        tv_xml_line(w, "<mte/>");
}

static int effective_level(const TvDomainMte *mte)
{
    if (mte->level >= 0)
        return mte->level;
    if (mte->request == TV_MTE_REQUEST_ABSENT || mte->request == TV_MTE_REQUEST_OFF)
        return 0;
    return tv_mte_request_level(mte->request); /* 0 when still abstract */
}

bool tv_domain_mte_check_abi_stability(const TvDomainMte *src, const TvDomainMte *dst)
{
    int a = effective_level(src);
    int b = effective_level(dst);
    bool src_on = src->request != TV_MTE_REQUEST_ABSENT && src->request != TV_MTE_REQUEST_OFF;
    bool dst_on = dst->request != TV_MTE_REQUEST_ABSENT && dst->request != TV_MTE_REQUEST_OFF;
    if (src_on != dst_on) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: target MTE state '%s' does not match source '%s'",
                        dst_on ? "on" : "off", src_on ? "on" : "off");
        return false;
    }
    if (src_on && (a == 0 || b == 0)) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: MTE version must be a concrete number on both sides (source "
                        "%s, target %s)",
                        tv_mte_request_describe(src->request),
                        tv_mte_request_describe(dst->request));
        return false;
    }
    if (a != b) {
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: target MTE version %d does not match source %d", b, a);
        return false;
    }
    return true;
}
