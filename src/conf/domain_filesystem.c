/* <filesystem type='mount' accessmode='passthrough|mapped|squash'>: a host
 * directory (<source dir>) the guest mounts by its tag (<target dir>),
 * read-only with <readonly/>; <driver type='path'/> is QEMU's local 9p
 * backend.  Other types (block, file, ram, bind, template, volume) and the
 * 'handle', 'loop', 'nbd' and 'ploop' drivers are not offered; virtiofs
 * needs the virtiofsd daemon, which tagvirt's Debian host does not package,
 * so it is refused at define with that reason (docs/formatdomain.rst). */
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_fs_access_mode, TV_FS_ACCESS_LAST, "", "passthrough", "mapped", "squash")
TV_ENUM_IMPL(tv_fs_driver_type, TV_FS_DRIVER_LAST, "", "path")

static const char *const no_children[] = { NULL };

void tv_domain_filesystem_free(TvDomainFilesystem *fs)
{
    if (!fs)
        return;
    g_free(fs->source_dir);
    g_free(fs->target_dir);
    g_free(fs);
}

static int refuse(xmlNodePtr node, const char *what, const char *value, const char *why)
{
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED, "unsupported %s '%s' in %s: %s", what,
                    value, path, why);
    return -1;
}

static int parse_type(xmlNodePtr node, TvDomainFilesystem *fs)
{
    g_autofree char *type = tv_xml_prop(node, "type");
    if (!type || strcmp(type, "mount") == 0)
        return 0;
    return refuse(node, "filesystem type", type,
                  "tagvirt shares host directories only: expected 'mount'");
}

static int parse_driver(xmlNodePtr node, TvDomainFilesystem *fs)
{
    static const char *const attrs[] = { "type", NULL };
    g_autofree char *type = tv_xml_prop(node, "type");
    if (type && strcmp(type, "virtiofs") == 0)
        return refuse(node, "filesystem driver", type,
                      "virtiofs needs the virtiofsd daemon, which Debian bookworm (tagvirt's "
                      "host release, bookworm-backports included) does not package, so "
                      "tagvirt cannot run it; use <driver type='path'/> (virtio-9p) instead");
    if (type && strcmp(type, "handle") == 0)
        return refuse(node, "filesystem driver", type,
                      "QEMU 6.0 removed the 9p 'handle' backend; use <driver type='path'/>");
    int v = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_enum(node, "type", false, tv_fs_driver_type_from_string,
                          tv_fs_driver_type_list, &v) < 0)
        return -1;
    fs->driver = v;
    return 0;
}

static int parse_dir(xmlNodePtr node, char **out)
{
    static const char *const attrs[] = { "dir", NULL };
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, "dir", out) < 0)
        return -1;
    return 0;
}

/* The mount tag: printable, no spaces (the guest's mount command line). */
static int check_tag(xmlNodePtr node, const char *tag)
{
    bool ok = strlen(tag) <= TV_FS_TAG_MAX;
    for (const unsigned char *p = (const unsigned char *)tag; ok && *p; p++)
        ok = *p > 0x20 && *p < 0x7f;
    if (ok)
        return 0;
    g_autofree char *shown = g_strescape(tag, NULL);
    g_autofree char *path = tv_xml_node_path(node);
    tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                    "invalid value '%s' for attribute 'dir' of %s: expected a mount tag of 1 to %d "
                    "printable characters without spaces",
                    shown, path, TV_FS_TAG_MAX);
    return -1;
}

static int parse_children(xmlNodePtr node, TvDomainFilesystem *fs)
{
    xmlNodePtr c;
    if ((c = tv_xml_child(node, "driver")) && parse_driver(c, fs) < 0)
        return -1;
    if ((c = tv_xml_child(node, "source"))) {
        if (parse_dir(c, &fs->source_dir) < 0 || tv_conf_path_check(c, "dir", fs->source_dir) < 0)
            return -1;
    }
    if ((c = tv_xml_child(node, "target"))) {
        if (parse_dir(c, &fs->target_dir) < 0 || check_tag(c, fs->target_dir) < 0)
            return -1;
    }
    if ((c = tv_xml_child(node, "readonly"))) {
        static const char *const none[] = { NULL };
        if (tv_xml_check_attrs(c, none) < 0 || tv_xml_check_children(c, no_children, false) < 0)
            return -1;
        fs->readonly = true;
    }
    const char *missing = !fs->source_dir   ? "<source dir='...'/> (the host directory)"
                          : !fs->target_dir ? "<target dir='...'/> (the tag the guest mounts)"
                                            : NULL;
    if (missing) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element %s in %s", missing, path);
        return -1;
    }
    return 0;
}

int tv_domain_parse_filesystem(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", "accessmode", NULL };
    static const char *const children[] = { "driver",  "source", "target", "readonly",
                                            "address", "alias",  NULL };
    int mode = 0;
    g_autofree char *alias = NULL;
    TvDomainFilesystem *fs = g_new0(TvDomainFilesystem, 1);
    TV_APPEND(devs->filesystems, devs->nfilesystems, fs);
    if (tv_xml_check_attrs(node, attrs) < 0 || parse_type(node, fs) < 0 ||
        tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "accessmode", false, tv_fs_access_mode_from_string,
                          tv_fs_access_mode_list, &mode) < 0)
        return -1;
    fs->accessmode = mode;
    if (parse_children(node, fs) < 0 ||
        tv_domain_alias_parse_child(node, flags & ~TV_DOMAIN_PARSE_STATUS, &alias) < 0 ||
        tv_domain_address_parse_child(node, TV_ADDR_MASK(TV_ADDRESS_PCI), &fs->address) < 0)
        return -1;
    for (size_t i = 0; i + 1 < devs->nfilesystems; i++) {
        if (strcmp(devs->filesystems[i]->target_dir, fs->target_dir) == 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two <filesystem> elements in /domain/devices have <target "
                            "dir='%s'/>: each mount tag must be unique",
                            fs->target_dir);
            return -1;
        }
    }
    return 0;
}

void tv_domain_format_filesystem(TvXmlWriter *w, const TvDomainFilesystem *fs)
{
    g_autofree char *src = tv_xml_esc(fs->source_dir);
    g_autofree char *dst = tv_xml_esc(fs->target_dir);
    /* the type and access mode are written out, as libvirt does */
    tv_xml_line(
        w, "<filesystem type='mount' accessmode='%s'>",
        tv_fs_access_mode_to_string(fs->accessmode ? fs->accessmode : TV_FS_ACCESS_PASSTHROUGH));
    w->indent++;
    if (fs->driver)
        tv_xml_line(w, "<driver type='%s'/>", tv_fs_driver_type_to_string(fs->driver));
    tv_xml_line(w, "<source dir='%s'/>", src);
    tv_xml_line(w, "<target dir='%s'/>", dst);
    if (fs->readonly)
        tv_xml_line(w, "<readonly/>");
    tv_domain_address_format(w, &fs->address);
    w->indent--;
    tv_xml_line(w, "</filesystem>");
}
