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

bool tv_mte_request_is_off(TvMteRequest request)
{
    return request == TV_MTE_REQUEST_ABSENT || request == TV_MTE_REQUEST_OFF;
}

/* The one definition of each level (mte.md): a level names one guest ABI. */
static const TvMteAbi level_defs[] = {
    [0] = { .valid = true, .mte = 2 },
    [1] = { .valid = true, .mte = 3 },
    [2] = { .valid = true, .mte = 3, .mtex = 1, .mtefar = 1, .mtestoreonly = 1, .mteperm = 1 },
};
G_STATIC_ASSERT(G_N_ELEMENTS(level_defs) == TV_MTE_LEVEL_MAX - TV_MTE_LEVEL_MIN + 1);

const TvMteAbi *tv_mte_level_abi(int level)
{
    if (level < TV_MTE_LEVEL_MIN || level > TV_MTE_LEVEL_MAX)
        return NULL;
    return &level_defs[level - TV_MTE_LEVEL_MIN];
}

static bool fields_equal(const TvMteAbi *a, const TvMteAbi *b)
{
    return a->mte == b->mte && a->mte_frac == b->mte_frac && a->mtex == b->mtex &&
           a->mtefar == b->mtefar && a->mtestoreonly == b->mtestoreonly && a->mteperm == b->mteperm;
}

int tv_mte_abi_level(const TvMteAbi *abi)
{
    static const TvMteAbi nothing = { .valid = true };
    if (!abi->valid)
        return -1;
    for (int level = TV_MTE_LEVEL_MIN; level <= TV_MTE_LEVEL_MAX; level++) {
        if (fields_equal(abi, tv_mte_level_abi(level)))
            return level;
    }
    return fields_equal(abi, &nothing) ? 0 : -1;
}

bool tv_mte_abi_satisfies(const TvMteAbi *abi, int level)
{
    const TvMteAbi *def = tv_mte_level_abi(level);
    return abi->valid && def && fields_equal(abi, def);
}

bool tv_mte_abi_has_tag_storage(const TvMteAbi *abi)
{
    return abi->valid && abi->mte >= 2;
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
    return a->valid == b->valid && fields_equal(a, b);
}

char *tv_mte_abi_describe(const TvMteAbi *abi)
{
    if (!abi->valid)
        return g_strdup("(not probed)");
    return g_strdup_printf("MTE=%u MTE_frac=%u MTEX=%u MTEFAR=%u MTESTOREONLY=%u MTEPERM=%u",
                           abi->mte, abi->mte_frac, abi->mtex, abi->mtefar, abi->mtestoreonly,
                           abi->mteperm);
}

char *tv_mte_abi_summary(const TvMteAbi *abi)
{
    if (!abi->valid)
        return g_strdup("(not probed)");
    int level = tv_mte_abi_level(abi);
    if (level >= TV_MTE_LEVEL_MIN)
        return g_strdup_printf("level %d", level);
    if (level == 0)
        return g_strdup("0 (no MTE)");
    GString *s = g_string_new(NULL);
    if (abi->mte == 1)
        g_string_append(s, "1 (instructions only, no tag storage)");
    else
        g_string_append_printf(s, "MTE=%u", abi->mte);
    const struct {
        const char *name;
        uint8_t value;
    } rest[] = { { "MTE_frac", abi->mte_frac },
                 { "MTEX", abi->mtex },
                 { "MTEFAR", abi->mtefar },
                 { "MTESTOREONLY", abi->mtestoreonly },
                 { "MTEPERM", abi->mteperm } };
    bool first = true;
    for (size_t i = 0; i < G_N_ELEMENTS(rest); i++) {
        if (!rest[i].value)
            continue;
        g_string_append_printf(s, "%s%s=%u", first ? " with " : " ", rest[i].name, rest[i].value);
        first = false;
    }
    if (abi->mte >= 2)
        g_string_append(s, " (matches no level)");
    return g_string_free(s, FALSE);
}

char *tv_mte_abi_format_attrs(const TvMteAbi *abi)
{
    return g_strdup_printf("mte='%u' mte_frac='%u' mtex='%u' mtefar='%u' mtestoreonly='%u' "
                           "mteperm='%u'",
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

int tv_mte_abi_parse_attrs(xmlNodePtr node, TvMteAbi *abi)
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
    static const char *const children[] = { "abi", NULL };

    if (tv_xml_check_attrs(node, status ? attrs_status : attrs_user) < 0 ||
        tv_xml_check_children(node, children, false) < 0)
        return -1;

    g_autofree char *state = tv_xml_prop(node, "state");
    g_autofree char *version = tv_xml_prop(node, "version");
    mte->level = -1;

    /* status XML: 'absent' keeps "no <mte> was written" for a started guest */
    bool absent = status && g_strcmp0(state, "absent") == 0;
    if (state && !absent && strcmp(state, "on") != 0 && strcmp(state, "off") != 0) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'state' of <mte>: expected 'on' or "
                        "'off'",
                        state);
        return -1;
    }
    if (absent || (state && strcmp(state, "off") == 0)) {
        if (version) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "<mte state='off'/> cannot have a version (version='%s'): remove "
                            "'version' or use state='on'",
                            version);
            return -1;
        }
        mte->request = absent ? TV_MTE_REQUEST_ABSENT : TV_MTE_REQUEST_OFF;
    } else if (version) {
        if (parse_version(node, version, &mte->request) < 0)
            return -1;
    } else {
        mte->request = TV_MTE_REQUEST_DEFAULT;
    }

    xmlNodePtr abi_node = tv_xml_child(node, "abi");
    TvMteAbi abi = { 0 };
    /* in user XML the live XML's <abi> is checked and dropped: it is output */
    if (abi_node && tv_mte_abi_parse_attrs(abi_node, &abi) < 0)
        return -1;
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
        mte->abi = abi;
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

static void format_with_abi(TvXmlWriter *w, const char *open, const TvMteAbi *abi)
{
    if (!abi->valid) {
        tv_xml_line(w, "<mte%s/>", open);
        return;
    }
    g_autofree char *attrs = tv_mte_abi_format_attrs(abi);
    tv_xml_line(w, "<mte%s>", open);
    w->indent++;
    tv_xml_line(w, "<abi %s/>", attrs);
    w->indent--;
    tv_xml_line(w, "</mte>");
}

bool tv_domain_mte_formats_element(const TvDomainMte *mte, TvDomainMteFormat how)
{
    if (mte->request != TV_MTE_REQUEST_ABSENT)
        return true;
    /* a started guest without <mte>: live XML says what it sees, status keeps it */
    return mte->level >= 0 && (how == TV_DOMAIN_MTE_FORMAT_STATUS ||
                               (how == TV_DOMAIN_MTE_FORMAT_LIVE && mte->abi.valid));
}

void tv_domain_mte_format(TvXmlWriter *w, const TvDomainMte *mte, TvDomainMteFormat how)
{
    if (!tv_domain_mte_formats_element(mte, how))
        return;
    bool started = mte->level >= 0;
    bool off = tv_mte_request_is_off(mte->request);
    switch (how) {
    case TV_DOMAIN_MTE_FORMAT_STATUS: {
        /* what the user wrote, the resolved level and the recorded ABI */
        const char *v = request_version_string(mte->request);
        GString *open = g_string_new(NULL);
        if (mte->request == TV_MTE_REQUEST_ABSENT)
            g_string_append(open, " state='absent'");
        else if (mte->request == TV_MTE_REQUEST_OFF)
            g_string_append(open, " state='off'");
        else if (v)
            g_string_append_printf(open, " version='%s'", v);
        if (started)
            g_string_append_printf(open, " level='%d'", mte->level);
        g_autofree char *all = g_string_free(open, FALSE);
        format_with_abi(w, all, &mte->abi);
        return;
    }
    case TV_DOMAIN_MTE_FORMAT_LIVE:
    case TV_DOMAIN_MTE_FORMAT_MIGRATABLE:
        if (started && (off || mte->level == 0)) {
            /* what an "off" guest sees is not always 0 (QEMU 8.2 and later) */
            if (how == TV_DOMAIN_MTE_FORMAT_LIVE)
                format_with_abi(w, " state='off'", &mte->abi);
            else
                tv_xml_line(w, "<mte state='off'/>");
            return;
        }
        if (started) {
            tv_xml_line(w, "<mte version='%d'/>", mte->level);
            return;
        }
        break;
    case TV_DOMAIN_MTE_FORMAT_INACTIVE:
        break;
    }
    if (off) {
        tv_xml_line(w, "<mte state='off'/>");
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
    if (tv_mte_request_is_off(mte->request))
        return 0;
    return tv_mte_request_level(mte->request); /* 0 when still abstract */
}

bool tv_domain_mte_check_abi_stability(const TvDomainMte *src, const TvDomainMte *dst)
{
    int a = effective_level(src);
    int b = effective_level(dst);
    bool src_on = !tv_mte_request_is_off(src->request);
    bool dst_on = !tv_mte_request_is_off(dst->request);
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
    /* a recorded ABI must be the level's, field by field (a version-3 guest
     * must not gain the FEAT_MTE4 parts) */
    const TvDomainMte *sides[] = { src, dst };
    for (size_t i = 0; i < G_N_ELEMENTS(sides); i++) {
        const TvMteAbi *abi = &sides[i]->abi;
        if (a >= TV_MTE_LEVEL_MIN && abi->valid && !tv_mte_abi_satisfies(abi, a)) {
            g_autofree char *got = tv_mte_abi_describe(abi);
            g_autofree char *want = tv_mte_abi_describe(tv_mte_level_abi(a));
            tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                            "guest ABI: the %s guest sees %s, which is not MTE version %d (%s)",
                            i ? "target" : "source", got, a, want);
            return false;
        }
    }
    if (src->abi.valid && dst->abi.valid && !tv_mte_abi_equal(&src->abi, &dst->abi)) {
        g_autofree char *s = tv_mte_abi_describe(&src->abi);
        g_autofree char *d = tv_mte_abi_describe(&dst->abi);
        tv_error_report(TV_FROM_DOMAIN, TV_ERR_CONFIG_UNSUPPORTED,
                        "guest ABI: target guest sees %s, source %s", d, s);
        return false;
    }
    return true;
}
