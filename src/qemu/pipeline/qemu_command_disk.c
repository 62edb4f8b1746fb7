/* Command line of <disk>: a protocol node (file or host_device) and a format
 * node (raw, qcow2) per medium, then the device: virtio-blk-pci, scsi-hd or
 * scsi-cd on the virtio-scsi bus, usb-storage.  <driver cache> becomes
 * libvirt's three settings: cache.direct and cache.no-flush on both nodes,
 * write-cache on the device. */
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

static const char *onoff(bool v)
{
    return v ? "on" : "off";
}

static void append_node_options(GString *node, const TvDomainDisk *d, CacheMode cm)
{
    g_string_append_printf(node, ",read-only=%s", onoff(d->readonly));
    if (cm.set)
        g_string_append_printf(node, ",cache.direct=%s,cache.no-flush=%s", onoff(cm.direct),
                               onoff(cm.no_flush));
    if (d->discard)
        g_string_append_printf(node, ",discard=%s", tv_disk_discard_to_string(d->discard));
}

static void build_nodes(GPtrArray *argv, const TvDomainDisk *d, size_t i, CacheMode cm)
{
    g_autofree char *path = tv_qemu_escape_opt(d->path);
    GString *storage = g_string_new(NULL);
    g_string_append_printf(storage, "driver=%s,filename=%s,node-name=tv-disk%zu-storage",
                           d->type == TV_DISK_TYPE_BLOCK ? "host_device" : "file", path, i);
    append_node_options(storage, d, cm);
    if (d->io)
        g_string_append_printf(storage, ",aio=%s", tv_disk_io_to_string(d->io));
    tv_qemu_argv_add(argv, "-blockdev");
    g_ptr_array_add(argv, g_string_free(storage, FALSE));
    GString *format = g_string_new(NULL);
    g_string_append_printf(format, "driver=%s,file=tv-disk%zu-storage,node-name=tv-disk%zu-format",
                           d->format == TV_DISK_FORMAT_QCOW2 ? "qcow2" : "raw", i, i);
    append_node_options(format, d, cm);
    tv_qemu_argv_add(argv, "-blockdev");
    g_ptr_array_add(argv, g_string_free(format, FALSE));
}

static void build_device(GPtrArray *argv, const TvDomainDef *def, const TvDomainDisk *d, size_t i,
                         bool first_of_kind, CacheMode cm)
{
    GString *dev = g_string_new(NULL);
    bool cdrom = d->device == TV_DISK_DEVICE_CDROM;
    switch (d->bus) {
    case TV_DISK_BUS_SCSI:
        g_string_append_printf(dev, "%s,id=scsi%u-0-%u-%u", cdrom ? "scsi-cd" : "scsi-hd",
                               d->address.controller, d->address.target, d->address.unit);
        break;
    case TV_DISK_BUS_USB:
        g_string_append_printf(dev, "usb-storage,id=usb-disk%zu", i);
        if (cdrom)
            g_string_append(dev, ",removable=on");
        break;
    case TV_DISK_BUS_VIRTIO:
    case TV_DISK_BUS_NONE:
    case TV_DISK_BUS_LAST:
        g_string_append_printf(dev, "virtio-blk-pci,id=virtio-disk%zu", i);
        break;
    }
    if (d->path)
        g_string_append_printf(dev, ",drive=tv-disk%zu-format", i);
    if (d->serial)
        g_string_append_printf(dev, ",serial=%s", d->serial);
    if (d->shareable)
        g_string_append(dev, ",share-rw=on");
    if (cm.set)
        g_string_append_printf(dev, ",write-cache=%s", onoff(cm.write_cache));
    TvBootDev kind = cdrom ? TV_BOOT_DEV_CDROM : TV_BOOT_DEV_HD;
    unsigned bootindex = tv_qemu_boot_index(def, kind, first_of_kind, d->boot_order);
    tv_qemu_argv_add_device_boot(argv, &d->address, dev->str, bootindex);
    g_string_free(dev, TRUE);
}

void tv_qemu_build_disks(GPtrArray *argv, const TvDomainDef *def)
{
    bool seen_disk = false, seen_cdrom = false;
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        const TvDomainDisk *d = def->devices.disks[i];
        CacheMode cm = cache_mode(d->cache);
        if (d->path)
            build_nodes(argv, d, i, cm);
        bool cdrom = d->device == TV_DISK_DEVICE_CDROM;
        bool *seen = cdrom ? &seen_cdrom : &seen_disk;
        build_device(argv, def, d, i, !*seen, cm);
        *seen = true;
    }
}
