/* A running domain's consoles for virsh console / virt-manager: the serial
 * console, an fd on the pty (the session itself, exclusive access and the
 * byte stream, is the remote layer's); the graphical console, a socket QEMU's
 * VNC server took as a client. */
#include "qemu_driver_priv.h"
#include "tv_error.h"

/* A reference to dom's running QEMU, or NULL with "not running". */
static TvDriverRun *running(TvDriverDomain *dom)
{
    g_mutex_lock(&dom->lock);
    TvDriverRun *run = dom->run && dom->run->proc && !dom->run->exited ? dom->run : NULL;
    if (run)
        g_atomic_int_inc(&run->refs);
    g_mutex_unlock(&dom->lock);
    if (!run) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_INVALID, "domain '%s' is not running",
                        dom->name);
        return NULL;
    }
    return run;
}

int tv_qemu_driver_open_console(TvQemuDriver *drv, const unsigned char *uuid, const char *dev_name)
{
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    /* QEMU names serial 0's chardev "charserial0"; libvirt's aliases for the
     * same device are serial0 and console0 */
    if (dev_name && g_strcmp0(dev_name, "serial0") != 0 && g_strcmp0(dev_name, "console0") != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "domain '%s' has no console device '%s' (accepted: serial0, console0, "
                        "or none for the first one)",
                        dom->name, dev_name);
        return -1;
    }
    TvDriverRun *run = running(dom);
    if (!run)
        return -1;
    int fd = tv_qemu_process_open_console(run->proc);
    tv_driver_run_unref(run);
    return fd;
}

/* libvirt's VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH */
#define OPEN_GRAPHICS_SKIPAUTH 1u

int tv_qemu_driver_open_graphics_fd(TvQemuDriver *drv, const unsigned char *uuid, unsigned idx,
                                    unsigned flags)
{
    if (flags & ~OPEN_GRAPHICS_SKIPAUTH) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "graphics flags 0x%x are not supported; accepted: 0x1 (skipauth)", flags);
        return -1;
    }
    g_autoptr(TvDriverDomain) dom = tv_driver_find_uuid(drv, uuid);
    if (!dom)
        return -1;
    TvDriverRun *run = running(dom);
    if (!run)
        return -1;
    int fd = tv_qemu_process_open_graphics(run->proc, idx, (flags & OPEN_GRAPHICS_SKIPAUTH) != 0);
    tv_driver_run_unref(run);
    return fd;
}
