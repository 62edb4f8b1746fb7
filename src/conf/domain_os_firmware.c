/* Firmware in <os>: see domain_os_firmware.h. */
#include "domain_conf.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_os_firmware, TV_OS_FIRMWARE_LAST, "", "efi")
TV_ENUM_IMPL(tv_loader_type, TV_LOADER_TYPE_LAST, "", "rom", "pflash")

/* Not 0-is-absent like the others: every value is a name. */
static const char *const feature_names[TV_FIRMWARE_FEATURE_LAST] = { "secure-boot",
                                                                     "enrolled-keys" };

const char *tv_firmware_feature_to_string(int v)
{
    return v >= 0 && v < TV_FIRMWARE_FEATURE_LAST ? feature_names[v] : NULL;
}

int tv_firmware_feature_from_string(const char *s)
{
    for (int i = 0; s && i < TV_FIRMWARE_FEATURE_LAST; i++) {
        if (strcmp(s, feature_names[i]) == 0)
            return i;
    }
    return -1;
}

char *tv_firmware_feature_list(void)
{
    return g_strdup("'secure-boot', 'enrolled-keys'");
}

static const char *const no_children[] = { NULL };

/* format='raw' is what libvirt writes; QEMU's pflash takes raw images only. */
static int check_format(xmlNodePtr node)
{
    return tv_conf_attr_fixed(node, "format", false, "raw");
}

static int parse_firmware_features(xmlNodePtr node, TvDomainFirmware *fw)
{
    static const char *const children[] = { "feature", NULL };
    static const char *const no_attrs[] = { NULL };
    static const char *const attrs[] = { "enabled", "name", NULL };
    if (tv_xml_check_attrs(node, no_attrs) < 0 || tv_xml_check_children(node, children, false) < 0)
        return -1;
    for (xmlNodePtr c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_autofree char *name = NULL;
        TvFeatureState enabled = TV_FEATURE_STATE_ABSENT;
        if (tv_xml_check_attrs(c, attrs) < 0 || tv_xml_check_children(c, no_children, false) < 0 ||
            tv_conf_attr_required(c, "name", &name) < 0 ||
            tv_conf_attr_yesno(c, "enabled", &enabled) < 0)
            return -1;
        g_autofree char *path = tv_xml_node_path(c);
        int f = tv_firmware_feature_from_string(name);
        if (f < 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "invalid value '%s' for attribute 'name' of %s: expected %s", name,
                            path, "'secure-boot', 'enrolled-keys'");
            return -1;
        }
        if (enabled == TV_FEATURE_STATE_ABSENT) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "missing attribute 'enabled' on %s (expected 'yes', 'no')", path);
            return -1;
        }
        if (fw->features[f] != TV_FEATURE_STATE_ABSENT) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "firmware feature '%s' is named twice in /domain/os/firmware", name);
            return -1;
        }
        fw->features[f] = enabled;
    }
    return 0;
}

static int parse_loader(xmlNodePtr node, TvDomainFirmware *fw)
{
    static const char *const attrs[] = { "readonly", "type", "secure", "format", NULL };
    int type = 0;
    TvFeatureState readonly = TV_FEATURE_STATE_ABSENT, secure = TV_FEATURE_STATE_ABSENT;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, no_children, true) < 0 ||
        tv_conf_attr_yesno(node, "readonly", &readonly) < 0 ||
        tv_conf_attr_yesno(node, "secure", &secure) < 0 || check_format(node) < 0 ||
        tv_conf_attr_enum(node, "type", false, tv_loader_type_from_string, tv_loader_type_list,
                          &type) < 0)
        return -1;
    fw->loader_present = true;
    fw->loader_type = type;
    fw->loader_readonly = readonly;
    fw->loader_secure = secure;
    fw->loader = tv_xml_text(node);
    if (!fw->loader && fw->kind != TV_OS_FIRMWARE_EFI) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing path in /domain/os/loader: expected the firmware image's path "
                        "as the element's text, or <os firmware='efi'> to have one chosen");
        return -1;
    }
    return fw->loader ? tv_conf_path_check(node, NULL, fw->loader) : 0;
}

static int parse_nvram(xmlNodePtr node, TvDomainFirmware *fw)
{
    static const char *const attrs[] = { "template", "format", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, no_children, true) < 0 ||
        check_format(node) < 0)
        return -1;
    fw->nvram_template = tv_xml_prop(node, "template");
    fw->nvram = tv_xml_text(node);
    if (!fw->nvram && !fw->nvram_template) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "/domain/os/nvram needs a path as its text, a 'template' attribute, or "
                        "both");
        return -1;
    }
    if (fw->nvram_template && tv_conf_path_check(node, "template", fw->nvram_template) < 0)
        return -1;
    if (fw->nvram && tv_conf_path_check(node, NULL, fw->nvram) < 0)
        return -1;
    return 0;
}

int tv_domain_firmware_parse(xmlNodePtr os, TvDomainFirmware *fw)
{
    int kind = 0;
    if (tv_conf_attr_enum(os, "firmware", false, tv_os_firmware_from_string, tv_os_firmware_list,
                          &kind) < 0)
        return -1;
    fw->kind = kind;
    xmlNodePtr child = tv_xml_child(os, "firmware");
    if (child) {
        if (fw->kind != TV_OS_FIRMWARE_EFI) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "/domain/os/firmware (firmware features) needs <os firmware='efi'>: "
                            "its features choose among the firmware QEMU describes");
            return -1;
        }
        if (parse_firmware_features(child, fw) < 0)
            return -1;
    }
    if ((child = tv_xml_child(os, "loader")) && parse_loader(child, fw) < 0)
        return -1;
    if ((child = tv_xml_child(os, "nvram")) && parse_nvram(child, fw) < 0)
        return -1;
    return 0;
}

const char *tv_domain_firmware_os_attr(const TvDomainFirmware *fw)
{
    return fw->kind == TV_OS_FIRMWARE_EFI ? " firmware='efi'" : "";
}

static const char *yesno(int state)
{
    return state == TV_FEATURE_STATE_ON ? "yes" : "no";
}

void tv_domain_firmware_format(TvXmlWriter *w, const TvDomainFirmware *fw)
{
    bool features = false;
    for (int f = 0; f < TV_FIRMWARE_FEATURE_LAST; f++)
        features |= fw->features[f] != TV_FEATURE_STATE_ABSENT;
    if (features) {
        tv_xml_line(w, "<firmware>");
        w->indent++;
        /* libvirt's order: enrolled-keys, then secure-boot */
        for (int f = TV_FIRMWARE_FEATURE_LAST - 1; f >= 0; f--) {
            if (fw->features[f] != TV_FEATURE_STATE_ABSENT)
                tv_xml_line(w, "<feature enabled='%s' name='%s'/>", yesno(fw->features[f]),
                            tv_firmware_feature_to_string(f));
        }
        w->indent--;
        tv_xml_line(w, "</firmware>");
    }
    if (fw->loader_present || fw->loader) {
        GString *attrs = g_string_new(NULL);
        if (fw->loader_readonly != TV_FEATURE_STATE_ABSENT)
            g_string_append_printf(attrs, " readonly='%s'", yesno(fw->loader_readonly));
        if (fw->loader_secure != TV_FEATURE_STATE_ABSENT)
            g_string_append_printf(attrs, " secure='%s'", yesno(fw->loader_secure));
        if (fw->loader_type != TV_LOADER_TYPE_DEFAULT)
            g_string_append_printf(attrs, " type='%s'", tv_loader_type_to_string(fw->loader_type));
        if (fw->loader) {
            g_autofree char *path = tv_xml_esc(fw->loader);
            tv_xml_line(w, "<loader%s>%s</loader>", attrs->str, path);
        } else {
            tv_xml_line(w, "<loader%s/>", attrs->str);
        }
        g_string_free(attrs, TRUE);
    }
    if (fw->nvram || fw->nvram_template) {
        g_autofree char *tmpl = fw->nvram_template ? tv_xml_esc(fw->nvram_template) : NULL;
        g_autofree char *attr = tmpl ? g_strdup_printf(" template='%s'", tmpl) : g_strdup("");
        if (fw->nvram) {
            g_autofree char *path = tv_xml_esc(fw->nvram);
            tv_xml_line(w, "<nvram%s>%s</nvram>", attr, path);
        } else {
            tv_xml_line(w, "<nvram%s/>", attr);
        }
    }
}

void tv_domain_firmware_clear(TvDomainFirmware *fw)
{
    g_free(fw->loader);
    g_free(fw->nvram);
    g_free(fw->nvram_template);
}
