/* <tpm> on QEMU: what the emulator must have, and the command line.  The
 * guest sees QEMU's tpm-tis-device (the TIS interface on the virt machine's
 * system bus, which is what libvirt uses for model 'tpm-tis' on aarch64);
 * its backend is the 'emulator' tpmdev talking to the domain's swtpm over a
 * socket the runtime made (qemu_process_swtpm.c) and passed as a
 * descriptor. */
#include "qemu_command_priv.h"
#include "tv_error.h"

int tv_qemu_validate_tpm(const TvDomainDef *def, const TvQemuCaps *caps)
{
    const TvDomainTpm *tpm = def->devices.tpm;
    if (!tpm)
        return 0;
    if (tpm->model == TV_TPM_MODEL_CRB) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <tpm model='tpm-crb'>: QEMU has no CRB TPM "
                        "for the aarch64 virt machine (its tpm-crb is x86 only); accepted: "
                        "'tpm-tis' (QEMU's tpm-tis-device)");
        return -1;
    }
    if (!tv_qemu_caps_has_device(caps, "tpm-tis-device")) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_CONFIG_UNSUPPORTED,
                        "unsupported configuration: <tpm model='tpm-tis'> needs QEMU's "
                        "'tpm-tis-device' device, which emulator '%s' does not have",
                        caps->binary);
        return -1;
    }
    return 0;
}

int tv_qemu_build_tpm(GPtrArray *argv, const TvDomainDef *def, const TvQemuCommandOptions *opts)
{
    const TvDomainTpm *tpm = def->devices.tpm;
    if (!tpm)
        return 0;
    if (!opts || opts->tpm_fd <= 0) {
        tv_error_report(TV_FROM_QEMU, TV_ERR_INTERNAL_ERROR,
                        "the command line of a <tpm> needs the descriptor of its swtpm's socket");
        return -1;
    }
    const char *alias = tpm->alias ? tpm->alias : "tpm0";
    tv_qemu_argv_add(argv, "-chardev");
    tv_qemu_argv_addf(argv, "socket,id=chrtpm,fd=%d", opts->tpm_fd);
    tv_qemu_argv_add(argv, "-tpmdev");
    tv_qemu_argv_addf(argv, "emulator,id=tpm-%s,chardev=chrtpm", alias);
    tv_qemu_argv_add(argv, "-device");
    tv_qemu_argv_addf(argv, "tpm-tis-device,tpmdev=tpm-%s,id=%s", alias, alias);
    return 0;
}
