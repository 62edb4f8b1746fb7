/* <pool>: parse and format a directory pool (docs/storage.rst). */
#include "domain_parse_priv.h"
#include "storage_conf.h"
#include "storage_conf_priv.h"
#include "tv_error.h"
#include "tv_xml.h"

#include <string.h>

TV_ENUM_IMPL(tv_pool_type, TV_POOL_TYPE_LAST, "", "dir")

void tv_storage_pool_def_free(TvStoragePoolDef *def)
{
    if (!def)
        return;
    g_free(def->name);
    g_free(def->target_path);
    g_free(def);
}

int tv_storage_name_check(const char *what, const char *name)
{
    const char *problem = NULL;
    if (!name || !*name)
        problem = "it must not be empty";
    else if (strlen(name) > 255)
        problem = "it is longer than 255 bytes";
    else if (!g_utf8_validate(name, -1, NULL))
        problem = "it is not valid UTF-8";
    else if (strchr(name, '/'))
        problem = "'/' is not allowed";
    else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        problem = "'.' and '..' are not allowed";
    for (const unsigned char *p = (const unsigned char *)name; !problem && *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            problem = "control characters are not allowed";
    }
    if (!problem)
        return 0;
    g_autofree char *shown = g_strescape(name ? name : "", NULL);
    tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR, "invalid %s name '%s': %s", what, shown,
                    problem);
    return -1;
}

static int parse_target(xmlNodePtr target, TvStoragePoolDef *def)
{
    static const char *const none[] = { NULL };
    static const char *const children[] = { "path", "permissions", NULL };
    static const char *const once[] = { "path", "permissions", NULL };
    if (tv_xml_check_attrs(target, none) < 0 ||
        tv_xml_check_children(target, children, false) < 0 || tv_conf_check_once(target, once) < 0)
        return -1;
    xmlNodePtr path = tv_xml_child(target, "path");
    if (!path) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "missing element <path> in /pool/target: a directory pool needs the "
                        "folder that holds its volumes");
        return -1;
    }
    if (tv_conf_text(path, true, &def->target_path) < 0 ||
        tv_conf_path_check(path, NULL, def->target_path) < 0)
        return -1;
    /* one spelling for one folder: no trailing '/', no '//' */
    g_autofree char *canon = g_canonicalize_filename(def->target_path, "/");
    g_free(def->target_path);
    def->target_path = g_steal_pointer(&canon);
    xmlNodePtr perms = tv_xml_child(target, "permissions");
    return perms ? tv_storage_perms_parse(perms, &def->perms) : 0;
}

TvStoragePoolDef *tv_storage_pool_def_parse(const char *xml, size_t len)
{
    g_autoptr(xmlDoc) doc = tv_xml_parse(xml, len, "storage pool XML");
    if (!doc)
        return NULL;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root || strcmp((const char *)root->name, "pool") != 0) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "storage pool XML must have <pool> as its root element, not <%s>",
                        root ? (const char *)root->name : "");
        return NULL;
    }
    static const char *const attrs[] = { "type", NULL };
    /* capacity, allocation and available are what the pool reports: accepted
     * so that a formatted pool can be defined again, and not kept */
    static const char *const children[] = { "name",      "uuid",   "capacity", "allocation",
                                            "available", "source", "target",   NULL };
    static const char *const once[] = { "name",      "uuid",   "capacity", "allocation",
                                        "available", "source", "target",   NULL };
    if (tv_xml_check_attrs(root, attrs) < 0 || tv_xml_check_children(root, children, false) < 0 ||
        tv_conf_check_once(root, once) < 0)
        return NULL;

    g_autoptr(TvStoragePoolDef) def = g_new0(TvStoragePoolDef, 1);
    def->perms.owner = def->perms.group = -1;
    int type = 0;
    if (tv_conf_attr_enum(root, "type", true, tv_pool_type_from_string, tv_pool_type_list, &type) <
        0)
        return NULL;
    def->type = type;

    xmlNodePtr name = tv_xml_child(root, "name");
    if (!name) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR, "missing element <name> in /pool");
        return NULL;
    }
    if (tv_conf_text(name, true, &def->name) < 0 || tv_storage_name_check("pool", def->name) < 0)
        return NULL;

    xmlNodePtr uuid = tv_xml_child(root, "uuid");
    if (uuid) {
        g_autofree char *text = NULL;
        if (tv_conf_text(uuid, true, &text) < 0)
            return NULL;
        if (tv_uuid_parse(text, def->uuid) < 0) {
            tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                            "invalid value '%s' in /pool/uuid: expected a UUID such as "
                            "'c7a5fdbd-cdaf-9455-926a-d65c16db1809'",
                            text);
            return NULL;
        }
    } else {
        tv_uuid_generate(def->uuid);
    }

    for (const char *const *size =
             (const char *const[]){ "capacity", "allocation", "available", NULL };
         *size; size++) {
        xmlNodePtr n = tv_xml_child(root, *size);
        unsigned long long ignored = 0;
        if (n && tv_storage_size_parse(n, &ignored) < 0)
            return NULL;
    }

    xmlNodePtr source = tv_xml_child(root, "source");
    if (source && (tv_xml_check_attrs(source, (const char *const[]){ NULL }) < 0 ||
                   tv_xml_check_children(source, (const char *const[]){ NULL }, false) < 0)) {
        tv_error_prefix("a directory pool has no source");
        return NULL;
    }

    xmlNodePtr target = tv_xml_child(root, "target");
    if (!target) {
        tv_error_report(TV_FROM_STORAGE, TV_ERR_XML_ERROR,
                        "missing element <target> in /pool: a directory pool needs "
                        "<target><path>");
        return NULL;
    }
    if (parse_target(target, def) < 0)
        return NULL;
    return g_steal_pointer(&def);
}

char *tv_storage_pool_def_format(const TvStoragePoolDef *def, const TvStoragePoolSizes *sizes)
{
    TvXmlWriter w;
    tv_xml_writer_init(&w);
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format(def->uuid, uuid);
    g_autofree char *name = tv_xml_esc(def->name);
    g_autofree char *path = tv_xml_esc(def->target_path);
    TvStoragePoolSizes zero = { 0 };
    if (!sizes)
        sizes = &zero;

    tv_xml_line(&w, "<pool type='%s'>", tv_pool_type_to_string(def->type));
    w.indent++;
    tv_xml_line(&w, "<name>%s</name>", name);
    tv_xml_line(&w, "<uuid>%s</uuid>", uuid);
    tv_xml_line(&w, "<capacity unit='bytes'>%llu</capacity>", sizes->capacity);
    tv_xml_line(&w, "<allocation unit='bytes'>%llu</allocation>", sizes->allocation);
    tv_xml_line(&w, "<available unit='bytes'>%llu</available>", sizes->available);
    tv_xml_line(&w, "<source>");
    tv_xml_line(&w, "</source>");
    tv_xml_line(&w, "<target>");
    w.indent++;
    tv_xml_line(&w, "<path>%s</path>", path);
    tv_storage_perms_format(&w, &def->perms);
    w.indent--;
    tv_xml_line(&w, "</target>");
    w.indent--;
    tv_xml_line(&w, "</pool>");
    return tv_xml_writer_finish(&w);
}
