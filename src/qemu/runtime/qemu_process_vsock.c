/* <vsock model='virtio'> at start: tagvirtd opens /dev/vhost-vsock itself
 * (QEMU runs unprivileged and could not), takes the guest's CID on that
 * descriptor and passes it to QEMU (vhostfd).  The kernel refuses a CID
 * another guest holds (EADDRINUSE), across every running domain of the
 * host: auto='yes' takes the lowest free one from 3, as libvirt does; a
 * fixed CID in use is an error.  All of it happens before QEMU is spawned,
 * so a host without vhost-vsock refuses the start with nothing left. */
#include "qemu_process_priv.h"
#include "tv_error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VHOST_VSOCK_DEVICE "/dev/vhost-vsock"

static int take_cid(int fd, unsigned cid)
{
    uint64_t v = cid;
    return ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &v);
}

int tv_qemu_process_prepare_vsock(TvDomainDef *live, GArray *fds, int *vsock_fd)
{
    TvDomainVsock *v = live->devices.vsock;
    *vsock_fd = 0;
    if (!v)
        return 0;
    int fd = open(VHOST_VSOCK_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                        "cannot open %s for <vsock model='virtio'>: %s%s", VHOST_VSOCK_DEVICE,
                        g_strerror(err),
                        err == ENOENT ? " (the host kernel needs the vhost_vsock module: "
                                        "modprobe vhost_vsock)"
                                      : "");
        return -1;
    }
    if (v->auto_cid) {
        unsigned cid = TV_VSOCK_CID_MIN;
        while (take_cid(fd, cid) < 0) {
            if (errno != EADDRINUSE || cid == TV_VSOCK_CID_MAX) {
                tv_error_report_errno(TV_FROM_QEMU, errno,
                                      "cannot take a CID for <vsock> on %s (tried %u to %u)",
                                      VHOST_VSOCK_DEVICE, TV_VSOCK_CID_MIN, cid);
                close(fd);
                return -1;
            }
            cid++;
        }
        v->cid = cid;
    } else if (take_cid(fd, v->cid) < 0) {
        int err = errno;
        if (err == EADDRINUSE)
            tv_error_report(TV_FROM_QEMU, TV_ERR_OPERATION_FAILED,
                            "<vsock> CID %u is in use by another guest on this host: choose "
                            "another address, or <cid auto='yes'/>",
                            v->cid);
        else
            tv_error_report_errno(TV_FROM_QEMU, err, "cannot set <vsock> CID %u on %s", v->cid,
                                  VHOST_VSOCK_DEVICE);
        close(fd);
        return -1;
    }
    g_array_append_val(fds, fd);
    *vsock_fd = TV_QEMU_PASSED_FD_FIRST + (int)fds->len - 1;
    return 0;
}
