/* DOMAIN_OPEN_CONSOLE: virsh console and virt-manager's serial console.  The
 * driver gives an fd on the guest's serial pty; the stream pumps it, one
 * session per domain at a time.  DOMAIN_OPEN_GRAPHICS_FD: virt-manager's
 * graphical console of a local guest, a socket already connected to QEMU's
 * VNC server, passed with the reply. */
#include "remote_domain.h"

#include "domain_conf.h"
#include "remote_priv.h"

/* libvirt's VIR_DOMAIN_CONSOLE_* */
enum {
    CONSOLE_FORCE = 1, /* end the session that holds the console */
    CONSOLE_SAFE = 2,  /* only with exclusive access, which this driver always gives */
};

static int h_open_console(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_open_console_args *args = a;
    if (args->flags & ~(unsigned)(CONSOLE_FORCE | CONSOLE_SAFE)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_INVALID_ARG,
                        "console flags 0x%x are not supported; accepted: 0x1 (force), 0x2 (safe)",
                        args->flags);
        return -1;
    }
    int fd = tv_qemu_driver_open_console(conn->remote->drv, (const unsigned char *)args->dom.uuid,
                                         args->dev_name ? *args->dev_name : NULL);
    if (fd < 0)
        return -1;
    char uuid[TV_UUID_STRLEN + 1];
    tv_uuid_format((const unsigned char *)args->dom.uuid, uuid);
    g_autofree char *key = g_strdup_printf("console:%s", uuid);
    return tv_remote_stream_open_fd(conn, fd, key, (args->flags & CONSOLE_FORCE) != 0);
}

static int h_open_graphics_fd(TvRemoteConn *conn, const void *a, void *r)
{
    const tvr_domain_open_graphics_fd_args *args = a;
    /* the client library asks FD_PASSING first; a peer that did not gets this */
    if (conn->client && !tv_rpc_conn_can_pass_fds(conn->client)) {
        tv_error_report(TV_FROM_RPC, TV_ERR_ARGUMENT_UNSUPPORTED,
                        "fd passing is not supported by this connection (only on a unix socket)");
        return -1;
    }
    int fd = tv_qemu_driver_open_graphics_fd(
        conn->remote->drv, (const unsigned char *)args->dom.uuid, args->idx, args->flags);
    if (fd < 0)
        return -1;
    tv_remote_reply_fd(fd);
    return 0;
}

static const TvRemoteHandlerEntry console_handlers[] = {
    { TVR_PROC_DOMAIN_OPEN_CONSOLE, h_open_console },
    { TVR_PROC_DOMAIN_OPEN_GRAPHICS_FD, h_open_graphics_fd },
};

void tv_remote_register_console_handlers(TvRemote *remote)
{
    tv_remote_add_handlers(remote, console_handlers, G_N_ELEMENTS(console_handlers));
}
