/* <memballoon> (with <stats period>), <panic model='pvpanic'> and
 * <watchdog model='i6300esb'>. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_panic_model, TV_PANIC_MODEL_LAST, "", "pvpanic")
TV_ENUM_IMPL(tv_watchdog_model, TV_WATCHDOG_MODEL_LAST, "", "i6300esb")
TV_ENUM_IMPL(tv_watchdog_action, TV_WATCHDOG_ACTION_LAST, "", "reset", "shutdown", "poweroff",
             "pause", "none", "inject-nmi")

#define STATS_PERIOD_MAX 86400 /* a day */

static const char *const no_children[] = { NULL };

static int parse_onoff(xmlNodePtr node, const char *attr, TvFeatureState *out)
{
    g_autofree char *v = tv_xml_prop(node, attr);
    if (!v)
        return 0;
    if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
        *out = v[1] == 'n' ? TV_FEATURE_STATE_ON : TV_FEATURE_STATE_OFF;
        return 0;
    }
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute '%s' of %s: expected 'on', 'off'", v, attr,
                    path);
    return -1;
}

static int parse_stats(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "period", NULL };
    g_autofree char *period = tv_xml_prop(node, "period");
    unsigned long long v = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_number(node, "period", period, 0, STATS_PERIOD_MAX, &v) < 0)
        return -1;
    devs->memballoon_stats = true;
    devs->memballoon_period = (unsigned)v;
    return 0;
}

int tv_domain_parse_memballoon(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "model", "autodeflate", "freePageReporting", NULL };
    static const char *const children[] = { "stats", "address", NULL };
    int model = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "model", true, tv_balloon_model_from_string, tv_balloon_model_list,
                          &model) < 0 ||
        parse_onoff(node, "autodeflate", &devs->memballoon_autodeflate) < 0 ||
        parse_onoff(node, "freePageReporting", &devs->memballoon_free_page_reporting) < 0)
        return -1;
    devs->memballoon = model;
    bool virtio = model == TV_BALLOON_MODEL_VIRTIO;
    xmlNodePtr stats = tv_xml_child(node, "stats");
    if (!virtio &&
        (stats || devs->memballoon_autodeflate || devs->memballoon_free_page_reporting)) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "%s with model='none' takes no <stats>, autodeflate or "
                        "freePageReporting: there is no balloon",
                        path);
        return -1;
    }
    if (stats && parse_stats(stats, devs) < 0)
        return -1;
    unsigned types = virtio ? TV_ADDR_MASK(TV_ADDRESS_PCI) : 0;
    return tv_domain_address_parse_child(node, types, &devs->memballoon_address);
}

void tv_domain_format_memballoon(TvXmlWriter *w, const TvDomainDevices *devs)
{
    GString *attrs = g_string_new(NULL);
    g_string_append_printf(attrs, " model='%s'", tv_balloon_model_to_string(devs->memballoon));
    if (devs->memballoon_autodeflate)
        g_string_append_printf(attrs, " autodeflate='%s'",
                               tv_feature_state_to_string(devs->memballoon_autodeflate));
    if (devs->memballoon_free_page_reporting)
        g_string_append_printf(attrs, " freePageReporting='%s'",
                               tv_feature_state_to_string(devs->memballoon_free_page_reporting));
    if (!devs->memballoon_stats && devs->memballoon_address.type == TV_ADDRESS_NONE) {
        tv_xml_line(w, "<memballoon%s/>", attrs->str);
        g_string_free(attrs, TRUE);
        return;
    }
    tv_xml_line(w, "<memballoon%s>", attrs->str);
    g_string_free(attrs, TRUE);
    w->indent++;
    if (devs->memballoon_stats)
        tv_xml_line(w, "<stats period='%u'/>", devs->memballoon_period);
    tv_domain_address_format(w, &devs->memballoon_address);
    w->indent--;
    tv_xml_line(w, "</memballoon>");
}

static void format_with_address(TvXmlWriter *w, const char *open, const char *element,
                                const TvDeviceAddress *address)
{
    if (address->type == TV_ADDRESS_NONE) {
        tv_xml_line(w, "<%s/>", open);
        return;
    }
    tv_xml_line(w, "<%s>", open);
    w->indent++;
    tv_domain_address_format(w, address);
    w->indent--;
    tv_xml_line(w, "</%s>", element);
}

int tv_domain_parse_panic(xmlNodePtr node, TvDomainDevices *devs)
{
    static const char *const attrs[] = { "model", NULL };
    static const char *const children[] = { "address", NULL };
    int model = 0;
    TvDomainPanic *panic = g_new0(TvDomainPanic, 1);
    TV_APPEND(devs->panics, devs->npanics, panic);
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "model", true, tv_panic_model_from_string, tv_panic_model_list,
                          &model) < 0)
        return -1;
    panic->model = model;
    if (devs->npanics > 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "element <panic> appears %zu times in /domain/devices: only one is allowed",
                        devs->npanics);
        return -1;
    }
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &panic->address);
}

void tv_domain_format_panic(TvXmlWriter *w, const TvDomainPanic *panic)
{
    g_autofree char *open =
        g_strdup_printf("panic model='%s'", tv_panic_model_to_string(panic->model));
    format_with_address(w, open, "panic", &panic->address);
}

void tv_domain_watchdog_free(TvDomainWatchdog *wd)
{
    if (!wd)
        return;
    g_free(wd->alias);
    g_free(wd);
}

int tv_domain_parse_watchdog(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "model", "action", NULL };
    static const char *const children[] = { "alias", "address", NULL };
    int model = 0, action = 0;
    TvDomainWatchdog *wd = g_new0(TvDomainWatchdog, 1);
    TV_APPEND(devs->watchdogs, devs->nwatchdogs, wd);
    g_autofree char *action_str = tv_xml_prop(node, "action");
    if (action_str && strcmp(action_str, "dump") == 0) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported watchdog action 'dump' on %s: tagvirt has no core dumps; "
                        "expected 'reset', 'shutdown', 'poweroff', 'pause', 'none', 'inject-nmi'",
                        path);
        return -1;
    }
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "model", true, tv_watchdog_model_from_string,
                          tv_watchdog_model_list, &model) < 0 ||
        tv_conf_attr_enum(node, "action", false, tv_watchdog_action_from_string,
                          tv_watchdog_action_list, &action) < 0 ||
        tv_domain_alias_parse_child(node, flags, &wd->alias) < 0)
        return -1;
    wd->model = model;
    wd->action = action;
    if (devs->nwatchdogs > 1) {
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "element <watchdog> appears %zu times in /domain/devices: QEMU takes one "
                        "watchdog action, so only one is allowed",
                        devs->nwatchdogs);
        return -1;
    }
    return tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &wd->address);
}

void tv_domain_format_watchdog(TvXmlWriter *w, const TvDomainWatchdog *wd, bool live)
{
    g_autofree char *open =
        wd->action ? g_strdup_printf("watchdog model='%s' action='%s'",
                                     tv_watchdog_model_to_string(wd->model),
                                     tv_watchdog_action_to_string(wd->action))
                   : g_strdup_printf("watchdog model='%s'", tv_watchdog_model_to_string(wd->model));
    if (!live || !wd->alias) {
        format_with_address(w, open, "watchdog", &wd->address);
        return;
    }
    tv_xml_line(w, "<%s>", open);
    w->indent++;
    tv_domain_alias_format(w, wd->alias, live);
    tv_domain_address_format(w, &wd->address);
    w->indent--;
    tv_xml_line(w, "</watchdog>");
}
