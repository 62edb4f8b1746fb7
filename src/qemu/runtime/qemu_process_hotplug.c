/* Devices plugged into and out of a running QEMU (qemu_process.h, "Hot-plug";
 * docs/formatdomain.rst, "Attaching and detaching devices").  The QEMU
 * objects come from the command line's builders (qemu_command.h), so a
 * hot-plugged device is the device a start would have made.  Each step that
 * fails undoes the ones before it: nothing is left half attached. */
#include "domain_bus_address.h"
#include "qemu_command_redirdev.h"
#include "qemu_process_hotplug_priv.h"
#include "qemu_security_dac.h"
#include "tv_error.h"

#include <string.h>
#include <unistd.h>

/* An unplug asked of QEMU (device_del) and not finished yet. */
typedef struct {
    bool deleted; /* QEMU said DEVICE_DELETED */
    TvPlugKind kind;
    char *node;   /* a disk's format node, when it has a medium */
    char *path;   /* the disk's file, an rng's source: given back if the record lists it */
    char *socket; /* a character device's socket that tagvirt made */
} Unplug;

static void unplug_free(gpointer p)
{
    Unplug *u = p;
    g_free(u->node);
    g_free(u->path);
    g_free(u->socket);
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

/* The index of the device of list (n of them) whose alias (else the id a
 * start gives it) is alias: getalias(list[i], i). */
#define FIND_BY_ALIAS(list, n, getalias)                                                           \
    for (size_t i = 0; i < (n); i++) {                                                             \
        g_autofree char *a = getalias;                                                             \
        if (a && strcmp(a, alias) == 0)                                                            \
            return (ssize_t)i;                                                                     \
    }

static ssize_t find_of(const TvDomainDevices *d, TvPlugKind kind, const char *alias)
{
    switch (kind) {
    case TV_PLUG_DISK:
        FIND_BY_ALIAS(d->disks, d->ndisks, tv_qemu_disk_alias(d->disks[i], i))
        break;
    case TV_PLUG_NET:
        FIND_BY_ALIAS(d->nets, d->nnets, tv_qemu_net_alias(d->nets[i], i))
        break;
    case TV_PLUG_CONTROLLER:
        FIND_BY_ALIAS(d->controllers, d->ncontrollers, tv_qemu_controller_alias(d->controllers[i]))
        break;
    case TV_PLUG_RNG:
        FIND_BY_ALIAS(d->rngs, d->nrngs, tv_qemu_rng_alias(d->rngs[i], i))
        break;
    case TV_PLUG_INPUT:
        FIND_BY_ALIAS(d->inputs, d->ninputs, tv_qemu_input_alias(d->inputs[i], i))
        break;
    case TV_PLUG_WATCHDOG:
        FIND_BY_ALIAS(d->watchdogs, d->nwatchdogs, tv_qemu_watchdog_alias(d->watchdogs[i], i))
        break;
    case TV_PLUG_SERIAL:
        FIND_BY_ALIAS(d->serials, d->nserials,
                      tv_qemu_chr_alias(d->serials[i], TV_CHR_KIND_SERIAL, i))
        break;
    case TV_PLUG_CONSOLE:
        /* a serial console shares its serial port's alias: the serial is the device */
        FIND_BY_ALIAS(d->consoles, d->nconsoles,
                      d->consoles[i]->target_type == TV_CHR_TARGET_VIRTIO
                          ? tv_qemu_chr_alias(d->consoles[i], TV_CHR_KIND_CONSOLE, i)
                          : NULL)
        break;
    case TV_PLUG_CHANNEL:
        FIND_BY_ALIAS(d->channels, d->nchannels,
                      tv_qemu_chr_alias(d->channels[i], TV_CHR_KIND_CHANNEL, i))
        break;
    case TV_PLUG_REDIRDEV:
        FIND_BY_ALIAS(d->redirdevs, d->nredirdevs, tv_qemu_redirdev_alias(d->redirdevs[i], i))
        break;
    case TV_PLUG_NONE:
        break;
    }
    return -1;
}

ssize_t tv_qemu_plug_find(const TvDomainDef *def, const char *alias, TvPlugKind *kind)
{
    for (int k = 0; k < TV_PLUG_NONE; k++) {
        ssize_t i = find_of(&def->devices, (TvPlugKind)k, alias);
        if (i >= 0) {
            *kind = (TvPlugKind)k;
            return i;
        }
    }
    *kind = TV_PLUG_NONE;
    return -1;
}

static bool alias_used(const TvDomainDef *def, const char *alias)
{
    TvPlugKind kind;
    return tv_qemu_plug_find(def, alias, &kind) >= 0;
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

/* Under lock: the status file after a device was added to the live
 * definition (a failure to write it is logged: QEMU has the device). */
static void status_after_plug(TvQemuProcess *proc, const char *what)
{
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file lacks the new %s: %s", proc->name, what, tv_error_message());
        tv_error_reset();
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

TvQemuMonitor *tv_qemu_plug_begin(TvQemuProcess *proc, char **alias, const char *prefix,
                                  const char *what)
{
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    if (rc == 0 && !*alias)
        *alias = free_alias(proc->def, prefix);
    if (rc == 0 && alias_used(proc->def, *alias)) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "%s: device id '%s' is in use in the running guest", what, *alias);
        rc = -1;
    }
    g_mutex_unlock(&proc->lock);
    return rc < 0 ? NULL : tv_qemu_process_monitor(proc);
}

#define APPEND(list, n, item)                                                                      \
    do {                                                                                           \
        (list) = g_renew(__typeof__(*(list)), (list), (n) + 1);                                    \
        (list)[(n)++] = (item);                                                                    \
    } while (0)

void tv_qemu_plug_commit(TvQemuProcess *proc, TvPlugKind kind, void *dev, const char *what)
{
    g_mutex_lock(&proc->lock);
    TvDomainDevices *d = &proc->def->devices;
    switch (kind) {
    case TV_PLUG_DISK:
        APPEND(d->disks, d->ndisks, (TvDomainDisk *)dev);
        break;
    case TV_PLUG_NET:
        APPEND(d->nets, d->nnets, (TvDomainNet *)dev);
        break;
    case TV_PLUG_CONTROLLER:
        APPEND(d->controllers, d->ncontrollers, (TvDomainController *)dev);
        break;
    case TV_PLUG_RNG:
        APPEND(d->rngs, d->nrngs, (TvDomainRng *)dev);
        break;
    case TV_PLUG_INPUT:
        APPEND(d->inputs, d->ninputs, (TvDomainInput *)dev);
        break;
    case TV_PLUG_WATCHDOG:
        APPEND(d->watchdogs, d->nwatchdogs, (TvDomainWatchdog *)dev);
        break;
    case TV_PLUG_SERIAL:
        APPEND(d->serials, d->nserials, (TvDomainChr *)dev);
        break;
    case TV_PLUG_CONSOLE:
        APPEND(d->consoles, d->nconsoles, (TvDomainChr *)dev);
        break;
    case TV_PLUG_CHANNEL:
        APPEND(d->channels, d->nchannels, (TvDomainChr *)dev);
        break;
    case TV_PLUG_REDIRDEV:
        APPEND(d->redirdevs, d->nredirdevs, (TvDomainRedirdev *)dev);
        break;
    case TV_PLUG_NONE:
        break;
    }
    status_after_plug(proc, what);
    g_mutex_unlock(&proc->lock);
}

/* Device i of list (n of them) out of it: the caller owns it. */
#define TAKE(list, n, i)                                                                           \
    ({                                                                                             \
        __typeof__(*(list)) taken_ = (list)[i];                                                    \
        memmove((list) + (i), (list) + (i) + 1, ((n) - (i)-1) * sizeof(*(list)));                  \
        (n)--;                                                                                     \
        taken_;                                                                                    \
    })

/* Device i of kind out of the live definition, freed; an rng's source and a
 * disk's file into u->path (to be given back). */
static void take_device(TvDomainDevices *d, Unplug *u, size_t i)
{
    switch (u->kind) {
    case TV_PLUG_DISK: {
        TvDomainDisk *disk = TAKE(d->disks, d->ndisks, i);
        u->path = g_strdup(disk->path);
        tv_domain_disk_free(disk);
        break;
    }
    case TV_PLUG_NET:
        tv_domain_net_free(TAKE(d->nets, d->nnets, i));
        break;
    case TV_PLUG_CONTROLLER:
        tv_domain_controller_free(TAKE(d->controllers, d->ncontrollers, i));
        break;
    case TV_PLUG_RNG: {
        TvDomainRng *rng = TAKE(d->rngs, d->nrngs, i);
        u->path = g_strdup(rng->backend_path);
        tv_domain_rng_free(rng);
        break;
    }
    case TV_PLUG_INPUT:
        tv_domain_input_free(TAKE(d->inputs, d->ninputs, i));
        break;
    case TV_PLUG_WATCHDOG:
        tv_domain_watchdog_free(TAKE(d->watchdogs, d->nwatchdogs, i));
        break;
    case TV_PLUG_SERIAL:
        tv_domain_chr_free(TAKE(d->serials, d->nserials, i));
        break;
    case TV_PLUG_CONSOLE:
        tv_domain_chr_free(TAKE(d->consoles, d->nconsoles, i));
        break;
    case TV_PLUG_CHANNEL:
        tv_domain_chr_free(TAKE(d->channels, d->nchannels, i));
        break;
    case TV_PLUG_REDIRDEV:
        tv_domain_redirdev_free(TAKE(d->redirdevs, d->nredirdevs, i));
        break;
    case TV_PLUG_NONE:
        break;
    }
}

/* Add o with QMP: device_add for a device (head), netdev_add, object-add
 * (head the QOM type), blockdev-add for a node. */
int tv_qemu_plug_add(TvQemuMonitor *mon, const char *command, const TvQemuObject *o)
{
    static const char *const device_keys[] = { "id", NULL };
    static const char *const node_keys[] = { "driver", "node-name", NULL };
    bool node = strcmp(command, "blockdev-add") == 0;
    size_t n = 0;
    g_autofree TvQmpProp *props =
        tv_qemu_object_props_except(o, node ? node_keys : device_keys, &n);
    const char *id = tv_qemu_object_get(o, "id");
    if (strcmp(command, "device_add") == 0)
        return tv_qemu_monitor_device_add(mon, o->head, id, props, n);
    if (strcmp(command, "netdev_add") == 0)
        return tv_qemu_monitor_netdev_add(mon, o->head, id, props, n);
    if (strcmp(command, "object-add") == 0)
        return tv_qemu_monitor_object_add(mon, o->head, id, props, n);
    return tv_qemu_monitor_blockdev_add(mon, tv_qemu_object_get(o, "driver"),
                                        tv_qemu_object_get(o, "node-name"), props, n);
}

/* The disk's two nodes; on failure none is left. */
static int add_nodes(TvQemuMonitor *mon, const TvDomainDisk *disk, const char *prefix)
{
    TvQemuObject *storage = NULL, *format = NULL;
    tv_qemu_disk_nodes(disk, prefix, &storage, &format);
    int rc = tv_qemu_plug_add(mon, "blockdev-add", storage);
    if (rc == 0 && (rc = tv_qemu_plug_add(mon, "blockdev-add", format)) < 0)
        TV_PLUG_UNDO(tv_qemu_monitor_blockdev_del(mon, tv_qemu_object_get(storage, "node-name")));
    tv_qemu_object_free(storage);
    tv_qemu_object_free(format);
    return rc;
}

static void del_nodes(TvQemuMonitor *mon, const char *format_node)
{
    TV_PLUG_UNDO(tv_qemu_monitor_blockdev_del(mon, format_node));
    if (g_str_has_suffix(format_node, "-format")) {
        g_autofree char *storage = g_strndup(format_node, strlen(format_node) - strlen("format"));
        g_autofree char *name = g_strconcat(storage, "storage", NULL);
        TV_PLUG_UNDO(tv_qemu_monitor_blockdev_del(mon, name));
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
    if (!disk->alias && disk->bus == TV_DISK_BUS_SCSI)
        disk->alias = tv_qemu_disk_alias(disk, 0);
    g_autofree char *what = g_strdup_printf("<disk> '%s'", disk->target_dev);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &disk->alias, "virtio-disk", what);
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
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        if (disk->path) {
            g_autofree char *node = g_strdup_printf("%s-format", prefix);
            del_nodes(mon, node);
        }
        goto fail;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_DISK, disk, "disk");
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
    g_autofree char *what = g_strdup_printf("<interface> with MAC %s", net->mac);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &net->alias, "net", what);
    if (!mon)
        return -1;
    int rc, tap = -1;
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
    if (tv_qemu_plug_add(mon, "netdev_add", netdev) < 0) {
        if (fdname)
            TV_PLUG_UNDO(tv_qemu_monitor_closefd(mon, fdname));
        goto fail;
    }
    dev = tv_qemu_net_device(net, net->alias, 0);
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        TV_PLUG_UNDO(tv_qemu_monitor_netdev_del(mon, tv_qemu_object_get(netdev, "id")));
        goto fail;
    }
    /* <link state='down'/>: the guest sees the NIC without carrier; QEMU
     * removes a device it refused this for, with its backend, on unplug */
    if (net->link == TV_NET_LINK_DOWN && tv_qemu_monitor_set_link(mon, net->alias, false) < 0) {
        tv_error_prefix("cannot set the link of '%s' down", net->alias);
        TV_PLUG_UNDO(tv_qemu_monitor_device_del(mon, net->alias));
        goto fail;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_NET, net, "interface");
    return 0;
fail:
    tv_error_prefix("domain '%s': cannot attach <interface> with MAC %s", proc->name, net->mac);
    return -1;
}

int tv_qemu_process_attach_controller(TvQemuProcess *proc, TvDomainController *ctrl)
{
    const char *type = tv_controller_type_to_string(ctrl->type);
    if (ctrl->type != TV_CONTROLLER_SCSI && ctrl->type != TV_CONTROLLER_VIRTIO_SERIAL) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "'%s' controller cannot be hot plugged: only 'scsi' (virtio-scsi) and "
                        "'virtio-serial' controllers can",
                        type);
        return -1;
    }
    if (!ctrl->alias)
        ctrl->alias = tv_qemu_controller_alias(ctrl);
    g_autofree char *what = g_strdup_printf("<controller type='%s' index='%d'>", type, ctrl->index);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &ctrl->alias, "", what);
    if (!mon)
        return -1;
    g_autoptr(TvQemuObject) dev = tv_qemu_controller_device(ctrl, ctrl->alias);
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        tv_error_prefix("domain '%s': cannot attach <controller type='%s' index='%d'>", proc->name,
                        type, ctrl->index);
        return -1;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_CONTROLLER, ctrl, "controller");
    return 0;
}

static ssize_t net_by_mac(const TvDomainDef *def, const char *mac)
{
    for (size_t i = 0; i < def->devices.nnets; i++) {
        if (g_ascii_strcasecmp(def->devices.nets[i]->mac, mac) == 0)
            return (ssize_t)i;
    }
    return -1;
}

int tv_qemu_process_set_link(TvQemuProcess *proc, const char *mac, TvNetLinkState link)
{
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    ssize_t i = rc < 0 ? -1 : net_by_mac(proc->def, mac);
    g_autofree char *alias =
        i >= 0 ? tv_qemu_net_alias(proc->def->devices.nets[i], (size_t)i) : NULL;
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    if (i < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "no device matching MAC address %s found in the running guest", mac);
        return -1;
    }
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    if (tv_qemu_monitor_set_link(mon, alias, link != TV_NET_LINK_DOWN) < 0) {
        tv_error_prefix("domain '%s': cannot set the link of interface %s (%s) %s", proc->name, mac,
                        alias, link == TV_NET_LINK_DOWN ? "down" : "up");
        return -1;
    }
    g_mutex_lock(&proc->lock);
    i = proc->def ? net_by_mac(proc->def, mac) : -1;
    if (i >= 0) {
        proc->def->devices.nets[i]->link = link;
        if (tv_qemu_process_write_status(proc) < 0) {
            g_warning("%s: the status file has the old link state of %s: %s", proc->name, mac,
                      tv_error_message());
            tv_error_reset();
        }
    }
    g_mutex_unlock(&proc->lock);
    return 0;
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
    ssize_t i = find_of(&proc->def->devices, u->kind, alias);
    if (i >= 0)
        take_device(&proc->def->devices, u, (size_t)i);
    if (tv_qemu_process_write_status(proc) < 0) {
        g_warning("%s: the status file still has device '%s': %s", proc->name, alias,
                  tv_error_message());
        tv_error_reset();
    }
    g_mutex_unlock(&proc->lock);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (mon && u->kind == TV_PLUG_NET) {
        g_autofree char *netdev = g_strdup_printf("host%s", alias);
        TV_PLUG_UNDO(tv_qemu_monitor_netdev_del(mon, netdev));
    } else if (mon && u->node) {
        del_nodes(mon, u->node);
    } else if (mon && u->kind == TV_PLUG_RNG) {
        g_autofree char *backend = g_strdup_printf("obj%s", alias);
        if (tv_qemu_plug_retry_busy(mon, tv_qemu_monitor_object_del, backend) < 0)
            g_warning("%s: rng backend '%s' stays in QEMU: %s", proc->name, backend,
                      tv_error_message());
    } else if (mon && (u->kind == TV_PLUG_SERIAL || u->kind == TV_PLUG_CONSOLE ||
                       u->kind == TV_PLUG_CHANNEL)) {
        tv_qemu_plug_chr_release(mon, alias, u->socket);
    } else if (u->kind == TV_PLUG_REDIRDEV) {
        tv_qemu_plug_redirdev_release(u->socket);
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

/* Under lock: -1 with an error when the device of alias (i of kind) may
 * not be unplugged: a controller with devices on it, the PL011 serial port
 * (and its console), a serial console. */
static int check_unplug(TvQemuProcess *proc, TvPlugKind kind, ssize_t i, const char *alias)
{
    const TvDomainDevices *d = &proc->def->devices;
    if (i < 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_DEVICE_MISSING,
                        "domain '%s' has no device with alias '%s'", proc->name, alias);
        return -1;
    }
    if (kind == TV_PLUG_CONTROLLER)
        return tv_domain_controller_check_removal(proc->def, d->controllers[i]);
    if (kind == TV_PLUG_SERIAL && d->serials[i]->target_type != TV_CHR_TARGET_PCI_SERIAL) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED,
                        "<serial> '%s' (target type 'system-serial', the virt machine's PL011) "
                        "cannot be hot-unplugged: only a 'pci-serial' one can",
                        alias);
        return -1;
    }
    return 0;
}

int tv_qemu_plug_retry_busy(TvQemuMonitor *mon, int (*del)(TvQemuMonitor *, const char *),
                            const char *id)
{
    gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    for (;;) {
        if (del(mon, id) == 0)
            return 0;
        const char *msg = tv_error_message();
        bool busy = msg && (strstr(msg, "busy") || strstr(msg, "in use"));
        if (!busy || g_get_monotonic_time() > deadline)
            return -1;
        tv_error_reset();
        g_usleep(100 * 1000);
    }
}

int tv_qemu_process_detach_device(TvQemuProcess *proc, const char *alias, unsigned timeout_ms)
{
    TvPlugKind kind = TV_PLUG_NONE;
    g_autofree char *socket = NULL;
    g_mutex_lock(&proc->lock);
    int rc = running_locked(proc);
    ssize_t i = rc < 0 ? -1 : tv_qemu_plug_find(proc->def, alias, &kind);
    bool known = proc->unplugs && g_hash_table_contains(proc->unplugs, alias);
    if (rc == 0)
        rc = check_unplug(proc, kind, i, alias);
    if (rc == 0 && kind == TV_PLUG_CHANNEL)
        socket = tv_qemu_plug_chr_socket(proc->def->devices.channels[i]);
    else if (rc == 0 && kind == TV_PLUG_CONSOLE)
        socket = tv_qemu_plug_chr_socket(proc->def->devices.consoles[i]);
    else if (rc == 0 && kind == TV_PLUG_SERIAL)
        socket = tv_qemu_plug_chr_socket(proc->def->devices.serials[i]);
    else if (rc == 0 && kind == TV_PLUG_REDIRDEV)
        socket = tv_qemu_plug_redirdev_socket(proc->def->devices.redirdevs[i]);
    g_mutex_unlock(&proc->lock);
    if (rc < 0)
        return -1;
    g_autoptr(TvQemuMonitor) mon = tv_qemu_process_monitor(proc);
    if (!mon)
        return -1;
    if (!known) {
        Unplug *u = g_new0(Unplug, 1);
        u->kind = kind;
        u->socket = g_steal_pointer(&socket);
        if (kind == TV_PLUG_DISK && find_disk_node(mon, alias, &u->node) < 0) {
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
        TV_PLUG_UNDO(tv_qemu_monitor_blockdev_close_tray(mon, alias));
        goto fail;
    }
    if (media->path)
        TV_PLUG_UNDO(tv_qemu_monitor_blockdev_close_tray(mon, alias));
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
