/* Helpers shared by the domain XML parser: every error names the element by
 * its path, the value, and what would be accepted. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

int tv_conf_check_once(xmlNodePtr node, const char *const *once)
{
    for (; *once; once++) {
        unsigned n = tv_xml_child_count(node, *once);
        if (n > 1) {
            g_autofree char *path = tv_xml_node_path(node);
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "element <%s> appears %u times in %s: only one is allowed", *once, n,
                            path);
            return -1;
        }
    }
    return 0;
}

int tv_conf_text(xmlNodePtr node, bool required, char **out)
{
    static const char *const none[] = { NULL };
    if (tv_xml_check_attrs(node, none) < 0 || tv_xml_check_children(node, none, true) < 0)
        return -1;
    *out = tv_xml_text(node);
    if (!*out && required) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "element %s must not be empty", path);
        return -1;
    }
    return 0;
}

int tv_conf_attr_required(xmlNodePtr node, const char *attr, char **out)
{
    *out = tv_xml_prop(node, attr);
    if (!*out || !**out) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "%s attribute '%s' on %s",
                        *out ? "empty" : "missing", attr, path);
        g_clear_pointer(out, g_free);
        return -1;
    }
    return 0;
}

int tv_conf_attr_enum(xmlNodePtr node, const char *attr, bool required, TvEnumFromString from,
                      TvEnumList list, int *out)
{
    g_autofree char *value = tv_xml_prop(node, attr);
    if (!value) {
        if (!required)
            return 0;
        g_autofree char *path = tv_xml_node_path(node);
        g_autofree char *ok = list();
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing attribute '%s' on %s (expected %s)",
                        attr, path, ok);
        return -1;
    }
    int v = from(value);
    if (v <= 0) {
        g_autofree char *path = tv_xml_node_path(node);
        g_autofree char *ok = list();
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute '%s' of %s: expected %s", value, attr,
                        path, ok);
        return -1;
    }
    *out = v;
    return 0;
}

int tv_conf_text_enum(xmlNodePtr node, TvEnumFromString from, TvEnumList list, int *out)
{
    g_autofree char *value = NULL;
    if (tv_conf_text(node, false, &value) < 0)
        return -1;
    int v = value ? from(value) : -1;
    if (v <= 0) {
        g_autofree char *path = tv_xml_node_path(node);
        g_autofree char *ok = list();
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "invalid value '%s' in %s: expected %s",
                        value ? value : "", path, ok);
        return -1;
    }
    *out = v;
    return 0;
}

int tv_conf_attr_fixed(xmlNodePtr node, const char *attr, bool required, const char *value)
{
    g_autofree char *got = tv_xml_prop(node, attr);
    if (!got && !required)
        return 0;
    if (!got || strcmp(got, value) != 0) {
        g_autofree char *path = tv_xml_node_path(node);
        if (got)
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "invalid value '%s' for attribute '%s' of %s: expected '%s'", got, attr,
                            path, value);
        else
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "missing attribute '%s' on %s (expected '%s')", attr, path, value);
        return -1;
    }
    return 0;
}

int tv_conf_number(xmlNodePtr node, const char *attr, const char *value, unsigned long long min,
                   unsigned long long max, unsigned long long *out)
{
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *what =
        attr ? g_strdup_printf("attribute '%s' of %s", attr, path) : g_strdup(path);
    if (!value) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing value for %s: expected a number from %llu to %llu", what, min,
                        max);
        return -1;
    }
    /* decimal only: the schema says so and '0x' in a memory size is a typo */
    for (const char *p = value; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "invalid value '%s' for %s: expected a number from %llu to %llu", value,
                            what, min, max);
            return -1;
        }
    }
    return tv_parse_ull(value, min, max, what, out);
}

static bool has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return true;
    }
    return false;
}

int tv_conf_path_check(xmlNodePtr node, const char *attr, const char *path)
{
    const char *problem = NULL;
    if (path[0] != '/')
        problem = "expected an absolute path";
    else if (has_control(path))
        problem = "control characters are not allowed";
    if (!problem)
        return 0;
    g_autofree char *where = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(path, NULL);
    if (attr)
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid path '%s' in attribute '%s' of %s: %s", shown, attr, where,
                        problem);
    else
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "invalid path '%s' in %s: %s", shown, where,
                        problem);
    return -1;
}

int tv_conf_word_check(xmlNodePtr node, const char *attr, const char *value)
{
    bool ok = *value != '\0' && strlen(value) <= 64;
    for (const char *p = value; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || *p == '.' || *p == '_' || *p == '-';
    if (ok)
        return 0;
    g_autofree char *where = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(value, NULL);
    if (attr)
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute '%s' of %s: expected 1 to 64 letters, "
                        "digits, '.', '_' or '-'",
                        shown, attr, where);
    else
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' in %s: expected 1 to 64 letters, digits, '.', '_' "
                        "or '-'",
                        shown, where);
    return -1;
}

int tv_conf_attr_yesno(xmlNodePtr node, const char *attr, TvFeatureState *out)
{
    g_autofree char *value = tv_xml_prop(node, attr);
    if (!value)
        return 0;
    if (strcmp(value, "yes") == 0) {
        *out = TV_FEATURE_STATE_ON;
        return 0;
    }
    if (strcmp(value, "no") == 0) {
        *out = TV_FEATURE_STATE_OFF;
        return 0;
    }
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute '%s' of %s: expected 'yes', 'no'", value,
                    attr, path);
    return -1;
}

int tv_mac_parse(xmlNodePtr node, const char *str, char **normalised)
{
    unsigned char mac[6];
    size_t len = strlen(str);
    bool ok = len == 17;
    for (size_t i = 0; ok && i < 6; i++) {
        int hi = g_ascii_xdigit_value(str[3 * i]);
        int lo = g_ascii_xdigit_value(str[3 * i + 1]);
        ok = hi >= 0 && lo >= 0 && (i == 5 || str[3 * i + 2] == ':');
        mac[i] = (unsigned char)(hi << 4 | lo);
    }
    g_autofree char *path = tv_xml_node_path(node);
    if (!ok) {
        g_autofree char *shown = g_strescape(str, NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid MAC address '%s' in %s: expected six hex pairs separated by "
                        "':' (e.g. 52:54:00:12:34:56)",
                        shown, path);
        return -1;
    }
    if (mac[0] & 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid MAC address '%s' in %s: a multicast address (lowest bit of the "
                        "first byte set) cannot be a NIC's address",
                        str, path);
        return -1;
    }
    *normalised = g_ascii_strdown(str, -1);
    return 0;
}

char *tv_mac_generate(void)
{
    unsigned char tail[3];
    tv_conf_random_bytes(tail, sizeof(tail));
    return g_strdup_printf("52:54:00:%02x:%02x:%02x", tail[0], tail[1], tail[2]);
}
