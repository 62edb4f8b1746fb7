/* QEMU objects of <disk>, for the command line and for hot-plug: a protocol
 * node (file or host_device) and a format node (raw, qcow2) per medium, then
 * the device: virtio-blk-pci, scsi-hd or scsi-cd on the virtio-scsi bus,
 * usb-storage.  <driver cache> becomes libvirt's three settings:
 * cache.direct and cache.no-flush on both nodes, write-cache on the
 * device. */
#include "qemu_boot.h"
#include "qemu_command_priv.h"

typedef struct {
    bool set;
    bool write_cache, direct, no_flush;
} CacheMode;

static CacheMode cache_mode(TvDiskCache cache)
{
    switch (cache) {
    case TV_DISK_CACHE_NONE:
        return (CacheMode){ true, true, true, false };
    case TV_DISK_CACHE_WRITETHROUGH:
        return (CacheMode){ true, false, false, false };
    case TV_DISK_CACHE_WRITEBACK:
        return (CacheMode){ true, true, false, false };
    case TV_DISK_CACHE_DIRECTSYNC:
        return (CacheMode){ true, false, true, false };
    case TV_DISK_CACHE_UNSAFE:
        return (CacheMode){ true, true, false, true };
    case TV_DISK_CACHE_DEFAULT:
    case TV_DISK_CACHE_LAST:
        break;
    }
    return (CacheMode){ false, false, false, false };
}

char *tv_qemu_disk_alias(const TvDomainDisk *d, size_t i)
{
    if (d->alias)
        return g_strdup(d->alias);
    switch (d->bus) {
    case TV_DISK_BUS_SCSI:
        return g_strdup_printf("scsi%u-0-%u-%u", d->address.controller, d->address.target,
                               d->address.unit);
    case TV_DISK_BUS_USB:
        return g_strdup_printf("usb-disk%zu", i);
    case TV_DISK_BUS_VIRTIO:
    case TV_DISK_BUS_NONE:
    case TV_DISK_BUS_LAST:
        break;
    }
    return g_strdup_printf("virtio-disk%zu", i);
}

static void node_options(TvQemuObject *node, const TvDomainDisk *d, CacheMode cm)
{
    tv_qemu_object_bool(node, "read-only", d->readonly);
    if (cm.set) {
        tv_qemu_object_bool(node, "cache.direct", cm.direct);
        tv_qemu_object_bool(node, "cache.no-flush", cm.no_flush);
    }
    if (d->discard)
        tv_qemu_object_str(node, "discard", tv_disk_discard_to_string(d->discard));
}

void tv_qemu_disk_nodes(const TvDomainDisk *d, const char *prefix, TvQemuObject **storage,
                        TvQemuObject **format)
{
    CacheMode cm = cache_mode(d->cache);
    TvQemuObject *s = tv_qemu_object_new(NULL);
    tv_qemu_object_str(s, "driver", d->type == TV_DISK_TYPE_BLOCK ? "host_device" : "file");
    tv_qemu_object_str(s, "filename", d->path);
    tv_qemu_object_strf(s, "node-name", "%s-storage", prefix);
    node_options(s, d, cm);
    if (d->io)
        tv_qemu_object_str(s, "aio", tv_disk_io_to_string(d->io));
    TvQemuObject *f = tv_qemu_object_new(NULL);
    tv_qemu_object_str(f, "driver", d->format == TV_DISK_FORMAT_QCOW2 ? "qcow2" : "raw");
    tv_qemu_object_strf(f, "file", "%s-storage", prefix);
    tv_qemu_object_strf(f, "node-name", "%s-format", prefix);
    node_options(f, d, cm);
    *storage = s;
    *format = f;
}

TvQemuObject *tv_qemu_disk_device(const TvDomainDisk *d, const char *alias, const char *prefix,
                                  unsigned bootindex)
{
    CacheMode cm = cache_mode(d->cache);
    bool cdrom = d->device == TV_DISK_DEVICE_CDROM;
    const char *driver = "virtio-blk-pci";
    if (d->bus == TV_DISK_BUS_SCSI)
        driver = cdrom ? "scsi-cd" : "scsi-hd";
    else if (d->bus == TV_DISK_BUS_USB)
        driver = "usb-storage";
    TvQemuObject *dev = tv_qemu_object_new(driver);
    tv_qemu_object_str(dev, "id", alias);
    if (d->bus == TV_DISK_BUS_USB && cdrom)
        tv_qemu_object_bool(dev, "removable", true);
    if (d->path)
        tv_qemu_object_strf(dev, "drive", "%s-format", prefix);
    if (d->serial)
        tv_qemu_object_str(dev, "serial", d->serial);
    if (d->shareable)
        tv_qemu_object_bool(dev, "share-rw", true);
    if (cm.set) /* an on/off/auto property: QMP's device_add wants the string */
        tv_qemu_object_str(dev, "write-cache", cm.write_cache ? "on" : "off");
    if (bootindex)
        tv_qemu_object_int(dev, "bootindex", bootindex);
    tv_qemu_object_add_address(dev, &d->address);
    return dev;
}

void tv_qemu_build_disks(GPtrArray *argv, const TvDomainDef *def)
{
    bool seen_disk = false, seen_cdrom = false;
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        const TvDomainDisk *d = def->devices.disks[i];
        g_autofree char *prefix = g_strdup_printf("tv-disk%zu", i);
        if (d->path) {
            TvQemuObject *storage = NULL, *format = NULL;
            tv_qemu_disk_nodes(d, prefix, &storage, &format);
            tv_qemu_argv_add_object(argv, "-blockdev", storage);
            tv_qemu_argv_add_object(argv, "-blockdev", format);
            tv_qemu_object_free(storage);
            tv_qemu_object_free(format);
        }
        bool cdrom = d->device == TV_DISK_DEVICE_CDROM;
        bool *seen = cdrom ? &seen_cdrom : &seen_disk;
        TvBootDev kind = cdrom ? TV_BOOT_DEV_CDROM : TV_BOOT_DEV_HD;
        unsigned bootindex = tv_qemu_boot_index(def, kind, !*seen, d->boot_order);
        *seen = true;
        g_autofree char *alias = tv_qemu_disk_alias(d, i);
        g_autoptr(TvQemuObject) dev = tv_qemu_disk_device(d, alias, prefix, bootindex);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
}
