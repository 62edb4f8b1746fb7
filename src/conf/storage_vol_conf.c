/* <volume>: parse what a client asks to create, format what a pool holds
 * (docs/storage.rst). */
#include "domain_parse_priv.h"
#include "storage_conf_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_vol_format, TV_VOL_FORMAT_LAST, "", "raw", "qcow2", "iso")

void tv_storage_vol_def_free(TvStorageVolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->key);
    g_free(def->path);
    g_free(def->compat);
    g_free(def->backing_path);
    g_free(def);
}

static int parse_format(xmlNodePtr node, TvVolFormat *out)
{
    static const char *const attrs[] = { "type", NULL };
    static const char *const none[] = { NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, none, false) < 0)
        return -1;
    int v = 0;
    if (tv_conf_attr_enum(node, "type", true, tv_vol_format_from_string, tv_vol_format_list, &v) <
        0)
        return -1;
    *out = v;
    return 0;
}

static int parse_features(xmlNodePtr node, TvStorageVolDef *def)
{
    static const char *const none[] = { NULL };
    static const char *const children[] = { "lazy_refcounts", NULL };
    if (tv_xml_check_attrs(node, none) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0)
        return -1;
    xmlNodePtr lazy = tv_xml_child(node, "lazy_refcounts");
    if (lazy &&
        (tv_xml_check_attrs(lazy, none) < 0 || tv_xml_check_children(lazy, none, false) < 0))
        return -1;
    def->lazy_refcounts = lazy != NULL;
    return 0;
}

/* <timestamps> and <clusterSize> are what a volume reports: accepted so that
 * a formatted volume can be given back, and not kept. */
static int parse_target(xmlNodePtr target, TvStorageVolDef *def)
{
    static const char *const none[] = { NULL };
    static const char *const children[] = { "path",     "format",     "permissions", "compat",
                                            "features", "timestamps", "clusterSize", NULL };
    if (tv_xml_check_attrs(target, none) < 0 ||
        tv_xml_check_children(target, children, false) < 0 ||
        tv_conf_check_once(target, children) < 0)
        return -1;
    xmlNodePtr n;
    if ((n = tv_xml_child(target, "path")) &&
        (tv_conf_text(n, true, &def->path) < 0 || tv_conf_path_check(n, NULL, def->path) < 0))
        return -1;
    if ((n = tv_xml_child(target, "format")) && parse_format(n, &def->format) < 0)
        return -1;
    if ((n = tv_xml_child(target, "permissions")) && tv_storage_perms_parse(n, &def->perms) < 0)
        return -1;
    if ((n = tv_xml_child(target, "compat"))) {
        if (tv_conf_text(n, true, &def->compat) < 0)
            return -1;
        if (strcmp(def->compat, "0.10") != 0 && strcmp(def->compat, "1.1") != 0) {
            tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                            "invalid value '%s' in /volume/target/compat: expected '0.10' or "
                            "'1.1'",
                            def->compat);
            return -1;
        }
    }
    if ((n = tv_xml_child(target, "features")) && parse_features(n, def) < 0)
        return -1;
    if ((n = tv_xml_child(target, "clusterSize"))) {
        unsigned long long ignored = 0;
        if (tv_storage_size_parse(n, &ignored) < 0)
            return -1;
    }
    return 0;
}

static int parse_backing(xmlNodePtr node, TvStorageVolDef *def)
{
    static const char *const none[] = { NULL };
    static const char *const children[] = { "path", "format", "permissions", "timestamps", NULL };
    if (tv_xml_check_attrs(node, none) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0)
        return -1;
    xmlNodePtr path = tv_xml_child(node, "path");
    if (!path) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "missing element <path> in /volume/backingStore");
        return -1;
    }
    if (tv_conf_text(path, true, &def->backing_path) < 0 ||
        tv_conf_path_check(path, NULL, def->backing_path) < 0)
        return -1;
    xmlNodePtr format = tv_xml_child(node, "format");
    if (format && parse_format(format, &def->backing_format) < 0)
        return -1;
    TvStoragePerms ignored = { 0, -1, -1 };
    xmlNodePtr perms = tv_xml_child(node, "permissions");
    return perms ? tv_storage_perms_parse(perms, &ignored) : 0;
}

TvStorageVolDef *tv_storage_vol_def_parse(const char *xml, size_t len)
{
    g_autoptr(xmlDoc) doc = tv_xml_parse(xml, len, "storage volume XML");
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "volume") != 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "storage volume XML must have <volume> as its root element, not <%s>",
                        root ? (const char *)root->name : "");
        return NULL;
    }
    static const char *const attrs[] = { "type", NULL };
    /* key and physical are what the pool reports: accepted, not kept */
    static const char *const children[] = { "name",     "key",          "source",
                                            "capacity", "allocation",   "physical",
                                            "target",   "backingStore", NULL };
    if (tv_xml_check_attrs(root, attrs) < 0 || tv_xml_check_children(root, children, false) < 0 ||
        tv_conf_check_once(root, children) < 0 ||
        tv_conf_attr_fixed(root, "type", false, "file") < 0)
        return NULL;

    g_autoptr(TvStorageVolDef) def = g_new0(TvStorageVolDef, 1);
    def->perms.owner = def->perms.group = -1;
    xmlNodePtr n = tv_xml_child(root, "name");
    if (!n) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR, "missing element <name> in /volume");
        return NULL;
    }
    if (tv_conf_text(n, true, &def->name) < 0 || tv_storage_name_check("volume", def->name) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "key"))) {
        g_autofree char *ignored = NULL;
        if (tv_conf_text(n, false, &ignored) < 0)
            return NULL;
    }
    if ((n = tv_xml_child(root, "source")) &&
        (tv_xml_check_attrs(n, (const char *const[]){ NULL }) < 0 ||
         tv_xml_check_children(n, (const char *const[]){ NULL }, false) < 0))
        return NULL;
    if ((n = tv_xml_child(root, "capacity")) && tv_storage_size_parse(n, &def->capacity) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "allocation"))) {
        if (tv_storage_size_parse(n, &def->allocation) < 0)
            return NULL;
        def->allocation_set = true;
    }
    if ((n = tv_xml_child(root, "physical"))) {
        unsigned long long ignored = 0;
        if (tv_storage_size_parse(n, &ignored) < 0)
            return NULL;
    }
    if ((n = tv_xml_child(root, "target")) && parse_target(n, def) < 0)
        return NULL;
    if ((n = tv_xml_child(root, "backingStore")) && parse_backing(n, def) < 0)
        return NULL;
    return g_steal_pointer(&def);
}

char *tv_storage_vol_def_format(const TvStorageVolDef *def)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    g_autofree char *name = tv_xml_esc(def->name);
    g_autofree char *key = tv_xml_esc(def->key ? def->key : def->path);
    g_autofree char *path = tv_xml_esc(def->path);
    TvVolFormat format = def->format ? def->format : TV_VOL_FORMAT_RAW;

    tv_xml_line(&w, "<volume type='file'>");
    w.indent++;
    tv_xml_line(&w, "<name>%s</name>", name);
    tv_xml_line(&w, "<key>%s</key>", key);
    tv_xml_line(&w, "<capacity unit='bytes'>%llu</capacity>", def->capacity);
    tv_xml_line(&w, "<allocation unit='bytes'>%llu</allocation>", def->allocation);
    tv_xml_line(&w, "<physical unit='bytes'>%llu</physical>", def->physical);
    tv_xml_line(&w, "<target>");
    w.indent++;
    tv_xml_line(&w, "<path>%s</path>", path);
    tv_xml_line(&w, "<format type='%s'/>", tv_vol_format_to_string(format));
    tv_storage_perms_format(&w, &def->perms);
    if (format == TV_VOL_FORMAT_QCOW2) {
        if (def->compat)
            tv_xml_line(&w, "<compat>%s</compat>", def->compat);
        if (def->lazy_refcounts) {
            tv_xml_line(&w, "<features>");
            tv_xml_line(&w, "  <lazy_refcounts/>");
            tv_xml_line(&w, "</features>");
        }
    }
    w.indent--;
    tv_xml_line(&w, "</target>");
    if (def->backing_path) {
        g_autofree char *backing = tv_xml_esc(def->backing_path);
        tv_xml_line(&w, "<backingStore>");
        w.indent++;
        tv_xml_line(&w, "<path>%s</path>", backing);
        if (def->backing_format)
            tv_xml_line(&w, "<format type='%s'/>", tv_vol_format_to_string(def->backing_format));
        w.indent--;
        tv_xml_line(&w, "</backingStore>");
    }
    w.indent--;
    tv_xml_line(&w, "</volume>");
    return tv_xml_writer_finish(&w);
}
