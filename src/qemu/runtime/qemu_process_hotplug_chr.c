/* Hot-plug of character devices (qemu_process.h, "Hot-plug";
 * docs/formatdomain.rst, "Attaching and detaching devices"): a <channel>
 * (virtserialport), a virtio <console> (virtconsole) or a pci-serial
 * <serial>.  The host side is a chardev named "char" + alias: a pty (QEMU
 * opens it and says which), a unix socket tagvirt listens on and passes to
 * QEMU (getfd; QEMU never opens the path, so no label is needed, as at
 * start), or a unix socket QEMU connects to.  The unplug is the common one
 * (qemu_process_hotplug.c), which removes the chardev and tagvirt's socket
 * file once QEMU deleted the device. */
#include "qemu_process_hotplug_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <unistd.h>

static bool listens(const TvDomainChr *chr)
{
    return chr->type == TV_CHR_TYPE_UNIX && chr->unix_mode != TV_CHR_UNIX_MODE_CONNECT;
}

char *tv_qemu_plug_chr_socket(const TvDomainChr *chr)
{
    return listens(chr) && chr->path ? g_strdup(chr->path) : NULL;
}

void tv_qemu_plug_chr_release(TvQemuMonitor *mon, const char *alias, const char *socket)
{
    g_autofree char *id = g_strdup_printf("char%s", alias);
    if (tv_qemu_plug_retry_busy(mon, tv_qemu_monitor_chardev_remove, id) < 0) {
        g_warning("chardev '%s' stays in QEMU: %s", id, tv_error_message());
        tv_error_reset();
    }
    if (socket && tv_file_remove(socket) < 0)
        tv_error_reset(); /* best effort, as at stop */
}

static const char *element(TvChrKind kind)
{
    return kind == TV_CHR_KIND_SERIAL    ? "serial"
           : kind == TV_CHR_KIND_CONSOLE ? "console"
                                         : "channel";
}

/* What of chr cannot be hot-plugged, as libvirt refuses it: -1 with
 * OPERATION_UNSUPPORTED naming it. */
static int pluggable(TvChrKind kind, const TvDomainChr *chr, const char *what)
{
    const char *why = NULL;
    if (kind == TV_CHR_KIND_SERIAL && chr->target_type != TV_CHR_TARGET_PCI_SERIAL)
        why = "its target type 'system-serial' is the virt machine's PL011, which is built in; "
              "only a <target type='pci-serial'/> serial port can be hot-plugged";
    else if (kind == TV_CHR_KIND_CONSOLE && chr->target_type != TV_CHR_TARGET_VIRTIO)
        why = "a console of target type 'serial' is a serial port's; only a <target "
              "type='virtio'/> console (virtconsole) can be hot-plugged";
    else if (chr->type != TV_CHR_TYPE_PTY && chr->type != TV_CHR_TYPE_UNIX)
        why = "only types 'pty' and 'unix' can be hot-plugged";
    else if (chr->log_file)
        why = "a <log> file cannot be given to a hot-plugged device yet";
    if (!why)
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_UNSUPPORTED, "%s cannot be hot-plugged: %s",
                    what, why);
    return -1;
}

int tv_qemu_plug_chardev_unix_connect(TvQemuMonitor *mon, const char *id, const char *path)
{
    TvQmpProp props[] = { TV_QMP_PROP_STR("type", "socket"),
                          TV_QMP_PROP_STR("data.addr.type", "unix"),
                          TV_QMP_PROP_STR("data.addr.data.path", path),
                          TV_QMP_PROP_BOOL("data.server", false) };
    return tv_qemu_monitor_chardev_add(mon, id, props, G_N_ELEMENTS(props), NULL);
}

int tv_qemu_plug_chardev_unix_listen(TvQemuMonitor *mon, const char *id, const char *path,
                                     const char *what, bool *made_socket)
{
    int fd = tv_qemu_process_listen(path, what);
    if (fd < 0)
        return -1;
    *made_socket = true;
    g_autofree char *fdname = g_strdup_printf("%s-fd", id);
    int rc = tv_qemu_monitor_getfd(mon, fdname, fd);
    close(fd); /* QEMU has its own now */
    if (rc < 0)
        return -1;
    TvQmpProp props[] = { TV_QMP_PROP_STR("type", "socket"),
                          TV_QMP_PROP_STR("data.addr.type", "fd"),
                          TV_QMP_PROP_STR("data.addr.data.str", fdname),
                          TV_QMP_PROP_BOOL("data.server", true),
                          TV_QMP_PROP_BOOL("data.wait", false) };
    rc = tv_qemu_monitor_chardev_add(mon, id, props, G_N_ELEMENTS(props), NULL);
    if (rc < 0)
        TV_PLUG_UNDO(tv_qemu_monitor_closefd(mon, fdname));
    return rc;
}

/* The chardev of chr (id "char" + alias); a pty's path into chr->path. */
static int add_chardev(TvQemuProcess *proc, TvQemuMonitor *mon, TvDomainChr *chr, const char *id,
                       const TvQemuProcessConfig *cfg, bool *made_socket)
{
    *made_socket = false;
    if (chr->type == TV_CHR_TYPE_PTY) {
        TvQmpProp props[] = { TV_QMP_PROP_STR("type", "pty") };
        g_autofree char *pty = NULL;
        if (tv_qemu_monitor_chardev_add(mon, id, props, G_N_ELEMENTS(props), &pty) < 0)
            return -1;
        g_free(chr->path);
        chr->path = g_steal_pointer(&pty);
        return 0;
    }
    if (!listens(chr))
        return tv_qemu_plug_chardev_unix_connect(mon, id, chr->path);
    if (!chr->path) { /* as a start names a channel's socket */
        g_autofree char *file = g_strdup_printf("%s.%s", proc->name, chr->target_name);
        chr->path = g_build_filename(cfg->state_dir, file, NULL);
        chr->path_generated = true;
    }
    return tv_qemu_plug_chardev_unix_listen(mon, id, chr->path, "channel", made_socket);
}

int tv_qemu_process_attach_chr(TvQemuProcess *proc, TvChrKind kind, TvDomainChr *chr,
                               const TvQemuProcessConfig *cfg)
{
    g_autofree char *what =
        kind == TV_CHR_KIND_CHANNEL
            ? g_strdup_printf("<channel type='%s'> '%s'", tv_chr_type_to_string(chr->type),
                              chr->target_name)
            : g_strdup_printf("<%s type='%s'> port %u", element(kind),
                              tv_chr_type_to_string(chr->type), chr->port);
    if (pluggable(kind, chr, what) < 0)
        return -1;
    static const TvPlugKind kinds[] = { [TV_CHR_KIND_SERIAL] = TV_PLUG_SERIAL,
                                        [TV_CHR_KIND_CONSOLE] = TV_PLUG_CONSOLE,
                                        [TV_CHR_KIND_CHANNEL] = TV_PLUG_CHANNEL };
    const char *prefix = kind == TV_CHR_KIND_CHANNEL   ? "channel"
                         : kind == TV_CHR_KIND_CONSOLE ? "console"
                                                       : "serial";
    if (!chr->alias && kind != TV_CHR_KIND_CHANNEL) /* libvirt's: by port */
        chr->alias = tv_qemu_chr_alias(chr, kind, 0);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &chr->alias, prefix, what);
    if (!mon)
        return -1;
    g_autofree char *id = g_strdup_printf("char%s", chr->alias);
    bool made_socket = false;
    g_autoptr(TvQemuObject) dev = NULL;
    if (add_chardev(proc, mon, chr, id, cfg, &made_socket) < 0)
        goto fail;
    dev = tv_qemu_chr_device(chr, kind, chr->alias);
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        TV_PLUG_UNDO(tv_qemu_monitor_chardev_remove(mon, id));
        goto fail;
    }
    tv_qemu_plug_commit(proc, kinds[kind], chr, element(kind));
    return 0;
fail:
    if (made_socket && tv_file_remove(chr->path) < 0)
        tv_error_reset();
    if (chr->type == TV_CHR_TYPE_PTY)
        g_clear_pointer(&chr->path, g_free);
    tv_error_prefix("domain '%s': cannot attach %s", proc->name, what);
    return -1;
}
