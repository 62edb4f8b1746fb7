/* connectDomainXMLToNative: the QEMU command line a domain XML gives,
 * without starting anything (virsh domxml-to-native qemu-argv). */
#include "qemu_command.h"
#include "qemu_driver_priv.h"
#include "tv_error.h"

#include <string.h>

#define TV_NATIVE_FORMAT_ARGV "qemu-argv"

char *tv_qemu_driver_domain_xml_to_native(TvQemuDriver *drv, const char *format, const char *xml,
                                          unsigned flags)
{
    if (flags) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "domxml-to-native flags 0x%x are not supported; accepted: 0", flags);
        return NULL;
    }
    if (!format || strcmp(format, TV_NATIVE_FORMAT_ARGV) != 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG,
                        "unsupported config type '%s': accepted: '" TV_NATIVE_FORMAT_ARGV "'",
                        format ? format : "");
        return NULL;
    }
    if (!xml) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INVALID_ARG, "no domain XML given");
        return NULL;
    }
    g_autoptr(TvQemuCaps) caps = NULL;
    g_autoptr(TvDomainDef) def =
        tv_qemu_domain_load(&drv->pipe, xml, strlen(xml), TV_DOMAIN_PARSE_DEFAULT, &caps);
    if (!def)
        return NULL;
    TvQemuMtePlan plan;
    if (tv_qemu_domain_resolve(def, caps, drv->host, &plan) < 0)
        return NULL;
    /* The descriptors a start passes (a <tpm>'s swtpm socket) are shown as
     * fd 4, as `tagvirt domxml-to-native` shows them; no monitor options. */
    TvQemuCommandOptions opts = { .tpm_fd = 4 };
    g_autoptr(GPtrArray) cmd = tv_qemu_build_command(def, caps, &plan, &opts);
    if (!cmd)
        return NULL;
    return tv_qemu_command_format(cmd);
}
