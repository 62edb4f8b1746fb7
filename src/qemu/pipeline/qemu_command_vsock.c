/* <vsock model='virtio'>: vhost-vsock-pci with the guest's CID.  The
 * runtime opens /dev/vhost-vsock, takes the CID on it (auto='yes': the
 * lowest free one from 3) and passes the descriptor (vhostfd); without one
 * (domxml-to-native) QEMU would open the device itself. */
#include "qemu_command_priv.h"
#include "qemu_domain.h"
#include "tv_error.h"

void tv_qemu_build_vsock(GPtrArray *argv, const TvDomainDef *def, const TvQemuCommandOptions *opts)
{
    const TvDomainVsock *v = def->devices.vsock;
    if (!v)
        return;
    /* an auto CID not yet taken (no running guest): the first one tried */
    unsigned cid = v->cid ? v->cid : TV_VSOCK_CID_MIN;
    GString *dev = g_string_new(NULL);
    g_string_append_printf(dev, "vhost-vsock-pci,id=vsock0,guest-cid=%u", cid);
    if (opts && opts->vsock_fd > 0)
        g_string_append_printf(dev, ",vhostfd=%d", opts->vsock_fd);
    tv_qemu_argv_add_device(argv, &v->address, dev->str);
    g_string_free(dev, TRUE);
}

int tv_qemu_validate_vsock(const TvDomainDef *def, const TvQemuCaps *caps)
{
    if (!def->devices.vsock || tv_qemu_caps_has_device(caps, "vhost-vsock-pci"))
        return 0;
    tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: <vsock model='virtio'> needs QEMU's "
                    "'vhost-vsock-pci' device, which emulator '%s' does not have",
                    caps->binary);
    return -1;
}
