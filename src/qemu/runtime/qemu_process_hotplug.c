/* Devices plugged into and out of a running QEMU (qemu_process.h, "Hot-plug";
 * docs/formatdomain.rst, "Attaching and detaching devices").  The QEMU
 * objects come from the command line's builders (qemu_command.h), so a
 * hot-plugged device is the device a start would have made.  Each step that
 * fails undoes the ones before it: nothing is left half attached. */
#include "qemu_command.h"
#include "qemu_process_priv.h"
#include "qemu_security_dac.h"
#include "tv_error.h"

#include <string.h>
#include <unistd.h>

/* An unplug asked of QEMU (device_del) and not finished yet. */
typedef struct {
    bool deleted; /* QEMU said DEVICE_DELETED */
    char *node;   /* a disk's format node, when it has a medium */
    char *path;   /* the disk's file: given back to its owner if the record lists it */
    bool is_net;
} Unplug;

static void unplug_free(gpointer p)
{
    Unplug *u = p;
    g_free(u->node);
    g_free(u->path);
    g_free(u);
}

static GHashTable *unplugs(TvQemuProcess *proc)
{
    if (!proc->unplugs)
        proc->unplugs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, unplug_free);
    return proc->unplugs;
}

void tv_qemu_process_hotplug_event(TvQemuProcess *proc, const TvQemuEvent *ev)
{
    if (!ev->device_deleted.device || !proc->unplugs)
        return;
    Unplug *u = g_hash_table_lookup(proc->unplugs, ev->device_deleted.device);
    if (u) {
        u->deleted = true;
        g_cond_broadcast(&proc->cond);
    }
}

void tv_qemu_process_hotplug_free(TvQemuProcess *proc)
{
    g_clear_pointer(&proc->unplugs, g_hash_table_unref);
}

static ssize_t disk_index(const TvDomainDef *def, const char *alias)
{
    for (size_t i = 0; i < def->devices.ndisks; i++) {
        g_autofree char *a = tv_qemu_disk_alias(def->devices.disks[i], i);
        if (strcmp(a, alias) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static ssize_t net_index(const TvDomainDef *def, const char *alias)
{
    for (size_t i = 0; i < def->devices.nnets; i++) {
        g_autofree char *a = tv_qemu_net_alias(def->devices.nets[i], i);
        if (strcmp(a, alias) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static bool alias_used(const TvDomainDef *def, const char *alias)
{
    return disk_index(def, alias) >= 0 || net_index(def, alias) >= 0;
}

/* The first "PREFIXN" no device of def has. */
static char *free_alias(const TvDomainDef *def, const char *prefix)
{
    for (unsigned n = 0;; n++) {
        char *alias = g_strdup_printf("%s%u", prefix, n);
        if (!alias_used(def, alias))
            return alias;
        g_free(alias);
    }
}

static int running_locked(TvQemuProcess *proc)
{
    if (proc->exited || !proc->def) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        proc->name);
        return -1;
    }
    return 0;
}

/* Add o with QMP: device_add for a device (head), blockdev-add for a node. */
static int add_object(TvQemuMonitor *mon, const char *command, const TvQemuObject *o)
{
    static const char *const device_keys[] = { "id", NULL };
    static const char *const node_keys[] = { "driver", "node-name", NULL };
    size_t n = 0;
    int rc;
    if (strcmp(command, "device_add") == 0) {
        g_autofree TvQmpProp *props = tv_qemu_object_props_except(o, device_keys, &n);
        rc = tv_qemu_monitor_device_add(mon, o->head, tv_qemu_object_get(o, "id"), props, n);
    } else if (strcmp(command, "netdev_add") == 0) {
        g_autofree TvQmpProp *props = tv_qemu_object_props_except(o, device_keys, &n);
        rc = tv_qemu_monitor_netdev_add(mon, o->head, tv_qemu_object_get(o, "id"), props, n);
    } else {
        g_autofree TvQmpProp *props = tv_qemu_object_props_except(o, node_keys, &n);
        rc = tv_qemu_monitor_blockdev_add(mon, tv_qemu_object_get(o, "driver"),
                                          tv_qemu_object_get(o, "node-name"), props, n);
    }
    return rc;
}

/* Undo steps best effort, keeping the error that made us undo them. */
#define UNDO(call)                                                                                 \
    do {                                                                                           \
        TvError *kept_ = tv_error_steal();                                                         \
        if ((call) < 0)                                                                            \
            tv_error_reset();                                                                      \
        tv_error_restore(kept_);                                                                   \
    } while (0)

/* The disk's two nodes; on failure none is left. */
static int add_nodes(TvQemuMonitor *mon, const TvDomainDisk *disk, const char *prefix)
{
    TvQemuObject *storage = NULL, *format = NULL;
    tv_qemu_disk_nodes(disk, prefix, &storage, &format);
    int rc = add_object(mon, "blockdev-add", storage);
    if (rc == 0 && (rc = add_object(mon, "blockdev-add", format)) < 0)
        UNDO(tv_qemu_monitor_blockdev_del(mon, tv_qemu_object_get(storage, "node-name")));
    tv_qemu_object_free(storage);
    tv_qemu_object_free(format);
    return rc;
}

static void del_nodes(TvQemuMonitor *mon, const char *format_node)
{
    UNDO(tv_qemu_monitor_blockdev_del(mon, format_node));
    if (g_str_has_suffix(format_node, "-format")) {
        g_autofree char *storage = g_strndup(format_node, strlen(format_node) - strlen("format"));
        g_autofree char *name = g_strconcat(storage, "storage", NULL);
        UNDO(tv_qemu_monitor_blockdev_del(mon, name));
    }
}

/* What confinement allows a disk's file to be opened by QEMU now. */
static int disk_file_check(const TvDomainDisk *disk, const TvQemuProcessConfig *cfg)
{
    if (!disk->path)
        return 0;
    if (tv_qemu_security_apparmor(cfg->security)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "<disk> '%s' cannot be hot-plugged while QEMU runs under an AppArmor "
                        "profile: tagvirt does not change a running guest's profile yet (attach "
                        "it with --config and restart the guest)",
                        disk->target_dev);
        return -1;
    }
    if (disk->type == TV_DISK_TYPE_BLOCK && tv_qemu_security_mount_namespace(cfg->security)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "block device '%s' of <disk> '%s' cannot be hot-plugged: QEMU runs in "
                        "a private mount namespace whose /dev has only the devices it started "
                        "with (attach it with --config and restart the guest, or use a file)",
                        disk->path, disk->target_dev);
        return -1;
    }
    return 0;
}

int tv_qemu_process_attach_disk(TvQemuProcess *proc, TvDomainDisk *disk,
                                const TvQemuProcessConfig *cfg)
{
    if (disk->bus == TV_DISK_BUS_USB) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "<disk> '%s' on bus 'usb' cannot be hot-plugged; accepted: bus 'virtio' "
                        "(a PCIe root port) or 'scsi' (an existing virtio-scsi controller)",
                        disk->target_dev);
        return -1;
    }
    if (disk_file_check(disk, cfg) < 0)
        return -1;
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    if (rc == 0 && !disk->alias) {
        if (disk->bus == TV_DISK_BUS_SCSI)
            disk->alias = tv_qemu_disk_alias(disk, 0);
        else
            disk->alias = free_alias(proc->def, "virtio-disk");
        if (alias_used(proc->def, disk->alias)) {
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "<disk> '%s': device id '%s' is in use in the running guest",
                            disk->target_dev, disk->alias);
            rc = -1;
        }
    }
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    g_autofree char *prefix = g_strdup_printf("tv-%s", disk->alias);
    g_autoptr(TvQemuObject) dev = NULL;
    bool labelled = false;
    if (disk->path && tv_qemu_security_changes_user(cfg->security)) {
        if (tv_qemu_security_dac_label_add(cfg->security, proc->dac_path, disk->path) < 0)
            return -1;
        labelled = true;
    }
    if (disk->path && add_nodes(mon, disk, prefix) < 0)
        goto fail;
    dev = tv_qemu_disk_device(disk, disk->alias, prefix, 0);
    if (add_object(mon, "device_add", dev) < 0) {
        if (disk->path) {
            g_autofree char *node = g_strdup_printf("%s-format", prefix);
            del_nodes(mon, node);
        }
        goto fail;
    }
    g_mutex_lock(&proc->lock);
    TvDomainDevices *d = &proc->def->devices;
    d->disks = g_renew(TvDomainDisk *, d->disks, d->ndisks + 1);
    d->disks[d->ndisks++] = disk;
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file lacks the new disk: %s", proc->name, tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    return 0;
fail:
    if (labelled)
        tv_qemu_security_dac_restore_remove(proc->dac_path, disk->path);
    tv_error_prefix("domain '%s': cannot attach <disk> '%s'", proc->name, disk->target_dev);
    return -1;
}

int tv_qemu_process_attach_net(TvQemuProcess *proc, TvDomainNet *net,
                               const TvQemuProcessConfig *cfg)
{
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    if (rc == 0 && !net->alias)
        net->alias = free_alias(proc->def, "net");
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    int tap = -1;
    g_autofree char *fdname = NULL;
    g_autoptr(TvQemuObject) netdev = NULL;
    g_autoptr(TvQemuObject) dev = NULL;
    if (tv_qemu_process_net_has_tap(net)) {
        if (tv_qemu_process_net_bridge(net, cfg) < 0 || (tap = tv_qemu_process_net_tap(net)) < 0)
            goto fail;
        fdname = g_strdup_printf("tv-%s-tap", net->alias);
        rc = tv_qemu_monitor_getfd(mon, fdname, tap);
        close(tap); /* QEMU has its own now; the tap goes with the last descriptor */
        if (rc < 0)
            goto fail;
    }
    netdev = tv_qemu_net_netdev(net, net->alias, fdname);
    if (add_object(mon, "netdev_add", netdev) < 0) {
        if (fdname)
            UNDO(tv_qemu_monitor_closefd(mon, fdname));
        goto fail;
    }
    dev = tv_qemu_net_device(net, net->alias, 0);
    if (add_object(mon, "device_add", dev) < 0) {
        UNDO(tv_qemu_monitor_netdev_del(mon, tv_qemu_object_get(netdev, "id")));
        goto fail;
    }
    g_mutex_lock(&proc->lock);
    TvDomainDevices *d = &proc->def->devices;
    d->nets = g_renew(TvDomainNet *, d->nets, d->nnets + 1);
    d->nets[d->nnets++] = net;
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file lacks the new interface: %s", proc->name,
                  tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    return 0;
fail:
    tv_error_prefix("domain '%s': cannot attach <interface> with MAC %s", proc->name, net->mac);
    return -1;
}

/* Remove alias's device from the live definition and QEMU's backends of it,
 * once QEMU deleted the device.  1: done now, 0: nothing to do. */
int tv_qemu_process_unplug_finish(TvQemuProcess *proc, const char *alias)
{
    g_mutex_lock(&proc->lock);
    Unplug *u = proc->unplugs ? g_hash_table_lookup(proc->unplugs, alias) : NULL;
    if (!u || !u->deleted || !proc->def || proc->exited) {
        g_mutex_unlock(&proc->lock);
        return 0;
    }
    g_hash_table_steal(proc->unplugs, alias);
    ssize_t i = u->is_net ? net_index(proc->def, alias) : disk_index(proc->def, alias);
    if (i >= 0 && u->is_net) {
        tv_domain_net_free(tv_domain_def_take_net(proc->def, (size_t)i));
    } else if (i >= 0) {
        TvDomainDisk *disk = tv_domain_def_take_disk(proc->def, (size_t)i);
        u->path = g_strdup(disk->path);
        tv_domain_disk_free(disk);
    }
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file still has device '%s': %s", proc->name, alias,
                  tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (mon && u->is_net) {
        g_autofree char *netdev = g_strdup_printf("host%s", alias);
        UNDO(tv_qemu_monitor_netdev_del(mon, netdev));
    } else if (mon && u->node) {
        del_nodes(mon, u->node);
    }
    tv_error_reset(); /* QEMU gone meanwhile: its backends went with it */
    if (u->path)      /* given to QEMU's user at start or hot-plug: given back now */
        tv_qemu_security_dac_restore_remove(proc->dac_path, u->path);
    unplug_free(u);
    return 1;
}

static int find_disk_node(TvQemuMonitor *mon, const char *alias, char **node)
{
    g_auto(TvQmpBlockList) blocks = { 0 };
    if (tv_qemu_monitor_query_block(mon, &blocks) < 0)
        return -1;
    const TvQmpBlock *b = tv_qmp_block_list_find(&blocks, alias);
    *node = b && b->node_name ? g_strdup(b->node_name) : NULL;
    return 0;
}

int tv_qemu_process_detach_device(TvQemuProcess *proc, const char *alias, unsigned timeout_ms)
{
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    ssize_t di = rc < 0 ? -1 : disk_index(proc->def, alias);
    ssize_t ni = rc < 0 ? -1 : net_index(proc->def, alias);
    bool known = proc->unplugs && g_hash_table_contains(proc->unplugs, alias);
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    if (di < 0 && ni < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "domain '%s' has no disk or interface with alias '%s'", proc->name, alias);
        return -1;
    }
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    if (!known) {
        Unplug *u = g_new0(Unplug, 1);
        u->is_net = ni >= 0;
        if (di >= 0 && find_disk_node(mon, alias, &u->node) < 0) {
            unplug_free(u);
            return -1;
        }
        g_mutex_lock(&proc->lock);
        g_hash_table_replace(unplugs(proc), g_strdup(alias), u);
        g_mutex_unlock(&proc->lock);
    }
    if (tv_qemu_monitor_device_del(mon, alias) < 0) {
        if (!known) {
            g_mutex_lock(&proc->lock);
            g_hash_table_remove(proc->unplugs, alias);
            g_mutex_unlock(&proc->lock);
        }
        tv_error_prefix("domain '%s': cannot detach '%s'", proc->name, alias);
        return -1;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&proc->lock);
    for (;;) {
        Unplug *u = proc->unplugs ? g_hash_table_lookup(proc->unplugs, alias) : NULL;
        if (!u || u->deleted || proc->exited)
            break;
        if (!g_cond_wait_until(&proc->cond, &proc->lock, deadline))
            break;
    }
    g_mutex_unlock(&proc->lock);
    return tv_qemu_process_unplug_finish(proc, alias);
}

bool tv_qemu_process_unplug_pending(TvQemuProcess *proc, const char *alias)
{
    g_mutex_lock(&proc->lock);
    bool pending = proc->unplugs && g_hash_table_contains(proc->unplugs, alias);
    g_mutex_unlock(&proc->lock);
    return pending;
}

/* Nodes of a new medium: a name no earlier medium of this QEMU had. */
static char *media_prefix(void)
{
    return g_strdup_printf("tv-m%08x", g_random_int());
}

int tv_qemu_process_change_media(TvQemuProcess *proc, const char *target, const TvDomainDisk *media,
                                 const TvQemuProcessConfig *cfg)
{
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    ssize_t i = -1;
    for (size_t k = 0; rc == 0 && k < proc->def->devices.ndisks; k++) {
        if (strcmp(proc->def->devices.disks[k]->target_dev, target) == 0)
            i = (ssize_t)k;
    }
    g_autofree char *alias =
        i >= 0 ? tv_qemu_disk_alias(proc->def->devices.disks[i], (size_t)i) : NULL;
    bool cdrom = i >= 0 && proc->def->devices.disks[i]->device == TV_DISK_DEVICE_CDROM;
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    if (i < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING, "no target device %s", target);
        return -1;
    }
    if (!cdrom) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "<disk> '%s' is not a cdrom: only a cdrom's media can be changed on a "
                        "running guest",
                        target);
        return -1;
    }
    if (media->path && disk_file_check(media, cfg) < 0)
        return -1;
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    g_autofree char *old = NULL;
    if (find_disk_node(mon, alias, &old) < 0)
        return -1;
    /* the new medium's nodes first: a failure leaves the old one in place */
    g_autofree char *prefix = media_prefix();
    g_autofree char *node = g_strdup_printf("%s-format", prefix);
    g_autofree char *give_back = NULL;
    bool labelled = false;
    if (media->path && tv_qemu_security_changes_user(cfg->security)) {
        if (tv_qemu_security_dac_label_add(cfg->security, proc->dac_path, media->path) < 0)
            return -1;
        labelled = true;
    }
    if (media->path && add_nodes(mon, media, prefix) < 0)
        goto fail;
    if (tv_qemu_monitor_blockdev_open_tray(mon, alias, true) < 0 ||
        (old && tv_qemu_monitor_blockdev_remove_medium(mon, alias) < 0) ||
        (media->path && tv_qemu_monitor_blockdev_insert_medium(mon, alias, node) < 0)) {
        if (media->path)
            del_nodes(mon, node);
        UNDO(tv_qemu_monitor_blockdev_close_tray(mon, alias));
        goto fail;
    }
    if (media->path)
        UNDO(tv_qemu_monitor_blockdev_close_tray(mon, alias));
    if (old)
        del_nodes(mon, old);
    tv_error_reset();
    g_mutex_lock(&proc->lock);
    for (size_t k = 0; proc->def && k < proc->def->devices.ndisks; k++) {
        TvDomainDisk *d = proc->def->devices.disks[k];
        if (strcmp(d->target_dev, target) != 0)
            continue;
        g_free(give_back);
        give_back = d->path; /* the old medium: given back if the record lists it */
        d->path = g_strdup(media->path);
        d->type = media->type;
        d->format = media->format;
    }
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file has the old media of '%s': %s", proc->name, target,
                  tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    if (give_back)
        tv_qemu_security_dac_restore_remove(proc->dac_path, give_back);
    return 0;
fail:
    if (labelled)
        tv_qemu_security_dac_restore_remove(proc->dac_path, media->path);
    tv_error_prefix("domain '%s': cannot change the media of '%s'", proc->name, target);
    return -1;
}
