/* <redirdev>: see qemu_process_redirdev.h.  The device's unplug is the
 * common one (qemu_process_hotplug.c), which removes a socket tagvirt made
 * once QEMU deleted the device; QEMU deletes the chardev ("char" + alias)
 * itself when usb-redir goes (so does libvirt's unplug rely on). */
#include "qemu_process_redirdev.h"
#include "qemu_command_redirdev.h"
#include "qemu_process_hotplug_priv.h"
#include "tv_error.h"
#include "tv_file.h"

#include <unistd.h>

static bool tagvirt_listens(const TvDomainRedirdev *r)
{
    return r->type == TV_REDIRDEV_TYPE_UNIX && r->listen;
}

int tv_qemu_process_prepare_redirdevs(TvDomainDef *live, GArray *fds)
{
    for (size_t i = 0; i < live->devices.nredirdevs; i++) {
        TvDomainRedirdev *r = live->devices.redirdevs[i];
        if (!tagvirt_listens(r))
            continue;
        int fd = tv_qemu_process_listen(r->path, "redirdev");
        if (fd < 0) {
            tv_error_prefix("<redirdev type='unix'> of domain '%s'", live->name);
            return -1;
        }
        g_array_append_val(fds, fd);
        r->passed_fd = TV_QEMU_PASSED_FD_FIRST + (int)fds->len - 1;
    }
    return 0;
}

void tv_qemu_process_remove_redirdev_sockets(const TvDomainDef *def)
{
    for (size_t i = 0; def && i < def->devices.nredirdevs; i++) {
        const TvDomainRedirdev *r = def->devices.redirdevs[i];
        if (tagvirt_listens(r) && tv_file_remove(r->path) < 0)
            tv_error_reset(); /* best effort: a stale socket is replaced at the next start */
    }
}

char *tv_qemu_plug_redirdev_socket(const TvDomainRedirdev *r)
{
    return tagvirt_listens(r) ? g_strdup(r->path) : NULL;
}

void tv_qemu_plug_redirdev_release(const char *socket)
{
    if (socket && tv_file_remove(socket) < 0)
        tv_error_reset(); /* best effort, as at stop */
}

/* The chardev id of r: a TCP connection or listener, or a unix socket
 * QEMU connects to, or one tagvirt listens on and gives QEMU (getfd). */
static int add_chardev(TvQemuMonitor *mon, const TvDomainRedirdev *r, const char *id,
                       bool *made_socket)
{
    *made_socket = false;
    if (r->type == TV_REDIRDEV_TYPE_TCP) {
        TvQmpProp props[] = { TV_QMP_PROP_STR("type", "socket"),
                              TV_QMP_PROP_STR("data.addr.type", "inet"),
                              TV_QMP_PROP_STR("data.addr.data.host", r->host),
                              TV_QMP_PROP_STR("data.addr.data.port", r->service),
                              TV_QMP_PROP_BOOL("data.server", r->listen),
                              TV_QMP_PROP_BOOL("data.wait", false) };
        return tv_qemu_monitor_chardev_add(mon, id, props, G_N_ELEMENTS(props) - !r->listen, NULL);
    }
    if (!r->listen)
        return tv_qemu_plug_chardev_unix_connect(mon, id, r->path);
    return tv_qemu_plug_chardev_unix_listen(mon, id, r->path, "redirdev", made_socket);
}

int tv_qemu_process_attach_redirdev(TvQemuProcess *proc, const TvDomainDef *next,
                                    TvDomainRedirdev *r)
{
    g_autofree char *what = tv_domain_redirdev_describe(r);
    g_autoptr(TvQemuMonitor) mon = tv_qemu_plug_begin(proc, &r->alias, "redir", what);
    if (!mon)
        return -1;
    g_autofree char *id = g_strdup_printf("char%s", r->alias);
    bool made_socket = false;
    g_autoptr(TvQemuObject) dev = NULL;
    if (add_chardev(mon, r, id, &made_socket) < 0)
        goto fail;
    dev = tv_qemu_redirdev_device(next, r, r->alias);
    if (tv_qemu_plug_add(mon, "device_add", dev) < 0) {
        TV_PLUG_UNDO(tv_qemu_monitor_chardev_remove(mon, id));
        goto fail;
    }
    tv_qemu_plug_commit(proc, TV_PLUG_REDIRDEV, r, "redirdev");
    return 0;
fail:
    if (made_socket && tv_file_remove(r->path) < 0)
        tv_error_reset();
    tv_error_prefix("domain '%s': cannot attach %s", proc->name, what);
    return -1;
}
