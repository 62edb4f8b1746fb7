/* Domain XML parser: <os> and <features> (<cpu> is domain_cpu.c). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

static const char *const no_attrs[] = { NULL };
static const char *const no_children[] = { NULL };

static int parse_os_type(xmlNodePtr node, TvDomainOs *os)
{
    static const char *const attrs[] = { "arch", "machine", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, no_children, true) < 0)
        return -1;
    os->type = tv_xml_text(node);
    if (!os->type || strcmp(os->type, "hvm") != 0) {
        g_autofree char *shown = g_strescape(os->type ? os->type : "", NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid OS type '%s' in /domain/os/type: expected 'hvm'", shown);
        return -1;
    }
    /* arch is not limited to aarch64 here: qemu validation says why not */
    os->arch = tv_xml_prop(node, "arch");
    if (os->arch && tv_conf_word_check(node, "arch", os->arch) < 0)
        return -1;
    os->machine = tv_xml_prop(node, "machine");
    if (os->machine && tv_conf_word_check(node, "machine", os->machine) < 0)
        return -1;
    return 0;
}

/* <kernel>, <initrd>, <dtb>: a path as text. */
static int parse_path_element(xmlNodePtr node, char **out)
{
    if (tv_conf_text(node, true, out) < 0 || tv_conf_path_check(node, NULL, *out) < 0)
        return -1;
    return 0;
}

int tv_domain_parse_os(xmlNodePtr node, TvDomainOs *os)
{
    static const char *const attrs[] = { "firmware", NULL };
    static const char *const children[] = { "type",   "firmware", "loader", "nvram", "kernel",
                                            "initrd", "cmdline",  "dtb",    "boot",  NULL };
    static const char *const once[] = { "type",   "firmware", "loader", "nvram", "kernel",
                                        "initrd", "cmdline",  "dtb",    NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, once) < 0)
        return -1;

    xmlNodePtr child = tv_xml_child(node, "type");
    if (!child) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <type> in /domain/os (expected <type>hvm</type>)");
        return -1;
    }
    if (parse_os_type(child, os) < 0)
        return -1;

    TvDomainOsBoot *boot = &os->boot;
    if (tv_domain_firmware_parse(node, &boot->fw) < 0 ||
        tv_domain_boot_devs_parse(node, &boot->order) < 0)
        return -1;
    if ((child = tv_xml_child(node, "kernel")) && parse_path_element(child, &boot->kernel) < 0)
        return -1;
    if ((child = tv_xml_child(node, "initrd")) && parse_path_element(child, &boot->initrd) < 0)
        return -1;
    if ((child = tv_xml_child(node, "cmdline")) && tv_conf_text(child, false, &boot->cmdline) < 0)
        return -1;
    if ((child = tv_xml_child(node, "dtb")) && parse_path_element(child, &boot->dtb) < 0)
        return -1;
    return 0;
}

static int parse_gic(xmlNodePtr node, TvDomainFeatures *features)
{
    static const char *const attrs[] = { "version", NULL };
    int version = TV_GIC_VERSION_DEFAULT;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_enum(node, "version", false, tv_gic_version_from_string, tv_gic_version_list,
                          &version) < 0)
        return -1;
    features->gic = version;
    features->gic_present = true;
    return 0;
}

static int parse_pmu(xmlNodePtr node, TvDomainFeatures *features)
{
    static const char *const attrs[] = { "state", NULL };
    int state = TV_FEATURE_STATE_ON; /* <pmu/> turns it on */
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_enum(node, "state", false, tv_feature_state_from_string, tv_feature_state_list,
                          &state) < 0)
        return -1;
    features->pmu = state;
    return 0;
}

int tv_domain_parse_features(xmlNodePtr node, TvDomainFeatures *features, unsigned flags)
{
    static const char *const children[] = {
        "acpi", "gic", "pmu", "mte", TV_DOMAIN_FEATURES_COMPAT_NAMES, NULL
    };
    xmlNodePtr child;
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, children, false) < 0 || tv_conf_check_once(node, children) < 0)
        return -1;

    if ((child = tv_xml_child(node, "acpi"))) {
        if (tv_xml_check_attrs(child, no_attrs) < 0 ||
            tv_xml_check_children(child, no_children, false) < 0)
            return -1;
        features->acpi = TV_FEATURE_STATE_ON;
    }
    if ((child = tv_xml_child(node, "gic")) && parse_gic(child, features) < 0)
        return -1;
    if (tv_domain_features_compat_parse(node, &features->compat) < 0)
        return -1;
    if ((child = tv_xml_child(node, "pmu")) && parse_pmu(child, features) < 0)
        return -1;
    if ((child = tv_xml_child(node, "mte")) &&
        tv_domain_mte_parse(child, &features->mte, (flags & TV_DOMAIN_PARSE_STATUS) != 0) < 0)
        return -1;
    /* status XML: a resolved level is never 1 (MTE without tag storage) */
    if (features->mte.level == 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '1' for attribute 'level' of /domain/features/mte: "
                        "expected 0, 2, 3 or 4");
        return -1;
    }
    return 0;
}
