/* Domain XML parser: the <domain> element and its simple children (name,
 * uuid, memory, vcpu, clock, lifecycle).  <os>, <features>, <cpu> and
 * <devices> have their own files. */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

#define TV_DOMAIN_ID_MAX 2147483647ULL

static const struct {
    const char *name;
    unsigned long long bytes;
} memory_units[] = {
    { "b", 1ULL },       { "bytes", 1ULL },     { "KB", 1000ULL },
    { "k", 1024ULL },    { "KiB", 1024ULL },    { "MB", 1000000ULL },
    { "M", 1ULL << 20 }, { "MiB", 1ULL << 20 }, { "GB", 1000000000ULL },
    { "G", 1ULL << 30 }, { "GiB", 1ULL << 30 }, { "TB", 1000000000000ULL },
    { "T", 1ULL << 40 }, { "TiB", 1ULL << 40 },
};

/* <memory unit='MiB'>512</memory> into KiB (sizes in bytes round up). */
int tv_domain_parse_memory(xmlNodePtr node, unsigned long long *kib)
{
    static const char *const attrs[] = { "unit", NULL };
    static const char *const none[] = { NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, true) < 0)
        return -1;

    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *unit = tv_xml_prop(node, "unit");
    unsigned long long scale = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(memory_units); i++) {
        if (strcmp(memory_units[i].name, unit ? unit : "KiB") == 0)
            scale = memory_units[i].bytes;
    }
    if (!scale) {
        GString *ok = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(memory_units); i++)
            g_string_append_printf(ok, "%s'%s'", i ? ", " : "", memory_units[i].name);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'unit' of %s: expected %s", unit, path,
                        ok->str);
        g_string_free(ok, TRUE);
        return -1;
    }

    g_autofree char *text = tv_xml_text(node);
    unsigned long long max = G_MAXUINT64 / scale;
    g_autofree char *what = g_strdup_printf("%s (unit '%s')", path, unit ? unit : "KiB");
    bool digits = text != NULL;
    for (const char *p = text; digits && *p; p++)
        digits = g_ascii_isdigit(*p);
    if (!digits) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for %s: expected a number from 1 to %llu",
                        text ? text : "", what, max);
        return -1;
    }
    unsigned long long value = 0;
    if (tv_parse_ull(text, 1, max, what, &value) < 0)
        return -1;
    unsigned long long bytes = value * scale;
    *kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
    return 0;
}

static int parse_uuid(xmlNodePtr node, unsigned char uuid[TV_UUID_LEN])
{
    g_autofree char *text = NULL;
    if (tv_conf_text(node, true, &text) < 0)
        return -1;
    if (tv_uuid_parse(text, uuid) < 0) {
        g_autofree char *shown = g_strescape(text, NULL);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid UUID '%s' in /domain/uuid: expected "
                        "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx or 32 hex digits",
                        shown);
        return -1;
    }
    return 0;
}

static int parse_title(xmlNodePtr node, TvDomainDef *def)
{
    g_autofree char *title = NULL;
    if (tv_conf_text(node, false, &title) < 0)
        return -1;
    return tv_domain_def_set_title(def, title);
}

/* <vcpu placement='static' current='N'>M</vcpu>: M vCPUs exist (the
 * topology's product), N of them are present at start (1 <= N <= M). */
static int parse_vcpu(xmlNodePtr node, TvDomainDef *def)
{
    static const char *const attrs[] = { "current", "placement", NULL };
    static const char *const none[] = { NULL };
    g_autofree char *text = NULL;
    g_autofree char *current = tv_xml_prop(node, "current");
    unsigned long long v = 0, cur = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, true) < 0 ||
        tv_conf_attr_fixed(node, "placement", false, "static") < 0)
        return -1;
    text = tv_xml_text(node);
    if (tv_conf_number(node, NULL, text, 1, TV_VCPUS_MAX, &v) < 0 ||
        (current && tv_conf_number(node, "current", current, 1, TV_VCPUS_MAX, &cur) < 0))
        return -1;
    if (current && cur > v) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "current='%llu' on /domain/vcpu is more than the vCPU count %llu: "
                        "expected 1 to %llu",
                        cur, v, v);
        return -1;
    }
    def->vcpus = (unsigned)v;
    def->vcpus_current = cur < v ? (unsigned)cur : 0;
    return 0;
}

static int parse_clock(xmlNodePtr node, TvClockOffset *offset)
{
    static const char *const attrs[] = { "offset", NULL };
    static const char *const none[] = { NULL };
    int v = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0 ||
        tv_conf_attr_enum(node, "offset", true, tv_clock_offset_from_string, tv_clock_offset_list,
                          &v) < 0)
        return -1;
    *offset = v;
    return 0;
}

/* libvirt's sets: coredump-* only for on_crash. */
static int parse_lifecycle(xmlNodePtr node, bool crash, TvLifecycleAction *action)
{
    g_autofree char *value = NULL;
    if (tv_conf_text(node, false, &value) < 0)
        return -1;
    int v = value ? tv_lifecycle_action_from_string(value) : -1;
    bool coredump = v == TV_LIFECYCLE_COREDUMP_DESTROY || v == TV_LIFECYCLE_COREDUMP_RESTART;
    if (v <= 0 || (coredump && !crash)) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' in %s: expected 'destroy', 'restart', 'preserve', "
                        "'rename-restart'%s",
                        value ? value : "", path,
                        crash ? ", 'coredump-destroy', 'coredump-restart'"
                              : " (the coredump actions are for <on_crash>)");
        return -1;
    }
    *action = v;
    return 0;
}

static int parse_memory_pair(xmlNodePtr root, TvDomainDef *def)
{
    xmlNodePtr memory = tv_xml_child(root, "memory");
    xmlNodePtr current = tv_xml_child(root, "currentMemory");
    if (!memory) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <memory> in /domain: the guest's RAM size is required");
        return -1;
    }
    if (tv_domain_parse_memory(memory, &def->memory_kib) < 0)
        return -1;
    if (current && tv_domain_parse_memory(current, &def->current_memory_kib) < 0)
        return -1;
    if (def->current_memory_kib > def->memory_kib) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "/domain/currentMemory (%llu KiB) is larger than /domain/memory (%llu "
                        "KiB)",
                        def->current_memory_kib, def->memory_kib);
        return -1;
    }
    return 0;
}

static int parse_root_attrs(xmlNodePtr root, TvDomainDef *def, unsigned flags)
{
    static const char *const attrs_user[] = { "type", NULL };
    static const char *const attrs_status[] = { "type", "id", NULL };
    int type = 0;
    if (tv_xml_check_attrs(root, (flags & TV_DOMAIN_PARSE_STATUS) ? attrs_status : attrs_user) <
            0 ||
        tv_conf_attr_enum(root, "type", true, tv_virt_type_from_string, tv_virt_type_list, &type) <
            0)
        return -1;
    def->virt_type = type;

    g_autofree char *id = tv_xml_prop(root, "id");
    unsigned long long v = 0;
    if (id) {
        if (tv_conf_number(root, "id", id, 0, TV_DOMAIN_ID_MAX, &v) < 0)
            return -1;
        def->id = (int)v;
    }
    return 0;
}

static int parse_identity(xmlNodePtr root, TvDomainDef *def)
{
    xmlNodePtr node = tv_xml_child(root, "name");
    if (!node) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element <name> in /domain");
        return -1;
    }
    if (tv_conf_text(node, true, &def->name) < 0 || tv_domain_name_check(def->name) < 0)
        return -1;

    if ((node = tv_xml_child(root, "uuid"))) {
        if (parse_uuid(node, def->uuid) < 0)
            return -1;
    } else {
        tv_uuid_generate(def->uuid);
    }
    if ((node = tv_xml_child(root, "title")) && parse_title(node, def) < 0)
        return -1;
    if ((node = tv_xml_child(root, "description")) &&
        tv_conf_text(node, false, &def->description) < 0)
        return -1;
    if ((node = tv_xml_child(root, "metadata")) &&
        tv_domain_metadata_parse(node, &def->metadata) < 0)
        return -1;
    return 0;
}

static int parse_children(xmlNodePtr root, TvDomainDef *def, unsigned flags)
{
    xmlNodePtr node;
    def->vcpus = 1;
    if ((node = tv_xml_child(root, "vcpu")) && parse_vcpu(node, def) < 0)
        return -1;

    if (!(node = tv_xml_child(root, "os"))) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <os> in /domain (expected <os><type>hvm</type></os>)");
        return -1;
    }
    if (tv_domain_parse_os(node, &def->os) < 0)
        return -1;
    if ((node = tv_xml_child(root, "features")) &&
        tv_domain_parse_features(node, &def->features, flags) < 0)
        return -1;
    if ((node = tv_xml_child(root, "cpu")) && tv_domain_parse_cpu(node, &def->cpu) < 0)
        return -1;
    if (def->cpu.sockets) {
        unsigned long long n =
            (unsigned long long)def->cpu.sockets * def->cpu.cores * def->cpu.threads;
        unsigned vcpus = def->vcpus ? def->vcpus : 1;
        if (n != vcpus) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "/domain/cpu/topology gives %u sockets x %u cores x %u threads = %llu "
                            "vCPUs, but the vCPU count (/domain/vcpu, 1 when absent) is %u",
                            def->cpu.sockets, def->cpu.cores, def->cpu.threads, n, vcpus);
            return -1;
        }
    }
    if ((node = tv_xml_child(root, "clock")) && parse_clock(node, &def->clock) < 0)
        return -1;
    if ((node = tv_xml_child(root, "on_poweroff")) &&
        parse_lifecycle(node, false, &def->on_poweroff) < 0)
        return -1;
    if ((node = tv_xml_child(root, "on_reboot")) &&
        parse_lifecycle(node, false, &def->on_reboot) < 0)
        return -1;
    if ((node = tv_xml_child(root, "on_crash")) && parse_lifecycle(node, true, &def->on_crash) < 0)
        return -1;
    if ((node = tv_xml_child(root, "devices")) &&
        tv_domain_parse_devices(node, &def->devices, flags) < 0)
        return -1;
    if ((flags & TV_DOMAIN_PARSE_STATUS) && (node = tv_xml_child(root, "guestabi")) &&
        tv_domain_guest_abi_parse(node, &def->guest_abi) < 0)
        return -1;
    return 0;
}

TvDomainDef *tv_domain_def_parse(const char *xml, size_t len, unsigned flags)
{
    static const char *const children[] = {
        "name",          "uuid",      "title",    "description", "metadata", "memory",
        "currentMemory", "vcpu",      "os",       "features",    "cpu",      "clock",
        "on_poweroff",   "on_reboot", "on_crash", "devices",     NULL,
    };
    static const char *const children_status[] = {
        "name",          "uuid",      "title",    "description", "metadata", "memory",
        "currentMemory", "vcpu",      "os",       "features",    "cpu",      "clock",
        "on_poweroff",   "on_reboot", "on_crash", "devices",     "guestabi", NULL,
    };
    const char *const *allowed = (flags & TV_DOMAIN_PARSE_STATUS) ? children_status : children;

    g_autoptr(xmlDoc) doc = tv_xml_parse(xml, len, "domain XML");
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (strcmp((const char *)root->name, "domain") != 0 || (root->ns && root->ns->prefix)) {
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "domain XML has root element <%s>: expected <domain>", root->name);
        return NULL;
    }

    g_autoptr(TvDomainDef) def = g_new0(TvDomainDef, 1);
    def->id = -1;
    def->features.mte.level = -1;
    if (parse_root_attrs(root, def, flags) < 0 || tv_xml_check_children(root, allowed, false) < 0 ||
        tv_conf_check_once(root, allowed) < 0 || parse_identity(root, def) < 0 ||
        parse_memory_pair(root, def) < 0 || parse_children(root, def, flags) < 0 ||
        tv_domain_boot_check(def) < 0)
        return NULL;
    return g_steal_pointer(&def);
}
