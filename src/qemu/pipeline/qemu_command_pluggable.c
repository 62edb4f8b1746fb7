/* QEMU objects of <rng>, <input>, <watchdog> and the guest side of
 * <serial>, <console> and <channel>, as typed property lists: the command
 * line writes them and hot-plug sends them over QMP (object-add,
 * device_add), so a hot-plugged device is the device a start makes.  The
 * ids follow libvirt's aliases: rng0 (backend objrng0), input0, watchdog0,
 * serial0, console0, channel0 (host side charchannel0). */
#include "qemu_command_priv.h"

char *tv_qemu_rng_alias(const TvDomainRng *r, size_t i)
{
    return r->alias ? g_strdup(r->alias) : g_strdup_printf("rng%zu", i);
}

char *tv_qemu_input_alias(const TvDomainInput *in, size_t i)
{
    return in->alias ? g_strdup(in->alias) : g_strdup_printf("input%zu", i);
}

char *tv_qemu_watchdog_alias(const TvDomainWatchdog *wd, size_t i)
{
    return wd->alias ? g_strdup(wd->alias) : g_strdup_printf("watchdog%zu", i);
}

char *tv_qemu_chr_alias(const TvDomainChr *c, TvChrKind kind, size_t i)
{
    if (c->alias)
        return g_strdup(c->alias);
    switch (kind) {
    case TV_CHR_KIND_SERIAL:
        return g_strdup_printf("serial%u", c->port);
    case TV_CHR_KIND_CONSOLE:
        /* a serial console is its serial port (libvirt's alias too) */
        return g_strdup_printf(c->target_type == TV_CHR_TARGET_VIRTIO ? "console%u" : "serial%u",
                               c->port);
    case TV_CHR_KIND_CHANNEL:
        break;
    }
    return g_strdup_printf("channel%zu", i);
}

TvQemuObject *tv_qemu_rng_backend(const TvDomainRng *r, const char *alias)
{
    TvQemuObject *o = tv_qemu_object_new("rng-random");
    tv_qemu_object_strf(o, "id", "obj%s", alias);
    tv_qemu_object_str(o, "filename", r->backend_path ? r->backend_path : "/dev/urandom");
    return o;
}

TvQemuObject *tv_qemu_rng_device(const TvDomainRng *r, const char *alias)
{
    TvQemuObject *o = tv_qemu_object_new("virtio-rng-pci");
    tv_qemu_object_strf(o, "rng", "obj%s", alias);
    tv_qemu_object_str(o, "id", alias);
    tv_qemu_object_add_address(o, &r->address);
    return o;
}

TvQemuObject *tv_qemu_input_object(const TvDomainInput *in, const char *alias)
{
    TvQemuObject *o = tv_qemu_object_new(tv_qemu_input_device(in));
    tv_qemu_object_str(o, "id", alias);
    tv_qemu_object_add_address(o, &in->address);
    return o;
}

TvQemuObject *tv_qemu_watchdog_device(const TvDomainWatchdog *wd, const char *alias)
{
    TvQemuObject *o = tv_qemu_object_new("i6300esb");
    tv_qemu_object_str(o, "id", alias);
    tv_qemu_object_add_address(o, &wd->address);
    return o;
}

const char *tv_qemu_watchdog_action(const TvDomainWatchdog *wd)
{
    return wd->action ? tv_watchdog_action_to_string(wd->action) : "reset";
}

TvQemuObject *tv_qemu_chr_device(const TvDomainChr *c, TvChrKind kind, const char *alias)
{
    bool virtio_console = kind == TV_CHR_KIND_CONSOLE && c->target_type == TV_CHR_TARGET_VIRTIO;
    const char *driver = kind == TV_CHR_KIND_CHANNEL ? "virtserialport"
                         : virtio_console            ? "virtconsole"
                                                     : "pci-serial";
    TvQemuObject *o = tv_qemu_object_new(driver);
    tv_qemu_object_strf(o, "chardev", "char%s", alias);
    tv_qemu_object_str(o, "id", alias);
    if (kind == TV_CHR_KIND_CHANNEL)
        tv_qemu_object_str(o, "name", c->target_name);
    if (virtio_console) /* QEMU gives it the console's port 0 when it is free */
        tv_qemu_object_str(o, "bus", "virtio-serial0.0");
    else
        tv_qemu_object_add_address(o, &c->address);
    return o;
}

void tv_qemu_assign_pluggable_aliases(TvDomainDef *def)
{
    TvDomainDevices *d = &def->devices;
    for (size_t i = 0; i < d->nrngs; i++) {
        if (!d->rngs[i]->alias)
            d->rngs[i]->alias = tv_qemu_rng_alias(d->rngs[i], i);
    }
    for (size_t i = 0; i < d->ninputs; i++) {
        if (!d->inputs[i]->alias)
            d->inputs[i]->alias = tv_qemu_input_alias(d->inputs[i], i);
    }
    for (size_t i = 0; i < d->nwatchdogs; i++) {
        if (!d->watchdogs[i]->alias)
            d->watchdogs[i]->alias = tv_qemu_watchdog_alias(d->watchdogs[i], i);
    }
    for (size_t i = 0; i < d->nserials; i++) {
        if (!d->serials[i]->alias)
            d->serials[i]->alias = tv_qemu_chr_alias(d->serials[i], TV_CHR_KIND_SERIAL, i);
    }
    for (size_t i = 0; i < d->nconsoles; i++) {
        if (!d->consoles[i]->alias)
            d->consoles[i]->alias = tv_qemu_chr_alias(d->consoles[i], TV_CHR_KIND_CONSOLE, i);
    }
    for (size_t i = 0; i < d->nchannels; i++) {
        if (!d->channels[i]->alias)
            d->channels[i]->alias = tv_qemu_chr_alias(d->channels[i], TV_CHR_KIND_CHANNEL, i);
    }
}
