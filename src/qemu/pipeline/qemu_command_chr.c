/* Command line of <serial>, <console> and <channel>: one -chardev each (the
 * host side, with its log file), and the guest side: -serial for the PL011,
 * pci-serial, virtconsole or virtserialport on the virtio-serial bus. */
#include "qemu_command_priv.h"

static void append_backend(GString *dev, const TvDomainChr *chr, const char *id)
{
    g_autofree char *path = chr->path ? tv_qemu_escape_opt(chr->path) : NULL;
    switch (chr->type) {
    case TV_CHR_TYPE_FILE:
        g_string_append_printf(dev, "file,id=%s,path=%s", id, path);
        break;
    case TV_CHR_TYPE_UNIX:
        g_string_append_printf(dev, "socket,id=%s,path=%s", id, path);
        if (chr->unix_mode != TV_CHR_UNIX_MODE_CONNECT)
            g_string_append(dev, ",server=on,wait=off");
        break;
    case TV_CHR_TYPE_PTY:
    case TV_CHR_TYPE_NONE:
    case TV_CHR_TYPE_LAST:
        g_string_append_printf(dev, "pty,id=%s", id);
        break;
    }
}

/* fd > 0: the listening socket the runtime made, passed to QEMU */
static void build_chardev(GPtrArray *argv, const TvDomainChr *chr, const char *id, int fd)
{
    GString *dev = g_string_new(NULL);
    if (fd > 0) {
        g_string_append_printf(dev, "socket,id=%s,fd=%d,server=on,wait=off", id, fd);
    } else {
        append_backend(dev, chr, id);
    }
    if (chr->log_file) {
        g_autofree char *log = tv_qemu_escape_opt(chr->log_file);
        g_string_append_printf(dev, ",logfile=%s", log);
        if (chr->log_append != TV_FEATURE_STATE_ABSENT)
            g_string_append_printf(dev, ",logappend=%s",
                                   chr->log_append == TV_FEATURE_STATE_ON ? "on" : "off");
    }
    tv_qemu_argv_add(argv, "-chardev");
    g_ptr_array_add(argv, g_string_free(dev, FALSE));
}

static bool serial_has_port(const TvDomainDef *def, unsigned port)
{
    for (size_t i = 0; i < def->devices.nserials; i++) {
        if (def->devices.serials[i]->port == port)
            return true;
    }
    return false;
}

static void build_serial(GPtrArray *argv, const TvDomainChr *s, TvChrKind kind)
{
    g_autofree char *alias = tv_qemu_chr_alias(s, kind, 0);
    g_autofree char *id = g_strdup_printf("char%s", alias);
    build_chardev(argv, s, id, 0);
    if (s->target_type == TV_CHR_TARGET_PCI_SERIAL) {
        g_autoptr(TvQemuObject) dev = tv_qemu_chr_device(s, TV_CHR_KIND_SERIAL, alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
        return;
    }
    tv_qemu_argv_add(argv, "-serial");
    tv_qemu_argv_addf(argv, "chardev:%s", id);
}

void tv_qemu_build_chardevs(GPtrArray *argv, const TvDomainDef *def,
                            const TvQemuCommandOptions *opts)
{
    int next_fd = opts ? opts->channel_fd_first : 0;
    const TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->nserials; i++)
        build_serial(argv, d->serials[i], TV_CHR_KIND_SERIAL);
    for (size_t i = 0; i < d->nconsoles; i++) {
        const TvDomainChr *c = d->consoles[i];
        if (c->target_type == TV_CHR_TARGET_VIRTIO) {
            g_autofree char *alias = tv_qemu_chr_alias(c, TV_CHR_KIND_CONSOLE, i);
            g_autofree char *id = g_strdup_printf("char%s", alias);
            build_chardev(argv, c, id, 0);
            g_autoptr(TvQemuObject) dev = tv_qemu_chr_device(c, TV_CHR_KIND_CONSOLE, alias);
            tv_qemu_argv_add_object(argv, "-device", dev);
            continue;
        }
        /* a serial console is the serial port of its number; alone it becomes that port */
        if (!serial_has_port(def, c->port))
            build_serial(argv, c, TV_CHR_KIND_CONSOLE);
    }
    for (size_t i = 0; i < d->nchannels; i++) {
        const TvDomainChr *ch = d->channels[i];
        g_autofree char *alias = tv_qemu_chr_alias(ch, TV_CHR_KIND_CHANNEL, i);
        g_autofree char *id = g_strdup_printf("char%s", alias);
        bool listens = ch->type == TV_CHR_TYPE_UNIX && ch->unix_mode != TV_CHR_UNIX_MODE_CONNECT;
        build_chardev(argv, ch, id, listens && next_fd > 0 ? next_fd++ : 0);
        g_autoptr(TvQemuObject) dev = tv_qemu_chr_device(ch, TV_CHR_KIND_CHANNEL, alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
}
