/* Sizes and permissions in pool and volume XML. */
#include "domain_parse_priv.h"
#include "storage_conf_priv.h"
#include "tv_error.h"

#include <string.h>

/* libvirt's scaled integers: "b", "byte", "bytes", or one of k m g t p e
 * alone or with "iB" (powers of 1024) or with "B" (powers of 1000); letters
 * in either case.  0 when unit is none of them. */
static unsigned long long unit_scale(const char *unit)
{
    if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
        g_ascii_strcasecmp(unit, "bytes") == 0)
        return 1;
    const char *letters = "kmgtpe";
    const char *at = *unit ? strchr(letters, g_ascii_tolower(unit[0])) : NULL;
    if (!at)
        return 0;
    bool decimal = false;
    if (g_ascii_strcasecmp(unit + 1, "b") == 0)
        decimal = true;
    else if (unit[1] && g_ascii_strcasecmp(unit + 1, "ib") != 0)
        return 0;
    unsigned long long scale = 1;
    for (const char *l = letters; l <= at; l++)
        scale *= decimal ? 1000ULL : 1024ULL;
    return scale;
}

int tv_storage_size_parse(xmlNodePtr node, unsigned long long *bytes)
{
    static const char *const attrs[] = { "unit", NULL };
    static const char *const none[] = { NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, true) < 0)
        return -1;
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *unit = tv_xml_prop(node, "unit");
    unsigned long long scale = unit ? unit_scale(unit) : 1;
    if (!scale) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'unit' of %s: expected 'bytes', or "
                        "k, M, G, T, P, E alone or with 'iB' (powers of 1024) or with 'B' "
                        "(powers of 1000)",
                        unit, path);
        return -1;
    }
    g_autofree char *text = tv_xml_text(node);
    unsigned long long value = 0;
    if (tv_conf_number(node, NULL, text, 0, G_MAXUINT64, &value) < 0)
        return -1;
    if (value > TV_STORAGE_SIZE_MAX / scale) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "%s of %s %s is too large: at most %llu bytes", path, text,
                        unit ? unit : "bytes", TV_STORAGE_SIZE_MAX);
        return -1;
    }
    *bytes = value * scale;
    return 0;
}

static int parse_id(xmlNodePtr node, long long *out)
{
    g_autofree char *text = NULL;
    if (tv_conf_text(node, true, &text) < 0)
        return -1;
    if (strcmp(text, "-1") == 0) {
        *out = -1;
        return 0;
    }
    unsigned long long v = 0;
    if (tv_conf_number(node, NULL, text, 0, G_MAXUINT32 - 1, &v) < 0)
        return -1;
    *out = (long long)v;
    return 0;
}

int tv_storage_perms_parse(xmlNodePtr node, TvStoragePerms *perms)
{
    static const char *const none[] = { NULL };
    static const char *const children[] = { "mode", "owner", "group", NULL };
    if (tv_xml_check_attrs(node, none) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0)
        return -1;
    xmlNodePtr mode = tv_xml_child(node, "mode");
    if (mode) {
        g_autofree char *text = NULL;
        if (tv_conf_text(mode, true, &text) < 0)
            return -1;
        char *end = NULL;
        guint64 v = g_ascii_strtoull(text, &end, 8);
        bool octal = *text && *end == '\0';
        for (const char *p = text; octal && *p; p++)
            octal = *p >= '0' && *p <= '7';
        if (!octal || v == 0 || v > 07777) {
            g_autofree char *path = tv_xml_node_path(mode);
            tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                            "invalid value '%s' in %s: expected an octal mode from 0001 to 7777",
                            text, path);
            return -1;
        }
        perms->mode = (unsigned)v;
    }
    xmlNodePtr owner = tv_xml_child(node, "owner");
    if (owner && parse_id(owner, &perms->owner) < 0)
        return -1;
    xmlNodePtr group = tv_xml_child(node, "group");
    if (group && parse_id(group, &perms->group) < 0)
        return -1;
    return 0;
}

void tv_storage_perms_format(TvXmlWriter *w, const TvStoragePerms *perms)
{
    if (!perms->mode && perms->owner < 0 && perms->group < 0)
        return;
    tv_xml_line(w, "<permissions>");
    w->indent++;
    if (perms->mode)
        tv_xml_line(w, "<mode>%04o</mode>", perms->mode);
    tv_xml_line(w, "<owner>%lld</owner>", perms->owner);
    tv_xml_line(w, "<group>%lld</group>", perms->group);
    w->indent--;
    tv_xml_line(w, "</permissions>");
}
