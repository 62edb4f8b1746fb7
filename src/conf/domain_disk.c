/* <disk>: file and block devices as disks and cdroms on virtio, SCSI
 * (virtio-scsi) or USB, with libvirt's <driver cache io discard>,
 * <readonly/>, <shareable/> and <serial>. */
#include "domain_os_boot.h"
#include "domain_parse_priv.h"
#include "tv_error.h"

#include <string.h>

TV_ENUM_IMPL(tv_disk_type, TV_DISK_TYPE_LAST, "", "file", "block")
TV_ENUM_IMPL(tv_disk_device, TV_DISK_DEVICE_LAST, "", "disk", "cdrom")
TV_ENUM_IMPL(tv_disk_bus, TV_DISK_BUS_LAST, "", "virtio", "scsi", "usb")
TV_ENUM_IMPL(tv_disk_cache, TV_DISK_CACHE_LAST, "", "none", "writethrough", "writeback",
             "directsync", "unsafe")
TV_ENUM_IMPL(tv_disk_io, TV_DISK_IO_LAST, "", "native", "threads", "io_uring")
TV_ENUM_IMPL(tv_disk_discard, TV_DISK_DISCARD_LAST, "", "unmap", "ignore")

/* QEMU's scsi-hd refuses a longer serial; virtio-blk takes any length and
 * shows the guest its first 20 bytes (a Cinder volume's 36-character id,
 * which Nova writes, is the common case), so there it has no limit, as in
 * libvirt */
#define SCSI_SERIAL_MAX 36

static const char *const no_attrs[] = { NULL };
static const char *const no_children[] = { NULL };

void tv_domain_disk_free(TvDomainDisk *disk)
{
    if (!disk)
        return;
    g_free(disk->path);
    g_free(disk->target_dev);
    g_free(disk->serial);
    g_free(disk->alias);
    g_free(disk);
}

int tv_disk_name_index(const char *dev, const char *prefix)
{
    size_t plen = strlen(prefix), len = strlen(dev);
    if (strncmp(dev, prefix, plen) != 0 || len < plen + 1 || len > plen + 2)
        return -1;
    for (const char *p = dev + plen; *p; p++) {
        if (*p < 'a' || *p > 'z')
            return -1;
    }
    if (len == plen + 1)
        return dev[plen] - 'a';
    return (dev[plen] - 'a' + 1) * 26 + (dev[plen + 1] - 'a');
}

static int parse_driver(xmlNodePtr node, TvDomainDisk *disk)
{
    static const char *const attrs[] = { "name", "type", "cache", "io", "discard", NULL };
    int format = TV_DISK_FORMAT_DEFAULT, cache = 0, io = 0, discard = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_fixed(node, "name", false, "qemu") < 0 ||
        tv_conf_attr_enum(node, "type", false, tv_disk_format_from_string, tv_disk_format_list,
                          &format) < 0 ||
        tv_conf_attr_enum(node, "cache", false, tv_disk_cache_from_string, tv_disk_cache_list,
                          &cache) < 0 ||
        tv_conf_attr_enum(node, "io", false, tv_disk_io_from_string, tv_disk_io_list, &io) < 0 ||
        tv_conf_attr_enum(node, "discard", false, tv_disk_discard_from_string, tv_disk_discard_list,
                          &discard) < 0)
        return -1;
    disk->format = format;
    disk->cache = cache;
    disk->io = io;
    disk->discard = discard;
    return 0;
}

static int parse_source(xmlNodePtr node, TvDomainDisk *disk)
{
    static const char *const attrs_file[] = { "file", NULL };
    static const char *const attrs_block[] = { "dev", NULL };
    bool block = disk->type == TV_DISK_TYPE_BLOCK;
    const char *attr = block ? "dev" : "file";
    if (tv_xml_check_attrs(node, block ? attrs_block : attrs_file) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, attr, &disk->path) < 0 ||
        tv_conf_path_check(node, attr, disk->path) < 0)
        return -1;
    return 0;
}

/* vdX on virtio, sdX on scsi or usb (one or two letters), as libvirt names them. */
static int parse_target(xmlNodePtr node, TvDomainDisk *disk)
{
    static const char *const attrs[] = { "dev", "bus", NULL };
    int bus = 0;
    if (tv_xml_check_attrs(node, attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0 ||
        tv_conf_attr_required(node, "dev", &disk->target_dev) < 0 ||
        tv_conf_attr_enum(node, "bus", false, tv_disk_bus_from_string, tv_disk_bus_list, &bus) < 0)
        return -1;
    const char *dev = disk->target_dev;
    if (!bus)
        bus = g_str_has_prefix(dev, "sd") ? TV_DISK_BUS_SCSI : TV_DISK_BUS_VIRTIO;
    disk->bus = bus;
    const char *prefix = disk->bus == TV_DISK_BUS_VIRTIO ? "vd" : "sd";
    if (tv_disk_name_index(dev, prefix) < 0) {
        g_autofree char *shown = g_strescape(dev, NULL);
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid value '%s' for attribute 'dev' of %s: a disk on bus '%s' is "
                        "'%s' and one or two letters (%sa, %sb, ..., %szz)",
                        shown, path, tv_disk_bus_to_string(disk->bus), prefix, prefix, prefix,
                        prefix);
        return -1;
    }
    if (disk->device == TV_DISK_DEVICE_CDROM && disk->bus == TV_DISK_BUS_VIRTIO) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported bus 'virtio' for a cdrom (%s): virtio-blk has no removable "
                        "media; use bus='scsi' (virtio-scsi) or bus='usb'",
                        path);
        return -1;
    }
    return 0;
}

static int parse_serial(xmlNodePtr node, TvDomainDisk *disk)
{
    if (tv_conf_text(node, true, &disk->serial) < 0)
        return -1;
    size_t max = disk->bus == TV_DISK_BUS_VIRTIO ? G_MAXSIZE : SCSI_SERIAL_MAX;
    bool ok = *disk->serial && strlen(disk->serial) <= max;
    for (const char *p = disk->serial; ok && *p; p++)
        ok = g_ascii_isalnum(*p) || strchr("_.+- ", *p); /* libvirt's set, space included */
    if (ok)
        return 0;
    g_autofree char *path = tv_xml_node_path(node);
    g_autofree char *shown = g_strescape(disk->serial, NULL);
    if (max == G_MAXSIZE)
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid serial '%s' in %s: expected letters, digits, spaces, '_', '.', "
                        "'+' or '-'",
                        shown, path);
    else
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "invalid serial '%s' in %s: expected 1 to %zu letters, digits, spaces, "
                        "'_', '.', '+' or '-' (QEMU's SCSI disks keep %zu)",
                        shown, path, max, max);
    return -1;
}

static int parse_flag(xmlNodePtr node, bool *out)
{
    if (tv_xml_check_attrs(node, no_attrs) < 0 ||
        tv_xml_check_children(node, no_children, false) < 0)
        return -1;
    *out = true;
    return 0;
}

static int parse_children(xmlNodePtr node, TvDomainDisk *disk, unsigned flags)
{
    xmlNodePtr child;
    if ((child = tv_xml_child(node, "driver")) && parse_driver(child, disk) < 0)
        return -1;
    if ((child = tv_xml_child(node, "source")) && parse_source(child, disk) < 0)
        return -1;
    if (!child && disk->device != TV_DISK_DEVICE_CDROM) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                        "missing element <source %s='...'/> in %s (only a cdrom may be empty)",
                        disk->type == TV_DISK_TYPE_BLOCK ? "dev" : "file", path);
        return -1;
    }
    if (!(child = tv_xml_child(node, "target"))) {
        g_autofree char *path = tv_xml_node_path(node);
        tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR, "missing element <target dev='vdX'/> in %s",
                        path);
        return -1;
    }
    if (parse_target(child, disk) < 0)
        return -1;
    if ((child = tv_xml_child(node, "readonly")) && parse_flag(child, &disk->readonly) < 0)
        return -1;
    if ((child = tv_xml_child(node, "shareable")) && parse_flag(child, &disk->shareable) < 0)
        return -1;
    if ((child = tv_xml_child(node, "serial")) && parse_serial(child, disk) < 0)
        return -1;
    if ((child = tv_xml_child(node, "boot")) &&
        tv_domain_device_boot_parse(child, &disk->boot_order) < 0)
        return -1;
    if (tv_domain_alias_parse_child(node, flags, &disk->alias) < 0)
        return -1;
    unsigned types = disk->bus == TV_DISK_BUS_VIRTIO ? TV_ADDR_MASK(TV_ADDRESS_PCI)
                     : disk->bus == TV_DISK_BUS_SCSI ? TV_ADDR_MASK(TV_ADDRESS_DRIVE)
                                                     : TV_ADDR_MASK(TV_ADDRESS_USB);
    return tv_domain_address_parse_child(node, types, &disk->address);
}

int tv_domain_parse_disk(xmlNodePtr node, TvDomainDevices *devs, unsigned flags)
{
    static const char *const attrs[] = { "type", "device", NULL };
    static const char *const children[] = { "driver", "source",  "target", "readonly", "shareable",
                                            "serial", "address", "boot",   "alias",    NULL };
    int type = TV_DISK_TYPE_FILE, device = TV_DISK_DEVICE_DISK;
    TvDomainDisk *disk = g_new0(TvDomainDisk, 1);
    TV_APPEND(devs->disks, devs->ndisks, disk);
    if (tv_xml_check_attrs(node, attrs) < 0 || tv_xml_check_children(node, children, false) < 0 ||
        tv_conf_check_once(node, children) < 0 ||
        tv_conf_attr_enum(node, "type", false, tv_disk_type_from_string, tv_disk_type_list, &type) <
            0 ||
        tv_conf_attr_enum(node, "device", false, tv_disk_device_from_string, tv_disk_device_list,
                          &device) < 0)
        return -1;
    disk->type = type;
    disk->device = device;
    if (parse_children(node, disk, flags) < 0)
        return -1;
    /* a cdrom is read-only, as libvirt writes it */
    if (disk->device == TV_DISK_DEVICE_CDROM)
        disk->readonly = true;
    for (size_t i = 0; i + 1 < devs->ndisks; i++) {
        if (strcmp(devs->disks[i]->target_dev, disk->target_dev) == 0) {
            tv_error_report(TV_FROM_XML, TV_ERR_XML_ERROR,
                            "two disks in /domain/devices have target dev='%s': each needs its "
                            "own",
                            disk->target_dev);
            return -1;
        }
    }
    return 0;
}

static void format_driver(TvXmlWriter *w, const TvDomainDisk *disk)
{
    if (!disk->format && !disk->cache && !disk->io && !disk->discard)
        return;
    GString *a = g_string_new(" name='qemu'");
    if (disk->format)
        g_string_append_printf(a, " type='%s'", tv_disk_format_to_string(disk->format));
    if (disk->cache)
        g_string_append_printf(a, " cache='%s'", tv_disk_cache_to_string(disk->cache));
    if (disk->io)
        g_string_append_printf(a, " io='%s'", tv_disk_io_to_string(disk->io));
    if (disk->discard)
        g_string_append_printf(a, " discard='%s'", tv_disk_discard_to_string(disk->discard));
    tv_xml_line(w, "<driver%s/>", a->str);
    g_string_free(a, TRUE);
}

void tv_domain_format_disk(TvXmlWriter *w, const TvDomainDisk *disk, bool live)
{
    g_autofree char *dev = tv_xml_esc(disk->target_dev);
    tv_xml_line(w, "<disk type='%s' device='%s'>", tv_disk_type_to_string(disk->type),
                tv_disk_device_to_string(disk->device));
    w->indent++;
    format_driver(w, disk);
    if (disk->path) {
        g_autofree char *path = tv_xml_esc(disk->path);
        tv_xml_line(w, "<source %s='%s'/>", disk->type == TV_DISK_TYPE_BLOCK ? "dev" : "file",
                    path);
    }
    tv_xml_line(w, "<target dev='%s' bus='%s'/>", dev, tv_disk_bus_to_string(disk->bus));
    tv_domain_device_boot_format(w, disk->boot_order);
    if (disk->readonly)
        tv_xml_line(w, "<readonly/>");
    if (disk->shareable)
        tv_xml_line(w, "<shareable/>");
    if (disk->serial) {
        g_autofree char *serial = tv_xml_esc(disk->serial);
        tv_xml_line(w, "<serial>%s</serial>", serial);
    }
    tv_domain_alias_format(w, disk->alias, live);
    tv_domain_address_format(w, &disk->address);
    w->indent--;
    tv_xml_line(w, "</disk>");
}
