/* <redirdev>: see qemu_command_redirdev.h.  The chardev is QEMU's socket
 * backend: a TCP connection to (mode='connect') or a TCP listener on
 * (mode='bind') host:service, a unix socket QEMU connects to, or a unix
 * socket tagvirt listens on and passes as a descriptor (passed_fd, made by
 * the runtime: QEMU never creates files). */
#include "qemu_command_redirdev.h"
#include "qemu_command_priv.h"
#include "tv_error.h"

char *tv_qemu_redirdev_alias(const TvDomainRedirdev *r, size_t i)
{
    return r->alias ? g_strdup(r->alias) : g_strdup_printf("redir%zu", i);
}

void tv_qemu_assign_redirdev_aliases(TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nredirdevs; i++) {
        TvDomainRedirdev *r = def->devices.redirdevs[i];
        if (!r->alias)
            r->alias = tv_qemu_redirdev_alias(r, i);
    }
}

TvQemuObject *tv_qemu_redirdev_device(const TvDomainDef *def, const TvDomainRedirdev *r,
                                      const char *alias)
{
    TvQemuObject *o = tv_qemu_object_new("usb-redir");
    tv_qemu_object_strf(o, "chardev", "char%s", alias);
    tv_qemu_object_str(o, "id", alias);
    g_autofree char *filter = tv_domain_redirfilter_string(def->devices.redirfilter);
    if (filter)
        tv_qemu_object_str(o, "filter", filter);
    if (r->boot_order)
        tv_qemu_object_int(o, "bootindex", r->boot_order);
    tv_qemu_object_add_address(o, &r->address);
    return o;
}

static char *chardev_arg(const TvDomainRedirdev *r, const char *id)
{
    const char *server = r->listen ? ",server=on,wait=off" : "";
    if (r->type == TV_REDIRDEV_TYPE_TCP) {
        g_autofree char *host = tv_qemu_escape_opt(r->host);
        return g_strdup_printf("socket,id=%s,host=%s,port=%s%s", id, host, r->service, server);
    }
    if (r->listen && r->passed_fd > 0)
        return g_strdup_printf("socket,id=%s,fd=%d,server=on,wait=off", id, r->passed_fd);
    g_autofree char *path = tv_qemu_escape_opt(r->path); /* no descriptor: QEMU binds */
    return g_strdup_printf("socket,id=%s,path=%s%s", id, path, server);
}

void tv_qemu_build_redirdevs(GPtrArray *argv, const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nredirdevs; i++) {
        const TvDomainRedirdev *r = def->devices.redirdevs[i];
        g_autofree char *alias = tv_qemu_redirdev_alias(r, i);
        g_autofree char *id = g_strdup_printf("char%s", alias);
        tv_qemu_argv_add(argv, "-chardev");
        g_ptr_array_add(argv, chardev_arg(r, id));
        g_autoptr(TvQemuObject) dev = tv_qemu_redirdev_device(def, r, alias);
        tv_qemu_argv_add_object(argv, "-device", dev);
    }
}

int tv_qemu_validate_redirdevs(const TvDomainDef *def, const TvQemuCaps *caps)
{
    if (!def->devices.nredirdevs || tv_qemu_caps_has_device(caps, "usb-redir"))
        return 0;
    g_autofree char *what = tv_domain_redirdev_describe(def->devices.redirdevs[0]);
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: %s needs QEMU's 'usb-redir' device, which "
                    "emulator '%s' does not have",
                    what, caps->binary);
    return -1;
}

bool tv_qemu_redirdevs_boot(const TvDomainDef *def)
{
    for (size_t i = 0; i < def->devices.nredirdevs; i++) {
        if (def->devices.redirdevs[i]->boot_order)
            return true;
    }
    return false;
}
